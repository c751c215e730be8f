import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyReply } from 'fastify'

import { AccountParamsSchema } from '../accounts/accounts.schemas.ts'
import { bodyProblems, problems } from '../app/route-helpers.ts'
import { inWords } from '../i18n/labels.ts'
import { MAX_BILLING_CONTACTS, RULE_SLOT_PATHS, SLOT_PATHS } from './contact-slots.ts'
import {
  BillingParamsSchema,
  type ContactSheet,
  ContactSheetSchema,
  IfMatchHeadersSchema,
  PutContactSheetSchema,
  RuleParamsSchema,
  SetSlotRuleSchema,
  SlotInputSchema,
  SlotParamsSchema,
  UserRefSchema,
} from './contacts.schemas.ts'
import type { ContactService } from './contacts.service.ts'
import { sheetEtag } from './if-match.ts'

const tags = ['contacts']
const Sheet = Type.Ref(ContactSheetSchema)
/** Sheet writes answer the new sheet; a stale If-Match is 412, and the sheet's rules (docs/PRODUCT.md, "The domain") are 409/422. */
const writeProblems = (...s: number[]) => problems(400, 403, 404, 412, ...s)

const withEtag = (reply: FastifyReply, sheet: ContactSheet) =>
  reply.header('etag', sheetEtag(sheet.version)).send(sheet)

export const contactRoutes: FastifyPluginAsyncTypebox<{ contacts: ContactService }> = async (app, { contacts }) => {
  app.get(
    '/v1/accounts/:accountId/contacts',
    {
      config: { access: 'account:read' },
      schema: {
        tags,
        operationId: 'getContacts',
        summary: "The account's contact sheet, with its version as the ETag",
        params: AccountParamsSchema,
        response: { 200: Sheet, ...problems(400, 404) },
      },
    },
    async (req, reply) => withEtag(reply, await contacts.getSheet(req.params.accountId)),
  )

  app.put(
    '/v1/accounts/:accountId/contacts',
    {
      config: { access: 'account:write' },
      schema: {
        tags,
        operationId: 'replaceContacts',
        summary: 'Replace the whole sheet (If-Match required)',
        params: AccountParamsSchema,
        headers: IfMatchHeadersSchema,
        body: PutContactSheetSchema,
        response: { 200: Sheet, ...bodyProblems(403, 404, 409, 412, 422, 428) },
      },
    },
    async (req, reply) =>
      withEtag(reply, await contacts.replaceSheet(req.ctx(), req.params.accountId, req.body, req.headers['if-match'])),
  )

  app.put(
    '/v1/accounts/:accountId/contacts/:slot',
    {
      config: { access: 'account:write' },
      schema: {
        tags,
        operationId: 'setContact',
        summary: 'Set one slot to a user, or (security only) an email address',
        params: SlotParamsSchema,
        headers: IfMatchHeadersSchema,
        body: Type.Ref(SlotInputSchema),
        response: { 200: Sheet, ...bodyProblems(403, 404, 412, 422) },
      },
    },
    async (req, reply) =>
      withEtag(
        reply,
        await contacts.setSlot(
          req.ctx(),
          req.params.accountId,
          SLOT_PATHS[req.params.slot]!,
          req.body,
          req.headers['if-match'],
        ),
      ),
  )

  app.delete(
    '/v1/accounts/:accountId/contacts/:slot',
    {
      config: { access: 'account:write' },
      schema: {
        tags,
        operationId: 'clearContact',
        summary: 'Empty one slot',
        params: SlotParamsSchema,
        headers: IfMatchHeadersSchema,
        response: { 200: Sheet, ...writeProblems() },
      },
    },
    async (req, reply) =>
      withEtag(
        reply,
        await contacts.clearSlot(
          req.ctx(),
          req.params.accountId,
          SLOT_PATHS[req.params.slot]!,
          req.headers['if-match'],
        ),
      ),
  )

  app.post(
    '/v1/accounts/:accountId/contacts/billing',
    {
      config: { access: 'account:write' },
      schema: {
        tags,
        operationId: 'addBillingContact',
        summary: `Add a billing contact (at most ${inWords(MAX_BILLING_CONTACTS, 'en')})`,
        params: AccountParamsSchema,
        headers: IfMatchHeadersSchema,
        body: Type.Ref(UserRefSchema),
        response: { 200: Sheet, ...bodyProblems(403, 404, 409, 412, 422) },
      },
    },
    async (req, reply) =>
      withEtag(
        reply,
        await contacts.addBilling(req.ctx(), req.params.accountId, req.body.userId, req.headers['if-match']),
      ),
  )

  app.delete(
    '/v1/accounts/:accountId/contacts/billing/:userId',
    {
      config: { access: 'account:write' },
      schema: {
        tags,
        operationId: 'removeBillingContact',
        summary: 'Remove a billing contact',
        params: BillingParamsSchema,
        headers: IfMatchHeadersSchema,
        response: { 200: Sheet, ...writeProblems() },
      },
    },
    async (req, reply) =>
      withEtag(
        reply,
        await contacts.removeBilling(req.ctx(), req.params.accountId, req.params.userId, req.headers['if-match']),
      ),
  )

  app.put(
    '/v1/accounts/:accountId/contacts/billing/:userId',
    {
      config: { access: 'account:write' },
      schema: {
        tags,
        operationId: 'replaceBillingContact',
        summary: 'Put another user in the place of a billing contact, keeping the order',
        params: BillingParamsSchema,
        headers: IfMatchHeadersSchema,
        body: Type.Ref(UserRefSchema),
        response: { 200: Sheet, ...bodyProblems(403, 404, 409, 412, 422) },
      },
    },
    async (req, reply) =>
      withEtag(
        reply,
        await contacts.replaceBilling(
          req.ctx(),
          req.params.accountId,
          req.params.userId,
          req.body.userId,
          req.headers['if-match'],
        ),
      ),
  )

  app.put(
    '/v1/accounts/:accountId/contacts/rules/:slot',
    {
      config: { access: 'account:write' },
      schema: {
        tags,
        operationId: 'setContactRule',
        summary: "Set how one slot composes with the parent account's: inherit, add, replace or none",
        params: RuleParamsSchema,
        headers: IfMatchHeadersSchema,
        body: SetSlotRuleSchema,
        response: { 200: Sheet, ...bodyProblems(403, 404, 412) },
      },
    },
    async (req, reply) =>
      withEtag(
        reply,
        await contacts.setRule(
          req.ctx(),
          req.params.accountId,
          RULE_SLOT_PATHS[req.params.slot]!,
          req.body.rule,
          req.headers['if-match'],
        ),
      ),
  )

  app.post(
    '/v1/accounts/:accountId/contacts/review',
    {
      config: { access: 'account:write' },
      schema: {
        tags,
        operationId: 'reviewContacts',
        summary: 'Confirm that the contacts are up to date',
        params: AccountParamsSchema,
        response: { 200: Sheet, ...problems(400, 403, 404) },
      },
    },
    async (req, reply) => withEtag(reply, await contacts.review(req.ctx(), req.params.accountId)),
  )
}
