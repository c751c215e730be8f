// `npm run build`, also `prepare` (which `npm install`, `npm ci` and `npm pack` run): the service
// compiled by tsc into dist/ (tsconfig.build.json), then the settings page built by Vite into
// web/dist. The compilers are development dependencies: an install without them (--omit=dev, in a
// clone) skips the build and says so; the installed package itself ships both outputs.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

const root = path.join(import.meta.dirname, '..')
const tsc = path.join(root, 'node_modules/typescript/bin/tsc')
const vite = path.join(root, 'node_modules/vite/bin/vite.js')

if (!fs.existsSync(tsc) || !fs.existsSync(vite)) {
  console.warn('account-contacts: typescript or vite is not installed (--omit=dev?); dist/ and web/dist are not built. Run `npm run build` where they are.')
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

run('vite build', [vite, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'])
