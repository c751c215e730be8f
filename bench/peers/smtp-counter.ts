/**
 * An SMTP server that accepts every mail and notes when each arrived: the receiving end of the
 * delivery benchmark. It reads each message to its end (as a real server must) and keeps nothing.
 */
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'

import { SMTPServer } from 'smtp-server'

export async function startSmtpCounter() {
  let times: number[] = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      stream.on('data', () => {})
      stream.on('end', () => {
        times.push(performance.now())
        callback()
      })
    },
  })
  server.listen(0, '127.0.0.1')
  await once(server.server, 'listening')
  const port = (server.server.address() as AddressInfo).port
  return {
    url: `smtp://127.0.0.1:${port}`,
    received: () => times.length,
    /** Starts a new count. */
    reset() {
      times = []
    },
    /** Mails per second from the first arrival to the last. */
    rate: () => (times.length < 2 ? 0 : (times.length - 1) / ((times.at(-1)! - times[0]!) / 1000)),
    async waitFor(n: number, timeoutMs: number) {
      const until = Date.now() + timeoutMs
      while (times.length < n) {
        if (Date.now() > until) throw new Error(`only ${times.length} of ${n} mails arrived in ${timeoutMs} ms`)
        await new Promise((r) => setTimeout(r, 50))
      }
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}
