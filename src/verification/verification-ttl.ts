/**
 * How long a verification link stays valid. Its own file, with no imports, so that the mail that
 * states the lifetime (mail/system-mail-copy.ts) reads it without importing the service that
 * queues that mail.
 */
export const VERIFICATION_TTL_MS = 7 * 24 * 60 * 60 * 1000
