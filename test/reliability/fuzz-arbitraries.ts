import fc from 'fast-check'

/*
 * JSON Schema (the subset our OpenAPI document uses) → fast-check arbitraries of values that the
 * schema accepts. Ids are not invented here: a field that names an existing thing (an account, a
 * user, a notification...) becomes an `IdRef`, which the fuzzer resolves against the data it has
 * seeded when it sends the request, so that valid requests reach real rows.
 */

export type Schema = Record<string, any>

/** What kind of thing an id names; `pick` in [0, 1) chooses from the known ones, `random` otherwise. */
export type IdKind =
  | 'account'
  | 'user'
  | 'notification'
  | 'broadcast'
  | 'endpoint'
  | 'etag'
  | 'cursor'
  | 'idempotencyKey'
  | 'verificationToken'

/** An id to resolve at send time: mostly an existing one, sometimes `random` (valid by the schema). */
export class IdRef {
  constructor(
    readonly kind: IdKind,
    /** current: the fixture's; other: another known one; random: `random` itself */
    readonly from: 'current' | 'other' | 'random',
    readonly pick: number,
    readonly random: string,
  ) {}
}

/** Resolves a `$ref` of the document (`#/components/schemas/X`). */
export type Resolve = (ref: string) => Schema

/** A field or parameter name that holds an id of this kind. */
const ID_FIELDS: Record<string, IdKind> = {
  accountId: 'account',
  accountIds: 'account',
  userId: 'user',
  notificationId: 'notification',
  broadcastId: 'broadcast',
  endpointId: 'endpoint',
  'if-match': 'etag',
  cursor: 'cursor',
  'idempotency-key': 'idempotencyKey',
  token: 'verificationToken',
}

const REAL_EMAILS = [
  'soc@example.org',
  'security@outside.example.net',
  'Aino.Virtanen+billing@example.fi',
  'x@example.com',
]
const REAL_NAMES = ['Aino Virtanen', 'Säätiö Öy & Co', '李小龍', 'O\'Brien "Bob"', ' padded ', '😀 emoji']

function idRef(kind: IdKind, random: fc.Arbitrary<string>): fc.Arbitrary<IdRef> {
  return fc
    .tuple(
      fc.constantFrom<IdRef['from']>(
        'current',
        'current',
        'current',
        'current',
        'current',
        'current',
        'other',
        'random',
        'random',
      ),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      random,
    )
    .map(([from, pick, r]) => new IdRef(kind, from, pick, r))
}

/** The caps that keep generated values small: a valid long string is tried at its exact maximum instead. */
const MAX_GENERATED_LENGTH = 40
const MAX_GENERATED_ITEMS = 4

function stringArb(s: Schema): fc.Arbitrary<string> {
  const min = s.minLength ?? 0
  const max = s.maxLength ?? Number.POSITIVE_INFINITY
  const fits = (v: string) => v.length >= min && v.length <= max
  if (s.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString())
  let base: fc.Arbitrary<string>
  if (s.pattern) {
    const re = new RegExp(s.pattern)
    // fast-check cannot generate from a lookahead (EmailSchema, LineSchema have one): generate
    // from the pattern without it, and keep what the whole pattern accepts
    const generator = new RegExp(s.pattern.replace(/\(\?[=!][^()]*\)/g, ''))
    base = fc.stringMatching(generator).filter((v) => fits(v) && re.test(v))
    // the longest value the schema allows, when a single character repeated satisfies the pattern
    if (Number.isFinite(max) && re.test('x'.repeat(max)))
      base = fc.oneof({ arbitrary: base, weight: 9 }, { arbitrary: fc.constant('x'.repeat(max)), weight: 1 })
    return base
  }
  base = fc
    .string({ minLength: min, maxLength: Math.max(min, Math.min(max, MAX_GENERATED_LENGTH)), unit: 'grapheme' })
    .filter(fits)
  if (Number.isFinite(max))
    base = fc.oneof({ arbitrary: base, weight: 9 }, { arbitrary: fc.constant('x'.repeat(max)), weight: 1 })
  return base
}

/**
 * An arbitrary of values `schema` accepts. `name` is the property or parameter the value is for:
 * ids become `IdRef`s, emails and names are mostly realistic.
 */
export function valueArb(schema: Schema, resolve: Resolve, name?: string): fc.Arbitrary<unknown> {
  const s = schema.$ref ? resolve(schema.$ref) : schema
  if (name && ID_FIELDS[name] && (s.type === 'string' || s.type === undefined)) {
    if (s.type === 'string') return idRef(ID_FIELDS[name], stringArb(s))
  }
  if (name === 'accountIds' && s.type === 'array') {
    return fc.uniqueArray(idRef('account', stringArb(s.items)), {
      minLength: s.minItems ?? 0,
      maxLength: Math.min(s.maxItems ?? MAX_GENERATED_ITEMS, MAX_GENERATED_ITEMS),
      selector: (r) => `${r.from}:${r.from === 'random' ? r.random : r.pick.toFixed(1)}`,
    })
  }
  if (s.anyOf || s.oneOf) return fc.oneof(...(s.anyOf ?? s.oneOf).map((b: Schema) => valueArb(b, resolve, name)))
  if (s.allOf)
    return valueArb(Object.assign({}, ...s.allOf.map((b: Schema) => (b.$ref ? resolve(b.$ref) : b))), resolve, name)
  if (s.enum) return fc.constantFrom(...s.enum)
  if ('const' in s) return fc.constant(s.const)
  switch (s.type) {
    case 'string': {
      const arb = stringArb(s)
      if (name === 'email')
        return fc.oneof({ arbitrary: fc.constantFrom(...REAL_EMAILS), weight: 3 }, { arbitrary: arb, weight: 1 })
      if ((name === 'name' || name === 'description' || name === 'subject') && s.pattern) {
        const re = new RegExp(s.pattern)
        const real = fc.constantFrom(...REAL_NAMES).filter((v) => re.test(v) && v.length >= (s.minLength ?? 0))
        return fc.oneof({ arbitrary: real, weight: 1 }, { arbitrary: arb, weight: 2 })
      }
      if (name === 'url')
        return fc.oneof(
          {
            arbitrary: fc.constantFrom('http://127.0.0.1:9/hook', 'http://[::1]:9/in', 'http://localhost:9/in'),
            weight: 1,
          },
          { arbitrary: arb, weight: 2 },
        )
      return arb
    }
    case 'integer':
      return fc.integer({ min: s.minimum ?? -1000, max: s.maximum ?? 1000 })
    case 'number':
      return fc.double({ min: s.minimum ?? -1000, max: s.maximum ?? 1000, noNaN: true })
    case 'boolean':
      return fc.boolean()
    case 'null':
      return fc.constant(null)
    case 'array': {
      const items = valueArb(s.items ?? {}, resolve, name)
      const constraints = {
        minLength: s.minItems ?? 0,
        maxLength: Math.min(s.maxItems ?? MAX_GENERATED_ITEMS, MAX_GENERATED_ITEMS),
      }
      return s.uniqueItems
        ? fc.uniqueArray(items, { ...constraints, selector: (v) => JSON.stringify(v) })
        : fc.array(items, constraints)
    }
    case 'object':
    case undefined: {
      const props: Record<string, Schema> = s.properties ?? {}
      const required: string[] = s.required ?? []
      const model = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, valueArb(v, resolve, k)]))
      const arb = fc.record(model, { requiredKeys: required })
      return s.minProperties ? arb.filter((o) => Object.keys(o).length >= s.minProperties) : arb
    }
    default:
      throw new Error(`fuzz: no arbitrary for schema type ${String(s.type)}`)
  }
}
