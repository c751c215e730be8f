import { AppError } from '../lib/errors.ts'

/** The 404 of an account id that names no account: every domain that takes an account id answers it. */
export const notFound = (id: string) => new AppError('not-found', { detail: `No account "${id}".` })
