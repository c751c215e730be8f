import type { FastifyInstance } from 'fastify'

import { AppError, type FieldError } from '../lib/errors.ts'

/** `fatal`: a byte sequence that is not UTF-8 throws instead of becoming U+FFFD. A BOM is dropped. */
const utf8 = new TextDecoder('utf-8', { fatal: true })
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)/i
const UTF8_NAMES = new Set(['utf-8', 'utf8'])
/** A UTF-16 surrogate without its other half: JSON's `\ud800` escape makes one, UTF-8 cannot carry it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
/** What the text must contain for the slower walk below to find anything (escapes included). */
const WORTH_A_WALK = /\\u|__proto__|prototype/

const pointer = (parent: string, key: string | number) =>
  `${parent}/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`

/** Refusals listed in one problem, at most. */
const MAX_REFUSALS = 10

/**
 * What JSON.parse accepts but the service refuses: a string or name with a lone surrogate (stored,
 * it would silently become U+FFFD), and the names that reach an object's prototype when a body is
 * merged into another object (`__proto__`, `constructor.prototype`). A loop over an explicit
 * stack, not recursion: a body of 100,000 nested arrays must not overflow the call stack.
 */
function refusals(body: unknown): FieldError[] {
  const out: FieldError[] = []
  const stack: Array<[unknown, string]> = [[body, '/body']]
  while (stack.length > 0 && out.length < MAX_REFUSALS) {
    const [value, path] = stack.pop()!
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value))
        out.push({ path, message: 'holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not a character' })
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], pointer(path, i)])
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, v] of Object.entries(value).reverse()) {
        const at = pointer(path, key)
        if (key === '__proto__') out.push({ path: at, message: 'is a name the service does not accept' })
        else if (key === 'constructor' && typeof v === 'object' && v !== null && Object.hasOwn(v, 'prototype')) {
          out.push({ path: pointer(at, 'prototype'), message: 'is a name the service does not accept' })
        } else if (LONE_SURROGATE.test(key))
          out.push({ path: at, message: 'is a name with a lone UTF-16 surrogate, which is not a character' })
        stack.push([v, at])
      }
    }
  }
  return out.slice(0, MAX_REFUSALS)
}

const invalid = (detail: string, errors?: FieldError[]) =>
  new AppError('validation-failed', { detail, ...(errors ? { errors } : {}) })

/**
 * A JSON request body as the service takes it: UTF-8 only (a body declared in another charset is
 * 415, bytes that are not UTF-8 are 400, never replaced), and no body at all when it is empty, so
 * that a DELETE or GET whose client always sends `content-type: application/json` is not refused;
 * a route that needs a body still refuses the missing one through its schema.
 */
function parseJsonBody(contentType: string | undefined, body: Buffer): unknown {
  const charset = CHARSET.exec(contentType ?? '')?.[1]?.toLowerCase()
  if (charset !== undefined && !UTF8_NAMES.has(charset)) {
    throw new AppError('unsupported-media-type', {
      detail: `A JSON body must be UTF-8; charset=${charset.slice(0, 40)} is not accepted.`,
    })
  }
  if (body.length === 0) return undefined
  let text: string
  try {
    text = utf8.decode(body)
  } catch {
    throw invalid('The body is not valid UTF-8: send JSON encoded as UTF-8.')
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    // not V8's message itself: it quotes the body, which may hold a secret, into the problem and the log
    const at = /position (\d+)/.exec((e as Error).message)?.[1]
    throw invalid(`The body is not valid JSON${at === undefined ? '' : ` (at character ${at})`}.`)
  }
  if (WORTH_A_WALK.test(text)) {
    const errors = refusals(value)
    if (errors.length > 0) throw invalid(errors.map((e) => `${e.path} ${e.message}`).join('; '), errors)
  }
  return value
}

/** Replaces Fastify's JSON parser, for every route. */
export function installJsonBodyParser(app: FastifyInstance) {
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      done(null, parseJsonBody(request.headers['content-type'], body as Buffer))
    } catch (e) {
      done(e as Error, undefined)
    }
  })
}
