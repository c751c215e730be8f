import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import type { TestContext } from 'node:test'

/**
 * A set of child processes that are SIGKILLed when the test ends. Call it before buildTestApp:
 * after-hooks run in the order they were added, so no child is still connected when the test
 * database is dropped, whatever failed.
 */
export function killedAtEnd(t: Pick<TestContext, 'after'>): Set<ChildProcess> {
  const children = new Set<ChildProcess>()
  t.after(async () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGKILL')
        await once(c, 'exit')
      }
    }
  })
  return children
}
