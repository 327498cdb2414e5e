import type { DefinitionSnapshot } from '../../lang/definition';
import { caseStartMemoOf, caseStartOf } from '../../common/case-start';
import { CASE_DEFINITION_KEY, CASE_STATUS, CASE_UNIT_ID } from '../../common/search-attributes';

const definition = {
  key: 'street-light',
  version: 3,
  checksum: 'sha256:abc',
  spec: { name: '路灯报修' },
} as unknown as DefinitionSnapshot;

/** JSON keeps key order: equal text means the same payload bytes in a start command. */
const exactly = (value: unknown) => JSON.stringify(value);

describe('caseStartOf', () => {
  it('when the API starts a case, then input, memo and search attributes are those it always sent', () => {
    // Arrange
    const startedBy = { kind: 'user' as const, id: 'u-1', roles: ['resident' as const] };

    // Act
    const start = caseStartOf({
      caseId: 'case-1',
      definition,
      data: { description: 'dark' },
      startedBy,
      unitId: 'unit-1',
      category: 'light',
      requestHash: 'h1',
      receivedAt: '2026-05-01T01:00:00.000Z',
      channel: 'api',
    });

    // Assert
    expect(exactly(start.args)).toBe(
      exactly([
        {
          caseId: 'case-1',
          definition,
          data: { description: 'dark' },
          startedBy,
          unitId: 'unit-1',
          category: 'light',
          requestHash: 'h1',
          receivedAt: '2026-05-01T01:00:00.000Z',
          channel: 'api',
        },
      ]),
    );
    expect(exactly(start.memo)).toBe(
      exactly({
        requestHash: 'h1',
        createdBy: { kind: 'user', id: 'u-1' },
        unitId: 'unit-1',
        category: 'light',
        definitionKey: 'street-light',
        definitionVersion: 3,
        definitionName: '路灯报修',
        channel: 'api',
      }),
    );
    expect(start.searchAttributes).toEqual([
      { key: CASE_STATUS, value: 'open' },
      { key: CASE_DEFINITION_KEY, value: 'street-light' },
      { key: CASE_UNIT_ID, value: 'unit-1' },
    ]);
  });

  it('when a schedule fires without a unit, then the memo has null unit and category and no unit attribute', () => {
    // Arrange
    const startedBy = { kind: 'system' as const, id: 'schedule', roles: ['system' as const] };

    // Act
    const start = caseStartOf({
      caseId: 'case-2',
      definition,
      data: {},
      startedBy,
      requestHash: 'schedule:street-light@3',
      receivedAt: '2026-06-01T01:00:00.000Z',
      channel: 'schedule',
    });

    // Assert
    expect(exactly(start.args[0])).toBe(
      exactly({
        caseId: 'case-2',
        definition,
        data: {},
        startedBy,
        requestHash: 'schedule:street-light@3',
        receivedAt: '2026-06-01T01:00:00.000Z',
        channel: 'schedule',
      }),
    );
    expect(exactly(start.memo)).toBe(
      exactly({
        requestHash: 'schedule:street-light@3',
        createdBy: { kind: 'system', id: 'schedule' },
        unitId: null,
        category: null,
        definitionKey: 'street-light',
        definitionVersion: 3,
        definitionName: '路灯报修',
        channel: 'schedule',
      }),
    );
    expect(start.searchAttributes).toEqual([
      { key: CASE_STATUS, value: 'open' },
      { key: CASE_DEFINITION_KEY, value: 'street-light' },
    ]);
  });

  it('when a sub-process step starts a case, then the memo carries the nonce and no category, as it always did', () => {
    // Arrange
    const startedBy = { kind: 'system' as const, id: 'engine', roles: ['system' as const] };

    // Act
    const start = caseStartOf({
      caseId: 'case-3',
      definition,
      data: { n: 1 },
      startedBy,
      unitId: 'unit-2',
      requestHash: 'subprocess:case-1:notify:0',
      receivedAt: '2026-06-01T02:00:00.000Z',
      channel: 'subprocess',
      parentCaseId: 'case-1',
    });

    // Assert
    expect(exactly(start.args[0])).toBe(
      exactly({
        caseId: 'case-3',
        definition,
        data: { n: 1 },
        startedBy,
        unitId: 'unit-2',
        requestHash: 'subprocess:case-1:notify:0',
        receivedAt: '2026-06-01T02:00:00.000Z',
        channel: 'subprocess',
        parentCaseId: 'case-1',
      }),
    );
    expect(exactly(start.memo)).toBe(
      exactly({
        requestHash: 'subprocess:case-1:notify:0',
        requestNonce: 'case-3',
        createdBy: { kind: 'system', id: 'engine' },
        unitId: 'unit-2',
        definitionKey: 'street-light',
        definitionVersion: 3,
        definitionName: '路灯报修',
        channel: 'subprocess',
      }),
    );
  });
});

describe('caseStartMemoOf', () => {
  it('when the memo has a request hash, then it is the typed memo; otherwise null', () => {
    // Arrange
    const memo = caseStartOf({
      caseId: 'case-1',
      definition,
      data: {},
      startedBy: { kind: 'user', id: 'u-1', roles: [] },
      requestHash: 'h1',
      receivedAt: '2026-05-01T01:00:00.000Z',
      channel: 'api',
    }).memo;

    // Act
    const read = [memo, undefined, {}, { requestHash: '' }].map(caseStartMemoOf);

    // Assert
    expect(read).toEqual([memo, null, null, null]);
  });
});
