import fc from 'fast-check'

import { IdRef, type Resolve, type Schema, valueArb } from './fuzz-arbitraries.ts'

/*
 * The operations of the served OpenAPI document, and two kinds of request for each: valid ones,
 * drawn from its parameter and body schemas, and mutated ones, which break one rule of the
 * document (a wrong type, a missing or unknown field, an id outside its pattern, CR/LF in a
 * header-bound string, an over-long string, an invalid email, a bad enum value, another content
 * type, garbage JSON, a body over 1 MiB, no or a bad token).
 */

export interface Parameter {
  in: 'path' | 'query' | 'header'
  name: string
  required: boolean
  schema: Schema
}

export interface Operation {
  method: string
  path: string
  operationId: string
  parameters: Parameter[]
  body?: { schema: Schema; required: boolean }
  /** false for the public operations (`security: []`) */
  secured: boolean
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>
}

export type Auth = 'key' | 'admin' | 'billing' | 'member' | 'none' | 'garbage'

/** A request before its ids are resolved: `IdRef`s stand where existing ids go. */
export interface RequestSpec {
  op: number
  auth: Auth
  path: Record<string, unknown>
  query: Record<string, unknown>
  headers: Record<string, unknown>
  /** the JSON body; `undefined`: none */
  body?: unknown
  /** a body sent as it is instead of `body` (garbage, another content type, too large) */
  raw?: { contentType: string | null; payload: string }
  /** which rule the request breaks, for mutated ones */
  mutation?: string
}

export function operationsOf(doc: any): Operation[] {
  const ops: Operation[] = []
  for (const [path, methods] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(methods)) {
      const body = op.requestBody?.content?.['application/json']?.schema
      ops.push({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId,
        parameters: op.parameters ?? [],
        ...(body ? { body: { schema: body, required: op.requestBody.required === true } } : {}),
        secured: (op.security ?? doc.security ?? []).length > 0,
        responses: op.responses,
      })
    }
  }
  return ops
}

export function resolverOf(doc: any): Resolve {
  return (ref) => {
    const m = /^#\/components\/schemas\/(.+)$/.exec(ref)
    const s = m && doc.components.schemas[m[1]!]
    if (!s) throw new Error(`fuzz: cannot resolve ${ref}`)
    return s
  }
}

/** Platform key mostly; sometimes a session of the fixture's super admin, billing admin or member. */
const authArb = fc.constantFrom<Auth>(
  'key',
  'key',
  'key',
  'key',
  'key',
  'key',
  'key',
  'admin',
  'admin',
  'billing',
  'member',
)

function paramsArb(op: Operation, where: Parameter['in'], resolve: Resolve): fc.Arbitrary<Record<string, unknown>> {
  const params = op.parameters.filter((p) => p.in === where)
  const model = Object.fromEntries(params.map((p) => [p.name, valueArb(p.schema, resolve, p.name)]))
  return fc.record(model, { requiredKeys: params.filter((p) => p.required).map((p) => p.name) })
}

/** Valid requests of operation `index`: every parameter and body drawn from the document. */
export function validArb(ops: Operation[], index: number, resolve: Resolve): fc.Arbitrary<RequestSpec> {
  const op = ops[index]!
  return fc
    .record({
      auth: authArb,
      path: paramsArb(op, 'path', resolve),
      query: paramsArb(op, 'query', resolve),
      headers: paramsArb(op, 'header', resolve),
      body: op.body ? valueArb(op.body.schema, resolve) : fc.constant(undefined),
    })
    .map((r) => ({ op: index, ...r }))
}

/** Values outside every id pattern of the document (`^[A-Za-z0-9_.-]...`). */
const BAD_IDS = ['a b', 'ä', "a'b", '<x>', 'a\r\nb', 'a;b', 'a%00b', 'x'.repeat(201) + '!', '😀']
const INVALID_EMAILS = [
  'no-at-sign',
  'a@',
  '@example.com',
  'a@b..com',
  'a b@example.com',
  'a@-example.com',
  'a@example.com\r\nBcc: evil@example.com',
  `${'x'.repeat(245)}@example.com`,
  'ä@example.com',
  'a@exa mple.com',
  '"quoted"@example.com',
]
const BAD_ENUMS = ['', 'EN', 'Super_Admin', 'admin', 'billing', 'unknown', 'primary ', 'null']
const GARBAGE_JSON = ['{', '{"a":', 'nul', '[1,]', '{"x":1}}', '\u0000', "{'a':1}", '', '{"a":1,"a":}', '\ufeff{']
const OTHER_TYPES = [
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'application/jsonx',
  'text/json',
  'multipart/form-data; boundary=x',
]
const WRONG_TYPES: unknown[] = [12345, -1.5, true, false, [], {}, 'a string', null, [null], { nested: true }]
/** A JSON body just over the 1 MiB limit. */
const TOO_LARGE = `{"name":"${'x'.repeat(1024 * 1024 + 10)}"}`
const CRLF = ['\r\nBcc: evil@example.com', '\nX-Injected: 1', '\r', '\u0000', '\u001b[31m']

type Path = (string | number)[]

/** Every place in a JSON value: objects' keys and arrays' items, with the value there. */
function places(value: unknown, at: Path = []): { at: Path; value: unknown }[] {
  const out = [{ at, value }]
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...places(v, [...at, i])))
  else if (value !== null && typeof value === 'object' && !(value instanceof IdRef)) {
    for (const [k, v] of Object.entries(value)) out.push(...places(v, [...at, k]))
  }
  return out
}

function setAt(value: unknown, at: Path, to: unknown, remove = false): unknown {
  if (at.length === 0) return to
  const copy: any = Array.isArray(value) ? [...value] : { ...(value as object) }
  const [head, ...rest] = at
  if (remove && rest.length === 0) {
    if (Array.isArray(copy)) copy.splice(head as number, 1)
    else delete copy[head as string]
  } else copy[head as string] = setAt(copy[head as string], rest, to, remove)
  return copy
}

/** The schema that describes the value at `at`, best effort (the first branch of a union that has the field). */
function schemaAt(schema: Schema | undefined, at: Path, resolve: Resolve): Schema | undefined {
  let s = schema
  for (const key of at) {
    while (s && (s.$ref || s.anyOf || s.allOf)) {
      if (s.$ref) s = resolve(s.$ref)
      else if (s.anyOf)
        s = (s.anyOf as Schema[])
          .map((b) => (b.$ref ? resolve(b.$ref) : b))
          .find((b) => (typeof key === 'number' ? b.type === 'array' : b.properties?.[key]))
      else s = Object.assign({}, ...(s.allOf as Schema[]).map((b) => (b.$ref ? resolve(b.$ref) : b)))
    }
    s = typeof key === 'number' ? s?.items : s?.properties?.[key]
  }
  return s
}

const isEnum = (s: Schema | undefined, resolve: Resolve): boolean => {
  if (!s) return false
  if (s.$ref) return isEnum(resolve(s.$ref), resolve)
  if (s.enum) return true
  return Array.isArray(s.anyOf) && s.anyOf.some((b: Schema) => isEnum(b, resolve))
}

const maxLengthOf = (s: Schema | undefined, resolve: Resolve): number | undefined => {
  if (!s) return undefined
  if (s.$ref) return maxLengthOf(resolve(s.$ref), resolve)
  if (typeof s.maxLength === 'number') return s.maxLength
  if (Array.isArray(s.anyOf))
    for (const b of s.anyOf) if (maxLengthOf(b, resolve) !== undefined) return maxLengthOf(b, resolve)
  return undefined
}

/**
 * Mutations of a valid request of `op`, each an arbitrary of the broken request, or none when
 * the request has no place for that kind of fault.
 */
function mutations(op: Operation, spec: RequestSpec, resolve: Resolve): fc.Arbitrary<RequestSpec>[] {
  const out: fc.Arbitrary<RequestSpec>[] = []
  const withBody = (body: unknown, mutation: string): RequestSpec => ({ ...spec, body, mutation })
  if (op.secured)
    out.push(fc.constantFrom<Auth>('none', 'garbage').map((auth) => ({ ...spec, auth, mutation: `auth:${auth}` })))

  for (const p of op.parameters) {
    const section = p.in === 'path' ? 'path' : p.in === 'query' ? 'query' : 'headers'
    const put = (v: unknown, m: string): RequestSpec => ({
      ...spec,
      [section]: { ...spec[section], [p.name]: v },
      mutation: `${p.in}.${p.name}:${m}`,
    })
    const drop = (m: string): RequestSpec => {
      const copy = { ...spec[section] }
      delete copy[p.name]
      return { ...spec, [section]: copy, mutation: `${p.in}.${p.name}:${m}` }
    }
    const s = p.schema.$ref ? resolve(p.schema.$ref) : p.schema
    if (p.in === 'header') {
      // no CR/LF here: an HTTP client cannot send it in a header at all
      out.push(fc.constantFrom(' spaced key ', 'x'.repeat(256), '', 'tab\there', 'é').map((v) => put(v, 'bad-header')))
      continue
    }
    if (isEnum(s, resolve)) out.push(fc.constantFrom(...BAD_ENUMS).map((v) => put(v, 'bad-enum')))
    else if (s.type === 'integer')
      out.push(fc.constantFrom('0', '-1', '201', '1000000', 'abc', '1.5', '', '1e3x').map((v) => put(v, 'bad-integer')))
    else if (p.in === 'path' || s.pattern) out.push(fc.constantFrom(...BAD_IDS).map((v) => put(v, 'bad-id')))
    if (p.in === 'query' && p.required) out.push(fc.constant(drop('missing')))
  }

  if (op.body) {
    const all = places(spec.body)
    out.push(
      fc
        .constantFrom(...all)
        .chain(({ at }) =>
          fc.constantFrom(...WRONG_TYPES).map((v) => withBody(setAt(spec.body, at, v), 'body:wrong-type')),
        ),
    )
    const fields = all.filter((p) => typeof p.at[p.at.length - 1] === 'string')
    if (fields.length > 0)
      out.push(
        fc
          .constantFrom(...fields)
          .map(({ at }) => withBody(setAt(spec.body, at, undefined, true), 'body:missing-field')),
      )
    const objects = all.filter(
      (p) => p.value !== null && typeof p.value === 'object' && !Array.isArray(p.value) && !(p.value instanceof IdRef),
    )
    if (objects.length > 0)
      out.push(
        fc
          .constantFrom(...objects)
          .map(({ at }) => withBody(setAt(spec.body, [...at, 'unknownField'], 'surprise'), 'body:unknown-field')),
      )
    const strings = all.filter((p) => typeof p.value === 'string' || p.value instanceof IdRef)
    if (strings.length > 0) {
      out.push(
        fc
          .tuple(fc.constantFrom(...strings), fc.constantFrom(...CRLF))
          .map(([{ at, value }, crlf]) =>
            withBody(setAt(spec.body, at, `${typeof value === 'string' ? value : 'x'}${crlf}`), 'body:crlf'),
          ),
      )
      out.push(
        fc.constantFrom(...strings).map(({ at }) => {
          const max = maxLengthOf(schemaAt(op.body!.schema, at, resolve), resolve) ?? 1000
          return withBody(setAt(spec.body, at, 'x'.repeat(max + 1)), 'body:too-long')
        }),
      )
    }
    const emails = all.filter((p) => p.at[p.at.length - 1] === 'email')
    if (emails.length > 0)
      out.push(
        fc
          .tuple(fc.constantFrom(...emails), fc.constantFrom(...INVALID_EMAILS))
          .map(([{ at }, v]) => withBody(setAt(spec.body, at, v), 'body:invalid-email')),
      )
    const enums = all.filter((p) => p.at.length > 0 && isEnum(schemaAt(op.body!.schema, p.at, resolve), resolve))
    if (enums.length > 0)
      out.push(
        fc
          .tuple(fc.constantFrom(...enums), fc.constantFrom(...BAD_ENUMS))
          .map(([{ at }, v]) => withBody(setAt(spec.body, at, v), 'body:bad-enum')),
      )
    out.push(fc.constantFrom(['x'], 'a string', 42, null, true).map((v) => withBody(v, 'body:not-an-object')))
    out.push(
      fc.constantFrom(...GARBAGE_JSON).map((payload) => ({
        ...spec,
        raw: { contentType: 'application/json', payload },
        mutation: 'body:garbage-json',
      })),
    )
    out.push(
      fc.constantFrom(...OTHER_TYPES, null).map((contentType) => ({
        ...spec,
        raw: { contentType, payload: JSON.stringify(spec.body ?? {}, (_k, v) => (v instanceof IdRef ? v.random : v)) },
        mutation: 'body:content-type',
      })),
    )
    out.push(
      fc.constant({
        ...spec,
        raw: { contentType: 'application/json', payload: TOO_LARGE },
        mutation: 'body:too-large',
      }),
    )
    if (op.body.required) out.push(fc.constant({ ...spec, body: undefined, mutation: 'body:absent' }))
  }
  return out
}

/** Mutated requests of operation `index`: a valid one, then one of the mutations that fit it. */
export function mutatedArb(ops: Operation[], index: number, resolve: Resolve): fc.Arbitrary<RequestSpec> | undefined {
  const op = ops[index]!
  if (!op.secured && op.parameters.length === 0 && !op.body) return undefined // nothing in it can be wrong
  return validArb(ops, index, resolve).chain((spec) => fc.oneof(...mutations(op, spec, resolve)))
}
