import Ajv, { type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import type { LightMyRequestResponse } from 'fastify'

import type { Operation } from './fuzz-operations.ts'

/*
 * The document as a judge, the way Schemathesis uses it: does a request conform to it (else the
 * server must refuse it), and does a response (status listed, body valid against the listed
 * schema, errors as RFC 9457 problems)?
 */

export interface SentRequest {
  path: Record<string, string>
  query: Record<string, string>
  headers: Record<string, string>
  body?: unknown
  raw?: { contentType: string | null; payload: string }
}

/** Refs of the document (`#/components/...`) made absolute, to be compiled apart from it. */
const absolute = (schema: unknown) =>
  JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/'))

function ajvWith(doc: any, coerce: boolean) {
  const ajv = new Ajv.default({
    strict: false,
    allErrors: false,
    coerceTypes: coerce ? 'array' : false,
    validateFormats: true,
  })
  addFormats.default(ajv)
  ajv.addSchema({ $id: 'doc', components: doc.components })
  return ajv
}

export function createJudge(doc: any, ops: Operation[]) {
  const bodies = ajvWith(doc, false)
  const params = ajvWith(doc, true)
  const cache = new Map<string, ValidateFunction>()
  const compiled = (key: string, ajv: Ajv.default, schema: () => unknown) => {
    let v = cache.get(key)
    if (!v) cache.set(key, (v = ajv.compile(absolute(schema()))))
    return v
  }

  /** Whether the document allows this request of `ops[index]` (then the server may refuse it only by its rules, not as invalid). */
  function conforms(index: number, req: SentRequest): boolean {
    const op = ops[index]!
    if (req.raw) return false // garbage JSON, another content type, over 1 MiB
    for (const where of ['path', 'query', 'header'] as const) {
      const ps = op.parameters.filter((p) => p.in === where)
      const validate = compiled(`${index} ${where}`, params, () => ({
        type: 'object',
        properties: Object.fromEntries(ps.map((p) => [p.name, p.schema])),
        required: ps.filter((p) => p.required).map((p) => p.name),
      }))
      const values = where === 'path' ? req.path : where === 'query' ? req.query : req.headers
      // the validator coerces in place: give it a copy
      if (!validate(Object.fromEntries(ps.filter((p) => p.name in values).map((p) => [p.name, values[p.name]]))))
        return false
    }
    if (op.body) {
      if (req.body === undefined) return !op.body.required
      if (!compiled(`${index} body`, bodies, () => op.body!.schema)(req.body)) return false
    }
    return true
  }

  /** What is wrong with `res` as an answer of `ops[index]`, per the document (empty when nothing is). */
  function judge(index: number, res: LightMyRequestResponse): string[] {
    const op = ops[index]!
    const wrong: string[] = []
    const status = res.statusCode
    if (status >= 500) wrong.push(`a ${status}: the server failed`)
    const declared = op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`] ?? op.responses.default
    if (!declared) {
      wrong.push(`status ${status} is not among the documented ${Object.keys(op.responses).join(', ')}`)
      return wrong
    }
    const mediaType = String(res.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
    const content = declared.content ?? {}
    // An error is a problem, unless the document gives it another body (the verification link's HTML page).
    if (status >= 400 && !(mediaType !== 'application/problem+json' && mediaType in content)) {
      if (mediaType !== 'application/problem+json')
        wrong.push(`an error answered as ${mediaType || 'nothing'}, not application/problem+json`)
      let problem: any
      try {
        problem = res.json()
      } catch {
        wrong.push('an error whose body is not JSON')
        return wrong
      }
      if (problem.status !== status) wrong.push(`problem.status ${problem.status} is not the HTTP status ${status}`)
      if (typeof problem.code !== 'string' || problem.type !== `/problems/${problem.code}`)
        wrong.push(`problem.type ${problem.type} is not /problems/<code>`)
      if (typeof problem.title !== 'string' || typeof problem.detail !== 'string')
        wrong.push('a problem without title or detail')
      if (!problem.requestId || problem.requestId !== res.headers['x-request-id'])
        wrong.push('a problem without the request id')
    }
    if (Object.keys(content).length === 0) {
      if (res.body.length > 0) wrong.push(`status ${status} has no documented body, but one came`)
      return wrong
    }
    const entry = content[mediaType]
    if (!entry) {
      wrong.push(`content-type ${mediaType} is not documented for ${status} (${Object.keys(content).join(', ')})`)
      return wrong
    }
    if (!mediaType.endsWith('json')) {
      if (entry.schema.type === 'string' && typeof res.body !== 'string') wrong.push('a text body that is not text')
      return wrong
    }
    let body: unknown
    try {
      body = res.json()
    } catch {
      wrong.push(`a ${mediaType} body that is not JSON`)
      return wrong
    }
    const validate = compiled(`${index} ${status} ${mediaType}`, bodies, () => entry.schema)
    if (!validate(body))
      wrong.push(`the body does not match the documented schema: ${bodies.errorsText(validate.errors)}`)
    return wrong
  }

  return { conforms, judge }
}
