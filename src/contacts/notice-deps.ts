import type { Db } from '../db/database.ts'
import type { Locale } from '../i18n/labels.ts'
import type { RequestContext } from '../lib/actor.ts'
import type { VerificationService } from '../verification/verification.service.ts'
import type { NoticeDeps } from './contact-notices.ts'

const CALLER_NAMES: Record<Locale, { platform: string; system: string }> = {
  en: { platform: 'an administrator, through the service', system: 'the system' },
  fi: { platform: 'ylläpitäjä palvelun kautta', system: 'järjestelmä' },
}

/** The lookups contact notices need, over the users table. */
export function createNoticeDeps(verification: Pick<VerificationService, 'sendVerification'>): NoticeDeps {
  return {
    sendVerification: verification.sendVerification,
    /** How the change's author is named in mail: the user's name, or what kind of caller it was. */
    async actorName(db: Db, ctx: RequestContext, locale: Locale) {
      if (ctx.actor.type === 'user') {
        const u = await db
          .selectFrom('users')
          .select('name')
          .where('account_id', '=', ctx.actor.accountId)
          .where('id', '=', ctx.actor.id)
          .executeTakeFirst()
        return u?.name ?? ctx.actor.id
      }
      return CALLER_NAMES[locale][ctx.actor.type === 'api_key' ? 'platform' : 'system']
    },
  }
}
