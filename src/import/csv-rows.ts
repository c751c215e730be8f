import type { TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

import { ACCOUNT_NAME_MAX } from '../accounts/accounts.schemas.ts'
import { SLOT_NAMES } from '../contacts/contact-slots.ts'
import { type PutContactSheet, SlotRuleSchema } from '../contacts/contacts.schemas.ts'
import type { SlotRule } from '../contacts/slot-rules.ts'
import type { FieldError } from '../lib/errors.ts'
import { EmailSchema, IdSchema, LineSchema, LocaleSchema } from '../lib/schemas.ts'
import { type PutUser, RoleSchema, USER_NAME_MAX, UserStatusSchema } from '../users/users.schemas.ts'
import { cell, type Layout, PARENT_COLUMN, RULE_COLUMNS } from './csv-formats.ts'

/*
 * A row's cells checked with the API's own schemas (TypeBox `Value.Check`), so that a cell the API
 * would refuse is refused here too, in the API's words: `errors[]` entries whose path is the
 * column (`/email`) and whose message is what the API's validation problem says.
 */

const AccountNameSchema = LineSchema({ maxLength: ACCOUNT_NAME_MAX })
const UserNameSchema = LineSchema({ maxLength: USER_NAME_MAX })

/** Why a value fails its schema, worded like the API's validation problems (app/error-handler.ts). */
function messageFor(column: string, schema: TSchema, value: string): string {
  const literals = (schema.anyOf as TSchema[] | undefined)?.map((s) => s.const as unknown)
  if (literals?.every((l) => typeof l === 'string')) return `must be one of: ${literals.join(', ')}`
  if (typeof schema.maxLength === 'number' && value.length > schema.maxLength)
    return `must NOT have more than ${schema.maxLength} characters`
  if (typeof schema.minLength === 'number' && value.length < schema.minLength)
    return `must NOT have fewer than ${schema.minLength} characters`
  return schema === EmailSchema || column === 'email'
    ? 'is not a valid email address'
    : 'has characters or a form that is not allowed'
}

/** Checks the cells of `columns`: empty ones are `optional` (undefined) or "is required". */
function read(
  layout: Layout,
  cells: string[],
  errors: FieldError[],
  column: string,
  schema: TSchema,
  optional = false,
): string | undefined {
  const value = cell(layout, cells, column)
  if (value === '') {
    if (!optional) errors.push({ path: `/${column}`, message: 'is required' })
    return undefined
  }
  if (!Value.Check(schema, value)) {
    errors.push({ path: `/${column}`, message: messageFor(column, schema, value) })
    return undefined
  }
  return value
}

/** A users-file row: the account it names, and the user (absent on an account-only row). */
export interface UsersRow {
  accountId: string
  accountName: string
  /** undefined: 'en' for a new account, unchanged for an existing one */
  accountLocale: 'en' | 'fi' | undefined
  /** undefined: the file has no parent column (the parent stays); null: no parent */
  parentAccountId?: string | null
  user?: { id: string } & PutUser & { locale: 'en' | 'fi' | null }
}

export type Parsed<T> = { value: T; errors?: undefined } | { value?: undefined; errors: FieldError[] }

const USER_CELLS = ['email', 'name', 'role', 'status', 'locale'] as const

export function parseUsersRow(layout: Layout, cells: string[]): Parsed<UsersRow> {
  const errors: FieldError[] = []
  const accountId = read(layout, cells, errors, 'account_id', IdSchema)
  const accountName = read(layout, cells, errors, 'account_name', AccountNameSchema)
  const accountLocale = read(layout, cells, errors, 'account_locale', LocaleSchema, true) as UsersRow['accountLocale']
  const parent = layout.parents
    ? { parentAccountId: read(layout, cells, errors, PARENT_COLUMN, IdSchema, true) ?? null }
    : {}
  const userId = read(layout, cells, errors, 'user_id', IdSchema, true)
  if (userId === undefined && cell(layout, cells, 'user_id') === '') {
    // an account-only row (how an account without users is exported): nothing else may be filled
    for (const c of USER_CELLS) {
      if (cell(layout, cells, c) !== '') errors.push({ path: '/user_id', message: 'is required' })
    }
    if (errors.length > 0) return { errors: dedupe(errors) }
    return { value: { accountId: accountId!, accountName: accountName!, accountLocale, ...parent } }
  }
  const email = read(layout, cells, errors, 'email', EmailSchema)
  const name = read(layout, cells, errors, 'name', UserNameSchema)
  const role = read(layout, cells, errors, 'role', RoleSchema) as PutUser['role'] | undefined
  const status = read(layout, cells, errors, 'status', UserStatusSchema, true) as PutUser['status']
  const locale = (read(layout, cells, errors, 'locale', LocaleSchema, true) ?? null) as 'en' | 'fi' | null
  if (errors.length > 0) return { errors }
  const user = { id: userId!, email: email!, name: name!, role: role!, locale, ...(status ? { status } : {}) }
  return { value: { accountId: accountId!, accountName: accountName!, accountLocale, ...parent, user } }
}

const dedupe = (errors: FieldError[]) => errors.filter((e, i) => errors.findIndex((f) => f.path === e.path) === i)

/** A sheets-file row: the account, and its whole sheet as `PUT .../contacts` takes it. */
export interface SheetsRow {
  accountId: string
  sheet: PutContactSheet
}

const SINGLE_COLUMNS = [
  ['primary', 'primary'],
  ['decision_maker', 'decisionMaker'],
  ['onboarding', 'onboarding'],
  ['security', 'security'],
  ['technical_admin', 'technicalAdmin'],
] as const

export function parseSheetsRow(layout: Layout, cells: string[]): Parsed<SheetsRow> {
  const errors: FieldError[] = []
  const accountId = read(layout, cells, errors, 'account_id', IdSchema)
  const sheet: PutContactSheet = { billing: [] }
  for (const [column, slot] of SINGLE_COLUMNS) {
    const v = cell(layout, cells, column)
    if (v === '') sheet[slot] = null
    // an address is told from a user id by its "@", which ids cannot hold; the contact service
    // then answers `external-email-not-allowed` for any slot but security, as the API does
    else if (v.includes('@')) sheet[slot] = { email: read(layout, cells, errors, column, EmailSchema) ?? '' }
    else sheet[slot] = { userId: read(layout, cells, errors, column, IdSchema) ?? '' }
  }
  for (const i of layout.billing) {
    const column = layout.header[i]!.trim().toLowerCase()
    const v = cells[i] ?? ''
    if (v === '') continue
    if (v.includes('@')) errors.push({ path: `/${column}`, message: 'must be a user id: billing contacts are users' })
    else {
      const userId = read(layout, cells, errors, column, IdSchema)
      if (userId) sheet.billing!.push({ userId })
    }
  }
  if (layout.rules) {
    // as `rules` of PUT .../contacts: the whole set, a slot left out (an empty cell) inheriting
    const rules: NonNullable<PutContactSheet['rules']> = {}
    for (const slot of SLOT_NAMES) {
      const rule = read(layout, cells, errors, RULE_COLUMNS[slot], SlotRuleSchema, true) as SlotRule | undefined
      if (rule) rules[slot] = rule
    }
    sheet.rules = rules
  }
  if (errors.length > 0) return { errors }
  return { value: { accountId: accountId!, sheet } }
}

/** The account id a row names, even when the row is otherwise bad ('' when there is none). */
export const accountIdOf = (layout: Layout, cells: string[]): string => cell(layout, cells, 'account_id')
