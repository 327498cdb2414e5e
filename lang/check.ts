import { formatPath, validateCaseData } from './case-data';
import type {
  ClaimStepSpec,
  DeadlineSpec,
  DefinitionSpec,
  AssessmentStepSpec,
  LookupStepSpec,
  GrantStepSpec,
  EscalationSpec,
  EvaluationStepSpec,
  FieldSpec,
  FieldType,
  Open311Parameter,
  PeopleSelector,
  RecipientSpec,
  RecurrenceStepSpec,
  StepSpec,
  UnitRef,
  UpTreeSpec,
  CatalogueUnitRef,
} from './definition';
import {
  definitionSchema,
  isMonthlyPeriod,
  MAX_PHOTOS_PER_CASE,
  MONTHS_PER_PERIOD,
  OPEN311_PARAMETERS,
  RECURRENCE_PLACE_TYPES,
  RESERVED_RESULT_NAMES,
  SHOWN_FORM_FIELD,
} from './definition';
import { parseSlaDuration } from './duration';
import { isUpTree, ladderOffsetProblem } from './ladder';
import { checkExpression, compileExpression, expressionAmbiguities } from './expression';
import { branchStepMessage, nearestName, selectorProblems, stepPathProblem } from './check-hints';
import { LOOKUP_SOURCE_INFO } from './lookup';
import { checkMeasures } from './measures';
import { checkPointsRules } from './points';
import type { StepList } from './steps';
import { allSteps, followingStepId, startStepId, stepLists, successorsOf, topLevel } from './steps';
import { BUILTIN_POST_ROLES, PAIRING_KINDS, unitTypesOf } from './vocabulary';

/**
 * The definition validator: the schema (definition.ts) first, then the meaning of a well-formed
 * definition, every problem at once with its path: step references and reachability, a way to an
 * end from every step, expressions and the fields and steps they read, roles, mail templates,
 * deadlines, roll-calls, evaluation rounds, schedules, Open311 fields and points rules. Its size
 * is that one responsibility: one checker walks the whole definition so problems come out in the
 * order of the definition. Runs in the API and the tools, never in the workflow sandbox.
 */

export interface DefinitionProblem {
  path: string;
  message: string;
}

export interface ValidationOptions {
  knownTemplates: ReadonlySet<string>;
  /**
   * The process keys that exist (published, or the files checked beside this one): an
   * assessment's `cases.definitions` must name them. Left out, the names are not checked (the
   * validate endpoint alone cannot know them; publishing checks the published ones).
   */
  knownDefinitions?: ReadonlySet<string>;
}

/** Mail templates that show a roll-call's figures and who is missing (mail/templates). */
export const ROLL_CALL_TEMPLATES: ReadonlySet<string> = new Set([
  'roll-call-reminder',
  'roll-call-escalated',
]);

/** An input field's default is computed as the case starts: it knows the case, no data yet. */
const INPUT_DEFAULT_ROOTS: ReadonlySet<string> = new Set(['case']);

/** Names an expression may start from; `steps.<id>` and `data.<field>` are checked further. */
export const EXPRESSION_ROOTS: ReadonlySet<string> = new Set([
  'data',
  'form',
  'outcome',
  'steps',
  'case',
]);

/** In a sub-process step with `forEach`: also the list's value and its position (from 0). */
export const FOR_EACH_ROOTS: ReadonlySet<string> = new Set([...EXPRESSION_ROOTS, 'item', 'index']);

type SchemaIssue = { path: PropertyKey[]; message: string; code?: string; errors?: unknown };

/**
 * An `escalations` entry's union issue (a level, or an `upTree` ladder) as the issues of the
 * option the author evidently meant: the one whose shallowest problem lies deepest (a level with
 * a bad `supervise.level` is a level, not a malformed ladder), when exactly one option goes
 * deeper than the entry itself; otherwise the union's own message. Other unions keep their own
 * messages (a schedule's `unitsOfType`, `points: '10'`).
 */
function unionOptionIssues(issue: SchemaIssue): SchemaIssue[] {
  if (issue.code !== 'invalid_union' || !Array.isArray(issue.errors)) return [issue];
  if (issue.path.at(-2) !== 'escalations') return [issue];
  const options = (issue.errors as SchemaIssue[][]).filter((o) => o.length > 0);
  const depthOf = (option: SchemaIssue[]) => Math.min(...option.map((i) => i.path.length));
  const deepest = Math.max(...options.map(depthOf));
  const meant = options.filter((o) => depthOf(o) === deepest);
  if (deepest < 1 || meant.length !== 1) return [issue];
  return meant[0]!.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }));
}

/**
 * Parses and checks a definition as a whole, reporting every problem at once with its path:
 * schema errors first; then, on a well-formed definition, references, reachability, a way to an
 * end from every step, expressions, roles, templates and field names.
 */
export function validateDefinition(
  raw: unknown,
  options: ValidationOptions,
): { ok: true; spec: DefinitionSpec } | { ok: false; problems: DefinitionProblem[] } {
  const parsed = definitionSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap(unionOptionIssues).flatMap((issue) => {
      const selector = selectorProblems(raw, issue.path);
      if (selector) return selector.map((p) => ({ path: formatPath(p.path), message: p.message }));
      return [
        {
          path: formatPath(issue.path),
          message: branchStepMessage(raw, issue.path) ?? issue.message,
        },
      ];
    });
    // Two issues of one union may lead to the same selector's problems: each is reported once.
    const unique = new Map(problems.map((p) => [`${p.path}\n${p.message}`, p]));
    return { ok: false, problems: [...unique.values()] };
  }
  const problems = new SemanticChecker(parsed.data, options).check();
  return problems.length === 0 ? { ok: true, spec: parsed.data } : { ok: false, problems };
}

class SemanticChecker {
  private readonly problems: DefinitionProblem[] = [];
  private readonly stepIds = new Set<string>();
  /** Each step by id (the first, when ids repeat): what `steps.<id>.…` may read. */
  private readonly stepsById = new Map<string, StepSpec>();
  private readonly fieldNames: Set<string>;
  private readonly fieldTypes: Map<string, FieldType>;
  private readonly roles: Set<string>;

  constructor(
    private readonly spec: DefinitionSpec,
    private readonly options: ValidationOptions,
  ) {
    this.fieldNames = new Set(spec.input.fields.map((f) => f.name));
    this.fieldTypes = new Map(spec.input.fields.map((f) => [f.name, f.type]));
    this.roles = new Set([...Object.keys(BUILTIN_POST_ROLES), ...spec.roles.map((r) => r.key)]);
  }

  check(): DefinitionProblem[] {
    const { spec } = this;
    for (const { step, list, index } of allSteps(spec)) {
      if (this.stepIds.has(step.id)) {
        this.report(`${list.path}[${index}].id`, `duplicate step id "${step.id}"`);
      }
      this.stepIds.add(step.id);
      if (!this.stepsById.has(step.id)) this.stepsById.set(step.id, step);
    }
    this.checkFields('input.fields', spec.input.fields, true);
    this.checkUnique(
      'categories',
      (spec.categories ?? []).map((c) => c.code),
      'category',
      'code',
    );
    this.checkOpen311();
    this.checkQuickReport();
    spec.roles.forEach((role, i) => {
      if (Object.hasOwn(BUILTIN_POST_ROLES, role.key)) {
        this.report(`roles[${i}].key`, `"${role.key}" is a built-in role; do not declare it`);
      }
    });
    const top = topLevel(spec);
    if (spec.start !== undefined && !top.steps.some((s) => s.id === spec.start)) {
      this.report('start', `unknown step "${spec.start}"`);
    }
    spec.deadlines.forEach((d, i) => this.checkDeadline(`deadlines[${i}]`, d, false));
    this.checkRollCallTemplates('deadlines', spec.deadlines);
    this.checkSchedule();
    spec.limit?.per.forEach((name, i) => {
      const field = spec.input.fields.find((f) => f.name === name);
      if (field === undefined) this.report(`limit.per[${i}]`, `unknown field "${name}"`);
      else if (field.multiple)
        this.report(`limit.per[${i}]`, `"${name}" holds a list; name a single-value field`);
    });
    for (const { step, list, index } of allSteps(spec)) {
      this.checkStep(`${list.path}[${index}]`, step, list);
    }
    for (const list of stepLists(spec)) this.checkGraph(list);
    checkPointsRules(
      spec,
      (path, message) => this.report(path, message),
      (path, selector) => this.checkSelector(path, selector, true),
      (path, source) => this.checkExpression(path, source),
    );
    if (spec.result?.outcome !== undefined) {
      this.checkExpression('result.outcome', spec.result.outcome);
    }
    for (const [name, source] of Object.entries(spec.result?.data ?? {})) {
      if (RESERVED_RESULT_NAMES.has(name)) {
        this.report(
          `result.data.${name}`,
          `"${name}" is what a sub-process step already records of each child (${[...RESERVED_RESULT_NAMES].join(', ')}): choose another name`,
        );
      }
      this.checkExpression(`result.data.${name}`, source);
    }
    checkMeasures(
      spec,
      (path, message) => this.report(path, message),
      (path, source) => this.checkExpression(path, source),
    );
    return this.problems;
  }

  private report(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  private checkFields(path: string, fields: readonly FieldSpec[], isInput: boolean): void {
    const seen = new Set<string>();
    fields.forEach((field, i) => {
      if (field.default !== undefined) {
        if (!isInput) {
          // A form's default prefills what the person sees as the task opens: anything known then.
          if (field.type === 'photo') {
            this.report(
              `${path}[${i}].default`,
              'a photo field takes no default: the person attaches the photo',
            );
          } else {
            this.checkExpression(`${path}[${i}].default`, field.default);
          }
        } else if (field.multiple) {
          this.report(`${path}[${i}].default`, 'a list field takes no default');
        } else {
          this.checkExpression(`${path}[${i}].default`, field.default, INPUT_DEFAULT_ROOTS);
        }
      }
      if (seen.has(field.name))
        this.report(`${path}[${i}].name`, `duplicate field "${field.name}"`);
      seen.add(field.name);
      if (field.maxItems !== undefined && !field.multiple) {
        this.report(`${path}[${i}].maxItems`, 'maxItems needs multiple: true');
      }
      if (field.type === 'photo') this.checkPhotoField(`${path}[${i}]`, field, isInput);
      if (field.holding !== undefined) {
        if (field.type !== 'person') {
          this.report(`${path}[${i}].holding`, 'holding is for person fields (type: person)');
        } else {
          this.checkRole(`${path}[${i}].holding`, field.holding);
        }
      }
      if (field.min !== undefined && field.max !== undefined && field.min > field.max) {
        this.report(`${path}[${i}].min`, 'min is greater than max');
      }
    });
  }

  /**
   * A photo is attached to a case that exists, so only a task's form takes one; a form's photos
   * fit within a case's limit; and options, lengths and ranges mean nothing for a photo.
   */
  private checkPhotoField(path: string, field: FieldSpec, isInput: boolean): void {
    if (isInput) {
      this.report(
        `${path}.type`,
        'a photo field belongs in a task form (photos are attached to a case once it exists); ask for the photo at the first task',
      );
    }
    if ((field.maxItems ?? 0) > MAX_PHOTOS_PER_CASE) {
      this.report(`${path}.maxItems`, `a case holds at most ${MAX_PHOTOS_PER_CASE} photos`);
    }
    for (const key of ['options', 'maxLength', 'min', 'max', 'personal'] as const) {
      if (field[key] !== undefined && field[key] !== false) {
        this.report(`${path}.${key}`, `a photo field takes no ${key}`);
      }
    }
  }

  private checkStep(path: string, step: StepSpec, list: StepList): void {
    const inList = new Set(list.steps.map((s) => s.id));
    const reference = (where: string, target: string | undefined) => {
      if (target === undefined || inList.has(target)) return;
      this.report(
        `${path}.${where}`,
        this.stepIds.has(target)
          ? `step "${target}" is in another ${list.isBranch ? 'list' : 'branch'}; jumps stay inside their own list`
          : `unknown step "${target}"`,
      );
    };
    if (step.type !== 'end' && step.type !== 'decision') reference('next', step.next);
    switch (step.type) {
      case 'task':
        step.candidates.forEach((c, i) =>
          this.checkSelector(`${path}.candidates[${i}]`, c, true, step.candidates.length),
        );
        if (step.form) this.checkFields(`${path}.form.fields`, step.form.fields, false);
        step.outcomes.forEach((o, i) => reference(`outcomes[${i}].next`, o.next));
        step.outcomes.forEach((o, i) => {
          const fields = new Set(step.form?.fields.map((f) => f.name) ?? []);
          o.requires?.forEach((name, k) => {
            if (!fields.has(name)) {
              this.report(
                `${path}.outcomes[${i}].requires[${k}]`,
                `"${name}" is not a field of this step's form`,
              );
            }
          });
        });
        this.checkUnique(
          `${path}.outcomes`,
          step.outcomes.map((o) => o.id),
          'outcome',
        );
        reference('onReturn', step.onReturn);
        this.checkTemplate(`${path}`, 'task-assigned', step.announce);
        step.deadlines.forEach((d, i) => this.checkDeadline(`${path}.deadlines[${i}]`, d, true));
        this.checkRollCallTemplates(`${path}.deadlines`, step.deadlines);
        this.checkUnique(
          `${path}.deadlines`,
          step.deadlines.map((d) => d.id),
          'deadline',
        );
        break;
      case 'claim':
        step.candidates.forEach((c, i) => this.checkSelector(`${path}.candidates[${i}]`, c, true));
        if (typeof step.claimants.max === 'object') {
          this.checkExpression(`${path}.claimants.max.expression`, step.claimants.max.expression);
        } else if (step.claimants.max !== 'all' && step.claimants.min > step.claimants.max) {
          this.report(`${path}.claimants.min`, 'min is greater than max');
        }
        if (step.claimants.max === 'all') this.checkRollCall(path, step);
        else this.checkRollCallTemplates(`${path}.deadlines`, step.deadlines);
        if (step.checkIn !== undefined && step.claimants.max !== 'all') {
          this.report(
            `${path}.checkIn`,
            "a check-in (签到) goes with a roll-call's report-in (claimants.max: all) or a task's completion, not a claim of a place",
          );
        }
        reference('onUnclaimed', step.onUnclaimed);
        if (step.onUnclaimed !== undefined && step.within === undefined) {
          this.report(`${path}.onUnclaimed`, 'onUnclaimed needs a claim window (within)');
        }
        if (step.within !== undefined && step.onUnclaimed === undefined) {
          this.report(
            `${path}.onUnclaimed`,
            'a claim window (within) needs onUnclaimed: where the case goes when too few claim',
          );
        }
        this.checkTemplate(`${path}`, 'task-assigned', step.announce);
        step.deadlines.forEach((d, i) => this.checkDeadline(`${path}.deadlines[${i}]`, d, 'claim'));
        break;
      case 'timer':
        if ((step.duration === undefined) === (step.until === undefined)) {
          this.report(path, 'a timer needs exactly one of duration and until');
        }
        if (step.until !== undefined) this.checkExpression(`${path}.until`, step.until);
        if (step.after !== undefined && step.until === undefined) {
          this.report(
            `${path}.after`,
            'after counts from the instant until gives: write it with until (e.g. until: steps.plan.form.date, after: 3 working days), or put the whole wait in duration',
          );
        }
        break;
      case 'decision':
        step.branches.forEach((b, i) => {
          this.checkExpression(`${path}.branches[${i}].when`, b.when);
          reference(`branches[${i}].next`, b.next);
        });
        reference('otherwise', step.otherwise);
        break;
      case 'notify':
        this.checkTemplate(`${path}.template`, step.template, true);
        this.checkRecipients(`${path}.to`, step.to, false);
        break;
      case 'feedback': {
        const raters = step.from ?? [];
        raters.forEach((rater, i) => {
          if (rater === 'requester') {
            if (raters.indexOf(rater) !== i) {
              this.report(`${path}.from[${i}]`, 'requester is listed twice');
            }
          } else {
            this.checkSelector(`${path}.from[${i}]`, rater, false);
          }
        });
        if (step.invite !== undefined) {
          this.checkRecipients(`${path}.invite`, step.invite, false);
        }
        // Without invite, the people `from` names are invited with the same template.
        if (step.invite !== undefined || raters.some((r) => r !== 'requester')) {
          this.checkTemplate(`${path}.template`, step.template, true);
        }
        break;
      }
      case 'publish':
        step.show.forEach((name, i) => {
          const ref = SHOWN_FORM_FIELD.exec(name);
          if (ref === null) {
            if (!this.fieldNames.has(name))
              this.report(`${path}.show[${i}]`, `unknown field "${name}"`);
            return;
          }
          const source = allSteps(this.spec).find((s) => s.step.id === ref[1])?.step;
          if (source?.type !== 'task') {
            this.report(`${path}.show[${i}]`, `unknown task step "${ref[1]}"`);
          } else if (!(source.form?.fields ?? []).some((f) => f.name === ref[2])) {
            this.report(`${path}.show[${i}]`, `step "${ref[1]}" has no form field "${ref[2]}"`);
          } else if (source.form?.fields.find((f) => f.name === ref[2])?.type === 'photo') {
            this.report(
              `${path}.show[${i}]`,
              `"${ref[2]}" is a photo field: write photos: true to show the case's photos`,
            );
          }
        });
        break;
      case 'subprocess': {
        const roots = step.forEach !== undefined ? FOR_EACH_ROOTS : EXPRESSION_ROOTS;
        if (typeof step.forEach === 'string') {
          this.checkExpression(`${path}.forEach`, step.forEach);
        } else if (step.forEach !== undefined) {
          this.checkUnitRef(`${path}.forEach.units.within`, step.forEach.units.within, false);
        }
        if (step.unit !== undefined) this.checkExpression(`${path}.unit`, step.unit, roots);
        for (const [field, source] of Object.entries(step.data)) {
          this.checkExpression(`${path}.data.${field}`, source, roots);
        }
        if (step.definition === this.spec.key) {
          this.report(`${path}.definition`, 'a process cannot start itself as a sub-process');
        }
        break;
      }
      case 'evaluation':
        this.checkEvaluation(path, step);
        break;
      case 'recurrence':
        this.checkRecurrence(path, step);
        break;
      case 'assessment':
        this.checkAssessment(path, step);
        break;
      case 'lookup':
        this.checkLookup(path, step);
        break;
      case 'grant':
        this.checkGrant(path, step);
        break;
      case 'parallel': {
        const { join } = step;
        if (typeof join === 'object') {
          const count = step.branches.length;
          if (join.atLeast >= count) {
            this.report(
              `${path}.join.atLeast`,
              join.atLeast === count
                ? `all ${count} branches: write join: all`
                : `the step has ${count} branches, so at least ${join.atLeast} can never finish`,
            );
          } else if (join.atLeast === 1) {
            this.report(`${path}.join.atLeast`, 'one branch: write join: any');
          }
        }
        break;
      }
      case 'repeat':
        if ((step.times === undefined) === (step.dates === undefined)) {
          this.report(
            path,
            'a repeat step needs exactly one of times (how many iterations) and dates (an expression giving the list of dates)',
          );
        }
        if (step.every !== undefined && step.times === undefined) {
          this.report(
            `${path}.every`,
            'every goes with times; with dates each iteration starts at its own date',
          );
        }
        if (step.dates !== undefined) this.checkExpression(`${path}.dates`, step.dates);
        break;
      case 'end':
        break;
    }
  }

  /**
   * A recurrence analysis (未诉先办): its period's expressions, the processes it counts (not its
   * own, nor the one it opens, each once), a threshold of at least 2 and a place below the street.
   */
  private checkRecurrence(path: string, step: RecurrenceStepSpec): void {
    this.checkExpression(`${path}.cases.from`, step.cases.from);
    this.checkExpression(`${path}.cases.to`, step.cases.to);
    const keys = new Set<string>();
    step.cases.definitions.forEach((key, i) => {
      const at = `${path}.cases.definitions[${i}]`;
      if (key === this.spec.key) {
        this.report(
          at,
          'an analysis cannot count its own process: list the processes whose requests it counts',
        );
      } else if (key === step.definition) {
        this.report(
          at,
          `"${key}" is the process the analysis opens: counting its own proactive cases would open more for them`,
        );
      } else if (keys.has(key)) {
        this.report(at, `duplicate process "${key}"`);
      }
      keys.add(key);
    });
    if (step.definition === this.spec.key) {
      this.report(`${path}.definition`, 'a process cannot open itself as a proactive case');
    }
    if (!Number.isInteger(step.threshold) || step.threshold < 2 || step.threshold > 1000) {
      this.report(
        `${path}.threshold`,
        `threshold must be a whole number from 2 to 1000 (requests of one category at one place in the period), not ${step.threshold}`,
      );
    }
    if (!(RECURRENCE_PLACE_TYPES as readonly string[]).includes(step.place)) {
      this.report(
        `${path}.place`,
        `a place is counted at ${RECURRENCE_PLACE_TYPES.join(', ')}, not "${step.place}": a ${step.place} holds too many places (or none) for one recurring problem`,
      );
    }
  }

  /**
   * A grant (登记到组织架构): the post is one of the org model's posts (built in or declared), the
   * unit a reference the case has, and someone to grant it to: `person`, `newPerson`, or both.
   */
  private checkGrant(path: string, step: GrantStepSpec): void {
    if (!this.roles.has(step.post)) {
      this.report(
        `${path}.post`,
        `"${step.post}" is not a post of the org model: use one of ${[...this.roles].sort().join(', ')} (or declare it under roles)`,
      );
    }
    this.checkUnitRef(`${path}.unit`, step.unit, false);
    if (step.person === undefined && step.newPerson === undefined) {
      this.report(
        path,
        'a grant needs person (an expression giving a person id) or newPerson (name, phone, email from the case), or both',
      );
    }
    if (step.person !== undefined) this.checkExpression(`${path}.person`, step.person);
    if (step.newPerson !== undefined) {
      for (const key of ['name', 'phone', 'email'] as const) {
        const source = step.newPerson[key];
        if (source !== undefined) this.checkExpression(`${path}.newPerson.${key}`, source);
      }
    }
  }

  /**
   * A lookup (读取登记数据): the parameters its source requires are there and read something
   * (the source itself the schema checked, listing the valid ones).
   */
  private checkLookup(path: string, step: LookupStepSpec): void {
    const info = LOOKUP_SOURCE_INFO[step.source];
    const what = {
      period: 'an expression giving the year read (data.year)',
      unit: "an expression giving a unit id at or below the case's unit",
    } as const;
    for (const parameter of ['period', 'unit'] as const) {
      const source = step[parameter];
      if (source === undefined) {
        if (info.requires.includes(parameter)) {
          this.report(
            `${path}.${parameter}`,
            `source ${step.source} needs ${parameter}: ${what[parameter]}`,
          );
        }
      } else if (!info.accepts.includes(parameter)) {
        this.report(`${path}.${parameter}`, `source ${step.source} takes no ${parameter}`);
      } else {
        this.checkExpression(`${path}.${parameter}`, source);
      }
    }
  }

  /**
   * A department assessment (条块考核): its period, the processes it reads (known ones, when the
   * caller knows which exist), figures and weights, the review's people and deadlines.
   */
  private checkAssessment(path: string, step: AssessmentStepSpec): void {
    this.checkExpression(`${path}.cases.from`, step.cases.from);
    this.checkExpression(`${path}.cases.to`, step.cases.to);
    const keys = new Set<string>();
    const known = this.options.knownDefinitions;
    step.cases.definitions.forEach((key, i) => {
      const at = `${path}.cases.definitions[${i}]`;
      if (key === this.spec.key) {
        this.report(at, 'an assessment cannot read its own process: list the processes assessed');
      } else if (keys.has(key)) {
        this.report(at, `duplicate process "${key}"`);
      } else if (known !== undefined && !known.has(key)) {
        const near = nearestName(key, [...known]);
        this.report(
          at,
          `unknown process "${key}"` + (near !== null ? `: did you mean "${near}"?` : ''),
        );
      }
      keys.add(key);
    });
    this.checkUnique(
      `${path}.figures`,
      step.figures.map((f) => f.figure),
      'figure',
      'figure',
    );
    const total = step.figures.reduce((sum, f) => sum + f.weight, 0);
    if (Math.abs(total - 100) > 1e-9) {
      this.report(`${path}.figures`, `the weights add up to ${total}; they must add up to 100`);
    }
    step.review.candidates.forEach((c, i) =>
      this.checkSelector(`${path}.review.candidates[${i}]`, c, true),
    );
    this.checkTemplate(`${path}.review`, 'task-assigned', true);
    step.review.deadlines.forEach((d, i) =>
      this.checkDeadline(`${path}.review.deadlines[${i}]`, d, true),
    );
    this.checkUnique(
      `${path}.review.deadlines`,
      step.review.deadlines.map((d) => d.id),
      'deadline',
    );
  }

  /** An evaluation round: its period, groups and weights, closing and deadlines make sense. */
  private checkEvaluation(path: string, step: EvaluationStepSpec): void {
    this.checkExpression(`${path}.orders.from`, step.orders.from);
    this.checkExpression(`${path}.orders.to`, step.orders.to);
    const keys = new Set<string>();
    (step.orders.definitions ?? []).forEach((key, i) => {
      if (key === this.spec.key) {
        this.report(
          `${path}.orders.definitions[${i}]`,
          'a round cannot score its own process: list the processes whose orders it scores',
        );
      } else if (keys.has(key)) {
        this.report(`${path}.orders.definitions[${i}]`, `duplicate process "${key}"`);
      }
      keys.add(key);
    });
    if ((step.within === undefined) === (step.at === undefined)) {
      this.report(
        path,
        'an evaluation needs exactly one of within (how long it stays open) and at (an expression giving the date it closes)',
      );
    }
    if (step.at !== undefined) this.checkExpression(`${path}.at`, step.at);
    this.checkUnique(
      `${path}.criteria`,
      step.criteria.map((c) => c.id),
      'criterion',
    );
    this.checkUnique(
      `${path}.groups`,
      step.groups.map((g) => g.id),
      'group',
    );
    const total = step.groups.reduce((sum, g) => sum + g.weight, 0);
    if (Math.abs(total - 100) > 1e-9) {
      this.report(`${path}.groups`, `the weights add up to ${total}; they must add up to 100`);
    }
    step.groups.forEach((group, i) => {
      const at = `${path}.groups[${i}]`;
      if ((group.scorers === undefined) === (group.meeting === undefined)) {
        this.report(
          at,
          'a group needs exactly one of scorers (who scores each order) and meeting (a 评单会 records the scores)',
        );
      }
      if (group.meeting !== undefined && !this.roles.has(group.meeting.host)) {
        this.report(
          `${at}.meeting.host`,
          `unknown role "${group.meeting.host}": use a built-in role or declare it under roles`,
        );
      }
      if (group.scorers === undefined || typeof group.scorers === 'string') return;
      group.scorers.forEach((s, j) => this.checkSelector(`${at}.scorers[${j}]`, s, false));
    });
    if (step.orderRating !== undefined) {
      const rated = step.groups.find((g) => g.id === step.orderRating!.group);
      if (!rated) {
        this.report(`${path}.orderRating.group`, `unknown group "${step.orderRating.group}"`);
      } else if (rated.meeting !== undefined) {
        this.report(
          `${path}.orderRating.group`,
          `"${rated.id}" is a meeting's group: its scores are the meeting's; count the order's rating in another group`,
        );
      }
    }
    if (!this.roles.has(step.responsible)) {
      this.report(
        `${path}.responsible`,
        `unknown role "${step.responsible}": use a built-in role or declare it under roles`,
      );
    }
    step.deadlines.forEach((d, i) => {
      const at = `${path}.deadlines[${i}]`;
      this.checkDeadline(at, d, true);
      if (d.from !== undefined) {
        this.report(`${at}.from`, 'an evaluation round counts its deadlines from its opening');
      }
      if (d.stopsOn === 'claim') {
        this.report(
          `${at}.stopsOn`,
          'an evaluation has nothing to claim: its deadlines stop when it closes',
        );
      }
      d.escalations.forEach((e, j) => {
        if (isUpTree(e)) return;
        if (e.reassign) {
          this.report(`${at}.escalations[${j}].reassign`, 'an evaluation has no task to reassign');
        }
        if (e.supervise) {
          this.report(
            `${at}.escalations[${j}].supervise`,
            'an evaluation round is not supervised by slip: escalate by mail',
          );
        }
      });
    });
    this.checkUnique(
      `${path}.deadlines`,
      step.deadlines.map((d) => d.id),
      'deadline',
    );
  }

  /**
   * The month fits its period, the day fields fit each other and the period, and the data is
   * what a case of this process may start with.
   */
  private checkSchedule(): void {
    const schedule = this.spec.schedule;
    if (schedule === undefined) return;
    const { every } = schedule;
    if (!isMonthlyPeriod(every)) {
      for (const field of ['month', 'day', 'week'] as const) {
        if (schedule[field] !== undefined) {
          this.report(
            `schedule.${field}`,
            `every: ${every} has no ${field === 'week' ? 'week of the month' : field}: leave ${field} out`,
          );
        }
      }
      if (every === 'week' && schedule.weekday === undefined) {
        this.report('schedule.weekday', 'every: week needs the weekday, 1 (Monday) to 7 (Sunday)');
      }
      if (every === 'day' && schedule.weekday !== undefined) {
        this.report('schedule.weekday', 'every: day starts every day: leave weekday out');
      }
    } else {
      const months = MONTHS_PER_PERIOD[every];
      if (schedule.month !== undefined && every === 'month') {
        this.report('schedule.month', 'every: month starts every month: leave month out');
      } else if (schedule.month !== undefined && schedule.month > months) {
        this.report(
          'schedule.month',
          `a ${every} has ${months} months: month counts within it (1–${months})`,
        );
      }
      if (
        schedule.day !== undefined &&
        (schedule.week !== undefined || schedule.weekday !== undefined)
      ) {
        this.report(
          'schedule.day',
          'give either a day of the month or a week and weekday (the first Wednesday: week: 1, weekday: 3), not both',
        );
      } else if ((schedule.week === undefined) !== (schedule.weekday === undefined)) {
        this.report(
          schedule.week === undefined ? 'schedule.week' : 'schedule.weekday',
          'week and weekday go together: week: 1, weekday: 3 is the first Wednesday of the month',
        );
      }
    }
    const unitTypes = schedule.unitsOfType === undefined ? [] : unitTypesOf(schedule.unitsOfType);
    unitTypes.forEach((type, i) => {
      if (unitTypes.indexOf(type) !== i) {
        this.report(`schedule.unitsOfType[${i}]`, `${type} is listed twice`);
      }
    });
    if (unitTypes.length > 0 && schedule.unit !== undefined) {
      this.report(
        'schedule.unit',
        `unitsOfType starts one case for each ${unitTypes.join(' and each ')}: leave unit out, or name the unit above them as under`,
      );
    }
    if (schedule.under !== undefined && schedule.unitsOfType === undefined) {
      this.report(
        'schedule.under',
        'under limits unitsOfType to the units below one unit: give unitsOfType too (e.g. unitsOfType: street), or name one unit as unit',
      );
    }
    // A field with a default is filled in at the fire when the data leaves it out.
    const fields = this.spec.input.fields.map((f) =>
      f.default !== undefined ? { ...f, required: false } : f,
    );
    const checked = validateCaseData(fields, schedule.data);
    if (!checked.ok) {
      for (const problem of checked.problems) {
        this.report(`schedule.${problem.path}`, problem.message);
      }
    }
  }

  private checkUnique(path: string, ids: readonly string[], what: string, key = 'id'): void {
    const seen = new Set<string>();
    ids.forEach((id, i) => {
      if (seen.has(id)) this.report(`${path}[${i}].${key}`, `duplicate ${what} "${id}"`);
      seen.add(id);
    });
  }

  /** Fields named in `open311.fields` exist, suit their parameter, and take one parameter each. */
  private checkOpen311(): void {
    const open311 = this.spec.open311;
    if (typeof open311 !== 'object' || open311.fields === undefined) return;
    const mapped = new Map<string, string>();
    for (const [parameter, name] of Object.entries(open311.fields)) {
      if (name === undefined) continue;
      const path = `open311.fields.${parameter}`;
      const field = this.spec.input.fields.find((f) => f.name === name);
      const types: readonly FieldType[] = OPEN311_PARAMETERS[parameter as Open311Parameter].types;
      if (!field) {
        this.report(path, `unknown field "${name}"`);
      } else if (!types.includes(field.type) || field.multiple) {
        this.report(
          path,
          `field "${name}" is ${field.multiple ? 'a list of ' : 'of type '}${field.type}; ${parameter} fills one ${types.join(' or ')}`,
        );
      }
      const other = mapped.get(name);
      if (other !== undefined) this.report(path, `field "${name}" already takes ${other}`);
      mapped.set(name, parameter);
    }
  }

  /** Fields named by `quickReport` exist and take what a quick report gives them. */
  private checkQuickReport(): void {
    const quick = this.spec.quickReport;
    if (quick === undefined) return;
    const wanted: Array<[keyof typeof quick, readonly FieldType[]]> = [
      ['category', ['string']],
      ['description', ['text', 'string']],
      ['location', ['string', 'text']],
      ['reporter', ['person']],
    ];
    for (const [part, types] of wanted) {
      const name = quick[part];
      if (name === undefined) continue;
      const path = `quickReport.${part}`;
      const field = this.spec.input.fields.find((f) => f.name === name);
      if (!field) this.report(path, `unknown field "${name}"`);
      else if (!types.includes(field.type) || field.multiple) {
        this.report(
          path,
          `field "${name}" is ${field.multiple ? 'a list of ' : 'of type '}${field.type}; the quick report's ${part} fills one ${types.join(' or ')}`,
        );
      }
    }
    if (quick.category !== undefined && this.spec.categories !== undefined) {
      this.report(
        'quickReport.category',
        'the process has categories: a quick report files under them; leave category out',
      );
    } else if (quick.category !== undefined) {
      const field = this.spec.input.fields.find((f) => f.name === quick.category);
      if (field && field.type === 'string' && !field.options?.length) {
        this.report('quickReport.category', `field "${field.name}" needs options to choose from`);
      }
    }
  }

  private checkTemplate(path: string, template: string, used: boolean): void {
    if (used && !this.options.knownTemplates.has(template)) {
      const known = [...this.options.knownTemplates].sort();
      const near = nearestName(template, known);
      this.report(
        path,
        `unknown mail template "${template}"` +
          (near !== null ? `: did you mean "${near}"?` : '') +
          ` (known: ${known.join(', ')})`,
      );
    }
  }

  /**
   * A roll-call (`claimants.max: all`) calls every candidate: its deadlines run until everyone
   * has reported and never hand the pool to others.
   */
  private checkRollCall(path: string, step: ClaimStepSpec): void {
    step.deadlines.forEach((deadline, d) => {
      const at = `${path}.deadlines[${d}]`;
      if (deadline.stopsOn === 'claim') {
        this.report(
          `${at}.stopsOn`,
          'a roll-call (claimants.max: all) runs until everyone has reported: stopsOn: claim would stop it at the first report',
        );
      }
      deadline.escalations.forEach((e, i) => {
        if (isUpTree(e)) return;
        if (e.reassign) {
          this.report(
            `${at}.escalations[${i}].reassign`,
            'a roll-call (claimants.max: all) keeps the people it called: reassign would replace them',
          );
        }
        if (e.supervise) {
          this.report(
            `${at}.escalations[${i}].supervise`,
            'a roll-call (claimants.max: all) is escalated to its people by mail, not by slip',
          );
        }
      });
    });
  }

  /** Roll-call templates need a roll-call's figures: only on the deadlines of one. */
  private checkRollCallTemplates(path: string, deadlines: readonly DeadlineSpec[]): void {
    deadlines.forEach((deadline, d) => {
      const mails = [
        ...deadline.reminders.map((r, i) => ({ at: `reminders[${i}]`, template: r.template })),
        ...deadline.escalations.map((e, i) =>
          isUpTree(e)
            ? { at: `escalations[${i}].upTree`, template: e.upTree.template }
            : { at: `escalations[${i}]`, template: e.template },
        ),
      ];
      for (const mail of mails) {
        if (ROLL_CALL_TEMPLATES.has(mail.template)) {
          this.report(
            `${path}[${d}].${mail.at}.template`,
            `template "${mail.template}" reports a roll-call: use it on the deadlines of a claim step with claimants.max: all`,
          );
        }
      }
    });
  }

  /** `onTask`: a task's or pool's own deadline (`'claim'` for a pool), false for the case's. */
  private checkDeadline(path: string, deadline: DeadlineSpec, onTask: boolean | 'claim'): void {
    if ((deadline.within === undefined) === (deadline.at === undefined)) {
      this.report(
        path,
        'a deadline needs exactly one of within (a duration) and at (an expression giving its date)',
      );
    }
    if (deadline.at !== undefined) this.checkExpression(`${path}.at`, deadline.at);
    if (deadline.after !== undefined && deadline.at === undefined) {
      this.report(
        `${path}.after`,
        'after counts from the instant at gives: write it with at (e.g. at: steps.plan.form.date, after: 3 working days), or put the whole time in within',
      );
    }
    deadline.reminders.forEach((r, i) => {
      if (!onTask && r.notify === 'assignee') {
        this.report(
          `${path}.reminders[${i}].notify`,
          'a case deadline has no assignee: name who is reminded (a role in a unit, a person)',
        );
      }
    });
    if (!onTask && deadline.from !== undefined) {
      this.report(
        `${path}.from`,
        "a case deadline always counts from the case's start: from is for task and claim steps",
      );
    }
    if (!onTask && deadline.stopsOn === 'claim') {
      this.report(
        `${path}.stopsOn`,
        'a case deadline stops when the case ends; claim is for tasks',
      );
    }
    deadline.reminders.forEach((r, i) => {
      this.checkRecipients(`${path}.reminders[${i}].notify`, r.notify, onTask);
      this.checkTemplate(`${path}.reminders[${i}].template`, r.template, true);
    });
    let previous = -1;
    deadline.escalations.forEach((e, i) => {
      if (isUpTree(e)) {
        previous = this.checkUpTree(`${path}.escalations[${i}].upTree`, e.upTree, onTask, previous);
        return;
      }
      this.checkRecipients(`${path}.escalations[${i}].notify`, e.notify, onTask);
      this.checkTemplate(`${path}.escalations[${i}].template`, e.template, true);
      if (e.reassign && !onTask) {
        this.report(`${path}.escalations[${i}].reassign`, 'only a task deadline can reassign');
      }
      if (e.supervise) this.checkSupervise(`${path}.escalations[${i}]`, e, onTask);
      const offset = e.after === undefined ? 0 : roughMinutes(e.after);
      if (offset < previous) {
        this.report(`${path}.escalations[${i}].after`, 'levels must be in order of their offsets');
      }
      previous = offset;
    });
  }

  /**
   * A ladder up the tree (`upTree`): its role and start unit as a selector's, its template, its
   * offsets of one kind, its levels after the ones before (and in order); gives its last offset.
   */
  private checkUpTree(
    path: string,
    ladder: UpTreeSpec,
    onTask: boolean | 'claim',
    previous: number,
  ): number {
    this.checkRole(`${path}.role`, ladder.role);
    const from = ladder.from;
    this.checkUnitRef(
      `${path}.from`,
      typeof from === 'object' ? { of: from.of, at: 'self' } : from,
      onTask !== false,
    );
    this.checkTemplate(`${path}.template`, ladder.template, true);
    const types = ladder.types ?? [];
    types.forEach((type, i) => {
      if (types.indexOf(type) !== i) {
        this.report(`${path}.types[${i}]`, `unit type "${type}" is listed twice`);
      }
    });
    const mixed = ladderOffsetProblem(ladder);
    if (mixed !== null) {
      this.report(`${path}.after`, mixed);
      return previous;
    }
    const first = ladder.after === undefined ? 0 : roughMinutes(ladder.after);
    if (first < previous) {
      this.report(
        `${path}.${ladder.after === undefined ? 'every' : 'after'}`,
        'levels must be in order of their offsets: this ladder starts before the level above it',
      );
    }
    return first + roughMinutes(ladder.every) * (ladder.levels - 1);
  }

  /** A 督办单 needs people to answer it: its `to`, or the people its level notifies. */
  private checkSupervise(path: string, level: EscalationSpec, onTask: boolean | 'claim'): void {
    const slip = level.supervise!;
    if (allSteps(this.spec).some(({ step }) => step.id === 'supervision')) {
      this.report(
        `${path}.supervise`,
        'the step id "supervision" is reserved for supervision slips: rename that step',
      );
    }
    if (slip.to !== undefined) {
      this.checkSelector(`${path}.supervise.to`, slip.to, onTask !== false);
      return;
    }
    const list = Array.isArray(level.notify) ? level.notify : [level.notify];
    const people = list.some((r) => typeof r === 'string' || !('field' in r || 'address' in r));
    if (!people) {
      this.report(
        `${path}.supervise.to`,
        'required: this level mails addresses only, and a supervision slip is answered by people of the org',
      );
    }
  }

  private checkRecipients(
    path: string,
    value: RecipientSpec | RecipientSpec[],
    onTask: boolean | 'claim',
  ) {
    const list = Array.isArray(value) ? value : [value];
    list.forEach((recipient, i) => {
      const at = Array.isArray(value) ? `${path}[${i}]` : path;
      if (recipient === 'unacknowledged') {
        if (onTask !== 'claim') {
          this.report(
            at,
            '"unacknowledged" (candidates who have not claimed) only exists on a claim step\'s own deadlines',
          );
        }
        return;
      }
      if (recipient === 'assignee' || recipient === 'candidates') {
        if (!onTask) this.report(at, `"${recipient}" only exists on a task or claim step`);
        return;
      }
      if ('field' in recipient) {
        const field = this.spec.input.fields.find((f) => f.name === recipient.field);
        if (!field) this.report(`${at}.field`, `unknown field "${recipient.field}"`);
        else if (field.type !== 'email') {
          this.report(`${at}.field`, `field "${field.name}" is not of type email`);
        }
        return;
      }
      if ('address' in recipient) return;
      this.checkSelector(at, recipient, onTask !== false);
    });
  }

  /**
   * `taskCandidates`: how many candidates the task step lists, when the selector is one of them
   * (the only place `requester` may stand).
   */
  private checkSelector(
    path: string,
    selector: PeopleSelector,
    onTask: boolean,
    taskCandidates?: number,
  ): void {
    if ('requester' in selector) {
      if (taskCandidates === undefined) {
        this.report(
          `${path}.requester`,
          "the requester is only a task step's candidate (补正, 补充说明, confirming a result): mails reach them through the requester's own channels, a feedback step rates by the requester already, and a claim pool or roll-call of one person is a task",
        );
      } else if (taskCandidates > 1) {
        this.report(
          `${path}.requester`,
          "the requester is a task's only candidate: a task offered to the requester and to staff at once would let staff answer for the resident; put staff in `otherwise` (who does it when the requester has no account) or in a step of their own",
        );
      }
      this.checkRole(`${path}.otherwise.role`, selector.otherwise.role);
      this.checkUnitRef(`${path}.otherwise.unit`, selector.otherwise.unit, onTask);
      return;
    }
    if ('onDuty' in selector) {
      if (selector.role !== undefined) this.checkRole(`${path}.role`, selector.role);
      this.checkUnitRef(`${path}.onDuty`, selector.onDuty, onTask);
    } else if ('pairedWith' in selector) {
      this.checkUnitRef(`${path}.pairedWith`, selector.pairedWith, onTask);
      if (selector.role !== undefined) this.checkRole(`${path}.role`, selector.role);
      const kinds = selector.kind === undefined ? [] : [selector.kind].flat();
      kinds.forEach((kind, i) => {
        if (PAIRING_KINDS.includes(kind)) return;
        const near = nearestName(kind, PAIRING_KINDS);
        this.report(
          Array.isArray(selector.kind) ? `${path}.kind[${i}]` : `${path}.kind`,
          `unknown pairing kind "${kind}"` +
            (near !== null ? `: did you mean "${near}"?` : '') +
            ` (the kinds are ${PAIRING_KINDS.join(', ')})`,
        );
      });
    } else if ('chain' in selector) {
      this.checkRole(`${path}.role`, selector.role);
      this.checkUnitRef(`${path}.under`, selector.under, onTask);
      const types = selector.unitTypes ?? [];
      types.forEach((type, i) => {
        if (types.indexOf(type) !== i) {
          this.report(`${path}.unitTypes[${i}]`, `unit type "${type}" is listed twice`);
        }
      });
    } else if ('role' in selector) {
      this.checkRole(`${path}.role`, selector.role);
      const unit = 'unit' in selector ? selector.unit : selector.under;
      if (typeof unit === 'object' && 'catalogue' in unit) {
        this.checkCatalogueRef(`${path}.unit`, unit, onTask);
      } else {
        this.checkUnitRef(`${path}.${'unit' in selector ? 'unit' : 'under'}`, unit, onTask);
      }
    } else if ('expression' in selector) {
      this.checkExpression(`${path}.expression`, selector.expression);
    } else if ('claimantsOf' in selector) {
      const target = allSteps(this.spec).find((s) => s.step.id === selector.claimantsOf)?.step;
      if (target?.type !== 'claim') {
        this.report(`${path}.claimantsOf`, `"${selector.claimantsOf}" is not a claim step`);
      } else if (target.claimants.max === 'all') {
        // A roll-call's reports are kept on its roster (docs/roll-calls-at-scale.md), not as
        // claimants the workflow holds: the selector would find nobody, silently.
        this.report(
          `${path}.claimantsOf`,
          `"${selector.claimantsOf}" is a roll-call (claimants max: all): who reported is on its roster, not its claimants, so claimantsOf would find nobody; use a pool with a number as max, or address the same people by role`,
        );
      }
    }
  }

  /** A post role a selector names: built-in or declared, else the nearest known one. */
  private checkRole(path: string, role: string): void {
    if (this.roles.has(role)) return;
    const near = nearestName(role, [...this.roles]);
    this.report(
      path,
      `unknown role "${role}": ` +
        (near !== null ? `did you mean "${near}"? Or ` : '') +
        'use a built-in role or declare it under roles',
    );
  }

  /** `{ catalogue: <category expression>, otherwise }`: the expression and the fallback. */
  private checkCatalogueRef(path: string, ref: CatalogueUnitRef, onTask: boolean): void {
    this.checkExpression(`${path}.catalogue`, ref.catalogue);
    const otherwise = ref.otherwise;
    if (otherwise === undefined) return;
    if (typeof otherwise === 'object' && 'role' in otherwise) {
      if (!this.roles.has(otherwise.role)) {
        this.report(
          `${path}.otherwise.role`,
          `unknown role "${otherwise.role}": use a built-in role or declare it under roles`,
        );
      }
      this.checkUnitRef(`${path}.otherwise.unit`, otherwise.unit, onTask);
    } else {
      this.checkUnitRef(`${path}.otherwise`, otherwise, onTask);
    }
  }

  private checkUnitRef(path: string, ref: UnitRef, onTask: boolean): void {
    const of = typeof ref === 'string' ? (ref === 'assignee' ? 'assignee' : 'case') : ref.of;
    if (of === 'assignee' && !onTask) {
      this.report(path, "the assignee's unit only exists on a task or claim step");
    }
    if (typeof of !== 'object') return;
    if ('expression' in of) this.checkExpression(`${path}.of.expression`, of.expression);
    else if (!this.fieldNames.has(of.field)) {
      this.report(`${path}.of.field`, `unknown field "${of.field}"`);
    } else {
      const type = this.fieldTypes.get(of.field);
      if (type !== 'unit' && type !== 'string') {
        this.report(
          `${path}.of.field`,
          `field "${of.field}" is of type ${type}: a unit reference reads a unit id, from a field of type unit (or string)`,
        );
      }
    }
  }

  private checkExpression(path: string, source: string, roots = EXPRESSION_ROOTS): void {
    const error = checkExpression(source, roots);
    if (error !== null) {
      this.report(path, `bad expression: ${error}`);
      return;
    }
    for (const ref of expressionPaths(source)) {
      const [root, name] = ref.split('.');
      if (root === 'data' && name !== undefined && !this.fieldNames.has(name)) {
        this.report(path, `bad expression: unknown field "data.${name}"`);
      }
      if (root === 'steps' && name !== undefined && !this.stepIds.has(name)) {
        this.report(path, `bad expression: unknown step "steps.${name}"`);
      } else if (root === 'steps' && name !== undefined) {
        const problem = stepPathProblem(this.stepsById.get(name)!, ref.split('.').slice(2));
        if (problem !== null) this.report(path, `bad expression: ${problem}`);
      }
    }
    for (const ambiguity of expressionAmbiguities(source)) {
      this.report(path, `ambiguous expression: ${ambiguity}`);
    }
  }

  /**
   * Reachability within a list (from the start, or a branch's first step), and from every
   * reachable step a way out: an end step at the top level, the branch's end inside a branch.
   */
  private checkGraph(list: StepList): void {
    const byId = new Map(list.steps.map((s, i) => [s.id, { step: s, index: i }]));
    const start = list.isBranch ? list.steps[0]!.id : startStepId(this.spec);
    if (!byId.has(start)) return;
    const successors = (id: string): { ids: string[]; exits: boolean } => {
      const step = byId.get(id)!.step;
      const { targets, fallsThrough } = successorsOf(step);
      const ids = targets.filter((t) => byId.has(t));
      const following = fallsThrough ? followingStepId(list, id) : undefined;
      if (following !== undefined) ids.push(following);
      return { ids, exits: step.type === 'end' || (fallsThrough && following === undefined) };
    };
    const reachable = new Set<string>();
    const queue = [start];
    while (queue.length > 0) {
      const id = queue.shift()!;
      if (reachable.has(id)) continue;
      reachable.add(id);
      queue.push(...successors(id).ids);
    }
    list.steps.forEach((step, i) => {
      if (!reachable.has(step.id)) {
        this.report(`${list.path}[${i}]`, `step "${step.id}" is unreachable`);
      }
    });
    // A way out: an end step at the top level, running off the end of a branch inside one.
    const isExit = (id: string): boolean => {
      const { step } = byId.get(id)!;
      return list.isBranch ? successors(id).exits : step.type === 'end';
    };
    const canExit = new Set([...reachable].filter(isExit));
    for (let changed = true; changed;) {
      changed = false;
      for (const id of reachable) {
        if (!canExit.has(id) && successors(id).ids.some((next) => canExit.has(next))) {
          canExit.add(id);
          changed = true;
        }
      }
    }
    const reachesEnd = [...reachable].some(isExit);
    list.steps.forEach((step, index) => {
      if (!list.isBranch && step.type !== 'end' && successors(step.id).exits) {
        this.report(
          `${list.path}[${index}]`,
          'the last step must be an end step or name its next step',
        );
      } else if (reachesEnd && reachable.has(step.id) && !canExit.has(step.id)) {
        this.report(
          `${list.path}[${index}]`,
          list.isBranch
            ? `no way from step "${step.id}" to the end of its branch`
            : `no way from step "${step.id}" to an end step`,
        );
      }
    });
    if (!list.isBranch && !reachesEnd) {
      this.report(list.path, 'no path from the start step reaches an end step');
    }
  }
}

/** Dotted paths an expression reads, for field and step checks (best effort, after syntax). */
function expressionPaths(source: string): string[] {
  try {
    return compileExpression(source, { roots: EXPRESSION_ROOTS }).paths;
  } catch {
    return [];
  }
}

/** Orders escalation offsets of mixed kinds roughly (a working day ≈ 8 working hours). */
function roughMinutes(duration: string): number {
  const parsed = parseSlaDuration(duration);
  if (parsed.kind === 'calendar') return parsed.ms / 60_000;
  if (parsed.kind === 'workingMinutes') return parsed.minutes;
  return parsed.days * 480;
}
