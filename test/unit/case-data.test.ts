import type { FieldSpec } from '../../lang/definition';
import { validateCaseData } from '../../lang/case-data';

function field(spec: Partial<FieldSpec> & Pick<FieldSpec, 'name' | 'type'>): FieldSpec {
  return { label: spec.name, required: false, personal: false, multiple: false, ...spec };
}

const fields: FieldSpec[] = [
  field({ name: 'category', type: 'string', required: true, options: ['环境卫生', '其他'] }),
  field({ name: 'description', type: 'text', required: true }),
  field({ name: 'contactEmail', type: 'email' }),
  field({ name: 'phone', type: 'phone' }),
  field({ name: 'visitDate', type: 'date' }),
  field({ name: 'floor', type: 'integer', min: 1, max: 30 }),
  field({ name: 'note', type: 'string' }),
  field({ name: 'meetAt', type: 'datetime' }),
  field({ name: 'department', type: 'unit' }),
  field({ name: 'helpers', type: 'unit', multiple: true, maxItems: 3 }),
];

const valid = { category: '环境卫生', description: '楼道堆放杂物' };

function pathsOf(data: unknown): string[] {
  const result = validateCaseData(fields, data);
  return result.ok ? [] : result.problems.map((p) => p.path);
}

describe('validateCaseData', () => {
  it('when only required fields are given, then the data is valid (optional fields may be absent)', () => {
    // Act
    const result = validateCaseData(fields, valid);

    // Assert
    expect(result).toEqual({ ok: true, data: valid });
  });

  it('when required fields are missing or blank, then each is named', () => {
    // Act
    const missing = pathsOf({});
    const blank = pathsOf({ category: '环境卫生', description: '   ' });

    // Assert
    expect(missing.sort()).toEqual(['data.category', 'data.description']);
    expect(blank).toEqual(['data.description']);
  });

  it('when unknown fields are sent, then each is named as data.<name>', () => {
    // Act
    const paths = pathsOf({ ...valid, nickname: 'x', age: 3 });

    // Assert
    expect(paths.sort()).toEqual(['data.age', 'data.nickname']);
  });

  it('when a value is not one of the options, then it is rejected with the options listed', () => {
    // Act
    const result = validateCaseData(fields, { ...valid, category: '噪音' });

    // Assert
    expect(result).toEqual({
      ok: false,
      problems: [{ path: 'data.category', message: 'must be one of: 环境卫生, 其他' }],
    });
  });

  it('when string values have surrounding spaces, then they are trimmed before checks', () => {
    // Act
    const result = validateCaseData(fields, { category: ' 环境卫生 ', description: '  有噪音\n' });

    // Assert
    expect(result).toEqual({ ok: true, data: { category: '环境卫生', description: '有噪音' } });
  });

  it.each([
    ['contactEmail', 'not-an-email'],
    ['phone', 'call me'],
    ['phone', '12'],
    ['visitDate', '2026-13-01'],
    ['visitDate', '01/10/2026'],
    ['floor', 2.5],
    ['floor', 0],
    ['floor', 31],
    ['floor', '3'],
    ['meetAt', '2026-05-01T09:30:00'],
    ['meetAt', '2026-05-01'],
    ['department', 'dep 1'],
    ['department', ''],
    ['helpers', 'd1'],
    ['helpers', ['d1', 'd2', 'd3', 'd4']],
  ])('when %s is %j, then it is rejected at data.%s', (name, value) => {
    // Act
    const paths = pathsOf({ ...valid, [name]: value });

    // Assert
    expect(paths).toEqual([`data.${name}`]);
  });

  it.each([
    ['contactEmail', 'resident@example.org'],
    ['phone', '13800138000'],
    ['phone', '+86 138-0013-8000'],
    ['visitDate', '2026-10-01'],
    ['floor', 1],
    ['floor', 30],
    ['meetAt', '2026-05-01T09:30:00+08:00'],
    ['meetAt', '2026-05-01T01:30:00Z'],
    ['department', 'dep-housing_1'],
    ['helpers', []],
    ['helpers', ['d1', 'd2', 'd3']],
  ])('when %s is %j, then it is accepted', (name, value) => {
    // Act
    const result = validateCaseData(fields, { ...valid, [name]: value });

    // Assert
    expect(result.ok).toBe(true);
  });

  it('when no maxLength is set, then text allows 5000 characters and string 200', () => {
    // Arrange
    const atLimit = { ...valid, description: 'a'.repeat(5000), note: 'b'.repeat(200) };
    const overLimit = { ...valid, description: 'a'.repeat(5001), note: 'b'.repeat(201) };

    // Act
    const ok = validateCaseData(fields, atLimit);
    const paths = pathsOf(overLimit);

    // Assert
    expect(ok.ok).toBe(true);
    expect(paths.sort()).toEqual(['data.description', 'data.note']);
  });

  it('when maxLength is set, then it replaces the default and counts after trimming', () => {
    // Arrange
    const short = [field({ name: 'title', type: 'text', required: true, maxLength: 5 })];

    // Act
    const trimmedFits = validateCaseData(short, { title: '  12345  ' });
    const tooLong = validateCaseData(short, { title: '123456' });

    // Assert
    expect(trimmedFits).toEqual({ ok: true, data: { title: '12345' } });
    expect(tooLong.ok).toBe(false);
  });

  it('when a required multiple field is empty or one value is bad, then the value is named by its index', () => {
    // Arrange
    const listed = [field({ name: 'departments', type: 'unit', multiple: true, required: true })];

    // Act
    const empty = validateCaseData(listed, { departments: [] });
    const bad = validateCaseData(listed, { departments: ['d1', 'not a unit'] });

    // Assert
    expect(empty).toEqual({
      ok: false,
      problems: [{ path: 'data.departments', message: 'give at least one value' }],
    });
    expect(bad.ok ? [] : bad.problems.map((p) => p.path)).toEqual(['data.departments[1]']);
  });

  it('when data is not an object, then it is rejected', () => {
    // Act
    const result = validateCaseData(fields, 'hello');

    // Assert
    expect(result.ok).toBe(false);
  });
});
