// `DATABASE_URL=postgres://... node scripts/pack-smoke.mjs`: the package as a user gets it. Packs
// the repository (npm pack runs `prepare`, the build), installs the tarball with --omit=dev in an
// empty folder, and runs the installed command on a fresh PostgreSQL database (created on the
// server DATABASE_URL names, or DATABASE_ADMIN_URL when DATABASE_URL is a pooler such as
// PgBouncer; dropped at the end) with a real SMTP server in this process: migrate,
// serve, the page, a contact change through the API and the mail it sends, the typed client, no
// tsx anywhere, SIGTERM. The tests run the sources; this is what runs the compiled dist/.
// Plain JavaScript, Node 20 and 24 alike; pg and smtp-server come from the repository's
// node_modules. Prints one line per step; exits 1 when a step fails (the rest do not run).
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

import pg from 'pg'
import { SMTPServer } from 'smtp-server'

const ROOT = path.join(import.meta.dirname, '..')
const baseUrl = process.env.DATABASE_URL
// a pooler would refuse to drop a database its own idle connections still use
const adminUrl = process.env.DATABASE_ADMIN_URL ?? baseUrl
if (!baseUrl || !adminUrl) {
  console.error(
    'pack smoke: set DATABASE_URL to a PostgreSQL server (a database is created on it and dropped at the end)',
  )
  process.exit(2)
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-pack-smoke-'))
const appDir = path.join(tmp, 'app')
const bin = path.join(appDir, 'node_modules/.bin/account-contacts')
const dbName = `ac_pack_smoke_${randomBytes(6).toString('hex')}`
const dbUrl = Object.assign(new URL(baseUrl), { pathname: `/${dbName}` }).href
const apiKey = `acpk_${randomBytes(24).toString('base64url')}`
const mail = [] // { to, subject } of every message the SMTP server accepted
const pgliteVersion = JSON.parse(
  fs.readFileSync(path.join(ROOT, 'node_modules/@electric-sql/pglite/package.json'), 'utf8'),
).version

/** `cmd args` in `cwd`; its output, or an error carrying the end of it. */
function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, {
    cwd: opts.cwd ?? ROOT,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  })
  if (res.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${res.status ?? res.signal}:\n${`${res.stdout}\n${res.stderr}`.trim().slice(-3000)}`,
    )
  return res.stdout
}

async function freePort() {
  const srv = net.createServer().listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const { port } = srv.address()
  srv.close()
  await once(srv, 'close')
  return port
}

async function until(what, timeoutMs, probe) {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
    if (await probe()) return
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s`)
}

const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  closeTimeout: 200,
  onData(stream, session, callback) {
    const chunks = []
    stream.on('data', (c) => chunks.push(c))
    stream.on('end', () => {
      const head = Buffer.concat(chunks)
        .toString('utf8')
        .split(/\r?\n\r?\n/)[0]
      const subject = /^Subject: (.*(?:\r?\n[ \t].*)*)/im.exec(head)?.[1].replace(/\r?\n/g, '') ?? ''
      mail.push({ to: session.envelope.rcptTo.map((r) => r.address).join(', '), subject })
      callback()
    })
  },
})
smtp.on('error', () => {}) // a client dropping its connection is not our failure
smtp.listen(0, '127.0.0.1')
await once(smtp.server, 'listening')

const port = await freePort()
const base = `http://127.0.0.1:${port}`
const env = {
  ...process.env,
  // the installed command's `#!/usr/bin/env node` finds this very node (Node 20 or 24)
  PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`,
  DATABASE_URL: dbUrl,
  SECRET_KEY: randomBytes(32).toString('base64url'),
  SMTP_URL: `smtp://127.0.0.1:${smtp.server.address().port}`,
  BOOTSTRAP_API_KEY: apiKey,
  PORT: String(port),
  HOST: '127.0.0.1',
  PUBLIC_URL: base,
  DATA_DIR: path.join(tmp, 'data'),
  LOG_LEVEL: 'warn',
}
// a loader given to every node process (NODE_OPTIONS=--import tsx) would void the no-tsx check
delete env.NODE_OPTIONS

let tarball
let dbCreated = false
let server
let serverExit
let accountId
const users = [`smoke-a-${randomBytes(3).toString('hex')}`, `smoke-b-${randomBytes(3).toString('hex')}`]
const api = async (method, url, body) => {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })
  if (res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${(await res.text()).slice(0, 500)}`)
  return res
}

const steps = [
  [
    'npm pack (prepare builds dist/ and web/dist)',
    () => {
      const out = run('npm', ['pack', '--json', '--pack-destination', tmp])
      // lifecycle output may come before the JSON on stdout
      const [info] = JSON.parse(out.slice(out.search(/^\[/m)))
      tarball = path.join(tmp, info.filename)
      const files = info.files.map((f) => f.path)
      const must = [
        'package.json',
        'LICENSE',
        'README.md',
        'bin/account-contacts.js',
        'dist/main.js',
        'dist/client/index.js',
        'dist/client/index.d.ts',
        'dist/client/schema.d.ts',
        'web/dist/index.html',
        // a new PGlite folder is unpacked from it, not made by initdb (src/db/pglite-template.ts)
        `dist/db/pglite-template-${pgliteVersion}.tar.gz`,
      ]
      const missing = must.filter((f) => !files.includes(f))
      // scripts/build.mjs is the package's `prepare`, a no-op where there are no sources
      const unwanted = files.filter(
        (f) =>
          f !== 'scripts/build.mjs' &&
          /^(src|test|bench|scripts|data)\/|^docs\/screenshots\/|\.test\.|\.tsbuildinfo$/.test(f),
      )
      if (missing.length || unwanted.length)
        throw new Error(
          `missing: ${missing.join(', ') || '-'}; should not be there: ${unwanted.slice(0, 10).join(', ') || '-'}`,
        )
      return `${info.filename}, ${(info.size / 1024).toFixed(0)} kB packed, ${(info.unpackedSize / 1024).toFixed(0)} kB unpacked, ${info.entryCount} files`
    },
  ],
  [
    'npm install --omit=dev <tarball> in an empty folder',
    () => {
      fs.mkdirSync(appDir)
      fs.writeFileSync(
        path.join(appDir, 'package.json'),
        JSON.stringify({ name: 'pack-smoke-app', version: '0.0.0', private: true }),
      )
      run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', tarball], { cwd: appDir })
      const present = ['tsx', 'typescript', 'vite', 'mailparser'].filter((p) =>
        fs.existsSync(path.join(appDir, 'node_modules', p)),
      )
      if (present.length) throw new Error(`development packages installed: ${present.join(', ')}`)
      // which cookie the tree holds: 2.x declares node >=22 (see scripts/check-engines.mjs)
      const cookies = new Set()
      const walk = (node) => {
        for (const [name, dep] of Object.entries(node.dependencies ?? {})) {
          if (name === 'cookie') cookies.add(dep.version)
          walk(dep)
        }
      }
      walk(JSON.parse(run('npm', ['ls', 'cookie', '--all', '--json'], { cwd: appDir })))
      return `no tsx, typescript, vite or mailparser; cookie ${[...cookies].join(', ') || 'absent'}`
    },
  ],
  [
    'migrate on a new embedded PGlite folder (no DATABASE_URL): unpacked from the template',
    () => {
      const dataDir = path.join(tmp, 'pglite')
      const { DATABASE_URL: _, ...embedded } = env
      const out = run(bin, ['migrate'], { cwd: appDir, env: { ...embedded, DATA_DIR: dataDir } })
      if (!fs.existsSync(path.join(dataDir, 'pgdata', 'PG_VERSION'))) throw new Error(`no database made:\n${out}`)
      return out.trim()
    },
  ],
  [
    'engines of the installed packages (scripts/check-engines.mjs)',
    () => {
      const out = run(process.execPath, [path.join(ROOT, 'scripts/check-engines.mjs'), appDir])
      return (
        out
          .trim()
          .split('\n')
          .filter((l) => /^\s+(known|note)/.test(l))
          .map((l) => l.trim().replace(/ \(.*/, ''))
          .join('; ') || 'none excludes a supported version'
      )
    },
  ],
  [
    'a fresh PostgreSQL database',
    async () => {
      const client = new pg.Client({ connectionString: adminUrl })
      await client.connect()
      try {
        await client.query(`create database "${dbName}"`)
        dbCreated = true
      } finally {
        await client.end()
      }
      return `${dbName}${process.env.DATABASE_ADMIN_URL ? `, the service reaching it through ${new URL(baseUrl).host}` : ''}`
    },
  ],
  ['account-contacts migrate', () => run(bin, ['migrate'], { cwd: appDir, env }).trim().split('\n').pop()],
  [
    'account-contacts serve: /readyz 200',
    async () => {
      server = spawn(bin, ['serve'], { cwd: appDir, env, stdio: ['ignore', 'pipe', 'pipe'] })
      let output = ''
      const keep = (b) => (output = (output + b).slice(-20_000))
      server.stdout.on('data', keep)
      server.stderr.on('data', keep)
      serverExit = once(server, 'exit')
      await until('/readyz 200', 60_000, async () => {
        if (server.exitCode !== null) throw new Error(`serve exited ${server.exitCode}:\n${output.slice(-3000)}`)
        return fetch(`${base}/readyz`).then(
          (r) => r.status === 200,
          () => false,
        )
      })
      return `pid ${server.pid} on ${base}`
    },
  ],
  [
    '/ui/ serves the built page and its assets',
    async () => {
      const res = await fetch(`${base}/ui/`)
      const html = await res.text()
      const assets = [...html.matchAll(/(?:src|href)="(\/ui\/assets\/[^"]+)"/g)].map((m) => m[1])
      if (res.status !== 200 || assets.length === 0)
        throw new Error(`GET /ui/ answered ${res.status} with ${assets.length} asset references: ${html.slice(0, 300)}`)
      const asset = await fetch(`${base}${assets[0]}`)
      if (asset.status !== 200) throw new Error(`GET ${assets[0]} answered ${asset.status}`)
      return `${assets.length} assets referenced; ${assets[0]} 200 (${asset.headers.get('content-type')})`
    },
  ],
  [
    'API: an account, two users, the primary contact changed',
    async () => {
      accountId = `smoke-${randomBytes(4).toString('hex')}`
      await api('POST', '/v1/accounts', { id: accountId, name: 'Pack Smoke Oy' })
      for (const [i, userId] of users.entries()) {
        await api('PUT', `/v1/accounts/${accountId}/users/${userId}`, {
          email: `${userId}@example.com`,
          name: `Smoke ${'AB'[i]}`,
          role: 'super_admin',
        })
      }
      await api('PUT', `/v1/accounts/${accountId}/contacts/primary`, { userId: users[0] })
      await api('PUT', `/v1/accounts/${accountId}/contacts/primary`, { userId: users[1] })
      return `${accountId}: primary ${users[0]} -> ${users[1]}`
    },
  ],
  [
    'a mail arrives at the SMTP server',
    async () => {
      await until('a mail', 30_000, () => mail.length > 0)
      return mail.map((m) => `to ${m.to}: "${m.subject}"`).join('; ')
    },
  ],
  [
    "the installed typed client ('account-contacts/client') reads the sheet",
    () => {
      const script = `import { createClient } from 'account-contacts/client'
const client = createClient({ baseUrl: process.env.BASE, apiKey: process.env.KEY })
const { data, error } = await client.GET('/v1/accounts/{accountId}/contacts', { params: { path: { accountId: process.env.ACCOUNT } } })
if (error) throw new Error(JSON.stringify(error))
console.log(data.primary?.userId)`
      const out = run(process.execPath, ['--input-type=module', '-e', script], {
        cwd: appDir,
        env: { ...env, BASE: base, KEY: apiKey, ACCOUNT: accountId },
      }).trim()
      if (out !== users[1]) throw new Error(`primary is ${out}, expected ${users[1]}`)
      return `primary ${out}`
    },
  ],
  [
    "the client's declarations type-check in a NodeNext consumer (the repository's tsc)",
    () => {
      const dir = path.join(tmp, 'consumer')
      fs.mkdirSync(dir)
      fs.symlinkSync(path.join(appDir, 'node_modules'), path.join(dir, 'node_modules'))
      fs.writeFileSync(
        path.join(dir, 'package.json'),
        JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
      )
      fs.writeFileSync(
        path.join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            noEmit: true,
            lib: ['ES2022', 'DOM'],
            types: [],
          },
          files: ['main.ts'],
        }),
      )
      fs.writeFileSync(
        path.join(dir, 'main.ts'),
        `import { createClient, describeProblem } from 'account-contacts/client'
const client = createClient({ baseUrl: 'http://localhost:3000', apiKey: 'acpk_x' })
const { data, error, response } = await client.PUT('/v1/accounts/{accountId}/contacts/{slot}', { params: { path: { accountId: 'a', slot: 'primary' } }, body: { userId: 'u' } })
if (error) throw new Error(describeProblem(error, response))
const primary: string | undefined = data.primary?.type === 'user' ? data.primary.userId : undefined
// @ts-expect-error a path the API does not have
await client.GET('/v1/no-such-path')
export { primary }
`,
      )
      run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir])
      return 'tsc: no error'
    },
  ],
  [
    'the served process loads no tsx',
    () => {
      if (fs.existsSync(path.join(appDir, 'node_modules/tsx'))) throw new Error('node_modules/tsx is installed')
      if (process.platform !== 'linux') return 'no node_modules/tsx (the /proc checks are Linux only)'
      const cmdline = fs.readFileSync(`/proc/${server.pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
      const environ = fs
        .readFileSync(`/proc/${server.pid}/environ`, 'utf8')
        .split('\0')
        .filter((v) => /^NODE_OPTIONS=/.test(v))
      const children = fs.readFileSync(`/proc/${server.pid}/task/${server.pid}/children`, 'utf8').trim()
      if (cmdline.some((a) => /tsx/.test(a)) || environ.some((v) => /tsx/.test(v)))
        throw new Error(`tsx in ${[...cmdline, ...environ].join(' ')}`)
      if (children) throw new Error(`serve has child processes (esbuild?): ${children}`)
      const exe = fs.realpathSync(`/proc/${server.pid}/exe`)
      if (exe !== fs.realpathSync(process.execPath)) throw new Error(`serve runs ${exe}, not this script's node`)
      return `no node_modules/tsx; ${cmdline.map((a) => path.basename(a)).join(' ')} on Node ${process.version}; no NODE_OPTIONS, no child process`
    },
  ],
  [
    'SIGTERM: a clean exit',
    async () => {
      server.kill('SIGTERM')
      const timer = setTimeout(() => server.kill('SIGKILL'), 20_000)
      const [code, signal] = await serverExit
      clearTimeout(timer)
      if (code !== 0) throw new Error(`exit ${code ?? signal}`)
      return 'exit 0'
    },
  ],
]

let passed = 0
let failed = 0
let ran = 0
try {
  for (const [i, [name, fn]] of steps.entries()) {
    ran++
    const started = Date.now()
    try {
      const note = await fn()
      passed++
      console.log(`ok   ${i + 1} ${name}${note ? `: ${note}` : ''} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
    } catch (err) {
      failed++
      console.log(`FAIL ${i + 1} ${name}: ${err.message}`)
      break
    }
  }
} finally {
  // each clean-up runs whatever the others do; a failed one is reported, not a reason to skip the rest
  const cleanUp = async (what, fn) => {
    try {
      await fn()
    } catch (err) {
      failed++
      console.log(`FAIL clean-up: ${what}: ${err.message}`)
    }
  }
  await cleanUp('stop serve', () => {
    if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL')
  })
  await cleanUp('close the SMTP server', () => new Promise((r) => smtp.close(r)))
  await cleanUp(`drop database ${dbName}`, async () => {
    if (!dbCreated) return
    const client = new pg.Client({ connectionString: adminUrl })
    await client.connect()
    try {
      await client.query(`drop database if exists "${dbName}" with (force)`)
    } finally {
      await client.end()
    }
  })
  await cleanUp(`remove ${tmp}`, () => fs.rmSync(tmp, { recursive: true, force: true }))
}
const notRun = steps.length - ran
console.log(`pack smoke: ${passed} passed, ${failed} failed${notRun ? `, ${notRun} not run` : ''}`)
process.exit(failed ? 1 : 0)
