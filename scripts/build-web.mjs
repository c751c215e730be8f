// `prepare` (run by `npm install` and `npm ci`): builds the settings page into web/dist. Vite is a
// development dependency; an install without them (--omit=dev) skips the build and says so.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
try {
  require.resolve('vite')
} catch {
  console.warn('account-contacts: vite is not installed (--omit=dev?); the settings page is not built. Run `npm run build:web` where it is.')
  process.exit(0)
}
const res = spawnSync(process.execPath, [fileURLToPath(new URL('../node_modules/vite/bin/vite.js', import.meta.url)), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' })
process.exit(res.status ?? 1)
