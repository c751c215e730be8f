import type { TestContext } from 'node:test'

/** A stand-in test context for `buildTestApp`, whose `after` callbacks run when `close` is called. */
export function suiteScope() {
  const fns: (() => unknown)[] = []
  const scope = { after: (fn: () => unknown) => void fns.push(fn) } as unknown as Pick<TestContext, 'after'>
  return {
    scope,
    close: async () => {
      for (const fn of fns.reverse()) await fn()
    },
  }
}
