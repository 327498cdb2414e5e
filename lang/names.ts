/**
 * Names and patterns the definition language fixes that the interpreter workflow needs too. They
 * live apart from definition.ts (which re-exports them) because that module builds the zod
 * schemas when it loads: the workflow sandbox loads its modules again for every new workflow
 * (Temporal's reusable V8 context keeps one module cache per workflow), so a value imported from
 * definition.ts put zod and every schema into each case's start. This file imports nothing.
 */

/**
 * The members every JavaScript object inherits (Object.prototype's own names). A name the author
 * chooses (a field, a category code, a step, outcome or role key) becomes a key of records the
 * engine, the console and templates read, and `record.constructor` or `record.toString` would
 * find the inherited member instead of nothing: such names are refused. A unit test checks the
 * list against the running engine's Object.prototype.
 */
export const OBJECT_MEMBER_NAMES: ReadonlySet<string> = new Set([
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  'toString',
  'valueOf',
]);

/** Why a name is refused when every object already has a member of that name; null when free. */
export function objectMemberProblem(name: string): string | null {
  return OBJECT_MEMBER_NAMES.has(name)
    ? `"${name}" is reserved: every JavaScript object has a member of that name (Object.prototype.${name}), so records keyed by it would read that member; choose another name`
    : null;
}

/** An attachment id as the attachment service makes them: `att-` and 24 hex digits. */
export const ATTACHMENT_ID = /^att-[0-9a-f]{24}$/;

/** A task's form field a `publish` step shows: `steps.<step id>.form.<field name>`. */
export const SHOWN_FORM_FIELD =
  /^steps\.([a-z][a-z0-9_-]{0,63})\.form\.([A-Za-z][A-Za-z0-9_]{0,63})$/;
