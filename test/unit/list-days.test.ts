import {
  boardKeys,
  caseListKeys,
  chinaDayHourOf,
  filingFacets,
  isSealedRoot,
  markerIdsOf,
  missingFacetKeys,
  rootsOf,
  stateFacets,
} from '../../common/list-days';
import { narrowedRoots, rareFacetsOf } from '../../services/cases';
import { cursorText, daysOfRange, parseCursor } from '../../services/day-walk';
import { AppError } from '../../services/errors';

describe('list day keys', () => {
  it('when an instant is near Beijing midnight, then its day and hour are Beijing ones', () => {
    expect(chinaDayHourOf(new Date('2026-04-30T15:59:00Z'))).toEqual({
      day: '2026-04-30',
      hour: '23',
    });
    expect(chinaDayHourOf(new Date('2026-04-30T16:00:00Z'))).toEqual({
      day: '2026-05-01',
      hour: '00',
    });
  });

  it('when a case is keyed, then it has a day and an hour key under everything, each unit from its own up, and who filed it', () => {
    const keys = caseListKeys(new Date('2026-05-10T03:00:00Z'), ['g1', 'c1', 's1'], 'usr_a');
    expect(keys).toEqual([
      '*|2026-05-10',
      '*|2026-05-10T11',
      'u:g1|2026-05-10',
      'u:g1|2026-05-10T11',
      'u:c1|2026-05-10',
      'u:c1|2026-05-10T11',
      'u:s1|2026-05-10',
      'u:s1|2026-05-10T11',
      'by:usr_a|2026-05-10',
      'by:usr_a|2026-05-10T11',
    ]);
    expect(rootsOf([], null)).toEqual(['*']);
  });

  it('when a case is published, then the board keys follow the publication day and never who filed it', () => {
    expect(boardKeys(new Date('2026-05-31T16:30:00Z'), ['c1'])).toEqual([
      '*|2026-06-01',
      '*|2026-06-01T00',
      'u:c1|2026-06-01',
      'u:c1|2026-06-01T00',
    ]);
    expect(markerIdsOf('board', ['*', 'u:c1'], new Date('2026-05-31T16:30:00Z'))).toEqual([
      'board|*|2026-06-01',
      'board|u:c1|2026-06-01',
    ]);
  });
});

describe('list cursors and day bounds', () => {
  it('when a cursor is written and read back, then it is the same place', () => {
    const cursor = { at: Date.parse('2026-05-10T03:00:00.123Z'), id: 'case-a~b' };
    expect(parseCursor(cursorText(cursor))).toEqual(cursor);
  });

  it('when a cursor is not one a list gave, then it is a 400 naming before', () => {
    for (const text of ['yesterday', '~case-a', '2026-05-10T03:00:00Z~', 'x~y']) {
      let error: unknown;
      try {
        parseCursor(text);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).details?.map((d) => d.path)).toEqual(['query.before']);
    }
  });

  it('when a createdAt range is given, then the walk covers its Beijing days, the end exclusive', () => {
    expect(
      daysOfRange({
        $gte: new Date('2026-04-30T16:00:00Z'),
        $lt: new Date('2026-05-31T16:00:00Z'),
      }),
    ).toEqual({ fromDay: '2026-05-01', toDay: '2026-05-31' });
    expect(daysOfRange(undefined)).toEqual({});
  });
});

describe('keyed roots of the rare filters', () => {
  const at = new Date('2026-05-10T03:00:00Z'); // Beijing 2026-05-10 11:00

  it('when a case has a process, a category and rare states, then each unit root and * get a keyed root, never the filer', () => {
    const facets = [...filingFacets('hotline', '燃气'), ...stateFacets('rejected', true)];
    const keys = caseListKeys(at, ['g1', 'c1'], 'usr_a', facets);
    const roots = [...new Set(keys.map((k) => k.slice(0, k.lastIndexOf('|'))))];
    expect(roots).toEqual([
      '*',
      'u:g1',
      'u:c1',
      'by:usr_a',
      ...['p:hotline', 'c:%E7%87%83%E6%B0%94', 's:rejected', 'overdue'].flatMap((f) => [
        `*+${f}`,
        `u:g1+${f}`,
        `u:c1+${f}`,
      ]),
    ]);
    expect(keys).toHaveLength(2 * roots.length);
    // Keyed roots are never sealed: a filtered list walks their days, it skips nothing
    expect(isSealedRoot('u:g1+p:hotline')).toBe(false);
    expect(isSealedRoot('u:g1')).toBe(true);
  });

  it('when a case reaches a rare state, then the keys it lacks are derived from its own unit keys, once', () => {
    const filed = caseListKeys(at, ['g1'], 'usr_a', filingFacets('hotline', null));
    const missing = missingFacetKeys(filed, stateFacets('cancelled', false));
    expect(missing).toEqual([
      '*+s:cancelled|2026-05-10',
      '*+s:cancelled|2026-05-10T11',
      'u:g1+s:cancelled|2026-05-10',
      'u:g1+s:cancelled|2026-05-10T11',
    ]);
    expect(missingFacetKeys([...filed, ...missing], stateFacets('cancelled', false))).toEqual([]);
    expect(stateFacets('closed', false)).toEqual([]);
    expect(stateFacets('open', false)).toEqual([]);
  });

  it('when the list is filtered, then the rarest facet by kind picks the keyed roots, and a filer root is walked as it is', () => {
    const q = { page: 1, pageSize: 20 };
    expect(rareFacetsOf({ ...q, status: 'rejected', category: 'road' })).toEqual(['s:rejected']);
    expect(rareFacetsOf({ ...q, overdue: true, category: 'road' })).toEqual(['overdue']);
    expect(rareFacetsOf({ ...q, overdue: false, category: 'road' })).toEqual(['c:road']);
    expect(rareFacetsOf({ ...q, definitionKeys: ['a', 'b', 'a'] })).toEqual(['p:a', 'p:b']);
    expect(rareFacetsOf({ ...q, status: 'closed' })).toBeNull();
    expect(narrowedRoots(['u:c1', 'by:usr_a'], ['p:a', 'p:b'])).toEqual([
      'u:c1+p:a',
      'u:c1+p:b',
      'by:usr_a',
    ]);
  });
});
