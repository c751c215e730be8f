import { useCallback, useState } from 'react'

import { ApiError } from './api/client.ts'
import type { Strings } from './i18n.ts'
import { useSession } from './page-context.ts'

export interface Saver {
  /** The key of the change under way, if any. */
  busy: string | null
  /**
   * What a status line says after the last change ("Saved"), in the current words; with `key`,
   * only when the last change was made under it.
   */
  status(t: Strings, key?: string): string
  /** The problem of the last change, when it was made under `key`. */
  errorFor(key: string): ApiError | null
  /** Runs one change under `key`; answers whether it worked. `done` words the success. */
  run(key: string, change: () => Promise<unknown>, done?: (t: Strings) => string): Promise<boolean>
}

interface State {
  busy: string | null
  done: { key: string; words: (t: Strings) => string } | null
  error: { key: string; err: ApiError } | null
}

const saved = (t: Strings) => t.saved

/**
 * Feedback for the changes made in one section: a status line that says "Saved", and each problem
 * kept with the key of the field it concerns so that it is shown next to that field.
 */
export function useSave(): Saver {
  const { signedOut } = useSession()
  const [state, setState] = useState<State>({ busy: null, done: null, error: null })

  const run = useCallback(
    async (key: string, change: () => Promise<unknown>, done = saved) => {
      // emptied first, so that a second "Saved" in a row is announced again
      setState({ busy: key, done: null, error: null })
      try {
        await change()
        setState({ busy: null, done: { key, words: done }, error: null })
        return true
      } catch (e) {
        const err =
          e instanceof ApiError
            ? e
            : new ApiError({
                type: '/problems/internal',
                title: String(e),
                status: 500,
                detail: String(e),
                code: 'internal',
                requestId: '',
              })
        if (err.status === 401) signedOut()
        setState({ busy: null, done: null, error: { key, err } })
        return false
      }
    },
    [signedOut],
  )

  return {
    busy: state.busy,
    status: (t, key) => (state.done && (key === undefined || key === state.done.key) ? state.done.words(t) : ''),
    errorFor: (key) => (state.error?.key === key ? state.error.err : null),
    run,
  }
}
