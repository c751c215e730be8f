import type { ColumnType, Generated, Insertable, Selectable } from 'kysely'

export interface AccountsTable {
  id: string
  name: string
  locale: 'en' | 'fi'
  allowed_email_domains: string[] | null
  contacts_version: Generated<number>
  contacts_reviewed_at: Date | null
  created_at: ColumnType<Date, never, never>
  updated_at: ColumnType<Date, never, Date>
}

export type AccountRow = Selectable<AccountsTable>
export type NewAccountRow = Insertable<AccountsTable>
