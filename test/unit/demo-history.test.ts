import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { checkImportedCase } from '../../common/case-import';
import { validateDefinitionSource } from '../../lang/source';
import type { DefinitionSnapshot } from '../../lang/definition';
import { generateDemoCounty } from '../../demo/county';
import { HISTORY_CASES_PER_COMMUNITY, planHistory } from '../../demo/history';
import { createRng } from '../../demo/random';
import { createMailRenderer } from '../../mail/renderer';

const DIR = path.join(__dirname, '..', '..', 'definitions');
const NOW = new Date('2026-11-22T04:00:00Z');

function shipped(): DefinitionSnapshot[] {
  const templates = createMailRenderer().templateNames;
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((file) => {
      const result = validateDefinitionSource(readFileSync(path.join(DIR, file), 'utf8'), 'yaml', {
        knownTemplates: templates,
      });
      if (!result.ok) throw new Error(`${file}: ${JSON.stringify(result.problems[0])}`);
      return { key: result.spec.key, version: 1, checksum: 'x', spec: result.spec };
    });
}

describe('demo case history', () => {
  const county = generateDemoCounty();
  const definitions = shipped();
  const plan = () =>
    planHistory(
      county,
      definitions,
      new Map(),
      createRng(county.seed).fork('stage/case history'),
      NOW,
    );

  it('when planned twice from the same seed and day, then the records are the same', () => {
    // Act / Assert
    expect(plan()).toEqual(plan());
  });

  it('when planned, then every record passes the checks the import makes against its process', () => {
    // Act
    const { records } = plan();

    // Assert
    const byKey = new Map(definitions.map((d) => [d.key, d]));
    const problems = records.flatMap((r, i) =>
      checkImportedCase(r, byKey.get(r.definitionKey)!, `records[${i}]`),
    );
    expect(problems).toEqual([]);
    expect(new Set(records.map((r) => r.externalId)).size).toBe(records.length);
  });

  it('when planned, then every process people start has history and only rounds and sub-processes have none', () => {
    // Act
    const { records, skipped } = plan();

    // Assert
    const communities = county.units.filter((u) => u.type === 'community').length;
    const withHistory = new Set(records.map((r) => r.definitionKey));
    for (const key of withHistory) {
      expect(records.filter((r) => r.definitionKey === key)).toHaveLength(
        communities * HISTORY_CASES_PER_COMMUNITY,
      );
    }
    expect(
      skipped.every((s) =>
        /periodic round|sub-process of|only by the engine|no task/.test(s.reason),
      ),
    ).toBe(true);
    // The processes of the demo's dashboards are all there.
    for (const key of [
      'property-54321',
      'grid-event',
      'three-orders',
      'whistle-call',
      'closed-loop-demand',
    ]) {
      expect(withHistory).toContain(key);
    }
    expect(withHistory.size + skipped.length).toBe(definitions.length);
    // Rated, unrated, late and published cases all occur, so the dashboards have each to show.
    expect(records.some((r) => r.rating?.score === 5)).toBe(true);
    expect(records.some((r) => r.events.some((e) => e.type === 'deadline.missed'))).toBe(true);
    expect(records.some((r) => r.publication !== null)).toBe(true);
  });

  it('when planned, then every order names who served it, and co-building units serve some of each community', () => {
    // Act
    const { records } = plan();

    // Assert
    const units = new Map(county.units.map((u) => [u.id, u]));
    const people = new Set(county.people.map((p) => p.id));
    for (const r of records) {
      expect(r.servedBy!.unitIds.every((id) => units.has(id))).toBe(true);
      expect(r.servedBy!.personIds.every((id) => people.has(id))).toBe(true);
      // The person holds a post in the unit named.
      const [unitId] = r.servedBy!.unitIds;
      const [personId] = r.servedBy!.personIds;
      expect(county.posts.some((p) => p.unitId === unitId && p.personId === personId)).toBe(true);
    }
    const byCobuilding = records.filter(
      (r) => units.get(r.servedBy!.unitIds[0]!)?.type === 'cobuilding',
    );
    expect(byCobuilding.length).toBeGreaterThan(records.length / 5);
    expect(byCobuilding.length).toBeLessThan(records.length / 2);
    const grids = new Set(byCobuilding.map((r) => r.unitId));
    expect(grids.size).toBe(county.units.filter((u) => u.type === 'community').length);
    // More than one co-building unit serves, each through its liaison.
    expect(new Set(byCobuilding.map((r) => r.servedBy!.unitIds[0])).size).toBeGreaterThan(3);
  });

  it('when placed in time, then every case was received on a weekday in working hours within the last 150 days', () => {
    // Act
    const { records } = plan();

    // Assert
    for (const r of records) {
      const received = new Date(Date.parse(r.receivedAt) + 8 * 3_600_000);
      expect([0, 6]).not.toContain(received.getUTCDay());
      expect(received.getUTCHours()).toBeGreaterThanOrEqual(8);
      expect(received.getUTCHours()).toBeLessThan(17);
      expect(NOW.getTime() - Date.parse(r.receivedAt)).toBeLessThan(151 * 86_400_000);
    }
  });
});
