import { type Actor, ADMIN_ROLES } from '../lib/actor.ts'
import { AppError } from '../lib/errors.ts'

/**
 * What a route needs, declared in its `config.access`:
 * - `public`: anyone;
 * - `platform`: a platform API key (the host product's backend);
 * - `account:read`: a platform key, or any active user of the route's account;
 * - `account:write`: a platform key, or a super or billing admin of the route's account;
 * - `account:super`: a platform key, or a super admin of the route's account;
 * - and on the `account:` routes of a descendant account (issue 16), a super or billing admin of
 *   one of its ancestors acts as the descendant's billing admin would: they manage its contacts.
 *   Nothing goes the other way: to a child's users, the parent is another account;
 * - `session`: a signed-in user (the settings page's own calls);
 * - `metrics`: the scraper's METRICS_TOKEN, no actor; the route checks it (ops.routes.ts).
 */
export type Access = 'public' | 'platform' | 'account:read' | 'account:write' | 'account:super' | 'session' | 'metrics'

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access
    /**
     * The route checks a token itself (a sign-in link, a verification link, METRICS_TOKEN): each
     * request spends a unit of its address's budget for checking credentials first (rate-limit.ts).
     * Fastify's HEAD route of a GET route copies its config, so HEAD is counted too.
     */
    checksToken?: boolean
  }
}

/** Whether `ancestorId` is above `accountId` in the account tree (accounts.repository.ts `isAncestor`). */
export type AncestorCheck = (ancestorId: string, accountId: string) => Promise<boolean>

/**
 * Decides whether `actor` may use a route of `access` on `accountId`. Another account answers 404,
 * exactly like a missing one, so that ids of other tenants cannot be probed; a descendant of the
 * actor's account is one the actor's admins manage, as if they were its billing admins.
 */
export async function authorize(
  actor: Actor,
  access: Exclude<Access, 'public' | 'metrics'>,
  accountId: string | undefined,
  isAncestor: AncestorCheck,
): Promise<void> {
  if (
    actor.type === 'user' &&
    accountId !== undefined &&
    actor.accountId !== accountId &&
    access.startsWith('account:') &&
    ADMIN_ROLES.includes(actor.role) &&
    (await isAncestor(actor.accountId, accountId))
  ) {
    if (access === 'account:super')
      throw new AppError('forbidden', { detail: 'Only the account’s own super admins may do this.' })
    return
  }
  authorizeOwn(actor, access, accountId)
}

/** `authorize` within the actor's own account (or with a platform key). */
function authorizeOwn(actor: Actor, access: Exclude<Access, 'public' | 'metrics'>, accountId: string | undefined) {
  if (access === 'session') {
    if (actor.type !== 'user') throw new AppError('forbidden', { detail: 'This call is for a signed-in user.' })
    return
  }
  if (actor.type === 'api_key' || actor.type === 'system') return
  if (access === 'platform') {
    throw new AppError('forbidden', { detail: 'This call needs a platform API key.' })
  }
  if (accountId === undefined || actor.accountId !== accountId) {
    throw new AppError('not-found', { detail: `No account "${accountId ?? ''}".` })
  }
  if (access === 'account:write' && !ADMIN_ROLES.includes(actor.role)) {
    throw new AppError('forbidden', { detail: 'Only super admins and billing admins may change the contacts.' })
  }
  if (access === 'account:super' && actor.role !== 'super_admin') {
    throw new AppError('forbidden', { detail: 'Only super admins may do this.' })
  }
}
