import { randomBytes } from 'node:crypto';
import { BEIJING_ISO_OFFSET } from '../lang/beijing';
import type { FieldSpec } from '../lang/definition';
import type { Translate } from './i18n';

/**
 * Forms generated from a definition's field schema (the case's input fields, a step's form), and
 * the posted strings turned back into typed values. The server-side check is the engine's own
 * (the API service, then the workflow's Update validator); this module only translates between
 * HTML controls and JSON, so a browser and an API client are held to the same rules.
 */

/**
 * A fresh key for one rendered form (a hidden field): a double click or a resubmit sends the same
 * key, which becomes the action's Idempotency-Key, so the action runs once.
 */
export function newFormKey(): string {
  return randomBytes(12).toString('base64url');
}

/** A posted form key as an Idempotency-Key, scoped to the console; undefined when malformed. */
export function idempotencyKeyOf(formKey: string): string | undefined {
  return /^[A-Za-z0-9_-]{8,64}$/.test(formKey) ? `console-${formKey}` : undefined;
}

export interface FieldControl {
  id: string;
  name: string;
  label: string;
  control: 'input' | 'textarea' | 'select' | 'checkbox' | 'photo';
  inputType: string;
  required: boolean;
  multiple: boolean;
  maxLength: number | null;
  min: number | null;
  max: number | null;
  step: string | null;
  value: string;
  checked: boolean;
  options: Array<{ value: string; label: string; selected: boolean }>;
  hint: string | null;
  error: string | null;
  rows: number | null;
  /** The id of a datalist of suggestions (people for a `person` field), or null. */
  list: string | null;
  /**
   * A photo field: photos already attached for it (a form shown again after a problem keeps
   * them, as hidden ids, so nobody takes the picture twice); empty for other controls.
   */
  photos: string[];
}

/** The prefix keeps generated ids apart from the page's own (`f-form-result`). */
export function controlsOf(
  fields: readonly FieldSpec[],
  options: {
    prefix: string;
    values?: Record<string, string | string[]>;
    errors?: Record<string, string>;
    t: Translate;
    /** The datalist of people a `person` field suggests (the page renders it), if any. */
    peopleList?: string | null;
  },
): FieldControl[] {
  return fields.map((field) => {
    const posted = options.values?.[field.name];
    const values = posted === undefined ? [] : Array.isArray(posted) ? posted : [posted];
    const base: FieldControl = {
      id: `f-${options.prefix}-${field.name}`,
      name: field.name,
      label: field.label,
      control: 'input',
      inputType: 'text',
      required: field.required,
      multiple: field.multiple,
      maxLength: field.maxLength ?? null,
      min: field.min ?? null,
      max: field.max ?? null,
      step: null,
      value: values.join('\n'),
      checked: values.includes('true'),
      options: [],
      hint: null,
      error: options.errors?.[field.name] ?? null,
      rows: null,
      list: null,
      photos: [],
    };
    if (field.type === 'photo') {
      // The phone's camera (capture) or its gallery; several at once for a `multiple` field.
      return {
        ...base,
        control: 'photo',
        value: '',
        photos: values.filter((v) => /^att-[0-9a-f]{24}$/.test(v)),
        hint: options.t(field.multiple ? 'form.photosHint' : 'form.photoHint'),
      };
    }
    if (field.options) {
      return {
        ...base,
        control: 'select',
        options: field.options.map((o) => ({ value: o, label: o, selected: values.includes(o) })),
      };
    }
    if (field.multiple) {
      return { ...base, control: 'textarea', rows: 3, hint: options.t('form.multipleHint') };
    }
    switch (field.type) {
      case 'text':
        return { ...base, control: 'textarea', rows: 4 };
      case 'boolean':
        return { ...base, control: 'checkbox', required: false };
      case 'integer':
        return { ...base, inputType: 'number', step: '1' };
      case 'number':
        return { ...base, inputType: 'number', step: 'any' };
      case 'email':
        return { ...base, inputType: 'email' };
      case 'phone':
        return { ...base, inputType: 'tel' };
      case 'date':
        return { ...base, inputType: 'date' };
      case 'datetime':
        return { ...base, inputType: 'datetime-local', hint: options.t('form.datetimeHint') };
      case 'unit':
        return { ...base, hint: options.t('form.unitHint') };
      case 'person':
        return { ...base, hint: options.t('form.personHint'), list: options.peopleList ?? null };
      default:
        return base;
    }
  });
}

/**
 * Posted strings → the JSON the engine validates. Empty fields are left out (the validator then
 * says "required" for required ones); numbers that do not parse are passed as text, so the
 * validator names them instead of this module guessing.
 */
export function valuesOf(
  fields: readonly FieldSpec[],
  form: Record<string, string | string[]>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const raw = form[field.name];
    if (field.type === 'boolean' && !field.multiple) {
      out[field.name] = raw === 'true';
      continue;
    }
    const items = (
      Array.isArray(raw)
        ? raw
        : raw === undefined
          ? []
          : field.multiple && !field.options && field.type !== 'photo'
            ? raw.split(/\r?\n/)
            : [raw]
    )
      .map((v) => v.trim())
      .filter((v) => v !== '');
    if (items.length === 0) continue;
    const typed = items.map((v) => typedValue(field, v));
    out[field.name] = field.multiple ? typed : typed[0];
  }
  return out;
}

function typedValue(field: FieldSpec, value: string): unknown {
  switch (field.type) {
    case 'integer':
    case 'number': {
      const n = Number(value);
      return Number.isFinite(n) ? n : value;
    }
    case 'boolean':
      return value === 'true';
    case 'datetime':
      // datetime-local has no offset: the console's times are Beijing time.
      return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)
        ? `${value.length === 16 ? `${value}:00` : value}${BEIJING_ISO_OFFSET}`
        : value;
    default:
      return value;
  }
}

/**
 * A task's prefill (预填) as the posted strings a control shows: lists one value a line, booleans
 * and numbers as written.
 */
export function prefillValues(
  prefill: Record<string, unknown> | undefined,
): Record<string, string | string[]> | undefined {
  if (prefill === undefined) return undefined;
  const values: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(prefill)) {
    const text = (v: unknown) =>
      typeof v === 'object' && v !== null ? JSON.stringify(v) : `${v as string}`;
    if (Array.isArray(value)) values[name] = value.map(text);
    else if (value !== null && value !== undefined) values[name] = text(value);
  }
  return values;
}
