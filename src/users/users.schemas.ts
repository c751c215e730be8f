import { type Static, Type } from '@sinclair/typebox'

import { DateTimeSchema, EmailSchema, IdSchema, LineSchema, LocaleSchema, PageSchema, Strict } from '../lib/schemas.ts'

/** The longest user name the API takes (and so the longest it answers with). */
export const USER_NAME_MAX = 200

export const RoleSchema = Type.Union([
  Type.Literal('super_admin'),
  Type.Literal('billing_admin'),
  Type.Literal('member'),
])
export const UserStatusSchema = Type.Union([Type.Literal('active'), Type.Literal('deactivated')])

export const UserSchema = Type.Object(
  {
    id: IdSchema,
    accountId: IdSchema,
    email: EmailSchema,
    name: Type.String({ maxLength: USER_NAME_MAX }),
    role: RoleSchema,
    status: UserStatusSchema,
    locale: Type.Union([LocaleSchema, Type.Null()]),
    createdAt: DateTimeSchema,
    updatedAt: DateTimeSchema,
  },
  { $id: 'User' },
)
export type User = Static<typeof UserSchema>

/** The host product's view of a user, as `PUT .../users/{userId}` mirrors it. */
export const PutUserSchema = Strict({
  email: EmailSchema,
  name: LineSchema({ maxLength: USER_NAME_MAX }),
  role: RoleSchema,
  status: Type.Optional(UserStatusSchema),
  locale: Type.Optional(Type.Union([LocaleSchema, Type.Null()])),
})
export type PutUser = Static<typeof PutUserSchema>

export const PatchUserSchema = Strict(
  {
    email: Type.Optional(EmailSchema),
    name: Type.Optional(LineSchema({ maxLength: USER_NAME_MAX })),
    role: Type.Optional(RoleSchema),
    status: Type.Optional(UserStatusSchema),
    locale: Type.Optional(Type.Union([LocaleSchema, Type.Null()])),
  },
  { minProperties: 1 },
)
export type PatchUser = Static<typeof PatchUserSchema>

export const UserParamsSchema = Strict({ accountId: IdSchema, userId: IdSchema })

export const UserPageSchema = PageSchema(UserSchema)
