import path from 'node:path'
import { fileURLToPath } from 'node:url'

/*
 * How tests and benchmarks start the service's command line: the TypeScript sources through
 * tsx, so that what runs is always the code being tested. The installed command (the package's
 * bin) runs the compiled output instead, which a test could find missing or stale;
 * scripts/pack-smoke.mjs tests that one, from the packed tarball. test/package/no-stale-dist.test.ts
 * keeps it so.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** Node's arguments that run the TypeScript file `file` (relative to the repository) with `args`. */
export function tsNodeArgs(file: string, args: readonly string[] = []): string[] {
  return ['--import', 'tsx', path.join(ROOT, file), ...args]
}

/** Node's arguments that run `account-contacts <args>` from the sources: `spawn(process.execPath, cliNodeArgs(['serve']))`. */
export function cliNodeArgs(args: readonly string[]): string[] {
  return tsNodeArgs('src/main.ts', args)
}
