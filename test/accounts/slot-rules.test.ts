import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import type { SlotRule } from '../../src/contacts/slot-rules.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { getSheet, type MadeAccount, makeAccount, putSheet } from '../helpers/factories.ts'
import { mailParts, mailTo, toAddresses } from '../helpers/mail-parts.ts'
import { appWithMail } from '../helpers/test-worker.ts'

/*
 * Parent and child accounts (issue 16): each slot's rule (inherit, add, replace, none) composed
 * down chains of one to five accounts, as the routing sees it (the recipients preview, which is
 * the send's own query) and as the sheet shows it (`inherited`).
 *
 * In every chain only the root has a primary contact, and every level inherits it: a receipt that
 * finds no billing contact falls back to the primary, which is then the root's, inherited.
 */

/**
 * One level of a chain, root first: its billing rule, and whether it has a billing contact of
 * its own (`+`). `inherit` is written '' to keep the table readable.
 */
type Level = `${'' | 'add' | 'replace' | 'none'}${'' | '+'}`

interface Case {
  levels: Level[]
  /** The levels whose billing contact a receipt to the leaf reaches, root first; none: the fallback. */
  billing: number[]
}

const CASES: Case[] = [
  { levels: ['+'], billing: [0] },
  { levels: [''], billing: [] },
  { levels: ['+', ''], billing: [0] },
  { levels: ['+', '+'], billing: [1] },
  { levels: ['+', 'add+'], billing: [0, 1] },
  { levels: ['+', 'add'], billing: [0] },
  { levels: ['+', 'replace'], billing: [] },
  { levels: ['+', 'replace+'], billing: [1] },
  { levels: ['+', 'none+'], billing: [] },
  { levels: ['+', '', ''], billing: [0] },
  { levels: ['+', 'add+', ''], billing: [0, 1] },
  { levels: ['+', 'add+', 'add+'], billing: [0, 1, 2] },
  { levels: ['+', 'none', 'add+'], billing: [2] },
  { levels: ['+', 'replace', ''], billing: [] },
  { levels: ['', '+', 'add', 'replace+'], billing: [3] },
  { levels: ['+', '+', '', 'add'], billing: [1] },
  { levels: ['+', '', '', '', ''], billing: [0] },
  { levels: ['+', 'add+', '', 'add', ''], billing: [0, 1] },
  { levels: ['+', 'add+', 'add+', 'add+', 'add+'], billing: [0, 1, 2, 3, 4] },
  { levels: ['+', '+', 'replace+', '', 'none'], billing: [] },
  { levels: ['+', 'replace+', '+', 'add', 'add+'], billing: [2, 4] },
]

const ruleOf = (level: Level): SlotRule => (level.replace('+', '') || 'inherit') as SlotRule

async function setRule(app: TestApp, accountId: string, slot: string, rule: SlotRule) {
  const r = await app.call({
    method: 'PUT',
    url: `/v1/accounts/${accountId}/contacts/rules/${slot}`,
    payload: { rule },
  })
  assert.equal(r.statusCode, 200, r.body)
  return r.json()
}

/** The chain of a case, root first: the root's super admin as its primary, each level's billing admin as its billing contact where the case says. */
async function makeChain(app: TestApp, levels: Level[]): Promise<MadeAccount[]> {
  const chain: MadeAccount[] = []
  for (const level of levels) {
    const parentAccountId = chain.at(-1)?.accountId
    const acc = await makeAccount(app, parentAccountId ? { parentAccountId } : {})
    if (chain.length === 0) {
      const r = await app.call({
        method: 'PUT',
        url: `/v1/accounts/${acc.accountId}/contacts/primary`,
        payload: { userId: acc.users.admin },
      })
      assert.equal(r.statusCode, 200, r.body)
    }
    if (level.endsWith('+')) {
      const r = await app.call({
        method: 'POST',
        url: `/v1/accounts/${acc.accountId}/contacts/billing`,
        payload: { userId: acc.users.billing },
      })
      assert.equal(r.statusCode, 200, r.body)
    }
    if (ruleOf(level) !== 'inherit') await setRule(app, acc.accountId, 'billing', ruleOf(level))
    chain.push(acc)
  }
  return chain
}

const preview = async (app: TestApp, accountId: string, category: string) => {
  const r = await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/recipients?category=${category}` })
  assert.equal(r.statusCode, 200, r.body)
  return r.json()
}

/** makeAccount's name for an account. */
const nameOf = (acc: MadeAccount) => `Account ${acc.accountId}`
const emailOf = (acc: MadeAccount, key: string) => `${acc.users[key]}@example.com`

for (const kind of DATABASES) {
  describe(`[${kind}] slot rules through a chain of accounts`, () => {
    test('each rule at depths 1 to 5: who a receipt to the leaf reaches, from where, by which rule', async (t) => {
      const app = await buildTestApp(t, kind)
      for (const c of CASES) {
        const label = `[${c.levels.map((l) => l || 'inherit').join(' → ')}]`
        const chain = await makeChain(app, c.levels)
        const leaf = chain.at(-1)!
        const leafRule = ruleOf(c.levels.at(-1)!)
        const got = await preview(app, leaf.accountId, 'receipt')
        if (c.billing.length === 0) {
          // no billing contact reaches the leaf: the receipt's fallback, the primary, is the root's
          const root = chain[0]!
          assert.equal(got.fallback, 'primary', label)
          assert.deepEqual(
            got.recipients.map((r: { email: string }) => r.email),
            [emailOf(root, 'admin')],
            label,
          )
          const via =
            chain.length > 1
              ? [{ slot: 'primary', fromAccountId: root.accountId, fromAccountName: nameOf(root), rule: 'inherit' }]
              : undefined
          assert.deepEqual(got.recipients[0].inherited, via, label)
          continue
        }
        assert.equal(got.fallback, null, label)
        const expected = c.billing.map((i) => {
          const from = chain[i]!
          const inherited =
            from === leaf
              ? {}
              : {
                  inherited: [
                    { slot: 'billing', fromAccountId: from.accountId, fromAccountName: nameOf(from), rule: leafRule },
                  ],
                }
          return { email: emailOf(from, 'billing'), slots: ['billing'], ...inherited }
        })
        const sorted = (xs: { email: string }[]) => [...xs].sort((a, b) => a.email.localeCompare(b.email))
        assert.deepEqual(
          sorted(
            got.recipients.map((r: { email: string; slots: string[]; inherited?: unknown }) => ({
              email: r.email,
              slots: r.slots,
              ...(r.inherited ? { inherited: r.inherited } : {}),
            })),
          ),
          sorted(expected),
          label,
        )
        // the sheet shows the same holders as inherited, nearest ancestor first
        const { sheet } = await getSheet(app, leaf.accountId)
        assert.equal(sheet.rules.billing, leafRule, label)
        if (chain.length > 1) {
          const fromAbove = c.billing.filter((i) => chain[i] !== leaf).reverse()
          assert.deepEqual(
            sheet.inherited.billing.map((h: { email: string; fromAccountId: string }) => [h.email, h.fromAccountId]),
            fromAbove.map((i) => [emailOf(chain[i]!, 'billing'), chain[i]!.accountId]),
            label,
          )
        } else assert.equal(sheet.inherited, undefined, label)
      }
    })

    test('none on the primary of a child: no inherited fallback, so a receipt with no billing contact goes to its super admins', async (t) => {
      const app = await buildTestApp(t, kind)
      const [root, leaf] = await makeChain(app, ['', ''])
      assert.deepEqual(
        (await preview(app, leaf!.accountId, 'receipt')).recipients.map((r: { email: string }) => r.email),
        [emailOf(root!, 'admin')],
      )
      const sheet = await setRule(app, leaf!.accountId, 'primary', 'none')
      assert.equal(sheet.rules.primary, 'none')
      assert.deepEqual(sheet.inherited.primary, [])
      const got = await preview(app, leaf!.accountId, 'receipt')
      assert.equal(got.fallback, 'super_admins')
      assert.deepEqual(
        got.recipients.map((r: { email: string }) => r.email),
        [emailOf(leaf!, 'admin')],
      )
      // none takes the child's own holder too: mail reaches nobody there, and the health says so,
      // both its own and as its parent's list of descendants judges it
      await putSheet(app, leaf!.accountId, { primary: { userId: leaf!.users.member } })
      const health = (await app.call({ method: 'GET', url: `/v1/accounts/${leaf!.accountId}/health` })).json()
      assert.ok(
        health.problems.some((p: { code: string }) => p.code === 'no-primary-contact'),
        JSON.stringify(health),
      )
      const below = (await app.call({ method: 'GET', url: `/v1/accounts/${root!.accountId}/descendants` })).json()
      assert.deepEqual(below.data.find((d: { accountId: string }) => d.accountId === leaf!.accountId).health, health)
    })

    test('a rule change is a versioned, audited change of the sheet; PUT without rules keeps them, with rules replaces them', async (t) => {
      const app = await buildTestApp(t, kind)
      const [, leaf] = await makeChain(app, ['+', ''])
      const { etag, sheet: before } = await getSheet(app, leaf!.accountId)
      const after = await setRule(app, leaf!.accountId, 'billing', 'replace')
      assert.equal(after.version, before.version + 1)
      const stale = await app.call({
        method: 'PUT',
        url: `/v1/accounts/${leaf!.accountId}/contacts/rules/decision-maker`,
        headers: { 'if-match': etag },
        payload: { rule: 'add' },
      })
      assert.equal(stale.statusCode, 412)
      const bad = await app.call({
        method: 'PUT',
        url: `/v1/accounts/${leaf!.accountId}/contacts/rules/billing`,
        payload: { rule: 'sometimes' },
      })
      assert.equal(bad.statusCode, 400)
      const audit = await app.call({ method: 'GET', url: `/v1/accounts/${leaf!.accountId}/audit-events` })
      const last = audit.json().data[0]
      assert.equal(last.action, 'contacts.updated')
      assert.equal(last.before.rules.billing, 'inherit')
      assert.equal(last.after.rules.billing, 'replace')
      // a whole-sheet PUT that says nothing of rules keeps them
      let { etag: e2 } = await getSheet(app, leaf!.accountId)
      const put = (payload: object, etag: string) =>
        app.call({
          method: 'PUT',
          url: `/v1/accounts/${leaf!.accountId}/contacts`,
          headers: { 'if-match': etag },
          payload,
        })
      const kept = await put({ primary: { userId: leaf!.users.admin } }, e2)
      assert.equal(kept.statusCode, 200, kept.body)
      assert.equal(kept.json().rules.billing, 'replace')
      e2 = kept.headers.etag as string
      const replaced = await put({ primary: { userId: leaf!.users.admin }, rules: { security: 'add' } }, e2)
      assert.equal(replaced.statusCode, 200, replaced.body)
      assert.equal(replaced.json().rules.billing, 'inherit')
      assert.equal(replaced.json().rules.security, 'add')
    })

    test('an invoice sent to a child reaches the holders its rules give it, each told whose contact they are', async (t) => {
      const { app, sink, drain } = await appWithMail(t, kind)
      const [root, mid, leaf] = await makeChain(app, ['+', 'add+', ''])
      const r = await app.call({
        method: 'POST',
        url: `/v1/accounts/${leaf!.accountId}/notifications`,
        payload: { category: 'invoice', subject: 'Invoice 1', text: 'Your invoice.' },
      })
      assert.equal(r.statusCode, 202, r.body)
      await drain()
      const expected = [emailOf(root!, 'admin'), emailOf(root!, 'billing'), emailOf(mid!, 'billing')]
      assert.deepEqual(sink.messages.flatMap(toAddresses).sort(), expected.sort())
      assert.equal(
        mailParts(mailTo(sink, 'Invoice 1', emailOf(mid!, 'billing')).text).why,
        `You receive this as billing contact of ${nameOf(mid!)}, for its account ${nameOf(leaf!)}.`,
      )
      assert.equal(
        mailParts(mailTo(sink, 'Invoice 1', emailOf(root!, 'admin')).text).why,
        `You receive this as primary account contact of ${nameOf(root!)}, for its account ${nameOf(leaf!)}.`,
      )
    })
  })
}
