import createFetchClient, { type Client } from 'openapi-fetch'

import type { components, paths } from './schema.d.ts'

/*
 * The typed client of the REST API, exported as `account-contacts/client`. Its types are generated
 * from the OpenAPI document the server serves (`npm run client:generate`), never written by hand;
 * test/client/client.test.ts fails when the two drift apart.
 */

export type { components, operations, paths } from './schema.d.ts'

/** An openapi-fetch client of every path in the document: `client.GET('/v1/accounts/{accountId}', ...)`. */
export type AccountContactsClient = Client<paths>

/** The RFC 9457 body of every error answer (`error` of a failed call). */
export type Problem = components['schemas']['Problem']

export interface ClientOptions {
  /** Where the service is, without `/v1`: `https://contacts.example.com`. */
  baseUrl: string
  /** A platform API key (`acpk_...`) or a user session token (`acs_...`). */
  apiKey: string
  /** Another fetch (tests, proxies); the global one by default. */
  fetch?: (input: Request) => Promise<Response>
}

/**
 * A client that sends the key as a bearer token on every call. Calls answer
 * `{ data, error, response }`: `data` typed by the 2xx response, `error` a {@link Problem}.
 */
export function createClient({ baseUrl, apiKey, fetch }: ClientOptions): AccountContactsClient {
  return createFetchClient<paths>({
    // paths in the document start with a slash; a trailing one here would double it
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: { authorization: `Bearer ${apiKey}` },
    ...(fetch ? { fetch } : {}),
  })
}

/** One line for a failed call, `404 not-found: No account "x".`, whatever the body was. */
export function describeProblem(error: unknown, response: Response): string {
  const p = (typeof error === 'object' && error !== null ? error : {}) as Partial<Problem>
  return `${response.status}${p.code ? ` ${p.code}` : ''}: ${p.detail ?? p.title ?? response.statusText}`
}
