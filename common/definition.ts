import { z } from 'zod';
import { isDuration } from './duration';
import { ROLES } from './roles';
import { nextStepId, startStepId } from './steps';

/**
 * The process definition language, first cut: a definition names its input fields, who may start
 * it, and a list of steps run by the one interpreter workflow. Later step types (human tasks,
 * claim pools, decisions, SLA clocks…) extend the `type` union; nothing here is process-specific.
 */

/** Field and step names end up as MongoDB keys: no `.`, no leading `$` (FerretDB and MongoDB). */
const identifier = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'letters, digits and _, starting with a letter');

export const FIELD_TYPES = [
  'string',
  'text',
  'integer',
  'number',
  'boolean',
  'email',
  'phone',
  'date',
] as const;

export const fieldSchema = z
  .object({
    name: identifier,
    label: z.string().min(1),
    type: z.enum(FIELD_TYPES),
    required: z.boolean().default(false),
    maxLength: z.number().int().positive().max(100_000).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    options: z.array(z.string().min(1)).min(1).optional(),
    /** Personal data (a name, a phone, an address) is masked wherever the case is shown publicly. */
    personal: z.boolean().default(false),
  })
  .strict();
export type FieldSpec = z.infer<typeof fieldSchema>;

const stepId = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, _ and -, starting with a letter');

const stepBase = {
  id: stepId,
  name: z.string().min(1),
  /** The step to run next; defaults to the following step in the list. */
  next: stepId.optional(),
};

const recipientSchema = z.union([
  z.object({ field: identifier }).strict(),
  z.object({ address: z.email() }).strict(),
]);

export const notifyStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('notify'),
    template: z.string().regex(/^[a-z][a-z0-9-]*$/, 'a template name such as case-received'),
    to: recipientSchema,
  })
  .strict();

export const timerStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('timer'),
    duration: z.string().refine(isDuration, 'an ISO 8601 duration such as PT5M, PT3H or P2D'),
  })
  .strict();

export const endStepSchema = z
  .object({
    id: stepId,
    name: z.string().min(1),
    type: z.literal('end'),
    status: z.enum(['closed', 'rejected', 'cancelled']).default('closed'),
  })
  .strict();

export const stepSchema = z.discriminatedUnion('type', [
  notifyStepSchema,
  timerStepSchema,
  endStepSchema,
]);
export type StepSpec = z.infer<typeof stepSchema>;
export type StepType = StepSpec['type'];

export const definitionSchema = z
  .object({
    key: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,62}$/, 'lower-case letters, digits and -, 2 to 63 characters'),
    name: z.string().min(1),
    description: z.string().optional(),
    /** Roles allowed to start a case of this process. */
    starters: z.array(z.enum(ROLES)).min(1),
    input: z.object({ fields: z.array(fieldSchema) }).strict(),
    start: stepId.optional(),
    steps: z.array(stepSchema).min(1),
  })
  .strict();
export type DefinitionSpec = z.infer<typeof definitionSchema>;

/** A published, immutable version: what a case carries in its workflow input. */
export interface DefinitionSnapshot {
  key: string;
  version: number;
  checksum: string;
  spec: DefinitionSpec;
}

export interface DefinitionProblem {
  path: string;
  message: string;
}

/**
 * Parses and checks a definition as a whole, reporting every problem at once: schema errors, then
 * graph errors (unknown references, unreachable steps, no way to an end) and unknown templates.
 */
export function validateDefinition(
  raw: unknown,
  options: { knownTemplates: ReadonlySet<string> },
): { ok: true; spec: DefinitionSpec } | { ok: false; problems: DefinitionProblem[] } {
  const parsed = definitionSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => ({
        path: formatPath(issue.path),
        message: issue.message,
      })),
    };
  }
  const spec = parsed.data;
  const problems: DefinitionProblem[] = [];
  const index = new Map<string, number>();
  spec.steps.forEach((step, i) => {
    if (index.has(step.id)) {
      problems.push({ path: `steps[${i}].id`, message: `duplicate step id "${step.id}"` });
    } else {
      index.set(step.id, i);
    }
  });
  const fieldNames = new Set<string>();
  spec.input.fields.forEach((field, i) => {
    if (fieldNames.has(field.name)) {
      problems.push({
        path: `input.fields[${i}].name`,
        message: `duplicate field "${field.name}"`,
      });
    }
    fieldNames.add(field.name);
    if (field.min !== undefined && field.max !== undefined && field.min > field.max) {
      problems.push({ path: `input.fields[${i}].min`, message: 'min is greater than max' });
    }
  });
  if (spec.start !== undefined && !index.has(spec.start)) {
    problems.push({ path: 'start', message: `unknown step "${spec.start}"` });
  }
  spec.steps.forEach((step, i) => {
    if (step.type !== 'end' && step.next !== undefined && !index.has(step.next)) {
      problems.push({ path: `steps[${i}].next`, message: `unknown step "${step.next}"` });
    }
    if (step.type !== 'end' && step.next === undefined && i === spec.steps.length - 1) {
      problems.push({
        path: `steps[${i}]`,
        message: 'the last step must be an end step or name its next step',
      });
    }
    if (step.type === 'notify') {
      if (!options.knownTemplates.has(step.template)) {
        problems.push({
          path: `steps[${i}].template`,
          message: `unknown mail template "${step.template}"`,
        });
      }
      const recipient = step.to;
      if ('field' in recipient) {
        const field = spec.input.fields.find((f) => f.name === recipient.field);
        if (!field) {
          problems.push({
            path: `steps[${i}].to.field`,
            message: `unknown field "${recipient.field}"`,
          });
        } else if (field.type !== 'email') {
          problems.push({
            path: `steps[${i}].to.field`,
            message: `field "${field.name}" is not of type email`,
          });
        }
      }
    }
  });
  // The graph can be walked whenever the start step exists, even with other problems present.
  if (spec.start === undefined || index.has(spec.start)) problems.push(...checkGraph(spec));
  return problems.length === 0 ? { ok: true, spec } : { ok: false, problems };
}

function checkGraph(spec: DefinitionSpec): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const reachable = new Set<string>();
  const queue = [startStepId(spec)];
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (reachable.has(id)) continue;
    reachable.add(id);
    const next = nextStepId(spec, id);
    if (next !== undefined) queue.push(next);
  }
  spec.steps.forEach((step, i) => {
    if (!reachable.has(step.id)) {
      problems.push({ path: `steps[${i}]`, message: `step "${step.id}" is unreachable` });
    }
  });
  if (![...reachable].some((id) => spec.steps.find((s) => s.id === id)?.type === 'end')) {
    problems.push({ path: 'steps', message: 'no path from the start step reaches an end step' });
  }
  return problems;
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((part, i) =>
      typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}
