import type { Problem } from '../../../src/lib/schemas.ts'

/**
 * A failed call: the server's RFC 9457 problem (docs/PRODUCT.md, "Errors"), or one made up here when the
 * answer was not one (the network is down, a proxy answered HTML), so that callers handle a single shape.
 */
export class ApiError extends Error {
  override name = 'ApiError'
  readonly problem: Problem

  constructor(problem: Problem) {
    super(problem.detail)
    this.problem = problem
  }

  get status(): number {
    return this.problem.status
  }

  /** The stable problem code (`billing-contact-limit`, ...); `network` when nothing answered. */
  get code(): string {
    return this.problem.code
  }

  /** The `errors[]` messages about a request field, matched by the last segment of their path. */
  fieldMessages(field: string): string[] {
    return (this.problem.errors ?? []).filter((e) => e.path.split('/').pop() === field).map((e) => e.message)
  }
}

const isProblem = (v: unknown): v is Problem =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Problem).code === 'string' &&
  typeof (v as Problem).status === 'number'

function madeUpProblem(status: number, detail: string): Problem {
  const code = status === 0 ? 'network' : 'internal'
  return { type: `/problems/${code}`, title: detail, status, detail, code, requestId: '' }
}

/** The value of the readable `ac_csrf` cookie that every write must echo (the server checks it). */
function csrfToken(): string {
  for (const part of document.cookie.split(';')) {
    const [name, ...value] = part.trim().split('=')
    if (name === 'ac_csrf') return decodeURIComponent(value.join('='))
  }
  return ''
}

export interface ApiResponse<T> {
  data: T
  etag: string | null
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE'
  body?: unknown
  /** The ETag of what the change was based on; a stale one answers 412 `version-mismatch`. */
  ifMatch?: string | undefined
}

/**
 * One call to the service with the page's cookie session. Answers the parsed JSON (undefined for
 * an empty answer) and the ETag; throws `ApiError` for anything but 2xx.
 */
export async function request<T>(path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { 'x-csrf-token': csrfToken() }
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  if (opts.ifMatch) headers['if-match'] = opts.ifMatch
  let res: Response
  try {
    res = await fetch(path, {
      method: opts.method ?? 'GET',
      credentials: 'same-origin',
      headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    })
  } catch {
    throw new ApiError(madeUpProblem(0, 'The service could not be reached.'))
  }
  const text = await res.text()
  let json: unknown
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  if (!res.ok) {
    throw new ApiError(isProblem(json) ? json : madeUpProblem(res.status, `The service answered ${res.status}.`))
  }
  return { data: json as T, etag: res.headers.get('etag') }
}

/** `request`, for when only the body matters. */
export const call = async <T>(path: string, opts: RequestOptions = {}): Promise<T> =>
  (await request<T>(path, opts)).data
