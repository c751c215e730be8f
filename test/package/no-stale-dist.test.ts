import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

/*
 * `npm install` builds dist/, so a test that ran bin/account-contacts.js or dist/ would pass or
 * fail on whatever was last built, not on the code under test. Tests and benchmarks start the
 * command line through test/helpers/cli-command.ts (the sources, through tsx); only
 * scripts/pack-smoke.mjs runs the compiled output, from the packed tarball.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const THIS = path.relative(ROOT, fileURLToPath(import.meta.url))

test('no test or benchmark runs the compiled command (bin/ or dist/) instead of the sources', () => {
  const hits: string[] = []
  for (const dir of ['test', 'bench']) {
    for (const rel of fs.readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      const file = path.join(dir, rel)
      if (!file.endsWith('.ts') || file === THIS) continue
      const text = fs.readFileSync(path.join(ROOT, file), 'utf8')
      for (const m of text.matchAll(/bin\/account-contacts(\.js)?|['"`/]dist\/[\w/.-]*\.js/g))
        hits.push(`${file}: ${m[0]}`)
    }
  }
  assert.deepEqual(hits, [], 'start the command with cliNodeArgs() from test/helpers/cli-command.ts')
})
