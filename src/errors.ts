/**
 * Domain errors. Services throw these; one middleware (http/middleware/errors.ts) renders
 * them in Django REST Framework's shapes so existing clients keep working.
 */
export type FieldErrors = Record<string, string[]>;

/**
 * A DRF field-error body as people read it: `field: message message`, errors not tied to a field
 * bare, entries joined by `separator`. Takes unknown values because the CLI flattens bodies as
 * they came over the wire (nested serializers give objects, some views give plain strings).
 */
export function flattenFieldErrors(fields: Record<string, unknown>, separator: string): string {
  return Object.entries(fields)
    .map(([field, value]) => (field === 'non_field_errors' ? flattenValue(value) : `${field}: ${flattenValue(value)}`))
    .join(separator);
}

function flattenValue(value: unknown): string {
  if (Array.isArray(value)) return value.map(flattenValue).join(' ');
  if (value && typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k}: ${flattenValue(v)}`).join('; ');
  return String(value);
}

export abstract class AppError extends Error {
  abstract readonly status: number;
  /** Extra response headers (e.g. Retry-After). */
  headers: Record<string, string> = {};
  /** The JSON body sent to the client. */
  body(): Record<string, unknown> {
    return { detail: this.message };
  }
}

export class ValidationError extends AppError {
  readonly status = 400;
  constructor(public readonly fields: FieldErrors) {
    super(Object.entries(fields).map(([k, v]) => `${k}: ${v.join(' ')}`).join('; '));
  }
  static field(name: string, message: string): ValidationError {
    return new ValidationError({ [name]: [message] });
  }
  static nonField(message: string): ValidationError {
    return new ValidationError({ non_field_errors: [message] });
  }
  /** A request field naming an object by an id that does not exist, in DRF's words. */
  static unknownPk(name: string, pk: number): ValidationError {
    return ValidationError.field(name, `Invalid pk "${pk}" - object does not exist.`);
  }
  override body(): Record<string, unknown> {
    return this.fields;
  }
}

export class BadRequest extends AppError {
  readonly status = 400;
}

export class AuthenticationFailed extends AppError {
  readonly status = 401;
  constructor(message = 'Authentication credentials were not provided.', public readonly code?: string) {
    super(message);
  }
  override body(): Record<string, unknown> {
    return this.code ? { detail: this.message, code: this.code } : { detail: this.message };
  }
}

export class PermissionDenied extends AppError {
  readonly status = 403;
  constructor(message = 'You do not have permission to perform this action.') {
    super(message);
  }
}

export class NotFound extends AppError {
  readonly status = 404;
  constructor(message = 'Not found.') {
    super(message);
  }
}

export class MethodNotAllowed extends AppError {
  readonly status = 405;
  constructor(method: string) {
    super(`Method "${method}" not allowed.`);
  }
}

export class Conflict extends AppError {
  readonly status = 409;
}

export class PayloadTooLarge extends AppError {
  readonly status = 413;
}

export class UnsupportedMediaType extends AppError {
  readonly status = 415;
}

export class Throttled extends AppError {
  readonly status = 429;
  constructor(retryAfterSeconds: number) {
    const wait = Math.max(1, Math.ceil(retryAfterSeconds));
    super(`Request was throttled. Expected available in ${wait} seconds.`);
    this.headers['Retry-After'] = String(wait);
  }
}
