// `node scripts/check-engines.mjs [DIR]`: which installed production packages declare an
// `engines.node` that excludes a Node version we support (package.json `engines`). DIR is a
// project folder (default: this repository); the pack smoke runs it on a fresh install of the
// tarball, which is what a user gets. Exits 1 when a package other than the known exceptions
// below excludes one of them, so that a dependency update cannot narrow support unnoticed.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import semver from 'semver'

// The lowest release of each supported line: a range that admits these admits the later ones.
const SUPPORTED = ['20.19.0', '22.12.0', '24.0.0']

// Declared, but not a reason to refuse: each entry says why it is known to work anyway.
const KNOWN = {
  kysely:
    'we need 0.29 for its PGliteDialect (0.28 has none); the suite and the pack smoke run it on ' +
    'Node 20, and its dist/ uses nothing 20.19 lacks (toSorted and toReversed are in 20; it ' +
    'polyfills Symbol.asyncDispose); we import it as an ES module, so no require(esm) is involved',
}

const dir = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '..'))
// `--long` adds each package's folder; `npm ls` exits non-zero on a problem in the tree (an
// invalid or missing package) yet still prints it, so the tree is read either way.
let out
try {
  out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--json', '--long'], {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
} catch (err) {
  if (!err.stdout) throw err
  out = err.stdout
}

const packages = new Map() // folder -> { name, version, node }
const walk = (node) => {
  for (const dep of Object.values(node.dependencies ?? {})) {
    if (!dep.path || packages.has(dep.path)) continue
    const manifest = JSON.parse(fs.readFileSync(path.join(dep.path, 'package.json'), 'utf8'))
    packages.set(dep.path, { name: manifest.name, version: manifest.version, node: manifest.engines?.node })
    walk(dep)
  }
}
walk(JSON.parse(out))

let unexpected = 0
const excluding = [...packages.values()]
  .filter((p) => p.node)
  .map((p) => ({ ...p, excluded: SUPPORTED.filter((v) => !semver.satisfies(v, p.node)) }))
  .filter((p) => p.excluded.length > 0)
  .sort((a, b) => a.name.localeCompare(b.name))

console.log(`engines: ${packages.size} production packages in ${dir}, checked against Node ${SUPPORTED.join(', ')}`)
for (const p of excluding) {
  const why = KNOWN[p.name]
  if (!why) unexpected++
  console.log(
    `  ${why ? 'known' : 'EXCLUDES'}: ${p.name}@${p.version} declares node ${p.node}, excluding ${p.excluded.join(', ')}${why ? ` (${why})` : ''}`,
  )
}
const names = new Set(excluding.map((p) => p.name))
for (const name of Object.keys(KNOWN)) {
  if (!names.has(name)) console.log(`  note: ${name} no longer excludes a supported version; remove it from KNOWN`)
}
console.log(`engines: ${unexpected === 0 ? 'ok' : `${unexpected} package(s) exclude a supported Node version`}`)
process.exit(unexpected === 0 ? 0 : 1)
