// Writes a users CSV and a sheets CSV (docs/CSV.md) of N accounts with 5 users each, for measuring
// `account-contacts import` (and for the import tests, which use smaller N):
//
//   npx tsx scripts/generate-import.ts [--accounts 200000] [--users 5] [--out-dir .] [--name import]
//
// → <out-dir>/<name>-users.csv and <out-dir>/<name>-sheets.csv. Every account has a super admin,
// two billing admins and members; every tenth one an outside security address.
import fs from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

import { stringify } from 'csv-stringify'

import { SHEETS_COLUMNS, USERS_COLUMNS } from '../src/import/csv-formats.ts'

const ROLES = ['super_admin', 'billing_admin', 'billing_admin', 'member', 'member']

const accountId = (i: number) => `acc-${String(i).padStart(7, '0')}`

function* userRows(accounts: number, users: number): Generator<string[]> {
  for (let i = 1; i <= accounts; i++) {
    const id = accountId(i)
    const locale = i % 3 === 0 ? 'fi' : 'en'
    for (let j = 1; j <= users; j++) {
      yield [
        id,
        `Company ${i}, Ltd "${locale}"`,
        locale,
        `u${j}`,
        `user${j}.${id}@example.com`,
        `User ${j} of ${i}`,
        ROLES[(j - 1) % ROLES.length]!,
        'active',
        j === 2 ? 'fi' : '',
      ]
    }
  }
}

function* sheetRows(accounts: number, users: number): Generator<string[]> {
  const u = (j: number) => (j <= users ? `u${j}` : '')
  for (let i = 1; i <= accounts; i++) {
    const id = accountId(i)
    const security = i % 10 === 0 ? `security@${id}.example.com` : u(5)
    yield [id, u(1), u(2), u(3), '', u(1), u(4), security, u(5)]
  }
}

/** Writes the two files; answers their paths. */
export async function generateImportFiles(opts: { accounts: number; users?: number; dir: string; name?: string }) {
  const users = opts.users ?? 5
  const name = opts.name ?? 'import'
  fs.mkdirSync(opts.dir, { recursive: true })
  const usersFile = path.join(opts.dir, `${name}-users.csv`)
  const sheetsFile = path.join(opts.dir, `${name}-sheets.csv`)
  await pipeline(
    Readable.from(userRows(opts.accounts, users)),
    stringify({ header: true, columns: [...USERS_COLUMNS] }),
    fs.createWriteStream(usersFile),
  )
  await pipeline(
    Readable.from(sheetRows(opts.accounts, users)),
    stringify({ header: true, columns: [...SHEETS_COLUMNS] }),
    fs.createWriteStream(sheetsFile),
  )
  return { usersFile, sheetsFile }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { values } = parseArgs({
    options: {
      accounts: { type: 'string', default: '200000' },
      users: { type: 'string', default: '5' },
      'out-dir': { type: 'string', default: '.' },
      name: { type: 'string', default: 'import' },
    },
  })
  const started = Date.now()
  const files = await generateImportFiles({
    accounts: Number(values.accounts),
    users: Number(values.users),
    dir: values['out-dir']!,
    name: values.name!,
  })
  console.log(
    `Wrote ${files.usersFile} and ${files.sheetsFile} (${values.accounts} accounts × ${values.users} users) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  )
}
