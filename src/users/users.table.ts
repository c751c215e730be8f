import type { ColumnType, Insertable, Selectable } from 'kysely'

import type { UserRole } from '../lib/actor.ts'

export type UserStatus = 'active' | 'deactivated'

export interface UsersTable {
  account_id: string
  id: string
  email: string
  name: string
  role: UserRole
  status: UserStatus
  locale: 'en' | 'fi' | null
  created_at: ColumnType<Date, never, never>
  updated_at: ColumnType<Date, never, Date>
}

export type UserRow = Selectable<UsersTable>
export type NewUserRow = Insertable<UsersTable>
