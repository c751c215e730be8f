import { Type, type Static, type TSchema } from '@sinclair/typebox'

/** Ids chosen by callers or made by us (SPEC 2). */
export const IdSchema = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', minLength: 1, maxLength: 64 })

/**
 * The HTML standard's "valid email address", at most 254 characters. Being a single line it also
 * keeps CR/LF out of mail headers.
 */
export const EmailSchema = Type.String({
  maxLength: 254,
  pattern:
    "^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$",
})

/** Text that may end up in a mail header (a name, a subject): one line, no control characters. */
export const LineSchema = (opts: { minLength?: number; maxLength: number }) =>
  Type.String({ minLength: opts.minLength ?? 1, maxLength: opts.maxLength, pattern: '^[^\\u0000-\\u001f\\u007f]*$' })

/** Text of a message body: any lines, but no NUL, which PostgreSQL text cannot hold. */
export const TextSchema = (opts: { minLength?: number; maxLength: number }) =>
  Type.String({ ...(opts.minLength !== undefined ? { minLength: opts.minLength } : {}), maxLength: opts.maxLength, pattern: '^[^\\u0000]*$' })

export const LocaleSchema = Type.Union([Type.Literal('en'), Type.Literal('fi')])

export const DateTimeSchema = Type.String({ format: 'date-time' })

/** RFC 9457 problem details, as every error answers (SPEC 5). */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: '`/problems/<code>`' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    requestId: Type.String(),
    errors: Type.Optional(
      Type.Array(Type.Object({ path: Type.String(), message: Type.String() }, { additionalProperties: false })),
    ),
  },
  { $id: 'Problem', additionalProperties: false, description: 'An RFC 9457 problem' },
)
export type Problem = Static<typeof ProblemSchema>

export const PageQuerySchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })),
  },
  { additionalProperties: false },
)

/** A page of a cursor-paginated list: `nextCursor` is null on the last page. */
export const PageSchema = <T extends TSchema>(item: T) =>
  Type.Object({ data: Type.Array(Type.Ref(item)), nextCursor: Type.Union([Type.String(), Type.Null()]) })

/** An object that refuses unknown fields: SPEC 5 asks for it on every request body. */
export const Strict = <T extends Parameters<typeof Type.Object>[0]>(props: T, opts: object = {}) =>
  Type.Object(props, { additionalProperties: false, ...opts })
