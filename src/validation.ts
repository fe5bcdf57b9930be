/**
 * Input validation with zod, reporting errors in DRF's words and shape
 * ({"field": ["This field is required."]}) so clients written for DRF understand them.
 */
import { z } from 'zod';
import { ValidationError, type FieldErrors } from './errors.js';

/**
 * An input as a refusal quotes it. JSON bodies give objects too, whose own `toString` may be any
 * value (String() then throws), so anything but a primitive is quoted as JSON, cut short.
 */
function quoted(input: unknown): string {
  let text: string;
  try {
    text = input === null || (typeof input !== 'object' && typeof input !== 'function') ? String(input) : (JSON.stringify(input) ?? typeof input);
  } catch {
    text = typeof input;
  }
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}

z.config({
  customError: (issue) => {
    if (issue.code === 'invalid_type') {
      if (issue.input === undefined) return 'This field is required.';
      if (issue.input === null) return 'This field may not be null.';
      if (issue.expected === 'int' || issue.expected === 'number') return 'A valid integer is required.';
      if (issue.expected === 'string') return 'Not a valid string.';
      if (issue.expected === 'boolean') return 'Must be a valid boolean.';
    }
    if (issue.code === 'too_big' && issue.origin === 'string') return `Ensure this field has no more than ${issue.maximum} characters.`;
    if (issue.code === 'too_small' && issue.origin === 'string') {
      return issue.minimum === 1 ? 'This field may not be blank.' : `Ensure this field has at least ${issue.minimum} characters.`;
    }
    if (issue.code === 'invalid_value' && issue.input === undefined) return 'This field is required.';
    if (issue.code === 'invalid_value') return `"${quoted(issue.input)}" is not a valid choice.`;
    if (issue.code === 'unrecognized_keys') return undefined;
    return undefined;
  },
});

/** An integer id; accepts "12" as DRF does for form and query input. */
/** The largest id an INTEGER column holds (PostgreSQL refuses a larger bound parameter outright). */
export const MAX_ID = 2_147_483_647;

export const id = () =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v),
    z
      .number({ error: (iss) => (iss.input === undefined ? 'This field is required.' : 'A valid integer is required.') })
      .int()
      .positive()
      .max(MAX_ID, { error: `Ensure this value is less than or equal to ${MAX_ID}.` }),
  );

/** Trims, as DRF's CharField does. */
export const text = (max: number) => z.string().trim().min(1).max(max);
export const optionalText = (max: number) => z.string().trim().max(max).optional();

export function zodToFieldErrors(error: z.ZodError): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? String(issue.path[0]) : 'non_field_errors';
    (fields[key] ??= []).push(issue.message);
  }
  return fields;
}

const NUL_REFUSED = 'Null characters are not allowed.';

function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (Array.isArray(value)) return value.some(holdsNul);
  if (value && Object.getPrototypeOf(value) === Object.prototype) return Object.values(value).some(holdsNul);
  return false;
}

/**
 * The fields of parsed input whose text holds a NUL, as DRF refuses them: databases cannot
 * store it faithfully (PostgreSQL text refuses it, SQLite cuts the string there).
 */
function nulFields(data: unknown): FieldErrors {
  const fields: FieldErrors = {};
  if (data && typeof data === 'object' && !Array.isArray(data)) {
    for (const [key, value] of Object.entries(data)) if (holdsNul(value)) fields[key] = [NUL_REFUSED];
  } else if (holdsNul(data)) fields.non_field_errors = [NUL_REFUSED];
  return fields;
}

/** Parses input (a body, a query string, a socket frame) or throws a 400 ValidationError. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (!result.success) throw new ValidationError(zodToFieldErrors(result.error));
  // Checked on the output: only the fields the schema reads, after its transforms.
  const refused = nulFields(result.data);
  if (Object.keys(refused).length) throw new ValidationError(refused);
  return result.data;
}
