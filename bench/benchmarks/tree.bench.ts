/**
 * Benchmarks 12 and 13: what parent accounts cost (issue 16), each against the same work on
 * accounts without a parent, in the same run.
 *
 * 12: the sheet read and the recipients preview of a grandchild (depth 3: it inherits part of its
 * sheet from its parent and its root, under a mix of rules; bench/lib/dataset.ts fillTreeChunk)
 * against the same of a root, through one service on the dataset of trees in alternating rounds.
 * A root is a flat account's twin (no parent, no rules, the full sheet of the main dataset's
 * accounts) and takes the flat path: the read skips the inherited holders' query, the routing's
 * walk up the chain stops at the account. One service on one database, so the only difference
 * between the sides is the depth.
 *
 * 13: a broadcast of `invoice` (primary and billing contacts) to every account of the dataset of
 * trees, where 9 in 10 inherit their primary contact and most their billing contacts, against the
 * same broadcast to the main dataset's flat accounts, both as the workers fan it out (benchmark 4's
 * `ours`), in alternating rounds on the same server. The ratio is the time of trees ÷ flat.
 */
import { connectPostgres } from '../../src/db/connect.ts'
import { auth, type BenchContext, type BenchRow, loadOptions, perRound, round } from '../lib/context.ts'
import { accountId, postgresDataset, relatedDataset, TREE_SIZE } from '../lib/dataset.ts'
import { compareLoad } from '../lib/load.ts'
import { startService } from '../lib/processes.ts'
import { clear, ours as broadcast } from './broadcast.bench.ts'
import { rpsRow } from './http.bench.ts'

/** The dataset of `accounts` accounts in trees of TREE_SIZE (created once, kept like the main one). */
const treesDataset = (ctx: BenchContext) =>
  postgresDataset(
    ctx.opts.adminUrl,
    relatedDataset(ctx.opts, `ac_bench_trees_${ctx.opts.accounts}`, 'trees'),
    ctx.opts.accounts,
    ctx.say,
    'trees',
  )

const randomTree = (n: number) => Math.floor(Math.random() * (n / TREE_SIZE)) * TREE_SIZE
const randomRoot = (n: number) => accountId(1 + randomTree(n))
/** A random grandchild: places 4–9 of a tree. */
const randomGrandchild = (n: number) => accountId(1 + randomTree(n) + 4 + Math.floor(Math.random() * 6))

export async function depthBenchmark(ctx: BenchContext): Promise<BenchRow[]> {
  const n = ctx.opts.accounts
  const url = await treesDataset(ctx)
  const service = await startService({ DATABASE_URL: url })
  ctx.watch(service, 'serve (trees), benchmark 12')
  const get = (path: (n: number) => string) => ({ base: service.base, method: 'GET' as const, path, headers: auth })
  try {
    ctx.say('12. sheet read at depth 3, against a flat account …')
    const read = await compareLoad(
      get(() => `/v1/accounts/${randomGrandchild(n)}/contacts`),
      get(() => `/v1/accounts/${randomRoot(n)}/contacts`),
      loadOptions(ctx),
    )
    ctx.say('12. recipients preview at depth 3, against a flat account …')
    const preview = await compareLoad(
      get(() => `/v1/accounts/${randomGrandchild(n)}/recipients?category=invoice`),
      get(() => `/v1/accounts/${randomRoot(n)}/recipients?category=invoice`),
      loadOptions(ctx),
    )
    return [
      rpsRow(12, 'depth 3: GET /v1/accounts/{id}/contacts of a grandchild, against a flat account', read, { min: 0.8 }),
      rpsRow(12, 'depth 3: GET /v1/accounts/{id}/recipients of a grandchild, against a flat account', preview, {
        min: 0.8,
      }),
    ]
  } finally {
    await service.stop()
  }
}

export async function treeBroadcastBenchmark(ctx: BenchContext): Promise<BenchRow[]> {
  const n = ctx.opts.accounts
  const url = await treesDataset(ctx)
  ctx.say(`13. broadcast to ${n.toLocaleString('en')} accounts in trees of ${TREE_SIZE}, against flat …`)
  const flat = connectPostgres(ctx.pgUrl, { statementTimeoutMs: 0 })
  const trees = connectPostgres(url, { statementTimeoutMs: 0 })
  try {
    await clear(flat.db)
    await clear(trees.db)
    // one round each at a million accounts (minutes); alternating rounds below that, as benchmark 4
    const rounds = n > 100_000 ? 1 : ctx.opts.rounds
    const f: Awaited<ReturnType<typeof broadcast>>[] = []
    const t: Awaited<ReturnType<typeof broadcast>>[] = []
    for (let i = 0; i < rounds; i++) {
      f.push(await broadcast(flat.db))
      await clear(flat.db)
      t.push(await broadcast(trees.db))
      await clear(trees.db)
      ctx.say(`   round ${i + 1}: trees ${t.at(-1)!.seconds.toFixed(1)} s, flat ${f.at(-1)!.seconds.toFixed(1)} s`)
    }
    const best = <T extends { seconds: number }>(xs: T[]) => xs.reduce((a, x) => (x.seconds < a.seconds ? x : a))
    const bt = best(t)
    const bf = best(f)
    const ratio = bt.seconds / bf.seconds
    // every account gets its notification on both sides (the trees' from their root's holders)
    const complete = bt.n === n && bf.n === n
    return [
      {
        id: 13,
        name: `broadcast: fan-out to ${n.toLocaleString('en')} accounts in trees of ${TREE_SIZE}, against as many flat`,
        unit: 's',
        ours: round(bt.seconds),
        baseline: round(bf.seconds),
        ratio: round(ratio),
        target: '≤ 1.2× time',
        holds: complete && ratio <= 1.2,
        rounds: perRound(
          t.map((x) => x.seconds),
          f.map((x) => x.seconds),
          2,
        ),
        details: {
          notifications: bt.n,
          deliveries: bt.d,
          flatNotifications: bf.n,
          flatDeliveries: bf.d,
          batches: bt.batches,
          everyAccount: complete,
        },
      },
    ]
  } finally {
    await flat.close()
    await trees.close()
  }
}
