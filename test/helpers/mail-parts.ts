import assert from 'node:assert/strict'

import type { SmtpSink } from '../peers/smtp-sink.ts'

/** The lower-cased To addresses of a received mail. */
export const toAddresses = (m: SmtpSink['messages'][number]) =>
  (Array.isArray(m.to) ? m.to : m.to ? [m.to] : []).flatMap((a) => a.value.map((v) => v.address!.toLowerCase()))

/** The received mail of `subject` to `address`; fails the test when there is none. */
export function mailTo(sink: SmtpSink, subject: string, address: string) {
  const m = sink.messages.find((x) => x.subject === subject && toAddresses(x).includes(address.toLowerCase()))
  assert.ok(m, `no "${subject}" to ${address}`)
  return m
}

/**
 * A platform's mail as it arrives: the platform's own text, then (after the "-- " line) why the
 * recipient gets it and the "Not the right person?" link, which the worker adds per recipient.
 */
export function mailParts(text: string | undefined): {
  platform: string
  why: string | undefined
  link: string | undefined
} {
  const [platform, why] = (text ?? '').split('\n\n-- \n')
  return {
    platform: platform!.trim(),
    why: why?.split('\n')[0],
    link: /(https?:\/\/\S+\/v1\/not-the-right-person\?token=\S+)/.exec(why ?? '')?.[1],
  }
}

/** Only the platform's own text of a mail. */
export const platformPart = (text: string | undefined) => mailParts(text).platform
