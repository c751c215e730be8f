import type { Conflict } from './schemas.ts'

/**
 * The one error catalogue. Every problem the API can answer is listed here with its HTTP status
 * and a stable title; `code` becomes the problem's `type` (`/problems/<code>`). Codes are part of
 * the public contract (docs/PRODUCT.md, "Errors"): add new ones, never rename.
 */
export const ERRORS = {
  'validation-failed': { status: 400, title: 'The request is not valid' },
  unauthenticated: { status: 401, title: 'Authentication is required' },
  forbidden: { status: 403, title: 'You may not do this' },
  'not-found': { status: 404, title: 'Not found' },
  'version-mismatch': { status: 412, title: 'The contacts were changed by someone else' },
  'billing-contact-limit': { status: 409, title: 'An account has at most three billing contacts' },
  'duplicate-contact': { status: 409, title: 'This user is already a billing contact' },
  'user-not-active': { status: 422, title: 'The user is not active' },
  'user-not-in-account': { status: 422, title: 'The user is not a member of this account' },
  'external-email-not-allowed': {
    status: 422,
    title: 'Only the security contact may be an email address of a non-user',
  },
  'email-domain-not-allowed': {
    status: 422,
    title: "The email address is outside the account's allowed domains",
  },
  'idempotency-key-reused': {
    status: 422,
    title: 'The Idempotency-Key was already used with another request',
  },
  'idempotency-key-in-use': {
    status: 409,
    title: 'A request with this Idempotency-Key is still running',
  },
  'precondition-required': { status: 428, title: 'This request requires an If-Match header' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The request body must be application/json' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'verification-mail-limit': { status: 429, title: 'Too many verification mails were sent; try again later' },
  conflict: { status: 409, title: 'The request conflicts with the current state' },
  'parent-not-found': { status: 422, title: 'The parent account does not exist' },
  'account-tree-cycle': { status: 409, title: 'An account cannot be below itself' },
  'account-tree-too-deep': { status: 422, title: 'An account tree has at most five levels' },
  'account-has-children': { status: 409, title: 'The account is the parent of other accounts' },
  'request-timeout': { status: 408, title: 'The request did not arrive in time' },
  'headers-too-large': { status: 431, title: 'The request headers are too large' },
  unavailable: { status: 503, title: 'The service is not ready' },
  'service-unavailable': { status: 503, title: 'The service cannot answer just now; try again' },
  internal: { status: 500, title: 'Internal server error' },
} as const satisfies Record<string, { status: number; title: string }>

export type ErrorCode = keyof typeof ERRORS

/** One entry of a validation problem's `errors[]`: a JSON pointer into the request and why. */
export interface FieldError {
  path: string
  message: string
}

/**
 * The only error class services throw on purpose. The error handler turns it into an RFC 9457
 * problem; anything else becomes a masked 500.
 */
export class AppError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly detail: string
  readonly errors?: FieldError[]
  readonly headers?: Record<string, string>
  readonly conflicts?: Conflict[]

  constructor(
    code: ErrorCode,
    opts: {
      detail?: string
      errors?: FieldError[]
      headers?: Record<string, string>
      conflicts?: Conflict[]
      cause?: unknown
    } = {},
  ) {
    super(opts.detail ?? ERRORS[code].title, { cause: opts.cause })
    this.name = 'AppError'
    this.code = code
    this.status = ERRORS[code].status
    this.detail = opts.detail ?? ERRORS[code].title
    if (opts.errors) this.errors = opts.errors
    if (opts.headers) this.headers = opts.headers
    if (opts.conflicts) this.conflicts = opts.conflicts
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError
