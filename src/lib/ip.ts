/** The 16 bytes of an IPv6 address (one `isIP` accepted; a zone such as `%eth0` is dropped), a trailing dotted quad included. */
export function ipv6Bytes(address: string): number[] {
  let a = address.split('%')[0]!
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a)
  if (quad) {
    const [p0, p1, p2, p3] = quad.slice(1).map(Number) as [number, number, number, number]
    a = `${a.slice(0, quad.index)}${((p0 << 8) | p1).toString(16)}:${((p2 << 8) | p3).toString(16)}`
  }
  const gap = a.indexOf('::')
  const head = (gap < 0 ? a : a.slice(0, gap)).split(':').filter(Boolean)
  const tail =
    gap < 0
      ? []
      : a
          .slice(gap + 2)
          .split(':')
          .filter(Boolean)
  const groups = [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail]
  return groups.flatMap((g) => {
    const n = Number.parseInt(g, 16)
    return [n >> 8, n & 0xff]
  })
}
