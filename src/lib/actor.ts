/** Who makes a request. Every service call that changes data takes one, and the audit log records it. */
export type Actor =
  | { type: 'api_key'; id: string }
  | { type: 'user'; id: string; accountId: string; role: UserRole; sessionId: string }
  | { type: 'system'; id: string }

export type UserRole = 'super_admin' | 'billing_admin' | 'member'

/** The request context a service needs besides its arguments. */
export interface RequestContext {
  actor: Actor
  requestId: string
}

export const ADMIN_ROLES: readonly UserRole[] = ['super_admin', 'billing_admin']
