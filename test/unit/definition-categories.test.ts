import { validateDefinition } from '../../lang/check';
import { createMailRenderer } from '../../mail/renderer';

/** `categories` (诉求类别) and `open311` in the definition language: shape and meaning checks. */

const options = { knownTemplates: createMailRenderer().templateNames };

function definition(extra: Record<string, unknown>, fields: unknown[] = []) {
  return {
    key: 'street-desk',
    name: '街道服务台',
    starters: ['resident'],
    input: { fields },
    steps: [{ id: 'closed', name: '办结', type: 'end' }],
    ...extra,
  };
}

function problemsOf(raw: unknown) {
  const result = validateDefinition(raw, options);
  return result.ok ? [] : result.problems;
}

describe('categories', () => {
  it('when categories have slugs, Chinese names and Open311 details, then the definition is valid and keeps them', () => {
    // Arrange
    const raw = definition({
      categories: [
        { code: 'waste-sorting', name: '垃圾分类', keywords: ['垃圾', '分类'], group: '市容环境' },
        { code: 'street-light', name: '路灯损坏', description: '路灯不亮或闪烁' },
      ],
      open311: true,
    });

    // Act
    const result = validateDefinition(raw, options);

    // Assert
    expect(result.ok && result.spec.categories?.map((c) => c.code)).toEqual([
      'waste-sorting',
      'street-light',
    ]);
    expect(result.ok && result.spec.open311).toBe(true);
  });

  it('when a definition says nothing of categories or Open311, then its spec has neither (checksums stay as they were)', () => {
    // Act
    const result = validateDefinition(definition({}), options);

    // Assert
    expect(result.ok && 'categories' in result.spec).toBe(false);
    expect(result.ok && 'open311' in result.spec).toBe(false);
  });

  it('when category codes are not storage-safe slugs, then each is named with the reason', () => {
    // Arrange
    const raw = definition({
      categories: [
        { code: 'street.light', name: '路灯' },
        { code: '$where', name: '注入' },
        { code: 'Waste_Sorting', name: '垃圾分类' },
        { code: '垃圾', name: '中文代码' },
      ],
    });

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([
      {
        path: 'categories[0].code',
        message:
          'must not contain "." (it separates the process key from the category in an Open311 service code)',
      },
      {
        path: 'categories[1].code',
        message: 'must not start with "$" (MongoDB would read it as an operator)',
      },
      {
        path: 'categories[2].code',
        message:
          'an English slug: lower-case letters, digits and -, starting with a letter, up to 63 (waste-sorting)',
      },
      {
        path: 'categories[3].code',
        message:
          'an English slug: lower-case letters, digits and -, starting with a letter, up to 63 (waste-sorting)',
      },
    ]);
  });

  it('when two categories share a code, a keyword holds a comma or the list is empty, then each is reported', () => {
    // Arrange
    const duplicate = definition({
      categories: [
        { code: 'other', name: '其他' },
        { code: 'other', name: '其它' },
      ],
    });
    const comma = definition({ categories: [{ code: 'a', name: '甲', keywords: ['x,y'] }] });
    const none = definition({ categories: [] });

    // Act
    const problems = [duplicate, comma, none].map(problemsOf);

    // Assert
    expect(problems[0]).toEqual([
      { path: 'categories[1].code', message: 'duplicate category "other"' },
    ]);
    expect(problems[1]).toEqual([
      {
        path: 'categories[0].keywords[0]',
        message: 'no commas (Open311 joins keywords with them)',
      },
    ]);
    expect(problems[2]).toEqual([
      { path: 'categories', message: expect.stringContaining('>=1') as unknown },
    ]);
  });
});

describe('open311', () => {
  const fields = [
    { name: 'details', label: '详情', type: 'text' },
    { name: 'where', label: '位置', type: 'string' },
    { name: 'mobile', label: '手机', type: 'phone' },
    { name: 'floor', label: '楼层', type: 'integer' },
  ];

  it('when open311.fields names suitable fields, then the definition is valid', () => {
    // Arrange
    const raw = definition(
      { open311: { fields: { description: 'details', address_string: 'where', phone: 'mobile' } } },
      fields,
    );

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([]);
  });

  it('when open311.fields names unknown fields, fields of the wrong type or one field twice, then each is reported', () => {
    // Arrange
    const raw = definition(
      {
        open311: {
          fields: {
            description: 'details',
            address_string: 'details',
            lat: 'floor',
            email: 'nowhere',
          },
        },
      },
      fields,
    );

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([
      {
        path: 'open311.fields.address_string',
        message: 'field "details" already takes description',
      },
      {
        path: 'open311.fields.lat',
        message: 'field "floor" is of type integer; lat fills one number',
      },
      { path: 'open311.fields.email', message: 'unknown field "nowhere"' },
    ]);
  });

  it('when open311.fields names a parameter GeoReport v2 does not have, then it is a shape error', () => {
    // Arrange
    const raw = definition({ open311: { fields: { zipcode: 'where' } } }, fields);

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([{ path: 'open311.fields', message: expect.any(String) as unknown }]);
  });
});

describe('quickReport', () => {
  const fields = [
    { name: 'kind', label: '类别', type: 'string', options: ['井盖缺失', '其他'] },
    { name: 'free', label: '自由类别', type: 'string' },
    { name: 'details', label: '详情', type: 'text' },
    { name: 'where', label: '位置', type: 'string' },
    { name: 'who', label: '上报人', type: 'person' },
    { name: 'floor', label: '楼层', type: 'integer' },
  ];

  it('when quickReport names suitable fields, then the definition is valid and keeps them', () => {
    // Arrange
    const quickReport = {
      category: 'kind',
      description: 'details',
      location: 'where',
      reporter: 'who',
    };

    // Act
    const result = validateDefinition(definition({ quickReport }, fields), options);

    // Assert
    expect(result.ok && result.spec.quickReport).toEqual(quickReport);
  });

  it('when quickReport names unknown fields, unsuitable types or a category without options, then each is reported', () => {
    // Arrange
    const raw = definition(
      {
        quickReport: {
          category: 'free',
          description: 'floor',
          location: 'nowhere',
          reporter: 'where',
        },
      },
      fields,
    );

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([
      {
        path: 'quickReport.description',
        message:
          'field "floor" is of type integer; the quick report\'s description fills one text or string',
      },
      { path: 'quickReport.location', message: 'unknown field "nowhere"' },
      {
        path: 'quickReport.reporter',
        message: 'field "where" is of type string; the quick report\'s reporter fills one person',
      },
      { path: 'quickReport.category', message: 'field "free" needs options to choose from' },
    ]);
  });

  it('when a process with categories also names a category field, then it is told to leave it out', () => {
    // Arrange
    const raw = definition(
      {
        categories: [{ code: 'manhole', name: '井盖缺失' }],
        quickReport: { category: 'kind', description: 'details' },
      },
      fields,
    );

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([
      {
        path: 'quickReport.category',
        message: 'the process has categories: a quick report files under them; leave category out',
      },
    ]);
  });
});
