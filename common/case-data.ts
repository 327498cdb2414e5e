import { z } from 'zod';
import type { FieldSpec } from './definition';
import { formatPath } from './definition';

export interface FieldProblem {
  path: string;
  message: string;
}

/** A zod schema for a definition's input fields; unknown fields are rejected, not dropped. */
export function caseDataSchema(fields: readonly FieldSpec[]): z.ZodType<Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = {};
  for (const field of fields) {
    let schema = field.multiple
      ? z
          .array(fieldValueSchema(field))
          .min(field.required ? 1 : 0, 'give at least one value')
          .max(field.maxItems ?? DEFAULT_MAX_ITEMS)
      : fieldValueSchema(field);
    if (!field.required) schema = schema.optional();
    shape[field.name] = schema;
  }
  return z.object(shape).strict();
}

/** The most values a `multiple` field takes when the definition does not say. */
export const DEFAULT_MAX_ITEMS = 50;

/** Unit ids as the org import accepts them. */
const UNIT_ID = /^[A-Za-z0-9_-]{1,64}$/;

function fieldValueSchema(field: FieldSpec): z.ZodType {
  switch (field.type) {
    case 'string':
    case 'text': {
      let schema = z
        .string()
        .trim()
        .min(field.required ? 1 : 0, 'must not be empty');
      schema = schema.max(field.maxLength ?? (field.type === 'text' ? 5000 : 200));
      return field.options
        ? schema.refine((v) => field.options!.includes(v), {
            message: `must be one of: ${field.options.join(', ')}`,
          })
        : schema;
    }
    case 'email':
      return z.email();
    case 'phone':
      return z.string().regex(/^\+?[0-9][0-9 -]{4,19}$/, 'a phone number such as 13800138000');
    case 'date':
      return z.iso.date();
    case 'datetime':
      return z.iso.datetime({ offset: true });
    case 'unit':
      return z.string().regex(UNIT_ID, 'a unit id of the org tree');
    case 'boolean':
      return z.boolean();
    case 'integer':
    case 'number': {
      let schema = field.type === 'integer' ? z.number().int() : z.number();
      if (field.min !== undefined) schema = schema.min(field.min);
      if (field.max !== undefined) schema = schema.max(field.max);
      return schema;
    }
  }
}

/** Checks case data against the definition's fields; problems carry paths such as `data.category`. */
export function validateCaseData(
  fields: readonly FieldSpec[],
  data: unknown,
  prefix: 'data' | 'form' = 'data',
): { ok: true; data: Record<string, unknown> } | { ok: false; problems: FieldProblem[] } {
  const parsed = caseDataSchema(fields).safeParse(data);
  if (parsed.success) return { ok: true, data: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.flatMap((issue) => {
      // zod reports unknown keys once for the object; name each key so the caller can fix it.
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => ({
          path: formatPath([prefix, ...issue.path, key]),
          message: 'unknown field for this process',
        }));
      }
      return [{ path: formatPath([prefix, ...issue.path]), message: issue.message }];
    }),
  };
}
