import fs from 'node:fs'
import path from 'node:path'

import type { Services } from '../app/container.ts'
import type { RequestContext } from '../lib/actor.ts'
import { ensurePrivateDir } from '../lib/private-dir.ts'

export const DEMO_ACCOUNT_ID = 'demo'
export const DEMO_ADMIN_ID = 'aino'

const USERS = [
  { id: 'aino', name: 'Aino Virtanen', email: 'aino.virtanen@pohjolanpuu.fi', role: 'super_admin' },
  { id: 'mikko', name: 'Mikko Korhonen', email: 'mikko.korhonen@pohjolanpuu.fi', role: 'billing_admin' },
  { id: 'laura', name: 'Laura Nieminen', email: 'laura.nieminen@pohjolanpuu.fi', role: 'billing_admin' },
  { id: 'juha', name: 'Juha Mäkinen', email: 'juha.makinen@pohjolanpuu.fi', role: 'member' },
  { id: 'sanna', name: 'Sanna Laine', email: 'sanna.laine@pohjolanpuu.fi', role: 'member' },
  { id: 'eero', name: 'Eero Heikkinen', email: 'eero.heikkinen@pohjolanpuu.fi', role: 'member' },
] as const

const SYSTEM: RequestContext = { actor: { type: 'system', id: 'demo-seed' }, requestId: 'demo-seed' }

/**
 * The demo account of `npm start`: a Finnish company with six users and a filled sheet, one outside
 * security contact still pending. Seeded through the services, so it is audited like any change.
 * Returns false when the account exists already.
 */
export async function seedDemo(services: Services): Promise<boolean> {
  const existing = await services.accounts.get(DEMO_ACCOUNT_ID).catch(() => undefined)
  if (existing) return false
  await services.accounts.create(SYSTEM, { id: DEMO_ACCOUNT_ID, name: 'Pohjolan Puu Oy', locale: 'fi' })
  for (const u of USERS) {
    await services.users.put(SYSTEM, DEMO_ACCOUNT_ID, u.id, { email: u.email, name: u.name, role: u.role })
  }
  const sheet = await services.contacts.getSheet(DEMO_ACCOUNT_ID)
  await services.contacts.replaceSheet(
    SYSTEM,
    DEMO_ACCOUNT_ID,
    {
      primary: { userId: 'aino' },
      billing: [{ userId: 'mikko' }, { userId: 'laura' }],
      decisionMaker: { userId: 'juha' },
      onboarding: { userId: 'sanna' },
      security: { email: 'tietoturva@kyberkumppani.fi' },
      technicalAdmin: { userId: 'eero' },
    },
    `"${sheet.version}"`,
  )
  return true
}

/**
 * The demo's platform key, kept in DATA_DIR so that every `npm start` can print it again (only its
 * hash is in the database). Local development only: a real deployment uses `keys create`.
 */
export async function demoApiKey(services: Services, dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'demo-api-key')
  if (fs.existsSync(file)) {
    const key = fs.readFileSync(file, 'utf8').trim()
    if (await services.apiKeys.authenticate(key)) return key
  }
  const { key } = await services.apiKeys.create('demo')
  ensurePrivateDir(dataDir)
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600 })
  return key
}
