import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

import { isDatabaseUnavailable } from '../db/unavailable.ts'
import { AppError, type ErrorCode, ERRORS, type FieldError } from '../lib/errors.ts'
import { type Problem, PROBLEM_LIMITS } from '../lib/schemas.ts'

/**
 * What a 503 for a lost database tells clients to wait: long enough for a pooler or a failover to
 * come back, short enough that a retrying client does not wait long after it has.
 */
const RETRY_AFTER_SECONDS = 5

/** Fastify's own error codes that are the client's fault, and the problem each one is. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload-too-large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation-failed',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'validation-failed',
  FST_ERR_CTP_INVALID_JSON_BODY: 'validation-failed',
  FST_ERR_VALIDATION: 'validation-failed',
  FST_ERR_MAX_PARAM_LENGTH: 'validation-failed',
  FST_ERR_BAD_URL: 'validation-failed',
}

interface AjvError {
  instancePath: string
  message?: string
  keyword: string
  params: Record<string, unknown>
}

/** Ajv's errors as `errors[]`: a JSON pointer into the request (`/body/billing/3`) and a sentence. */
function fieldErrors(context: string, errors: AjvError[]): FieldError[] {
  const seen = new Set<string>()
  const out: FieldError[] = []
  for (const e of errors) {
    // A union's branches each report; the `anyOf` summary line adds nothing.
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf') continue
    let path = `/${context}${e.instancePath}`
    let message = e.message ?? 'is not valid'
    if (e.keyword === 'additionalProperties') {
      path += `/${String(e.params.additionalProperty)}`
      message = 'is not a known field'
    } else if (e.keyword === 'required') {
      path += `/${String(e.params.missingProperty)}`
      message = 'is required'
    } else if (e.keyword === 'pattern') {
      message = /email/i.test(path) ? 'is not a valid email address' : 'has characters or a form that is not allowed'
    }
    const key = `${path} ${message}`
    if (!seen.has(key)) {
      seen.add(key)
      out.push({ path, message })
    }
  }
  return out
}

/** `text` cut to `max` characters, an ellipsis marking the cut. */
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)

/** Any thrown value as a problem; 5xx details are never shown. */
export function toProblem(
  err: unknown,
  requestId: string,
): { problem: Problem; headers: Record<string, string>; internal: boolean; unavailable?: boolean } {
  const problem = (code: ErrorCode, detail: string, errors?: FieldError[]): Problem => ({
    type: `/problems/${code}`,
    title: ERRORS[code].title,
    status: ERRORS[code].status,
    // a request's own text (a field's name, a URL) can be in these: cut to what the document promises
    detail: clip(detail, PROBLEM_LIMITS.detail),
    code,
    requestId,
    ...(errors && errors.length > 0
      ? {
          errors: errors.slice(0, PROBLEM_LIMITS.errors).map((e) => ({
            path: clip(e.path, PROBLEM_LIMITS.path),
            message: clip(e.message, PROBLEM_LIMITS.message),
          })),
        }
      : {}),
  })
  if (err instanceof AppError) {
    const conflicts = err.conflicts ? { conflicts: err.conflicts } : {}
    return {
      problem: { ...problem(err.code, err.detail, err.errors), ...conflicts },
      headers: err.headers ?? {},
      internal: false,
    }
  }
  const fe = err as FastifyError & { validation?: AjvError[]; validationContext?: string }
  if (fe && Array.isArray(fe.validation)) {
    const errors = fieldErrors(fe.validationContext ?? 'body', fe.validation)
    const detail = errors.map((e) => `${e.path} ${e.message}`).join('; ') || 'The request is not valid.'
    return { problem: problem('validation-failed', detail, errors), headers: {}, internal: false }
  }
  const code = fe?.code ? FASTIFY_CODES[fe.code] : undefined
  if (code) return { problem: problem(code, fe.message), headers: {}, internal: false }
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Another client error raised by Fastify or a plugin (a malformed body, say).
    return { problem: problem('validation-failed', fe.message), headers: {}, internal: false }
  }
  if (isDatabaseUnavailable(err)) {
    return {
      problem: problem(
        'service-unavailable',
        `The database cannot be reached just now; try again in ${RETRY_AFTER_SECONDS} s.`,
      ),
      headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
      internal: false,
      unavailable: true,
    }
  }
  return {
    problem: problem('internal', `Something went wrong on our side. Quote ${requestId} when reporting it.`),
    headers: {},
    internal: true,
  }
}

/** A route's body schema refused a request that sent no body (or an empty one): say that, not "must be object". */
function missingBody(err: unknown, request: FastifyRequest): AppError | undefined {
  const fe = err as { validation?: unknown; validationContext?: string }
  if (!Array.isArray(fe?.validation) || fe.validationContext !== 'body' || request.body !== undefined) return undefined
  return new AppError('validation-failed', {
    detail: 'This request needs a JSON body.',
    errors: [{ path: '/body', message: 'is required' }],
  })
}

export function sendProblem(reply: FastifyReply, err: unknown, request: FastifyRequest) {
  const { problem, headers, internal, unavailable } = toProblem(missingBody(err, request) ?? err, request.id)
  if (internal) request.log.error({ err }, 'request failed')
  else if (unavailable) request.log.warn({ err }, 'request failed: the database is unavailable')
  else request.log.info({ problem: problem.code, detail: problem.detail }, 'request refused')
  return reply.code(problem.status).headers(headers).type('application/problem+json').send(problem)
}

/** The one error handler, and the answer to unknown routes. */
export function registerErrorHandling(app: FastifyInstance) {
  app.setErrorHandler((err, request, reply) => sendProblem(reply, err, request))
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      new AppError('not-found', { detail: `No ${request.method} ${request.url.split('?')[0]} here.` }),
      request,
    ),
  )
}
