/**
 * `tsx bench/profile-summary.ts FILE.cpuprofile [N]`: where a V8 CPU profile's time went, by
 * self time per function and per package (node_modules/<name>, our src/, node's own, idle, GC),
 * so a benchmark's gap can be explained in numbers (docs/BENCHMARKS.md).
 */
import fs from 'node:fs'

interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
  children?: number[]
}
interface Profile {
  nodes: Node[]
  samples: number[]
  timeDeltas: number[]
}

const [file, n = '25'] = process.argv.slice(2)
if (!file) throw new Error('usage: tsx bench/profile-summary.ts FILE.cpuprofile [N]')
const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile
const byId = new Map(p.nodes.map((x) => [x.id, x]))
const self = new Map<number, number>()
p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)))
const total = [...self.values()].reduce((a, b) => a + b, 0)

function bucket(url: string, name: string): string {
  if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') return name
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (m) return m[1]!
  if (/\/src\//.test(url)) return 'our src/'
  if (url.startsWith('node:') || url === '') return "node's own (incl. native)"
  return url.split('/').slice(-2).join('/')
}

const fns = new Map<string, number>()
const pkgs = new Map<string, number>()
for (const [id, us] of self) {
  const f = byId.get(id)!.callFrame
  const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*node_modules\//, '').replace(/^.*\/(src|bench)\//, '$1/')}:${f.lineNumber + 1}`
  fns.set(key, (fns.get(key) ?? 0) + us)
  const b = bucket(f.url, f.functionName)
  pkgs.set(b, (pkgs.get(b) ?? 0) + us)
}
const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)} %`
const top = (m: Map<string, number>, k: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k)
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled\n\nby package (self time):`)
for (const [k, us] of top(pkgs, 15)) console.log(`  ${pct(us)}  ${k}`)
console.log(`\ntop ${n} functions (self time):`)
for (const [k, us] of top(fns, Number(n))) console.log(`  ${pct(us)}  ${k}`)
