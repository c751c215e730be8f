/**
 * Runs batches up to `concurrency` at a time (each in its own transaction, on its own connection)
 * and hands their results to `settle` strictly in submission order. A checkpoint written from
 * `settle` therefore never claims a batch whose predecessor has not committed yet.
 */
export function orderedBatches<B, R>(opts: {
  concurrency: number
  run(batch: B): Promise<R>
  settle(batch: B, result: R): void
}) {
  const inflight = new Set<Promise<void>>()
  const done = new Map<number, { batch: B; result: R }>()
  let submitted = 0
  let settled = 0
  let failure: { error: unknown } | undefined

  const flush = () => {
    for (let next = done.get(settled); next; next = done.get(settled)) {
      done.delete(settled)
      settled++
      opts.settle(next.batch, next.result)
    }
  }
  const check = () => {
    if (failure) throw failure.error
  }

  return {
    /** Waits for a free slot, then starts the batch. Throws the first failure of any batch. */
    async submit(batch: B): Promise<void> {
      check()
      while (inflight.size >= opts.concurrency) {
        await Promise.race(inflight)
        check()
      }
      const seq = submitted++
      const p: Promise<void> = opts.run(batch).then(
        (result) => {
          done.set(seq, { batch, result })
          try {
            flush()
          } catch (error) {
            failure ??= { error }
          }
        },
        (error) => {
          failure ??= { error }
        },
      )
      const tracked = p.finally(() => inflight.delete(tracked))
      inflight.add(tracked)
    },
    /** Waits for every batch; throws the first failure. */
    async drain(): Promise<void> {
      while (inflight.size > 0) await Promise.race(inflight)
      check()
    },
  }
}
