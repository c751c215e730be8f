import type { Static, TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

import { CategorySchema } from '../notifications/notifications.schemas.ts'
import { SENDABLE_CATEGORIES } from '../routing/routing-policy.ts'
import { CliError } from './cli-error.ts'

/**
 * Checks what a command is about to send against the API's own request schema, so that a bad
 * flag is named before anything is opened or sent (the server checks again in remote mode).
 * `flags` maps a field of the body to the flag it came from.
 */
export function checkInput<T extends TSchema>(
  schema: T,
  value: Record<string, unknown>,
  flags: Record<string, string>,
): Static<T> {
  if ('category' in value && !(SENDABLE_CATEGORIES as readonly unknown[]).includes(value.category)) {
    throw new CliError(
      `--category "${String(value.category)}" is not a category; one of: ${SENDABLE_CATEGORIES.join(', ')}.`,
    )
  }
  if (Value.Check(schema, [CategorySchema], value)) return value as Static<T>
  const first = Value.Errors(schema, [CategorySchema], value).First()
  const field = first?.path.split('/')[1] ?? ''
  throw new CliError(`${flags[field] ?? (field || 'the input')}: ${first?.message ?? 'not valid'}.`)
}
