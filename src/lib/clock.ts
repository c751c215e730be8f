/** Injectable time, so that tests can move it (review reminders, expiries) without sleeping. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }
