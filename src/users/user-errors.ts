import { AppError } from '../lib/errors.ts'

/**
 * The 409 of an email address another active user of the same account already has (the
 * `users_active_email` index): the API's answer, and the import's for such a row.
 */
export const emailTaken = (cause?: unknown) =>
  new AppError('conflict', { detail: 'Another active user of this account has this email address.', cause })
