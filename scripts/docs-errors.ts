// The README's list of error codes, written from the catalogue (src/lib/errors.ts) between its
// two markers, so that the two cannot drift: `npm run docs:errors` rewrites it after a code is
// added, and test/docs/error-codes.test.ts fails while the README differs.
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'

import { ERRORS } from '../src/lib/errors.ts'

export const README = fileURLToPath(new URL('../README.md', import.meta.url))
export const BEGIN = '<!-- error codes: written from src/lib/errors.ts by `npm run docs:errors` -->'
export const END = '<!-- end of error codes -->'

/** Every code of the catalogue, in its order, with its status and title. */
export function errorCodesTable(): string {
  const rows = Object.entries(ERRORS).map(
    ([code, { status, title }]) => `| \`${code}\` | ${status} | ${title.replaceAll('|', '\\|')} |`,
  )
  return ['| code | status | title |', '|---|---|---|', ...rows].join('\n')
}

/** The README with the table between its markers replaced by the catalogue's. */
export function withErrorCodes(readme: string): string {
  const start = readme.indexOf(BEGIN)
  const end = readme.indexOf(END)
  if (start < 0 || end < start) throw new Error(`README.md has no "${BEGIN}" ... "${END}" section`)
  return `${readme.slice(0, start + BEGIN.length)}\n${errorCodesTable()}\n${readme.slice(end)}`
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const before = fs.readFileSync(README, 'utf8')
  const after = withErrorCodes(before)
  if (after !== before) fs.writeFileSync(README, after)
  console.log(after === before ? 'README.md: the error codes were up to date' : 'README.md: wrote the error codes')
}
