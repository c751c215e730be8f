import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request as the receiver saw it; headers flattened to strings, as `standardwebhooks` wants them. */
export interface ReceivedWebhook {
  method: string
  path: string
  headers: Record<string, string>
  body: string
}

export interface ReceiverAnswer {
  status: number
  headers?: Record<string, string>
  body?: string
}

/**
 * A real HTTP server on 127.0.0.1 that records what it receives, so webhook tests exercise the
 * whole exchange (sockets, headers, signatures) and not a mocked client. `respond` gets the request
 * and its 1-based number; it answers 204 by default, and returning `null` never answers (for timeouts).
 */
export async function startWebhookReceiver(
  options: {
    respond?: (req: ReceivedWebhook, n: number) => ReceiverAnswer | null | Promise<ReceiverAnswer | null>
  } = {},
) {
  const requests: ReceivedWebhook[] = []
  const waiters = new Set<() => void>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      const received: ReceivedWebhook = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: flatten(req.headers),
        body: Buffer.concat(chunks).toString('utf8'),
      }
      requests.push(received)
      for (const wake of waiters) wake()
      const answer = options.respond ? await options.respond(received, requests.length) : { status: 204 }
      if (answer === null) return // hang: close() tears the socket down
      res.writeHead(answer.status, answer.headers).end(answer.body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  let closing: Promise<void> | undefined

  return {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    requests,
    /** Resolves once `n` requests have arrived; rejects after `timeoutMs`. */
    waitFor(n: number, timeoutMs = 2000): Promise<ReceivedWebhook[]> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length < n) return false
          waiters.delete(check)
          clearTimeout(timer)
          resolve(requests)
          return true
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`webhook receiver: ${requests.length} of ${n} requests after ${timeoutMs} ms`))
        }, timeoutMs)
        if (!check()) waiters.add(check)
      })
    },
    /** Stops the server; safe to call twice (a test may close early, and `t.after` again). */
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        // Hanging requests would keep close() waiting forever.
        server.closeAllConnections()
      })
      return closing
    },
  }
}

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>

function flatten(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v
  return out
}
