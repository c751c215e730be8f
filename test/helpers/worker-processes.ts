import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import type { SmtpSink } from '../peers/smtp-sink.ts'
import { cliNodeArgs } from './cli-command.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Real `account-contacts worker` processes on `env` (a PostgreSQL DATABASE_URL, an SMTP_URL, ...),
 * for the crash tests: each is added to `children` (killedAtEnd) and its output kept, so that a
 * failure can say what the workers printed (`why`).
 */
export function workerProcesses(children: Set<ChildProcess>, env: Record<string, string>) {
  const output: string[] = []
  return {
    start(): ChildProcess {
      const child = spawn(process.execPath, cliNodeArgs(['worker']), {
        cwd: root,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      children.add(child)
      child.stdout!.on('data', (b: Buffer) => output.push(b.toString()))
      child.stderr!.on('data', (b: Buffer) => output.push(b.toString()))
      return child
    },
    why: () => `worker output:\n${output.join('').slice(-4000)}`,
  }
}

/**
 * Kills `worker` with SIGKILL (no shutdown handler runs) the moment `sink` has accepted mail
 * number `n`: whatever the machine's speed, it has then sent that one without recording it, and
 * the rest of its batch is on the way. Fails if it dies by itself or gets nowhere in 40 s.
 */
export async function killWhenSinkHas(worker: ChildProcess, sink: SmtpSink, n: number, why: () => string) {
  const exit = once(worker, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  const killBy = Date.now() + 40_000
  // waitFor in short turns, so that nothing is left waiting long if the worker dies or stalls
  while (
    !(await sink.waitFor(n, 1000).then(
      () => true,
      () => false,
    ))
  ) {
    if (worker.exitCode !== null || worker.signalCode !== null) {
      await sleep(100) // the last of its output
      assert.fail(`the worker exited by itself (${worker.exitCode}); ${why()}`)
    }
    if (Date.now() > killBy) assert.fail(`only ${sink.received()} mails after 40 s; ${why()}`)
  }
  worker.kill('SIGKILL')
  const [, signal] = await exit
  assert.equal(signal, 'SIGKILL')
}

/**
 * At-least-once after a kill, as the sink saw it: every Message-ID in `expected` arrived, none
 * other did, and only those in flight at the kill (`inFlight`, the deliveries still 'sending'
 * then) arrived twice, none more than twice. Answers how many mails were duplicates and of how
 * many Message-IDs, for the test's diagnostic.
 */
export function assertOnlyInFlightDuplicated(sink: SmtpSink, expected: Set<string>, inFlight: Set<string>) {
  const seen = new Map<string, number>()
  for (const m of sink.messages) seen.set(m.messageId!, (seen.get(m.messageId!) ?? 0) + 1)
  assert.deepEqual(
    [...expected].filter((id) => !seen.has(id)),
    [],
    'no mail is lost',
  )
  assert.deepEqual(
    [...seen.keys()].filter((id) => !expected.has(id)),
    [],
    'no mail the outbox does not hold',
  )
  const duplicated = [...seen].filter(([, n]) => n > 1)
  const duplicates = sink.messages.length - seen.size
  assert.deepEqual(
    duplicated.filter(([id]) => !inFlight.has(id)),
    [],
    'only mails in flight at the kill are sent twice',
  )
  assert.ok(
    duplicated.every(([, n]) => n === 2),
    'an in-flight mail is sent at most twice',
  )
  assert.ok(duplicates <= inFlight.size)
  return { duplicates, duplicatedIds: duplicated.length }
}
