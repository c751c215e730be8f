import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import { COMMANDS } from '../../src/cli/commands/index.ts'
import { REMOTE_OPTIONS, SHARED_OPTIONS } from '../../src/cli/options.ts'
import { cli, tempDir } from './cli-harness.ts'

// Each command reads its own options and no others: one it does not take stops it by name
// (exit 2) before anything is opened, and its --help lists what it does take.

test('no command declares an option again that the shared ones (or, for a remote command, the remote ones) are', async () => {
  for (const [name, entry] of Object.entries(COMMANDS)) {
    const own = Object.keys((await entry.load()).options)
    const shared = own.filter(
      (o) => Object.hasOwn(SHARED_OPTIONS, o) || (entry.remote === true && Object.hasOwn(REMOTE_OPTIONS, o)),
    )
    assert.deepEqual(shared, [], `${name} redeclares ${shared.join(', ')}`)
  }
})

test('an option the command does not take: exit 2, named, and nothing opened', async (t) => {
  const dir = tempDir(t)
  const env = { DATA_DIR: dir }
  const cases: [string[], RegExp][] = [
    [['keys', 'list', '--dry-run'], /^keys does not take --dry-run: its options are --name /],
    [['worker', '--demo'], /^worker does not take --demo: it has no options of its own/],
    [['export', '--rejects', 'x.csv'], /^export does not take --rejects: its options are --out, --format /],
    [['import', 'f.csv', '-x'], /^import does not take -x:/],
    [['healthcheck', '--api-key', 'k'], /^healthcheck does not take --api-key: its options are --url /],
  ]
  for (const [argv, message] of cases) {
    const res = await cli(argv, env)
    assert.equal(res.code, 2, argv.join(' '))
    assert.match(res.stderr, message)
  }
  const keyAlone = await cli(['keys', 'list', '--api-key', 'k'], env)
  assert.equal(keyAlone.code, 1)
  assert.match(keyAlone.stderr, /keys works on the database itself; --api-key is for report, notify and broadcast\./)
  const extra = await cli(['migrate', 'now'], env)
  assert.equal(extra.code, 2)
  assert.match(extra.stderr, /^migrate takes no arguments; "now" is one too many\./)
  const noValue = await cli(['keys', 'create', '--name'], env)
  assert.equal(noValue.code, 2)
  assert.match(noValue.stderr, /--name/)
  assert.deepEqual(fs.readdirSync(dir), [], 'nothing was opened')
})

test('<command> --help (and help <command>) lists its own options, the remote ones where it has them', async (t) => {
  const env = { DATA_DIR: tempDir(t) }
  for (const [name, entry] of Object.entries(COMMANDS)) {
    const command = await entry.load()
    for (const argv of [
      [name, '--help'],
      ['help', name],
    ]) {
      const res = await cli(argv, env)
      assert.equal(res.code, 0, `${argv.join(' ')}: ${res.stderr}`)
      assert.ok(res.stdout.startsWith(`Usage of ${name}:\n`), res.stdout)
      for (const option of Object.keys(command.options))
        assert.ok(res.stdout.includes(`--${option}`), `${name} --${option}`)
      assert.equal(res.stdout.includes('--api-key KEY'), entry.remote === true, `${name}: --api-key`)
      assert.match(res.stdout, /Every configuration variable is also a flag/)
    }
  }
  const all = await cli(['--help'], env)
  assert.equal(all.code, 0)
  for (const name of Object.keys(COMMANDS)) assert.match(all.stdout, new RegExp(`^  ${name}\\b`, 'm'))
})

test('help of a name that is no command (an own property of every object, too) prints the usage', async (t) => {
  for (const name of ['frobnicate', 'toString', 'constructor', '__proto__']) {
    const res = await cli(['help', name], { DATA_DIR: tempDir(t) })
    assert.equal(res.code, 0, `help ${name}: ${res.stderr}`)
    assert.ok(res.stdout.startsWith('Usage: account-contacts <command>'), `help ${name}: ${res.stdout}`)
  }
})

test('a configuration flag wins over the environment, for any command', async (t) => {
  const fromEnv = tempDir(t)
  const fromFlag = tempDir(t)
  const res = await cli(['migrate', '--data-dir', fromFlag], { DATA_DIR: fromEnv, LOG_LEVEL: 'silent' })
  assert.equal(res.code, 0, res.stderr)
  assert.ok(res.stdout.includes(path.resolve(fromFlag)), res.stdout)
  assert.deepEqual(fs.readdirSync(fromEnv), [])
})
