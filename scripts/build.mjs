// `npm run build`, also `prepare` (which `npm install`, `npm ci` and `npm pack` run): the service
// compiled by tsc into dist/ (tsconfig.build.json), then the settings page built by Vite into
// web/dist. The compilers are development dependencies: an install without them (--omit=dev, in a
// clone) skips the build and says so; the installed package itself ships both outputs.
//
// `--if-changed` (what `npm start` passes): nothing is built when the inputs are the ones the last
// build was made from (a hash of their contents, kept in dist/), so a start after the first one
// does not wait for the compilers.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

const root = path.join(import.meta.dirname, '..')
const tsc = path.join(root, 'node_modules/typescript/bin/tsc')
const vite = path.join(root, 'node_modules/vite/bin/vite.js')

// The installed package ships the outputs and not the sources: should a package manager run
// `prepare` there, there is nothing to build (and its compilers, if any, are someone else's).
if (!fs.existsSync(path.join(root, 'src'))) process.exit(0)
if (!fs.existsSync(tsc) || !fs.existsSync(vite)) {
  console.warn(
    'account-contacts: typescript or vite is not installed (--omit=dev?); dist/ and web/dist are not built. Run `npm run build` where they are.',
  )
  process.exit(0)
}

/** A hash of every file the build reads: the sources, the page, the compilers' settings, the lock file. */
function inputsHash() {
  const h = createHash('sha256')
  const add = (rel) =>
    h
      .update(rel)
      .update('\0')
      .update(fs.readFileSync(path.join(root, rel)))
      .update('\0')
  for (const dir of ['src', 'web']) {
    const files = fs.readdirSync(path.join(root, dir), { recursive: true }).map((f) => path.join(dir, f))
    for (const rel of files.sort()) {
      if (rel.startsWith(path.join('web', 'dist')) || rel.includes('node_modules')) continue
      if (fs.statSync(path.join(root, rel)).isFile()) add(rel)
    }
  }
  for (const rel of ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'])
    if (fs.existsSync(path.join(root, rel))) add(rel)
  return h.digest('hex')
}
const stamp = path.join(root, 'dist', '.inputs-hash')
const hash = inputsHash()
if (
  process.argv.includes('--if-changed') &&
  fs.existsSync(path.join(root, 'web/dist/index.html')) &&
  fs.existsSync(stamp) &&
  fs.readFileSync(stamp, 'utf8') === hash
) {
  process.exit(0)
}

const run = (what, args) => {
  const res = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' })
  if (res.status !== 0) {
    console.error(`account-contacts: ${what} failed`)
    process.exit(res.status ?? 1)
  }
}

// From empty, so that a source deleted or renamed leaves no module behind that could still load.
fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true })
run('tsc -p tsconfig.build.json', [tsc, '-p', 'tsconfig.build.json'])

// tsc emits no declaration files of its own inputs: src/client/schema.d.ts (generated) is copied.
for (const rel of fs.readdirSync(path.join(root, 'src'), { recursive: true })) {
  if (!rel.endsWith('.d.ts')) continue
  fs.cpSync(path.join(root, 'src', rel), path.join(root, 'dist', rel))
}

// A new PGlite data folder, packed once here, so that the first start on a machine does not run
// initdb in the process (src/db/pglite-template.ts).
run('the PGlite template', [
  '--input-type=module',
  '-e',
  "const { writeTemplate } = await import('./dist/db/pglite-template.js'); await writeTemplate()",
])

run('vite build', [vite, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'])
fs.writeFileSync(stamp, hash)
