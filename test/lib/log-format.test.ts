import assert from 'node:assert/strict'
import { test } from 'node:test'

import pino from 'pino'

import { formatLogLine, logStream, prettyLogStream } from '../../src/lib/log-format.ts'

const at = new Date(2026, 0, 2, 3, 4, 5, 67) // local time, as the formatter shows it

test('a pino line becomes time, level, message and key=value pairs, nested keys dotted', () => {
  const line = JSON.stringify({
    level: 30,
    time: at.getTime(),
    pid: 42,
    hostname: 'box',
    reqId: 'r-1',
    req: { method: 'GET', url: '/v1/accounts?limit=[redacted]' },
    responseTime: 1.5,
    ok: true,
    note: 'two words',
    empty: '',
    tags: ['a', 'b'],
    msg: 'request completed',
  })
  assert.equal(
    formatLogLine(line),
    '03:04:05.067 INFO  request completed reqId=r-1 req.method=GET req.url=/v1/accounts?limit=[redacted] responseTime=1.5 ok=true note="two words" empty="" tags=["a","b"]',
  )
})

test("an error's stack follows its line, indented; levels are named", () => {
  const err = new Error('connect ECONNREFUSED')
  const out = formatLogLine(
    JSON.stringify({
      level: 50,
      time: at.getTime(),
      err: { type: 'Error', message: err.message, stack: err.stack },
      msg: 'claiming deliveries failed',
    }),
  )
  const [head, ...stack] = out.split('\n')
  assert.equal(head, '03:04:05.067 ERROR claiming deliveries failed err.type=Error err.message="connect ECONNREFUSED"')
  assert.equal(stack[0], '    Error: connect ECONNREFUSED')
  assert.ok(stack.length > 1 && stack.every((l) => l.startsWith('    ')))
  assert.match(formatLogLine(JSON.stringify({ level: 40, time: at.getTime(), msg: 'w' })), /^03:04:05\.067 WARN {2}w$/)
})

test('what is not a JSON object passes unchanged', () => {
  for (const line of ['plain text', '[1,2]', '"s"', '{broken']) assert.equal(formatLogLine(line), line)
})

test('pino writes through the pretty stream synchronously, one formatted line per entry', () => {
  const lines: string[] = []
  const log = pino({ level: 'info' }, prettyLogStream({ write: (s: string) => lines.push(s) }))
  log.info({ component: 'worker' }, 'worker started')
  log.debug('not at this level')
  log.warn('second')
  assert.equal(lines.length, 2)
  assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}worker started component=worker\n$/)
  assert.match(lines[1]!, /^\d\d:\d\d:\d\d\.\d{3} WARN {2}second\n$/)
})

test('LOG_FORMAT: auto is pretty only on a terminal; json and pretty say so whatever stdout is', () => {
  const out = (isTTY: boolean) => ({ isTTY, write: () => true })
  assert.equal(logStream('auto', out(false)), undefined)
  assert.ok(logStream('auto', out(true)))
  assert.equal(logStream('json', out(true)), undefined)
  assert.ok(logStream('pretty', out(false)))
})
