import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

import { AccountParamsSchema } from '../accounts/accounts.schemas.ts'
import { problems } from '../app/route-helpers.ts'
import { PageQuerySchema } from '../lib/schemas.ts'
import { AuditEventPageSchema } from './audit.schemas.ts'
import type { AuditService } from './audit.service.ts'

export const auditRoutes: FastifyPluginAsyncTypebox<{ audit: AuditService }> = async (app, { audit }) => {
  app.get(
    '/v1/accounts/:accountId/audit-events',
    {
      config: { access: 'account:read' },
      schema: {
        tags: ['audit'],
        operationId: 'listAuditEvents',
        summary: "The account's history, newest first",
        params: AccountParamsSchema,
        querystring: PageQuerySchema,
        response: { 200: AuditEventPageSchema, ...problems(400, 404) },
      },
    },
    async (req) => audit.list(req.params.accountId, { limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  )
}
