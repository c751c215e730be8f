import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import type { Browser, Locator, Page } from 'playwright-core'

import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { getSheet, type MadeAccount, makeAccount, putSheet } from '../helpers/factories.ts'
import { suiteScope } from '../helpers/suite-scope.ts'
import { testWorker } from '../helpers/test-worker.ts'
import { type SmtpSink, startSmtpSink } from '../peers/smtp-sink.ts'
import {
  assertAccessible,
  assertNoOverflow,
  ensurePageBuilt,
  focused,
  launchChromium,
  openTab,
  screenshot,
  section,
  servePage,
  signIn,
  skipReason,
  type Tab,
  tabTo,
  until,
} from './browser.ts'

// The bounce-to-role loop on the settings page (docs/BOUNCES.md), in a real Chromium against the
// real app: a receipt to the billing contact bounces (reported by Postmark's webhook, as
// test/bounces/bounce-loop.test.ts does it), so the contact is marked, the mail history shows the
// bounce and the fallback, and an admin clears the address and sends the receipt again, by keyboard,
// at 320 px, in English and Finnish.

const POSTMARK = { username: 'hooks', password: 'postmark-webhook-password' }
const REASON = 'smtp;550 5.1.1 The email account that you tried to reach does not exist.'
/** A long address, which must wrap at 320 px. */
const longAddress = (key: string) => `accounts.payable.department.${key}@invoices.northwind-traders.example`

/** One mail of the mail history, by its subject. */
const entry = (page: Page, history: string, subject: string): Locator =>
  section(page, history)
    .locator('li.mail-entry')
    .filter({ has: page.getByRole('heading', { level: 3, name: subject }) })

/** The reference the mail to `address` with this subject carried, as an email service reports it back. */
function refOf(sink: SmtpSink, subject: string, address: string): string {
  const m = sink.messages.find(
    (x) =>
      x.subject === subject &&
      (Array.isArray(x.to) ? x.to : x.to ? [x.to] : []).some((a) =>
        a.value.some((v) => v.address?.toLowerCase() === address),
      ),
  )
  const ref = m?.headers.get('x-account-contacts-ref')
  assert.equal(typeof ref, 'string', `no reference on the mail to ${address}`)
  return ref as string
}

describe('[pglite] bounces on the settings page in Chromium', { skip: skipReason() }, () => {
  const suite = suiteScope()
  let app: TestApp
  let browser: Browser
  let origin: string
  let sink: SmtpSink
  let drain: () => Promise<void>

  before(async () => {
    ensurePageBuilt()
    app = await buildTestApp(suite.scope, 'pglite', { emailEvents: { providers: { postmark: POSTMARK } } })
    sink = await startSmtpSink()
    suite.scope.after(() => sink.close())
    drain = testWorker(suite.scope, app, { smtpUrl: sink.url }).drain
    origin = await servePage(app)
    browser = await launchChromium()
  })
  after(async () => {
    await browser?.close()
    await suite.close()
  })

  /**
   * An account whose billing contact's mailbox does not exist: a receipt went to them (the relay
   * took it), Postmark reported the bounce, and the receipt went to the primary contact instead.
   */
  async function bouncedAccount(locale: 'en' | 'fi'): Promise<MadeAccount & { dead: string; admin: string }> {
    const a = await makeAccount(app, { locale, extraUsers: 1 })
    const people: Record<string, object> = {
      admin: { name: locale === 'fi' ? 'Aino Virtanen' : 'Olivia Reed' },
      member: { name: locale === 'fi' ? 'Mikko Korhonen' : 'Marcus Chen', email: longAddress(a.users.member!) },
      u1: { name: locale === 'fi' ? 'Juha Mäkinen' : 'Daniel Okafor' },
    }
    for (const [key, payload] of Object.entries(people)) {
      const res = await app.call({ method: 'PATCH', url: `/v1/accounts/${a.accountId}/users/${a.users[key]}`, payload })
      assert.equal(res.statusCode, 200, res.body)
    }
    await putSheet(app, a.accountId, { primary: { userId: a.users.admin }, billing: [{ userId: a.users.member }] })
    const dead = longAddress(a.users.member!)
    const sent = await app.call({
      method: 'POST',
      url: `/v1/accounts/${a.accountId}/notifications`,
      payload: { category: 'receipt', subject: 'Your receipt', text: 'Thank you.' },
    })
    assert.equal(sent.statusCode, 202, sent.body)
    await drain()
    const bounce = await app.app.inject({
      method: 'POST',
      url: '/v1/email-events/postmark',
      headers: {
        authorization: `Basic ${Buffer.from(`${POSTMARK.username}:${POSTMARK.password}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      payload: JSON.stringify({
        RecordType: 'Bounce',
        ID: Math.floor(Math.random() * 1e9),
        Type: 'HardBounce',
        TypeCode: 1,
        MessageID: `pm-${a.accountId}`,
        Email: dead,
        Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
        Details: REASON,
        BouncedAt: new Date().toISOString(),
        Metadata: { 'ac-ref': refOf(sink, 'Your receipt', dead) },
      }),
    })
    assert.equal(bounce.statusCode, 200, bounce.body)
    await drain()
    const { sheet } = await getSheet(app, a.accountId)
    assert.equal(sheet.billing[0].undeliverable?.kind, 'hard_bounce', 'the bounce reached the sheet')
    return { ...a, dead, admin: `${a.users.admin}@example.com` }
  }

  async function open(a: MadeAccount, userKey: string): Promise<Tab> {
    const tab = await openTab(browser)
    await signIn(app, origin, tab, a.accountId, a.users[userKey]!)
    return tab
  }
  const suppressed = async (accountId: string) =>
    (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/suppressions` })).json().data as unknown[]

  test('a bounced billing contact is marked, the mail history shows the bounce and the fallback, and an admin fixes it by keyboard at 320 px', async () => {
    const a = await bouncedAccount('en')
    const tab = await open(a, 'admin')
    const { page } = tab

    // the billing contact carries the mark, which the dropdown names to screen readers
    const billing = section(page, 'Billing contacts')
    const mark = billing.locator('#billing-0-undeliverable')
    await mark
      .getByText(/^!Mail to this address has not arrived since \d+ \w+ \d{4} \(bounced: smtp;550 5\.1\.1/)
      .waitFor()
    assert.match(
      (await page.locator('#billing-0').getAttribute('aria-describedby')) ?? '',
      /\bbilling-0-undeliverable\b/,
    )
    assert.equal(await section(page, 'Primary account contact').locator('.undeliverable').count(), 0)
    // the warnings say it too
    await section(page, 'Warnings').getByText(a.dead, { exact: false }).waitFor()

    // the mail history: the receipt bounced for the billing contact, and went to the primary instead
    const receipt = entry(page, 'Mail history', 'Your receipt')
    await receipt.getByText('Receipts', { exact: true }).waitFor()
    const deadRow = receipt.locator('.mail-recipients > li').filter({ hasText: a.dead })
    await deadRow.getByText('Role: Billing contact', { exact: true }).waitFor()
    await deadRow.getByText(`Bounced: ${REASON}`, { exact: true }).waitFor()
    const fallbackRow = receipt.locator('.mail-recipients > li').filter({ hasText: a.admin })
    await fallbackRow.getByText(`Sent in place of ${a.dead}`, { exact: true }).waitFor()
    await fallbackRow.getByText('Delivered', { exact: true }).waitFor()
    // the service's own mail to the admins is listed, and cannot be sent again
    const fix = section(page, 'Mail history')
      .locator('li.mail-entry')
      .filter({ hasText: 'Undeliverable contact notices' })
    await fix.first().waitFor()
    assert.equal(await fix.first().getByRole('button').count(), 0)
    await assertAccessible(page, 'the page with a bounced contact')

    // 320 px: nothing scrolls sideways, the long address wraps
    await page.setViewportSize({ width: 320, height: 800 })
    await assertNoOverflow(page, 'English, with the mark')
    await screenshot(page, 'bounces-320-en.png')
    await assertAccessible(page, 'the page at 320 px')

    // keyboard: from the billing dropdown, Tab reaches "Mail works again"; Enter clears the address
    await page.locator('#billing-0').focus()
    await tabTo(page, `Mail works again: ${a.dead}`)
    await page.keyboard.press('Enter')
    await billing
      .getByRole('status')
      .filter({ hasText: `Mail goes to ${a.dead} again` })
      .waitFor()
    await until('the mark is gone', async () => (await billing.locator('.undeliverable').count()) === 0)
    assert.equal((await focused(page)).id, 'billing-0', 'focus is back on the slot')
    assert.deepEqual(await suppressed(a.accountId), [])
    await section(page, 'History').getByText(`Address marked as working again: ${a.dead}`).waitFor()

    // someone else becomes the billing contact; "Send again to the current contacts" reaches them, once
    await putSheet(app, a.accountId, { primary: { userId: a.users.admin }, billing: [{ userId: a.users.u1 }] })
    await receipt.getByRole('heading', { level: 3 }).focus()
    await tabTo(page, 'Send again to the current contacts: Your receipt')
    await page.keyboard.press('Enter')
    await receipt.getByRole('status').filter({ hasText: 'Sent again to 1 recipient' }).waitFor()
    const newRow = receipt.locator('.mail-recipients > li').filter({ hasText: `${a.users.u1}@example.com` })
    await newRow.getByText('Role: Billing contact', { exact: true }).waitFor()
    await newRow.locator('.delivery-status').waitFor()
    await page.keyboard.press('Enter')
    await receipt
      .getByRole('status')
      .filter({ hasText: 'Nothing was sent again: everyone it goes to now was sent it already.' })
      .waitFor()
    await drain()
    assert.equal(
      sink.messages.filter((m) => m.subject === 'Your receipt' && JSON.stringify(m.to).includes(a.users.u1!)).length,
      1,
    )
    await assertNoOverflow(page, 'English, after the resend')
    assert.deepEqual(tab.errors, [], 'console errors on the page')
  })

  test('in Finnish the mark and the mail history are in Finnish, and fit 320 px', async () => {
    const a = await bouncedAccount('fi')
    const tab = await open(a, 'admin')
    const { page } = tab
    await page.setViewportSize({ width: 320, height: 800 })
    await page.getByRole('heading', { level: 1, name: 'Tili ja laskutus' }).waitFor()
    const billing = section(page, 'Laskutusyhteyshenkilöt')
    await billing
      .getByText(/Posti tähän osoitteeseen ei ole mennyt perille \d+\.\d+\.\d{4} lähtien \(palautui: smtp;550/)
      .waitFor()
    await billing.getByRole('button', { name: `Posti toimii taas: ${a.dead}` }).waitFor()
    const receipt = entry(page, 'Viestihistoria', 'Your receipt')
    await receipt.getByText('Kuitit', { exact: true }).waitFor()
    const deadRow = receipt.locator('.mail-recipients > li').filter({ hasText: a.dead })
    await deadRow.getByText('Rooli: Laskutusyhteyshenkilö', { exact: true }).waitFor()
    await deadRow.getByText(`Palautui: ${REASON}`, { exact: true }).waitFor()
    const fallbackRow = receipt.locator('.mail-recipients > li').filter({ hasText: a.admin })
    await fallbackRow.getByText(`Lähetetty osoitteen ${a.dead} sijaan`, { exact: true }).waitFor()
    await fallbackRow.getByText('Toimitettu', { exact: true }).waitFor()
    await receipt.getByRole('button', { name: 'Lähetä uudelleen nykyisille yhteyshenkilöille: Your receipt' }).waitFor()
    await section(page, 'Muutoshistoria').getByText('Posti yhteyshenkilölle ei mene perille').first().waitFor()
    await assertNoOverflow(page, 'Finnish')
    await assertAccessible(page, 'the Finnish page at 320 px')
    await screenshot(page, 'bounces-320-fi.png')

    await billing.getByRole('button', { name: `Posti toimii taas: ${a.dead}` }).click()
    await billing
      .getByRole('status')
      .filter({ hasText: `Osoitteeseen ${a.dead} lähetetään taas postia` })
      .waitFor()
    await until('the mark is gone', async () => (await billing.locator('.undeliverable').count()) === 0)
    assert.deepEqual(tab.errors, [], 'console errors on the page')
  })

  test('a member sees the mark and the history, but can neither clear nor resend', async () => {
    const a = await bouncedAccount('en')
    const { page } = await open(a, 'member')
    const billing = section(page, 'Billing contacts')
    await billing.getByText('Nothing is sent to it until an admin fixes the contact.', { exact: false }).waitFor()
    assert.equal(await billing.getByRole('button', { name: /Mail works again/ }).count(), 0)
    await entry(page, 'Mail history', 'Your receipt').getByText(`Bounced: ${REASON}`).waitFor()
    assert.equal(await page.getByRole('button', { name: /^Send again/ }).count(), 0)
    await assertAccessible(page, 'the read-only page with a bounced contact')
  })

  test('the mail history shows ten at a time; "Load more" brings the rest and moves focus to it', async () => {
    const a = await makeAccount(app)
    await putSheet(app, a.accountId, { primary: { userId: a.users.admin } })
    for (let i = 1; i <= 12; i++) {
      const res = await app.call({
        method: 'POST',
        url: `/v1/accounts/${a.accountId}/notifications`,
        payload: { category: 'invoice', subject: `Invoice ${i}`, text: 'Due.' },
      })
      assert.equal(res.statusCode, 202, res.body)
    }
    const { page } = await open(a, 'admin')
    const history = section(page, 'Mail history')
    const entries = history.locator('li.mail-entry')
    await until('the first page is shown', async () => (await entries.count()) === 10)
    await history.getByRole('heading', { level: 3, name: 'Invoice 12' }).waitFor()
    await entries.first().locator('.delivery-status').waitFor()
    // by keyboard: from the last mail of the page, Tab reaches "Load more"
    await entries.nth(9).getByRole('heading', { level: 3 }).focus()
    await tabTo(page, 'Load more: Mail history')
    await page.keyboard.press('Enter')
    await until('the rest is shown', async () => (await entries.count()) === 12)
    assert.equal(await history.getByRole('button', { name: /^Load more/ }).count(), 0)
    // the button is gone, and focus is on the first mail it brought, the oldest but one
    await until('focus moved to the new mail', async () => (await focused(page)).name === 'Invoice 2')
    const subjects = await history.locator('li.mail-entry h3').allTextContents()
    assert.deepEqual(
      subjects,
      Array.from({ length: 12 }, (_, i) => `Invoice ${12 - i}`),
      'newest first',
    )
  })
})
