import { promises as dns } from 'node:dns'
import { BlockList, isIP } from 'node:net'

import { ipv6Bytes } from '../../lib/ip.ts'

/** A resolved address of a webhook host. */
export interface ResolvedAddress {
  address: string
  family: number
}

/** Resolves a host name to every address it has; injectable so tests never touch real DNS. */
export type HostLookup = (host: string) => Promise<ResolvedAddress[]>

/** A webhook URL we refuse to call. The message names the host, never the full URL (it may hold a token). */
export class UnsafeUrlError extends Error {
  override name = 'UnsafeUrlError'
}

const MAX_URL_LENGTH = 2048

/**
 * Addresses a webhook must not reach: whatever is not the public internet. BlockList also
 * matches IPv4-mapped IPv6 (`::ffff:127.0.0.1`, `::ffff:7f00:1`) against the IPv4 rules, so the
 * mapped forms need no rules of their own. The forms that reach an IPv4 host through a translator
 * (IPv4-translated, NAT64, 6to4) are decoded by `embeddedIpv4` and checked against the IPv4 rules.
 */
const blocked = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network", including the unspecified 0.0.0.0
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT: internal to the provider
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, where cloud metadata services live (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the broadcast address
] as const)
  blocked.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [
  ['::', 96], // unspecified (::), loopback (::1) and the deprecated IPv4-compatible form (::127.0.0.1)
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // deprecated site-local
  ['ff00::', 8], // multicast
] as const)
  blocked.addSubnet(net, prefix, 'ipv6')

/**
 * The IPv4 address an IPv6 address stands for on the way to an IPv4 host, if it is one of the
 * translator forms: IPv4-translated `::ffff:0:a.b.c.d` (RFC 2765), NAT64's well-known prefix
 * `64:ff9b::a.b.c.d` (RFC 6052) and 6to4 `2002:AABB:CCDD::` (RFC 3056).
 */
function embeddedIpv4(address: string): string | undefined {
  const b = ipv6Bytes(address)
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0)
  const last4 = b.slice(12, 16).join('.')
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && zero(10, 12)) return last4
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return last4
  if (b[0] === 0x20 && b[1] === 0x02) return b.slice(2, 6).join('.')
  return undefined
}

/** Whether an address is loopback, private, link-local or otherwise not on the public internet. */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 0) return true // not an address at all: refuse rather than guess
  if (family === 4) return blocked.check(address, 'ipv4')
  const v4 = embeddedIpv4(address)
  return blocked.check(address, 'ipv6') || (v4 !== undefined && blocked.check(v4, 'ipv4'))
}

/**
 * Validates what can be validated without the network, for when an endpoint is registered:
 * http(s) only, no user:password (it would be sent to every redirect target and logged), and a
 * bounded length. Returns the parsed URL; throws `UnsafeUrlError`.
 */
export function checkWebhookUrlShape(url: string): URL {
  if (url.length > MAX_URL_LENGTH) throw new UnsafeUrlError(`webhook URL is longer than ${MAX_URL_LENGTH} characters`)
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new UnsafeUrlError('webhook URL is not a valid URL')
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UnsafeUrlError(`webhook URL scheme ${parsed.protocol} is not allowed (http or https only)`)
  }
  if (parsed.username || parsed.password) throw new UnsafeUrlError('webhook URL must not contain credentials')
  return parsed
}

const defaultLookup: HostLookup = (host) => dns.lookup(host, { all: true })

/**
 * Checks a webhook URL right before a call: its shape, then every address its host resolves to.
 * One non-public address refuses the whole host (an attacker controls the order of answers).
 * `allowPrivate` (local development, tests) skips only the address rule.
 *
 * DNS rebinding: a host can answer a public address here and a private one a moment later, when
 * the HTTP client resolves it again. The check alone cannot close that gap; the transport closes it
 * by connecting to the addresses returned here instead of resolving again.
 *
 * Throws `UnsafeUrlError` when refused; a failed lookup throws the DNS error (worth retrying).
 */
export async function assertWebhookUrl(
  url: string,
  options: { allowPrivate: boolean; lookup?: HostLookup },
): Promise<ResolvedAddress[]> {
  const parsed = checkWebhookUrlShape(url)
  // WHATWG URL keeps IPv6 literals bracketed and already normalizes IPv4 tricks (0x7f.1, 2130706433).
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1')
  const family = isIP(host)
  const addresses = family !== 0 ? [{ address: host, family }] : await (options.lookup ?? defaultLookup)(host)
  if (addresses.length === 0) throw new Error(`webhook host ${host} resolved to no address`)
  if (!options.allowPrivate) {
    const bad = addresses.find((a) => isNonPublicAddress(a.address))
    if (bad) {
      throw new UnsafeUrlError(
        `webhook host ${host} resolves to ${bad.address}, a private, loopback or link-local address (set WEBHOOK_ALLOW_PRIVATE=true to allow)`,
      )
    }
  }
  return addresses
}
