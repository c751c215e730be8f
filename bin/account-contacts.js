#!/usr/bin/env node
// The installed command: the compiled service (dist/, written by `npm run build`; the package
// ships it). Tests run the TypeScript sources through tsx instead (test/helpers/cli-command.ts).
import fs from 'node:fs'

if (!fs.existsSync(new URL('../dist/main.js', import.meta.url))) {
  console.error('account-contacts: dist/ is not built. Run `npm run build` (npm install does it).')
  process.exit(1)
}
await import('../dist/main.js')
