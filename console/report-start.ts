import type { Principal } from '../services/auth';
import { hasAnyRole } from '../services/auth';
import { AppError } from '../services/errors';
import type { UnitDirectory } from '../services/unit-directory';
import type { DefinitionSnapshot, StepSpec } from '../lang/definition';
import type { FieldControl } from './forms';
import { controlsOf, idempotencyKeyOf, newFormKey, valuesOf } from './forms';
import type { Translate } from './i18n';
import type { ConsoleServices } from './kit';
import { field, fieldErrors } from './pipeline';
import type { Choice } from './report-format';
import { UNIT_ID } from './report-format';
import { topUnitsOf, unitChoices } from './report-units';

/**
 * Starting a round or an activation from a report page: the form (process, unit, the process's
 * own input fields, a hidden request key that makes a double submit start one case) and the
 * start itself through the case service, with its refusals mapped back onto the form.
 */

/** Every step of a process, those inside parallel branches and repeated blocks too. */
export function stepsOf(snapshot: DefinitionSnapshot): StepSpec[] {
  const out: StepSpec[] = [];
  for (const step of snapshot.spec.steps) {
    out.push(step);
    if (step.type === 'parallel') {
      for (const branch of step.branches) out.push(...(branch.steps as StepSpec[]));
    }
    if (step.type === 'repeat') out.push(...(step.steps as StepSpec[]));
  }
  return out;
}

/** Processes the principal may start, in the order of their names. */
export function startable(
  snapshots: readonly DefinitionSnapshot[],
  principal: Principal,
  accept: (snapshot: DefinitionSnapshot) => boolean,
): DefinitionSnapshot[] {
  return snapshots
    .filter((s) => hasAnyRole(principal, s.spec.starters) && accept(s))
    .sort((a, b) => a.spec.name.localeCompare(b.spec.name, 'zh-CN') || a.key.localeCompare(b.key));
}

export interface StartForm {
  processOptions: Choice[];
  process: { key: string; name: string; description: string };
  unitOptions: Choice[];
  categoryOptions: Choice[] | null;
  controls: FieldControl[];
  requestKey: string;
  errors: { unitId: string | null; category: string | null };
}

export function startFormOf(
  processes: readonly DefinitionSnapshot[],
  selected: DefinitionSnapshot,
  options: {
    tree: UnitDirectory;
    principal: Principal;
    unitTypes: ReadonlySet<string>;
    values?: Record<string, string | string[]>;
    errors?: Record<string, string>;
    requestKey?: string;
    t: Translate;
  },
): StartForm {
  const values = options.values ?? {};
  const errors = options.errors ?? {};
  const chosenUnit = field(values, 'unitId');
  const chosenCategory = field(values, 'category');
  return {
    processOptions: processes.map((p) => ({
      value: p.key,
      label: p.spec.name,
      selected: p.key === selected.key,
    })),
    process: {
      key: selected.key,
      name: selected.spec.name,
      description: selected.spec.description ?? '',
    },
    unitOptions: unitChoices(options.tree, topUnitsOf(options.tree, options.principal), {
      types: options.unitTypes,
      selected: chosenUnit,
      t: options.t,
    }),
    categoryOptions: selected.spec.categories
      ? selected.spec.categories.map((c) => ({
          value: c.code,
          label: c.name,
          selected: c.code === chosenCategory,
        }))
      : null,
    controls: controlsOf(selected.spec.input.fields, {
      prefix: 'start',
      values,
      errors,
      t: options.t,
    }),
    requestKey: idempotencyKeyOf(field(values, 'requestKey'))
      ? field(values, 'requestKey')
      : (options.requestKey ?? newFormKey()),
    errors: { unitId: errors.unitId ?? null, category: errors.category ?? null },
  };
}

export type StartOutcome =
  | { ok: true; caseId: string; created: boolean }
  | {
      ok: false;
      status: number;
      problems: { message: string; details: Array<{ path: string; message: string }> };
      errors: Record<string, string>;
    };

/**
 * Starts a case of `process` from the posted form. The request key becomes the Idempotency-Key:
 * the same form sent twice answers with the case the first one started.
 */
export async function startFromForm(
  services: Pick<ConsoleServices, 'cases'>,
  principal: Principal,
  process: DefinitionSnapshot,
  form: Record<string, string | string[]>,
  t: Translate,
): Promise<StartOutcome> {
  const requestKey = idempotencyKeyOf(field(form, 'requestKey'));
  const unitId = field(form, 'unitId').trim();
  const category = field(form, 'category').trim();
  const errors: Record<string, string> = {};
  if (!unitId) errors.unitId = t('report.start.unitRequired');
  else if (!UNIT_ID.test(unitId)) errors.unitId = t('report.start.unitInvalid');
  if (process.spec.categories && !category) errors.category = t('report.start.categoryRequired');
  if (!requestKey) {
    return {
      ok: false,
      status: 400,
      problems: { message: t('report.start.expired'), details: [] },
      errors,
    };
  }
  if (Object.keys(errors).length > 0) {
    return {
      ok: false,
      status: 422,
      problems: { message: t('report.start.fix'), details: [] },
      errors,
    };
  }
  try {
    const started = await services.cases.startCase(
      principal,
      requestKey,
      {
        definitionKey: process.key,
        unitId,
        data: valuesOf(process.spec.input.fields, form),
        ...(process.spec.categories ? { category } : {}),
      },
      { channel: 'console' },
    );
    return { ok: true, caseId: started.case.id, created: started.created };
  } catch (err) {
    if (
      !(err instanceof AppError) ||
      !['unprocessable', 'forbidden', 'invalid_request'].includes(err.kind)
    ) {
      throw err;
    }
    const byField = fieldErrors(err, ['data', 'body.data', 'body']);
    return {
      ok: false,
      status: err.status,
      problems: {
        message:
          err.kind === 'forbidden'
            ? t('report.start.forbidden', { why: err.message })
            : t('report.start.fix'),
        details: err.details,
      },
      errors: byField,
    };
  }
}
