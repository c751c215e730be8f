/*
 * How often and how long a failed delivery is tried again, stated once (delivery/DESIGN.md, "Retry
 * schedule"). The delay itself is computed in SQL, in `settleFailed` (deliveries.repository.ts),
 * so that every worker follows the one schedule: before attempt n + 1 it waits
 * BACKOFF_BASE_SECONDS · 2^(n−1), varied by ±BACKOFF_JITTER, at least the peer's Retry-After (up
 * to RETRY_AFTER_MAX_SECONDS, read by the webhook transport) and at most BACKOFF_MAX_SECONDS.
 */

/** Attempts for an email delivery before it is `failed`: the last comes about 21 minutes after the first. */
export const EMAIL_MAX_ATTEMPTS = 8

/** Attempts for a webhook delivery before it is `failed`: the last comes about 5 h 41 min after the first. */
export const WEBHOOK_MAX_ATTEMPTS = 12

/** The delay before the second attempt, in seconds; each further one doubles it. */
export const BACKOFF_BASE_SECONDS = 10

/** A peer's Retry-After is honoured up to this (an hour); past that, our own backoff decides. */
export const RETRY_AFTER_MAX_SECONDS = 60 * 60

/** No delay exceeds this (six hours), however far the doubling goes. */
export const BACKOFF_MAX_SECONDS = 6 * 60 * 60

/**
 * Each delay is varied by up to this fraction either way (±25 %), so that deliveries that failed
 * together (a mail server down for a minute) do not all come back in the same second.
 */
export const BACKOFF_JITTER = 0.25
