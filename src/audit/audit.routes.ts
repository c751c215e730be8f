import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

import { AccountParamsSchema } from '../accounts/accounts.schemas.ts'
import { problems } from '../app/route-helpers.ts'
import { PageQuerySchema } from '../lib/schemas.ts'
import { AuditEventPageSchema } from './audit.schemas.ts'
import type { AuditService } from './audit.service.ts'
import { AUDIT_ACTIONS } from './audit-events.ts'

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
        querystring: Type.Object(
          {
            ...PageQuerySchema.properties,
            exclude: Type.Optional(
              Type.Array(Type.Union(AUDIT_ACTIONS.map((a) => Type.Literal(a))), {
                maxItems: AUDIT_ACTIONS.length,
                description:
                  'Actions to leave out (`?exclude=session.created`: the settings page shows contact changes, not sign-ins)',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: AuditEventPageSchema, ...problems(400, 404) },
      },
    },
    async (req) =>
      audit.list(req.params.accountId, {
        limit: req.query.limit ?? 50,
        cursor: req.query.cursor,
        exclude: req.query.exclude ?? [],
      }),
  )
}
