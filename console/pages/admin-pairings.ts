import { AppError } from '../../services/errors';
import { pairingInput } from '../../services/pairing-input';
import type { PairingView } from '../../services/pairings';
import type { Principal } from '../../services/auth';
import { PAIRING_KINDS } from '../../lang/vocabulary';
import type { Translate } from '../i18n';
import type { ConsoleKit } from '../kit';
import { field } from '../pipeline';
import { personPath, unitIdOf, unitPath } from '../admin-org-paths';

/**
 * 包联 on the admin org pages: a unit's page lists who is paired with it and what it is paired
 * with (a co-building unit's compounds), and adds or ends a pairing, through the pairing
 * service the API uses (services/pairings.ts). Bulk pairings go through the CSV import.
 */

/** Pairings a unit page shows in each list (chosen: a compound has a handful; the rest via CSV). */
const SHOWN_PAIRINGS = 100;

/** A unit's pairings as the unit page shows them: both directions, with the add form's kinds. */
export async function unitPairings(
  kit: ConsoleKit,
  principal: Principal,
  unitId: string,
  t: Translate,
) {
  const service = kit.services.org.pairings;
  const page = { page: 1, pageSize: SHOWN_PAIRINGS };
  const [paired, partnerOf] = await Promise.all([
    service.list(principal, { ...page, unitId }),
    service.list(principal, { ...page, partnerUnitId: unitId }),
  ]);
  return {
    pairedWith: paired.items.map((p) => rowOf(p, t, 'partner')),
    pairedWithMore: paired.total > paired.items.length,
    looksAfter: partnerOf.items.map((p) => rowOf(p, t, 'unit')),
    pairingKinds: PAIRING_KINDS.map((kind) => ({
      value: kind,
      label: t(`admin.pairingKind.${kind}`),
    })),
    pairingAction: `${unitPath(unitId)}/pairings`,
    pairingRemoveAction: `${unitPath(unitId)}/pairings/remove`,
  };
}

function rowOf(p: PairingView, t: Translate, show: 'partner' | 'unit') {
  const who =
    show === 'unit'
      ? { name: p.unitName || p.unitId, id: p.unitId, href: unitPath(p.unitId) }
      : p.personId !== undefined
        ? { name: p.personName || p.personId, id: p.personId, href: personPath(p.personId) }
        : {
            name: p.partnerUnitName || (p.partnerUnitId ?? ''),
            id: p.partnerUnitId ?? '',
            href: unitPath(p.partnerUnitId ?? ''),
          };
  return {
    id: p.id,
    kind: PAIRING_KINDS.includes(p.kind) ? t(`admin.pairingKind.${p.kind}`) : p.kind,
    who,
    period:
      p.validFrom === undefined && p.validUntil === undefined
        ? t('admin.pairing.open')
        : `${p.validFrom ?? '…'} – ${p.validUntil ?? '…'}`,
  };
}

export function registerPairingPages({ pages, services }: ConsoleKit): void {
  const pairings = services.org.pairings;

  pages.add({
    method: 'post',
    path: '/admin/org/units/:id/pairings',
    access: ['admin'],
    handle: async (ctx) => {
      const unitId = unitIdOf(ctx);
      const optional = (name: string) => field(ctx.form, name).trim() || undefined;
      const parsed = pairingInput.safeParse({
        unitId,
        kind: field(ctx.form, 'kind'),
        personId: optional('personId'),
        partnerUnitId: optional('partnerUnitId'),
        validFrom: optional('validFrom'),
        validUntil: optional('validUntil'),
      });
      if (!parsed.success) {
        throw new AppError(
          'unprocessable',
          ctx.t('admin.pairing.invalid'),
          parsed.error.issues.map((issue) => ({
            path: `form.${issue.path.join('.')}`,
            message: issue.message,
          })),
        );
      }
      await pairings.save(parsed.data);
      return { redirect: `${unitPath(unitId)}?done=paired` };
    },
  });

  pages.add({
    method: 'post',
    path: '/admin/org/units/:id/pairings/remove',
    access: ['admin'],
    handle: async (ctx) => {
      const unitId = unitIdOf(ctx);
      await pairings.remove(field(ctx.form, 'id'));
      return { redirect: `${unitPath(unitId)}?done=unpaired` };
    },
  });
}
