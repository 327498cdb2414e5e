import { validateCaseData } from '../../lang/case-data';
import type { DefinitionProblem } from '../../lang/check';
import { validateDefinition } from '../../lang/check';
import type { FieldSpec } from '../../lang/definition';
import { fieldSchema } from '../../lang/definition';

/** The `photo` field type: ids of attached photos in a task's form, never images. */

const options = { knownTemplates: new Set(['case-received']) };

function definitionWith(
  photoField: Record<string, unknown>,
  extra: { input?: unknown[]; show?: string[]; photos?: boolean } = {},
) {
  return {
    key: 'photo-process',
    name: '拍照流程',
    starters: ['staff'],
    input: { fields: extra.input ?? [] },
    steps: [
      {
        id: 'arrive',
        name: '到场',
        type: 'task',
        announce: false,
        candidates: [{ role: 'grid-worker', unit: 'case' }],
        form: { fields: [photoField] },
      },
      {
        id: 'wall',
        name: '公示',
        type: 'publish',
        title: '结果',
        show: extra.show ?? [],
        ...(extra.photos !== undefined ? { photos: extra.photos } : {}),
      },
      { id: 'closed', name: '办结', type: 'end' },
    ],
  };
}

function problemsOf(raw: unknown): DefinitionProblem[] {
  const result = validateDefinition(raw, options);
  return result.ok ? [] : result.problems;
}

function problem(path: string, messagePart: string): DefinitionProblem {
  return { path, message: expect.stringContaining(messagePart) as string };
}

const photos = fieldSchema.parse({
  name: 'photos',
  label: '现场照片',
  type: 'photo',
  multiple: true,
  maxItems: 3,
  required: true,
});
const one: FieldSpec = fieldSchema.parse({ name: 'photo', label: '照片', type: 'photo' });
const ID_A = 'att-0123456789abcdef01234567';
const ID_B = 'att-89abcdef0123456789abcdef';

describe('photo fields in the definition language', () => {
  it('when a task form asks for photos with multiple, maxItems and required, and the publish step says photos: true, then the definition is valid', () => {
    // Arrange
    const raw = definitionWith(
      {
        name: 'photos',
        label: '现场照片',
        type: 'photo',
        multiple: true,
        maxItems: 3,
        required: true,
      },
      { photos: true },
    );

    // Act
    const result = validateDefinition(raw, options);

    // Assert
    expect(result.ok).toBe(true);
    const wall = result.ok ? result.spec.steps[1] : undefined;
    expect(wall).toMatchObject({ type: 'publish', photos: true });
  });

  it('when a publish step says nothing about photos, then photos stay off (photos: false)', () => {
    // Act
    const result = validateDefinition(
      definitionWith({ name: 'photos', label: '现场照片', type: 'photo', multiple: true }),
      options,
    );

    // Assert
    expect(result.ok && result.spec.steps[1]).toMatchObject({ photos: false });
  });

  it('when a photo field is an input field, exceeds a case’s photos, carries text options or is shown by name, then each is named', () => {
    // Arrange
    const raw = definitionWith(
      {
        name: 'photos',
        label: '现场照片',
        type: 'photo',
        multiple: true,
        maxItems: 21,
        options: ['a'],
        maxLength: 10,
        personal: true,
      },
      {
        input: [{ name: 'selfie', label: '照片', type: 'photo' }],
        show: ['steps.arrive.form.photos'],
      },
    );

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual(
      expect.arrayContaining([
        problem('input.fields[0].type', 'a photo field belongs in a task form'),
        problem('steps[0].form.fields[0].maxItems', 'at most 20 photos'),
        problem('steps[0].form.fields[0].options', 'a photo field takes no options'),
        problem('steps[0].form.fields[0].maxLength', 'a photo field takes no maxLength'),
        problem('steps[0].form.fields[0].personal', 'a photo field takes no personal'),
        problem('steps[1].show[0]', 'write photos: true'),
      ]),
    );
    expect(problems).toHaveLength(6);
  });
});

describe('photo values in a form', () => {
  it('when a form names attachment ids, then they are taken as they are', () => {
    // Act
    const many = validateCaseData([photos], { photos: [ID_A, ID_B] }, 'form');
    const single = validateCaseData([one], { photo: ID_A }, 'form');

    // Assert
    expect(many).toEqual({ ok: true, data: { photos: [ID_A, ID_B] } });
    expect(single).toEqual({ ok: true, data: { photo: ID_A } });
  });

  it('when a form sends a file name, an image, too many or none of a required field, then each is named with its path', () => {
    // Act
    const results = [
      validateCaseData([photos], { photos: ['IMG_0001.jpg'] }, 'form'),
      validateCaseData([photos], { photos: [`data:image/jpeg;base64,${'A'.repeat(40)}`] }, 'form'),
      validateCaseData([photos], { photos: [ID_A, ID_B, ID_A, ID_B] }, 'form'),
      validateCaseData([photos], { photos: [] }, 'form'),
      validateCaseData([photos], {}, 'form'),
      validateCaseData([one], { photo: ID_A.toUpperCase() }, 'form'),
    ];

    // Assert
    expect(results.map((r) => (r.ok ? [] : r.problems))).toEqual([
      [problem('form.photos[0]', 'the id of a photo attached to the case')],
      [problem('form.photos[0]', 'the id of a photo attached to the case')],
      [problem('form.photos', 'at most 3 values, got 4')],
      [problem('form.photos', 'give at least one value')],
      [problem('form.photos', 'required')],
      [problem('form.photo', 'the id of a photo attached to the case')],
    ]);
  });
});
