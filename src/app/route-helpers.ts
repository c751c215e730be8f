import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'

import { ProblemSchema } from '../lib/schemas.ts'

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is not valid (validation-failed)',
  401: 'No valid token (unauthenticated)',
  403: 'The token may not do this (forbidden)',
  404: 'No such resource, or one of another account (not-found)',
  409: 'Conflicts with the current state',
  412: 'The If-Match version is stale (version-mismatch)',
  413: 'The body is over 1 MiB (payload-too-large)',
  415: 'The body is not JSON (unsupported-media-type)',
  422: 'The request is well-formed but breaks a rule of the contact sheet',
  428: 'If-Match is required (precondition-required)',
  429: 'Too many requests (rate-limited); see Retry-After',
  500: 'An unexpected error (internal): the detail is hidden; quote the requestId',
  503: 'The service cannot answer just now: it is not ready (unavailable), or its database cannot be reached (service-unavailable, with Retry-After)',
}

/** What a problem of `status` means, as the document says it. */
export const problemDescription = (status: number) => PROBLEM_DESCRIPTIONS[status] ?? 'A problem'

/** One problem answer, documented with the media type it is sent as (`application/problem+json`). */
export const problem = (status: number) => ({
  description: problemDescription(status),
  content: { 'application/problem+json': { schema: Type.Ref(ProblemSchema) } },
})

/** Response entries for the problems a route can answer, each an RFC 9457 problem. */
export function problems(...statuses: number[]) {
  const all = [...new Set([...statuses, 401, 429])].sort()
  return Object.fromEntries(all.map((s) => [s, problem(s)])) as Record<number, ReturnType<typeof problem>>
}

/** For routes that take a JSON body: adds 400, 413 and 415. */
export const bodyProblems = (...statuses: number[]) => problems(400, 413, 415, ...statuses)

/** For public routes: only the rate limit can refuse them. */
export const publicProblems = () => ({ 429: problem(429) })

/** The form's body as an object. */
function parseForm(_req: unknown, body: string | Buffer, done: (err: Error | null, value?: unknown) => void) {
  done(null, Object.fromEntries(new URLSearchParams(body.toString())))
}

/**
 * Lets the routes of this plugin (and only these: Fastify scopes parsers to their plugin) take an
 * HTML form's body, as the small pages a mail's link opens post them. Small: a form has a few fields.
 */
export function acceptForms(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, parseForm)
}

/** A small HTML page as a route documents it (the pages a mail's links open). */
export const htmlPage = (description: string) => Type.String({ description, maxLength: 16_384 })
