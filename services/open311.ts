import { randomUUID } from 'node:crypto';
import type { CaseStatus, DeadlineView, TimelineEventType } from '../common/case';
import type { DefinitionSnapshot, DefinitionSpec } from '../lang/definition';
import type {
  Open311Service,
  Open311ServiceDefinition,
  Open311Submission,
} from './open311-mapping';
import {
  caseDataOf,
  categoryOfService,
  isOffered,
  parseServiceCode,
  serviceDefinitionOf,
  servicesOf,
} from './open311-mapping';
import type { CaseForOpen311, Open311Request } from './open311-requests';
import { requestOf } from './open311-requests';
import type { Models } from '../models';
import type { Principal } from './auth';
import type { ErrorDetail } from './errors';
import { AppError } from './errors';
import type { ScopeResolver } from './scope';
import { canSee } from './scope';
import type { CaseService } from './cases';
import type { DefinitionService } from './definitions';
import { skipOf } from './paging';

/**
 * Open311 GeoReport v2 beside the native API, over the same definitions and cases: services are
 * the processes that say `open311` (one per category), a POST starts a case through
 * {@link CaseService.startCase} (same validation, authorisation and idempotency), and requests
 * are cases shown the Open311 way. Errors are {@link AppError}s whose detail paths name the
 * Open311 parameter (`attribute[floor]`, `address_id`); the route renders them as Open311 errors.
 */

export interface CreateRequestInput extends Omit<Open311Submission, 'attributes'> {
  service_code: string;
  address_id?: string;
  attributes: Open311Submission['attributes'];
}

export interface ListRequestsQuery {
  serviceRequestIds?: string[];
  serviceCodes?: string[];
  startDate?: Date;
  endDate?: Date;
  statuses?: Array<'open' | 'closed'>;
  page: number;
  pageSize: number;
}

/**
 * Fields of a case document an Open311 request reads. The whole timeline comes along (entries are
 * small: ids, types, instants) because FerretDB v1 has no `$slice` projection; only its last
 * entry is used.
 */
const REQUEST_PROJECTION = {
  status: 1,
  definitionKey: 1,
  definitionVersion: 1,
  category: 1,
  unitId: 1,
  data: 1,
  createdBy: 1,
  createdAt: 1,
  updatedAt: 1,
  closedAt: 1,
  deadlines: 1,
  timeline: 1,
} as const;

interface StoredCase {
  _id: string;
  status: string;
  definitionKey: string;
  definitionVersion: number;
  category?: string | null;
  unitId?: string | null;
  data: unknown;
  createdBy: { kind: string; id: string };
  createdAt: Date;
  updatedAt: Date;
  closedAt?: Date | null;
  deadlines?: unknown[];
  timeline?: Array<{ type: string; stepId?: string | null; detail?: unknown }>;
}

export function createOpen311Service(deps: {
  models: Models;
  cases: CaseService;
  definitions: DefinitionService;
  scope: ScopeResolver;
}) {
  const { Case, Unit } = deps.models;

  /** The processes offered through Open311, by key (latest published versions). */
  async function offered(): Promise<Map<string, DefinitionSnapshot>> {
    const snapshots = await deps.definitions.latestSnapshots();
    return new Map(snapshots.filter((s) => isOffered(s.spec)).map((s) => [s.key, s]));
  }

  /** The process and category a service code names among the offered ones, or a 404. */
  function serviceFor(services: Map<string, DefinitionSnapshot>, code: string, parameter: string) {
    const { definitionKey, category } = parseServiceCode(code);
    const snapshot = services.get(definitionKey);
    const found = snapshot ? categoryOfService(snapshot.spec, category) : undefined;
    if (!snapshot || found === undefined) {
      throw new AppError('not_found', `No service "${code}"`, [
        { path: parameter, message: `no service "${code}"; GET services.json lists them` },
      ]);
    }
    return { snapshot, category: found };
  }

  /**
   * Requests as the caller may see them: in full where the native API would show the case to it
   * (its scope, or a case it filed), with personal data masked otherwise and for anonymous callers.
   */
  async function present(
    principal: Principal,
    docs: StoredCase[],
    latest: Map<string, DefinitionSnapshot>,
  ): Promise<Open311Request[]> {
    const scope = principal.roles.length > 0 ? await deps.scope.resolve(principal) : null;
    const unitIds = [...new Set(docs.map((d) => d.unitId).filter((id): id is string => !!id))];
    const units =
      unitIds.length > 0 ? await Unit.find({ _id: { $in: unitIds } }, { name: 1 }).lean() : [];
    const unitNames = new Map(units.map((u) => [u._id, u.name]));
    const specs = new Map<string, DefinitionSpec | null>();
    const out: Open311Request[] = [];
    for (const doc of docs) {
      const versionKey = `${doc.definitionKey}@${doc.definitionVersion}`;
      if (!specs.has(versionKey)) {
        const current = latest.get(doc.definitionKey);
        specs.set(
          versionKey,
          current?.version === doc.definitionVersion
            ? current.spec
            : ((await deps.definitions.snapshot(doc.definitionKey, doc.definitionVersion))?.spec ??
                null),
        );
      }
      out.push(
        requestOf(caseForOpen311(doc), specs.get(versionKey) ?? null, {
          visible: scope !== null && canSee(scope, doc),
          agency: doc.unitId ? (unitNames.get(doc.unitId) ?? null) : null,
        }),
      );
    }
    return out;
  }

  return {
    async listServices(): Promise<Open311Service[]> {
      return [...(await offered()).values()].flatMap((snapshot) => servicesOf(snapshot.spec));
    },

    async serviceDefinition(code: string): Promise<Open311ServiceDefinition> {
      const { snapshot } = serviceFor(await offered(), code, 'service_code');
      return serviceDefinitionOf(snapshot.spec, code);
    },

    /**
     * Files a request as a case. Without an Idempotency-Key each POST is a new case (what
     * Open311 clients expect); with one, a retry returns the case the first call started.
     */
    async createRequest(
      principal: Principal,
      idempotencyKey: string | undefined,
      input: CreateRequestInput,
    ): Promise<{ created: boolean; serviceRequestId: string }> {
      const { snapshot, category } = serviceFor(
        await offered(),
        input.service_code,
        'service_code',
      );
      const problems: ErrorDetail[] = [];
      // GeoReport v2: a location is lat and long, address_string or address_id.
      const coordinates = input.lat !== undefined || input.long !== undefined;
      if (coordinates && (input.lat === undefined || input.long === undefined)) {
        const missing = input.lat === undefined ? 'lat' : 'long';
        problems.push({ path: missing, message: 'required with the other coordinate' });
      } else if (!coordinates && input.address_string === undefined && !input.address_id) {
        problems.push({
          path: 'location',
          message: 'required: lat and long, address_string or address_id',
        });
      }
      if (input.address_id !== undefined && !(await Unit.exists({ _id: input.address_id }))) {
        problems.push({ path: 'address_id', message: 'not a unit of the org tree' });
      }
      const mapped = caseDataOf(snapshot.spec, input);
      if (!mapped.ok) {
        problems.push(...mapped.problems.map((p) => ({ path: p.parameter, message: p.message })));
      }
      if (problems.length > 0 || !mapped.ok) {
        throw new AppError('invalid_request', 'The service request is not valid', problems);
      }
      try {
        const result = await deps.cases.startCase(
          principal,
          idempotencyKey ?? `open311-${randomUUID()}`,
          {
            definitionKey: snapshot.key,
            data: mapped.data,
            ...(input.address_id !== undefined ? { unitId: input.address_id } : {}),
            ...(category ? { category: category.code } : {}),
          },
          { channel: 'open311' },
        );
        return { created: result.created, serviceRequestId: result.case.id };
      } catch (err) {
        if (!(err instanceof AppError) || err.details.length === 0) throw err;
        // Name each problem as the client sent it: `data.description` came from `description`.
        throw new AppError(
          err.kind,
          err.message,
          err.details.map((detail) => {
            // Checked above already; a unit deleted since is refused by the case service.
            if (detail.path === 'body.unitId')
              return { path: 'address_id', message: 'not a unit of the org tree' };
            const match = /^data\.([A-Za-z0-9_]+)(.*)$/.exec(detail.path);
            if (!match) return detail;
            const field = match[1]!;
            const rest = match[2] ?? '';
            const missing = mapped.data[field] === undefined;
            return {
              path: `${mapped.sources[field] ?? `attribute[${field}]`}${rest}`,
              message: missing ? 'required' : detail.message,
            };
          }),
        );
      }
    },

    /** Requests of the offered services, newest first, a page at a time. */
    async listRequests(principal: Principal, query: ListRequestsQuery): Promise<Open311Request[]> {
      const services = await offered();
      const filter: Record<string, unknown> = { definitionKey: { $in: [...services.keys()] } };
      if (query.serviceRequestIds) {
        // GeoReport v2: a list of ids overrides every other argument.
        filter._id = { $in: query.serviceRequestIds };
      } else {
        if (query.serviceCodes) {
          const wanted = query.serviceCodes.map((code) =>
            serviceFor(services, code, 'service_code'),
          );
          filter.$or = wanted.map(({ snapshot, category }) => ({
            definitionKey: snapshot.key,
            ...(category ? { category: category.code } : {}),
          }));
        }
        if (query.startDate || query.endDate) {
          filter.createdAt = {
            ...(query.startDate ? { $gte: query.startDate } : {}),
            ...(query.endDate ? { $lte: query.endDate } : {}),
          };
        }
        const statuses = new Set(query.statuses ?? []);
        if (statuses.size === 1) {
          filter.status = statuses.has('open') ? 'open' : { $ne: 'open' };
        }
      }
      const docs = (await Case.find(filter, REQUEST_PROJECTION)
        .sort({ createdAt: -1, _id: 1 })
        .skip(skipOf(query))
        .limit(query.pageSize)
        .lean()) as unknown as StoredCase[];
      return present(principal, docs, services);
    },

    /** One request, as a list of one (GeoReport v2's JSON for GET requests/{id}). */
    async getRequest(principal: Principal, id: string): Promise<Open311Request[]> {
      const services = await offered();
      const doc = (await Case.findById(id, REQUEST_PROJECTION).lean()) as StoredCase | null;
      if (doc) {
        if (!services.has(doc.definitionKey)) throw notFound(id);
        return present(principal, [doc], services);
      }
      // Accepted but not yet written by the workflow: only a caller that may see it learns of it.
      if (principal.roles.length === 0) throw notFound(id);
      const pending = await deps.cases.getCase(principal, id).catch((err: unknown) => {
        throw err instanceof AppError && err.kind === 'not_found' ? notFound(id) : err;
      });
      const snapshot = services.get(pending.definition.key);
      if (!snapshot) throw notFound(id);
      return [
        requestOf(
          {
            id: pending.id,
            status: pending.status,
            definitionKey: pending.definition.key,
            category: pending.category,
            unitId: pending.unitId,
            data: pending.data,
            createdAt: new Date(pending.createdAt),
            updatedAt: new Date(pending.updatedAt),
            closedAt: pending.closedAt ? new Date(pending.closedAt) : null,
            deadlines: pending.deadlines,
            lastEntry: null,
          },
          snapshot.spec,
          { visible: true, agency: null },
        ),
      ];
    },
  };
}

export type Open311Api = ReturnType<typeof createOpen311Service>;

function notFound(id: string): AppError {
  return new AppError('not_found', `No service request "${id}"`);
}

function caseForOpen311(doc: StoredCase): CaseForOpen311 {
  const last = doc.timeline?.at(-1);
  return {
    id: doc._id,
    status: doc.status as CaseStatus,
    definitionKey: doc.definitionKey,
    category: doc.category ?? null,
    unitId: doc.unitId ?? null,
    data: (doc.data ?? {}) as Record<string, unknown>,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    closedAt: doc.closedAt ?? null,
    deadlines: (doc.deadlines ?? []) as DeadlineView[],
    lastEntry: last
      ? {
          type: last.type as TimelineEventType,
          ...(last.stepId ? { stepId: last.stepId } : {}),
          ...(last.detail ? { detail: last.detail as Record<string, unknown> } : {}),
        }
      : null,
  };
}
