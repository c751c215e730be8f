import { type AccountContactsClient, createClient, describeProblem } from '../client/index.ts'
import { CliError } from './cli-error.ts'

/** A running server that a command talks to through the typed client, instead of opening the database. */
export interface Remote {
  url: string
  client: AccountContactsClient
}

/**
 * `--url URL --api-key KEY`, else ACCOUNT_CONTACTS_URL / ACCOUNT_CONTACTS_API_KEY of the
 * environment the CLI was handed; undefined when no URL is given (the command opens the database).
 * The commands that take these are marked `remote` in commands/index.ts.
 */
export function remoteFrom(
  flags: { url?: string | undefined; 'api-key'?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
): Remote | undefined {
  const url = flags.url ?? env.ACCOUNT_CONTACTS_URL
  if (!url) return undefined
  const apiKey = flags['api-key'] ?? env.ACCOUNT_CONTACTS_API_KEY
  if (!apiKey) throw new CliError(`--url ${url} needs a platform API key: --api-key KEY (or ACCOUNT_CONTACTS_API_KEY).`)
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new CliError(`--url "${url}" is not a URL; give the server's address, like http://localhost:3000.`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new CliError(`--url "${url}" must be an http:// or https:// address.`)
  return { url, client: createClient({ baseUrl: url, apiKey }) }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

type Result<D> = { data?: D; error?: unknown; response: Response }

/**
 * Sends one call. A 429 is waited out (Retry-After) a few times, as a report over many accounts
 * outruns the rate limit; a server that cannot be reached stops the command in words.
 */
async function send<D>(remote: Remote, request: () => Promise<Result<D>>): Promise<Result<D>> {
  for (let attempt = 1; ; attempt++) {
    let res: Result<D>
    try {
      res = await request()
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause
      throw new CliError(`Cannot reach ${remote.url}: ${cause?.code ?? cause?.message ?? (e as Error).message}.`)
    }
    if (res.response.status !== 429 || attempt >= 6) return res
    await sleep(1000 * Math.min(60, Number(res.response.headers.get('retry-after')) || attempt))
  }
}

const failed = (remote: Remote, res: Result<unknown>) =>
  new CliError(`${remote.url} answered ${describeProblem(res.error, res.response)}`)

/** The data of one call, or the command stops with the server's problem in words. */
export async function answer<D>(remote: Remote, request: () => Promise<Result<D>>): Promise<D> {
  const res = await send(remote, request)
  if (res.error !== undefined || res.data === undefined) throw failed(remote, res)
  return res.data
}

/** Like {@link answer}, but a 404 answers undefined: the thing was deleted meanwhile. */
export async function answerUnlessGone<D>(remote: Remote, request: () => Promise<Result<D>>): Promise<D | undefined> {
  const res = await send(remote, request)
  if (res.response.status === 404) return undefined
  if (res.error !== undefined || res.data === undefined) throw failed(remote, res)
  return res.data
}

/** `f` over the items, at most `limit` at a time, answers in the items' order. */
export async function inParallel<T, R>(items: T[], limit: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const lane = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await f(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane))
  return out
}
