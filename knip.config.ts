// knip: files, exports and dependencies that nothing reaches from an entry point. The entries are
// every way the project is run; anything else knip reports is dead. `npm run knip`.
import type { KnipConfig } from 'knip'

const config: KnipConfig = {
  // Beside these, knip's plugins find src/main.ts and bench/run.ts (package.json's scripts) and
  // web/src/main.tsx (web/index.html, through the Vite config).
  entry: [
    // the installed command (it runs the compiled src/main.ts)
    'bin/*.js',
    // the package's "./client" export, used by other programs
    'src/client/index.ts',
    // each script is run by name, from package.json, .ci/run or a maintainer's shell
    'scripts/*.{ts,mjs}',
    // the benchmark tools run by hand, and the baselines bench/run.ts starts as child processes by
    // file name (bench/lib/processes.ts)
    'bench/cpu-per-request.ts',
    'bench/profile-summary.ts',
    'bench/serve-memory.mjs',
    'bench/baseline/*.ts',
    // the tests, which scripts/run-tests.mjs finds by name
    'test/**/*.test.ts',
    // migrations: Kysely's Migrator calls each file's up and down (src/db/migrations/index.ts)
    'src/db/migrations/*.ts',
  ],
  project: [
    'src/**/*.ts',
    'bin/**/*.js',
    'scripts/**/*.{ts,mjs}',
    'bench/**/*.{ts,mjs}',
    'test/**/*.ts',
    'web/src/**/*.{ts,tsx}',
  ],
  vite: { config: ['web/vite.config.ts'] },
  // A type or interface named in an exported function's signature stays exported, so that a caller
  // can name it, even when no other file does yet.
  ignoreExportsUsedInFile: { interface: true, type: true },
  // Debian's packages, not npm's: .ci/run installs pgbouncer, and the pooler tests run it when it is
  // there; the SNS tests make their signing certificate with openssl, which every Debian machine has
  ignoreBinaries: ['pgbouncer', 'openssl'],
  ignoreDependencies: [
    // not imported: pinned as a direct dependency so that npm installs the version fastify's own
    // dependency resolves to (6.6.0, whose cookie 1 still runs on Node 20)
    'light-my-request',
    // command-line tools run by path, which knip cannot see: scripts/lint-openapi.mjs runs
    // node_modules/.bin/spectral with the OWASP ruleset (.spectral.yaml), test/http/openapi.test.ts
    // runs redocly
    '@stoplight/spectral-cli',
    '@stoplight/spectral-owasp-ruleset',
    '@redocly/cli',
  ],
}

export default config
