import { type Static, type TSchema, Type } from '@sinclair/typebox'

/** Ids chosen by callers or made by us (docs/PRODUCT.md, "Accounts" and "Users"). */
export const IdSchema = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', minLength: 1, maxLength: 64 })

/** The characters of an unquoted local part (RFC 5322 `atext`). */
const ATEXT = "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]"
/** A domain label: letters, digits and inner hyphens, 1 to 63 characters. */
const LABEL = '[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?'

/**
 * An address SMTP can carry without quoting (RFC 5321 4.1.2, 4.5.3.1.1): a local part of dot-atoms
 * (no leading, trailing or doubled dot) of at most 64 characters, and a domain of at least two
 * labels (`a@b` names no host on the Internet); at most 254 characters in all. Narrower than the
 * HTML standard's "valid email address", which lets through forms a mail server must quote
 * (`".a"@b.c`). Being a single line it also keeps CR/LF out of mail headers. The settings page
 * sends what was typed and shows this schema's refusal (it has no rule of its own).
 */
/** The largest int32: the bound of every count and version the API documents as `format: int32`. */
export const INT32_MAX = 2_147_483_647

export const EmailSchema = Type.String({
  maxLength: 254,
  pattern: `^(?=[^@]{1,64}@)${ATEXT}+(?:\\.${ATEXT}+)*@${LABEL}(?:\\.${LABEL})+$`,
})

/**
 * Characters a line of text may not hold: C0 and C1 controls (U+0085 is a line break to some
 * mail readers), DEL, the line and paragraph separators, and the bidirectional embeddings,
 * overrides and isolates, which make a name read differently from what it is ("Admin " + U+202E + "gnp.exe" shows as "Admin exe.png").
 */
const NOT_IN_A_LINE = '\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069'

/** An RFC 2047 encoded-word (`=?utf-8?Q?...?=`): a mail reader would decode it, to any text at all. */
const ENCODED_WORD = '=\\?[^?\\s]+\\?[bBqQ]\\?[^?\\s]*\\?='

/**
 * Text that may end up in a mail header (a name, a subject): one line, none of the characters
 * above, and no encoded-word (what we send is encoded by us, never taken as already encoded).
 */
export const LineSchema = (opts: { minLength?: number; maxLength: number }) =>
  Type.String({
    minLength: opts.minLength ?? 1,
    maxLength: opts.maxLength,
    pattern: `^(?!.*${ENCODED_WORD})[^${NOT_IN_A_LINE}]*$`,
  })

/** Text of a message body: any lines, but no NUL, which PostgreSQL text cannot hold. */
export const TextSchema = (opts: { minLength?: number; maxLength: number }) =>
  Type.String({
    ...(opts.minLength !== undefined ? { minLength: opts.minLength } : {}),
    maxLength: opts.maxLength,
    pattern: '^[^\\u0000]*$',
  })

export const LocaleSchema = Type.Union([Type.Literal('en'), Type.Literal('fi')])

/** An RFC 3339 time as we write them (`Date.toISOString()`, 24 characters); 40 leaves room for an offset and microseconds. */
export const DateTimeSchema = Type.String({ format: 'date-time', maxLength: 40 })

/**
 * The longest a problem's texts get, and the most field errors it lists: what a request put into
 * them (a field's name, a path) is cut to these by toProblem (app/error-handler.ts).
 */
export const PROBLEM_LIMITS = { detail: 2000, path: 300, message: 300, errors: 20 } as const

/** The last change another writer made to one slot that a refused write would have changed. */
const ConflictSchema = Type.Object(
  {
    slot: Type.String({ maxLength: 32, description: 'The slot, as the sheet names it (`primary`, `billing`, ...)' }),
    at: DateTimeSchema,
    actor: Type.Object(
      {
        type: Type.Union([Type.Literal('api_key'), Type.Literal('user'), Type.Literal('system')]),
        id: Type.String({ maxLength: 64 }),
        name: Type.Union([Type.String({ maxLength: 200 }), Type.Null()], {
          description: "The user's name, when the author is a user of this account",
        }),
      },
      { additionalProperties: false },
    ),
    holders: Type.Array(
      Type.Object(
        { name: Type.Union([Type.String({ maxLength: 200 }), Type.Null()]), email: Type.String({ maxLength: 320 }) },
        { additionalProperties: false },
      ),
      { maxItems: 3, description: 'Who holds the slot since that change; empty when it was emptied' },
    ),
    rule: Type.String({ maxLength: 16, description: "The slot's rule towards the parent account since that change" }),
  },
  { additionalProperties: false },
)
export type Conflict = Static<typeof ConflictSchema>

/** RFC 9457 problem details, as every error answers (docs/PRODUCT.md, "Errors"). */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ maxLength: 100, pattern: '^/problems/[a-z-]+$', description: '`/problems/<code>`' }),
    title: Type.String({ maxLength: 200 }),
    status: Type.Integer({ format: 'int32', minimum: 400, maximum: 599 }),
    detail: Type.String({ maxLength: PROBLEM_LIMITS.detail }),
    code: Type.String({ maxLength: 64, pattern: '^[a-z-]+$' }),
    requestId: Type.String({ maxLength: 100 }),
    errors: Type.Optional(
      Type.Array(
        Type.Object(
          {
            path: Type.String({ maxLength: PROBLEM_LIMITS.path }),
            message: Type.String({ maxLength: PROBLEM_LIMITS.message }),
          },
          { additionalProperties: false },
        ),
        { maxItems: PROBLEM_LIMITS.errors },
      ),
    ),
    conflicts: Type.Optional(
      Type.Array(ConflictSchema, {
        maxItems: 6,
        description:
          "A contact sheet write's `version-mismatch`: the slots it writes that others changed since the version its If-Match named, each with its last change. Empty: only other slots changed, so the same request sent again with this answer's ETag overwrites nobody. Absent: not known (the If-Match was not a version of this sheet, or too old)",
      }),
    ),
  },
  { $id: 'Problem', additionalProperties: false, description: 'An RFC 9457 problem' },
)
export type Problem = Static<typeof ProblemSchema>

/** The most items a page holds (`?limit=`), and the cursor that names the next page. */
const PAGE_MAX = 200
const CursorSchema = Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })

export const PageQuerySchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: PAGE_MAX, default: 50 })),
    cursor: Type.Optional(CursorSchema),
  },
  { additionalProperties: false },
)

/** A page of a cursor-paginated list: `nextCursor` is null on the last page. */
export const PageSchema = <T extends TSchema>(item: T) =>
  Type.Object({
    data: Type.Array(Type.Ref(item), { maxItems: PAGE_MAX }),
    nextCursor: Type.Union([CursorSchema, Type.Null()]),
  })

/** An object that refuses unknown fields, as every request body must (docs/PRODUCT.md, "The API": bad input). */
export const Strict = <T extends Parameters<typeof Type.Object>[0]>(props: T, opts: object = {}) =>
  Type.Object(props, { additionalProperties: false, ...opts })
