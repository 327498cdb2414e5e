import { bumpOrgRevision } from '../../models/org-revision';
import { writePairings } from '../../services/pairings';
import type { PairingInput } from '../../services/pairing-input';
import type { SeededPerson, SeededUnit, SlaTestBed } from '../support/sla-cases';
import { eventsOf, mailsOf, useSlaTestBed } from '../support/sla-cases';

/**
 * The shipped 一键启动 roll-call (definitions/emergency-compound.yaml) calls the compound's 包联
 * people on the time-skipping server with the real activities: the cadre paired with the
 * compound, the cadre paired with one of its buildings and the liaison of the unit paired with
 * it, besides its own posts; a cadre whose pairing has ended is not called.
 */
let bed: SlaTestBed;

useSlaTestBed('emergency-pairing', (ready) => {
  bed = ready;
});

const CALLED = '新任务待办';
const DATA = { reason: '防汛Ⅳ级应急响应', instructions: '立即到包联小区报到' };

async function pair(pairings: PairingInput[]): Promise<void> {
  await writePairings(bed.db.models, pairings, new Date());
  await bumpOrgRevision(bed.db.models);
}

interface PairedCompound {
  compound: SeededUnit;
  manager: SeededPerson;
  compoundCadre: SeededPerson;
  buildingCadre: SeededPerson;
  liaison: SeededPerson;
  formerCadre: SeededPerson;
}

/** A compound with one building, its manager, and everyone paired with it (包联). */
async function pairedCompound(): Promise<PairedCompound> {
  const org = await bed.seedOrg();
  const compound = await bed.addUnit('compound', '幸福小区', org.grid, `${org.grid.id}-c1`);
  const building = await bed.addUnit('building', '1号楼', compound, `${compound.id}-b1`);
  const bureau = await bed.addUnit('cobuilding', '县水利局', org.street, `${org.street.id}-water`);
  const found: PairedCompound = {
    compound,
    manager: await bed.addPerson('manager', '孙经理', [[compound, 'property-manager']]),
    // Cadres hold their posts elsewhere (a street office); here they are only paired.
    compoundCadre: await bed.addPerson('cadre-c', '王干部', [[org.street, 'officer']]),
    buildingCadre: await bed.addPerson('cadre-b', '李干部', []),
    liaison: await bed.addPerson('liaison', '赵联络', [[bureau, 'liaison']]),
    formerCadre: await bed.addPerson('cadre-old', '陈干部', []),
  };
  await pair([
    { unitId: compound.id, kind: 'cadre', personId: found.compoundCadre.personId },
    { unitId: building.id, kind: 'cadre', personId: found.buildingCadre.personId },
    { unitId: compound.id, kind: 'unit', partnerUnitId: bureau.id },
    {
      unitId: compound.id,
      kind: 'cadre',
      personId: found.formerCadre.personId,
      validUntil: '2020-12-31',
    },
  ]);
  return found;
}

describe('一键启动 calls the compound’s 包联 people', () => {
  it('when a compound’s roll-call opens, then its paired cadres and its paired unit’s liaison are called with its own posts, a past pairing not, and the roll-call waits for them', async () => {
    // Arrange
    const org = await pairedCompound();
    const called = [org.manager, org.compoundCadre, org.buildingCadre, org.liaison];

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(
        queue,
        bed.shipped('emergency-compound.yaml'),
        org.compound.id,
        DATA,
      );
      const taskId = kase.taskId('report');
      const open = await kase.waitForTask('the roll-call to open', taskId, (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      for (const someone of called) await kase.acknowledge(taskId, someone);
      await kase.handle.result();
      return { open, doc: await kase.doc() };
    });

    // Assert: the roll-call called the four, each mailed once, and not the former cadre
    expect(outcome.open.candidates.map((c) => c.personId).sort()).toEqual(
      called.map((p) => p.personId).sort(),
    );
    for (const someone of called) expect(await mailsOf(someone, CALLED)).toHaveLength(1);
    expect(await mailsOf(org.formerCadre, CALLED)).toHaveLength(0);
    // …and closed as soon as all four had reported
    const [closed] = eventsOf(outcome.doc.timeline, 'claim.closed');
    expect(closed!.detail).toMatchObject({ reason: 'full', expected: 4, missing: 0 });
  });
});
