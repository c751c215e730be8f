import { type AccountContactsClient, createClient, type Problem } from '../../src/client/index.ts'

// What a consumer of `account-contacts/client` writes. client.test.ts runs it against a listening
// server and also type-checks this file alone, so a document that no longer fits these calls
// fails the test even where `tsc` is not run.

export interface Outcome {
  accountName: string
  userEmail: string
  primaryEmail: string | null
  etag: string | null
  health: { ok: boolean; codes: string[] }
  missing: { status: number; problem: Problem }
}

/** Creates an account and a user, makes the user the primary contact, reads back, asks for a missing account. */
export async function exercise(
  client: AccountContactsClient,
  ids: { accountId: string; userId: string },
): Promise<Outcome> {
  const { accountId, userId } = ids
  const created = await client.POST('/v1/accounts', { body: { id: accountId, name: 'Typed Client Oy', locale: 'fi' } })
  if (!created.data) throw new Error(`create account: ${JSON.stringify(created.error)}`)

  const user = await client.PUT('/v1/accounts/{accountId}/users/{userId}', {
    params: { path: { accountId, userId } },
    body: { email: `${userId}@example.com`, name: 'Aino Typed', role: 'super_admin' },
  })
  if (!user.data) throw new Error(`put user: ${JSON.stringify(user.error)}`)

  const set = await client.PUT('/v1/accounts/{accountId}/contacts/{slot}', {
    params: { path: { accountId, slot: 'primary' } },
    body: { userId },
  })
  if (!set.data) throw new Error(`set primary: ${JSON.stringify(set.error)}`)

  const sheet = await client.GET('/v1/accounts/{accountId}/contacts', { params: { path: { accountId } } })
  if (!sheet.data) throw new Error(`get sheet: ${JSON.stringify(sheet.error)}`)
  // `Contact` is a union: the type narrows on `type`, as the document's oneOf says
  const primary = sheet.data.primary
  const primaryEmail: string | null = primary?.type === 'user' ? primary.email : null

  const health = await client.GET('/v1/accounts/{accountId}/health', { params: { path: { accountId } } })
  if (!health.data) throw new Error(`health: ${JSON.stringify(health.error)}`)

  const missing = await client.GET('/v1/accounts/{accountId}', { params: { path: { accountId: 'no-such-account' } } })
  if (!missing.error) throw new Error('a missing account was found')

  return {
    accountName: created.data.name,
    userEmail: user.data.email,
    primaryEmail,
    etag: sheet.response.headers.get('etag'),
    health: { ok: health.data.ok, codes: health.data.problems.map((p) => p.code) },
    missing: { status: missing.response.status, problem: missing.error },
  }
}

/**
 * Never called: each line must stay a type error, or the client's types have gone loose.
 * @public (exported so that it counts as used; client.test.ts compiles the file)
 */
export function mistakes(client: AccountContactsClient) {
  // @ts-expect-error: no such path in the document
  void client.GET('/v1/no-such-path')
  void client.PUT('/v1/accounts/{accountId}/contacts/{slot}', {
    // @ts-expect-error: `billing` is not a single slot
    params: { path: { accountId: 'a', slot: 'billing' } },
    body: { userId: 'u' },
  })
  // @ts-expect-error: an account needs a name
  void client.POST('/v1/accounts', { body: { id: 'a' } })
  // @ts-expect-error: not a category
  void client.POST('/v1/broadcasts', { body: { category: 'spam', subject: 's', text: 't' } })
  void createClient({ baseUrl: 'http://x', apiKey: 'k' })
}
