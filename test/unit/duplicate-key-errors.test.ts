import { isDuplicateKeyError } from '../../models';

/**
 * The error shapes `isDuplicateKeyError` reads, as the driver builds them: the stored writes of
 * each shape run against FerretDB in test/workflow/duplicate-key-errors.test.ts; these are the
 * shapes that store does not produce today but the driver may hand over.
 */
describe('isDuplicateKeyError', () => {
  it('when a bulk error carries 11000 only on its write errors, then it is a duplicate', () => {
    const bulk = Object.assign(new Error('bulk write failed'), {
      writeErrors: [{ err: { index: 0, code: 11000, errmsg: 'E11000 duplicate key error' } }],
    });
    expect(isDuplicateKeyError(bulk)).toBe(true);
    const single = Object.assign(new Error('bulk write failed'), {
      writeErrors: { code: 11000, errmsg: 'E11000 duplicate key error' },
    });
    expect(isDuplicateKeyError(single)).toBe(true);
  });

  it('when a bulk error lists another failure beside a duplicate, then it is not a duplicate', () => {
    const mixed = Object.assign(new Error('bulk write failed'), {
      writeErrors: [{ code: 11000 }, { code: 121, errmsg: 'Document failed validation' }],
    });
    expect(isDuplicateKeyError(mixed)).toBe(false);
  });

  it("when FerretDB's InternalError carries the store's unique violation, then it is a duplicate; another InternalError is not", () => {
    const postgres = Object.assign(
      new Error(
        'ERROR: duplicate key value violates unique constraint "people_userid_idx" (SQLSTATE 23505)',
      ),
      { code: 1, codeName: 'InternalError' },
    );
    const sqlite = Object.assign(
      new Error("constraint failed: UNIQUE constraint failed: index 'people_userid_1' (2067)"),
      { code: 1, codeName: 'InternalError' },
    );
    const other = Object.assign(new Error('ERROR: canceling statement (SQLSTATE 57014)'), {
      code: 1,
      codeName: 'InternalError',
    });
    expect(isDuplicateKeyError(postgres)).toBe(true);
    expect(isDuplicateKeyError(sqlite)).toBe(true);
    expect(isDuplicateKeyError(other)).toBe(false);
    expect(isDuplicateKeyError(null)).toBe(false);
    expect(isDuplicateKeyError('E11000')).toBe(false);
  });
});
