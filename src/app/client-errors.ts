import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'

import type { FastifyInstance } from 'fastify'

import { AppError, type ErrorCode } from '../lib/errors.ts'
import { toProblem } from './error-handler.ts'

/** What Node's parser or its timers reported, as the problem the client gets. */
function classify(code: string | undefined): [ErrorCode, string] {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return ['request-timeout', 'The request did not arrive within the time the server allows; send it again.']
  if (code === 'HPE_HEADER_OVERFLOW')
    return ['headers-too-large', 'The request headers are over the 16 KiB the server reads.']
  return [
    'validation-failed',
    'The request is not valid HTTP: a malformed line or header, or a body longer than its Content-Length.',
  ]
}

/**
 * Fastify's `clientErrorHandler`: the answer to a request Node could not parse or that did not
 * arrive in time, which no route or hook sees. A problem like every other answer (Fastify's own is
 * plain JSON), with a request id of its own to quote. It logs the error's code only: the error
 * also carries the raw bytes received (`rawPacket`), Authorization header included.
 */
export function writeClientError(this: FastifyInstance | undefined, err: Error & { code?: string }, socket: Duplex) {
  // the client is gone, or Node has already answered and closed: nothing to write to
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [code, detail] = classify(err.code)
  const requestId = randomUUID()
  const { problem } = toProblem(new AppError(code, { detail }), requestId)
  this?.log.debug({ problem: code, reason: err.code, requestId }, 'client error')
  if (socket.writable) {
    const body = JSON.stringify(problem)
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
        `Content-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy()
}
