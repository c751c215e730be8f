/**
 * A TCP proxy that puts network faults between two real peers (the service and PostgreSQL, the
 * worker and the SMTP server), switchable while traffic flows:
 *
 * - `pass()`: bytes go through as they come;
 * - `latency(ms)`: every chunk, each way, arrives `ms` later (order kept);
 * - `reset()`: every live connection and every new one is reset (RST, `socket.resetAndDestroy`);
 * - `blackHole()`: new connections are accepted and never forwarded, live ones go silent (their
 *   bytes and their FINs are held back, as a partitioned network would; a reset still passes);
 *   `pass()` heals it: what was held is delivered, as TCP retransmission would, and the
 *   connections accepted meanwhile are dropped;
 * - `cutNow()`: resets the live connections once, in whatever mode;
 * - `forgetNow()`: abandons the live connections once: they stay open and are never answered or
 *   closed, as when the peer's host dies without a word or a NAT forgets the flows.
 *
 * `stats` counts connections and faults, for the figures a test prints.
 */
import { once } from 'node:events'
import net, { type AddressInfo } from 'node:net'

export type FaultMode = 'pass' | 'latency' | 'reset' | 'blackhole'

export interface FaultProxyStats {
  /** Connections accepted. */
  connections: number
  /** Connections reset, on accept or live. */
  resets: number
  /** Connections accepted in a black hole and never forwarded. */
  swallowed: number
  /** Mode switches away from `pass`, and `cutNow()` calls. */
  faults: number
}

export interface FaultProxy {
  port: number
  readonly mode: FaultMode
  readonly stats: FaultProxyStats
  /** Live connections (forwarded, held or abandoned). */
  live(): number
  pass(): void
  latency(ms: number): void
  reset(): void
  blackHole(): void
  cutNow(): void
  forgetNow(): void
  close(): Promise<void>
}

/** One way of a connection: chunks in arrival order, each due at its time, an end marker last. */
interface Lane {
  queue: { chunk: Buffer | null; due: number }[]
  timer: NodeJS.Timeout | undefined
}

interface Link {
  /** Abandoned by `forgetNow()`: nothing is forwarded any more, nothing is closed. */
  dead: boolean
  client: net.Socket
  upstream: net.Socket | undefined
  up: Lane
  down: Lane
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let mode: FaultMode = 'pass'
  let delayMs = 0
  const links = new Set<Link>()
  // accepted during a black hole, never connected upstream
  const held = new Set<net.Socket>()
  const stats: FaultProxyStats = { connections: 0, resets: 0, swallowed: 0, faults: 0 }

  const hardClose = (s: net.Socket | undefined) => {
    if (!s || s.destroyed) return
    // resetAndDestroy needs a connected TCP handle; one still connecting is simply destroyed
    if (s.readyState === 'open' || s.readyState === 'readOnly' || s.readyState === 'writeOnly') s.resetAndDestroy()
    else s.destroy()
  }

  function resetLink(l: Link) {
    stats.resets++
    clearTimeout(l.up.timer)
    clearTimeout(l.down.timer)
    l.up.queue.length = 0
    l.down.queue.length = 0
    hardClose(l.client)
    hardClose(l.upstream)
    links.delete(l)
  }

  /** Delivers what is due on `lane` to `to`, unless the network is black-holed. */
  function pump(l: Link, lane: Lane, to: () => net.Socket | undefined) {
    clearTimeout(lane.timer)
    lane.timer = undefined
    if (l.dead) lane.queue.length = 0
    if (mode === 'blackhole' || l.dead) return
    const now = Date.now()
    while (lane.queue.length > 0 && lane.queue[0]!.due <= now) {
      const { chunk } = lane.queue.shift()!
      const dest = to()
      if (!dest || dest.destroyed) continue
      if (chunk) dest.write(chunk)
      else dest.end()
    }
    if (lane.queue.length > 0) lane.timer = setTimeout(() => pump(l, lane, to), lane.queue[0]!.due - now)
  }

  function wire(l: Link, from: net.Socket, lane: Lane, to: () => net.Socket | undefined) {
    const push = (chunk: Buffer | null) => {
      const last = lane.queue.at(-1)?.due ?? 0
      lane.queue.push({ chunk, due: Math.max(Date.now() + delayMs, last) })
      pump(l, lane, to)
    }
    from.on('data', (chunk: Buffer) => push(chunk))
    from.on('end', () => push(null))
    // a reset or error on one side is passed on at once to the other, even through a black hole
    from.on('error', () => {
      if (links.has(l) && !l.dead) resetLink(l)
    })
  }

  const server = net.createServer((client) => {
    stats.connections++
    client.on('error', () => {})
    if (mode === 'reset') {
      stats.resets++
      client.resetAndDestroy()
      return
    }
    if (mode === 'blackhole') {
      stats.swallowed++
      held.add(client)
      client.on('close', () => held.delete(client))
      return
    }
    const upstream = net.connect(target.port, target.host)
    upstream.on('error', () => {})
    const l: Link = {
      dead: false,
      client,
      upstream,
      up: { queue: [], timer: undefined },
      down: { queue: [], timer: undefined },
    }
    links.add(l)
    wire(l, client, l.up, () => l.upstream)
    wire(l, upstream, l.down, () => l.client)
    const forget = () => {
      if (client.destroyed && upstream.destroyed) links.delete(l)
    }
    client.on('close', forget)
    upstream.on('close', forget)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo

  function setMode(next: FaultMode) {
    if (next !== 'pass' && mode !== next) stats.faults++
    const healed = mode === 'blackhole' && next !== 'blackhole'
    mode = next
    if (healed) {
      for (const s of held) s.destroy()
      held.clear()
      for (const l of links) {
        pump(l, l.up, () => l.upstream)
        pump(l, l.down, () => l.client)
      }
    }
  }

  return {
    port,
    get mode() {
      return mode
    },
    stats,
    live: () => links.size + held.size,
    pass() {
      delayMs = 0
      setMode('pass')
    },
    latency(ms) {
      delayMs = ms
      setMode('latency')
    },
    reset() {
      setMode('reset')
      for (const l of [...links]) resetLink(l)
    },
    blackHole() {
      setMode('blackhole')
    },
    cutNow() {
      stats.faults++
      for (const l of [...links]) if (!l.dead) resetLink(l)
      for (const s of held) hardClose(s)
      held.clear()
    },
    forgetNow() {
      stats.faults++
      for (const l of links) l.dead = true
    },
    async close() {
      for (const l of [...links]) resetLink(l)
      for (const s of held) s.destroy()
      held.clear()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
