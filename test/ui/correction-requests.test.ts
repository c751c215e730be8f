import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { AxeBuilder } from '@axe-core/playwright'
import type { Browser, Locator, Page } from 'playwright-core'

import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { type MadeAccount, makeAccount, putSheet } from '../helpers/factories.ts'
import { mailParts } from '../helpers/mail-parts.ts'
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
  section,
  servePage,
  signIn,
  skipReason,
  type Tab,
  tabTo,
  until,
} from './browser.ts'

// "Not the right person?" end to end in a real Chromium against the real app (docs/CORRECTIONS.md):
// a mail's link, its page at 320 px with the keyboard alone, and the settings page's banner of what
// was filed, dismissed by an admin with the keyboard alone, in English and Finnish.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
/** A long address, which must wrap at 320 px. */
const longAddress = (key: string) => `accounts.payable.department.${key}@invoices.northwind-traders.example`

/** A screenshot into test-results/ (kept out of git), to be looked at: the window (the top of the page), or one part of it. */
async function shot(target: Page | Locator, name: string) {
  const dir = path.join(ROOT, 'test-results')
  fs.mkdirSync(dir, { recursive: true })
  const opts = { path: path.join(dir, name), animations: 'disabled', caret: 'hide' } as const
  await target.screenshot(opts)
}

/** axe on one part of the page: no violation at all, of any impact. */
async function assertNoViolations(page: Page, selector: string, what: string) {
  const { violations } = await new AxeBuilder({ page }).include(selector).analyze()
  assert.deepEqual(
    violations.map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `axe on ${what}`,
  )
}

const to = (m: SmtpSink['messages'][number]) =>
  (Array.isArray(m.to) ? m.to : m.to ? [m.to] : []).flatMap((a) => a.value.map((v) => v.address!.toLowerCase()))

describe('[pglite] correction requests in Chromium', { skip: skipReason() }, () => {
  const suite = suiteScope()
  let app: TestApp
  let browser: Browser
  let origin: string
  let sink: SmtpSink
  let drain: () => Promise<void>

  before(async () => {
    ensurePageBuilt()
    app = await buildTestApp(suite.scope, 'pglite')
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

  /** An account whose two billing contacts (the member, at a long address, and u1) get the invoices. */
  async function account(locale: 'en' | 'fi') {
    const a = await makeAccount(app, { locale, extraUsers: 1 })
    const billing = [longAddress(a.users.member!), `${a.users.u1}@example.com`]
    const res = await app.call({
      method: 'PATCH',
      url: `/v1/accounts/${a.accountId}/users/${a.users.member}`,
      payload: { email: billing[0] },
    })
    assert.equal(res.statusCode, 200, res.body)
    await putSheet(app, a.accountId, {
      primary: { userId: a.users.admin },
      billing: [{ userId: a.users.member }, { userId: a.users.u1 }],
    })
    return { ...a, billing: billing as [string, string] }
  }

  /** Sends an invoice and answers the path of the "Not the right person?" link in the mail to `address`. */
  async function linkIn(a: MadeAccount, subject: string, address: string): Promise<string> {
    const sent = await app.call({
      method: 'POST',
      url: `/v1/accounts/${a.accountId}/notifications`,
      payload: { category: 'invoice', subject, text: 'Your invoice is attached.' },
    })
    assert.equal(sent.statusCode, 202, sent.body)
    await drain()
    const m = sink.messages.find((x) => x.subject === subject && to(x).includes(address.toLowerCase()))
    const link = mailParts(m?.text).link
    assert.ok(link, `the mail "${subject}" to ${address} has a link`)
    const u = new URL(link)
    return `${u.pathname}${u.search}`
  }

  /** Posts the link page's form, as the recipient's browser does. */
  async function file(url: string, form: Record<string, string>) {
    const token = new URL(url, origin).searchParams.get('token')!
    const res = await app.app.inject({
      method: 'POST',
      url: '/v1/not-the-right-person',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ token, suggestedEmail: '', note: '', ...form }).toString(),
    })
    assert.equal(res.statusCode, 200, res.body)
  }

  const openRequests = async (accountId: string) =>
    (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/correction-requests` })).json().data as {
      id: string
      reason: string
      email: string
    }[]

  async function open(a: MadeAccount, userKey: string, width = 1280): Promise<Tab> {
    const tab = await openTab(browser)
    await tab.page.setViewportSize({ width, height: 900 })
    const listed = tab.page.waitForResponse((r) => r.url().includes('/correction-requests'))
    await signIn(app, origin, tab, a.accountId, a.users[userKey]!)
    await listed
    return tab
  }

  test('a filed request shows in the banner; the admin goes to the slot and dismisses both requests by keyboard; a reload shows none', async () => {
    const a = await account('en')
    await file(await linkIn(a, 'Invoice 1024', a.billing[0]), {
      reason: 'left',
      suggestedEmail: 'new.billing@example.com',
      note: 'I moved to sales.',
    })
    await file(await linkIn(a, 'Invoice 1025', a.billing[1]), { reason: 'not_me' })
    const tab = await open(a, 'admin')
    const { page } = tab

    const banner = section(page, 'Mail that reached the wrong person')
    await banner.waitFor()
    const entries = banner.locator('li.correction')
    assert.equal(await entries.count(), 2)
    // newest first: u1's "not me", then the member's "I left", with all it carries
    const [newer, older] = [entries.nth(0), entries.nth(1)]
    await newer
      .getByRole('heading', { level: 3, name: `${a.billing[1]} says the address is wrong: the mail is not for them.` })
      .waitFor()
    await older
      .getByRole('heading', { level: 3, name: `${a.billing[0]} says they no longer work there, or no longer do this.` })
      .waitFor()
    await older
      .getByText(
        /^About “Invoice 1024” \(Invoices\), which came to them as billing contact\. Reported on \d+ \w+ \d{4}\.$/,
      )
      .waitFor()
    await older.getByText('They suggest: new.billing@example.com', { exact: true }).waitFor()
    await older.getByText('Their note: “I moved to sales.”', { exact: true }).waitFor()
    assert.equal(await newer.getByText(/They suggest|Their note/).count(), 0)
    // near the top: above the contacts
    assert.ok(
      (await banner.boundingBox())!.y < (await section(page, 'Primary account contact').boundingBox())!.y,
      'the banner is above the contacts',
    )
    await assertNoViolations(page, '#corrections-section', 'the banner')
    await assertAccessible(page, 'the page with the banner')

    // keyboard alone, from the top of the page: the first "Go to" puts focus on u1's billing place
    await tabTo(page, 'Go to the billing contact', 12)
    await page.keyboard.press('Enter')
    assert.equal((await focused(page)).id, 'billing-1', 'u1 holds the second billing place')

    // back to the banner; Dismiss the newer one: it goes, focus moves to the one left
    await page.locator('#page-title').focus()
    await tabTo(page, `Dismiss: ${a.billing[1]}`, 6)
    await page.keyboard.press('Enter')
    await page
      .getByRole('status')
      .filter({ hasText: `Dismissed the request from ${a.billing[1]}` })
      .waitFor()
    await until('one entry is left', async () => (await entries.count()) === 1)
    await until('focus is on the entry left', async () => (await focused(page)).id.startsWith('correction-'))
    assert.equal((await focused(page)).name, `${a.billing[0]} says they no longer work there, or no longer do this.`)

    // from there, Go to reaches the member's place; then Dismiss the last one: the banner goes, focus is at the top
    await tabTo(page, 'Go to the billing contact', 1)
    await page.keyboard.press('Enter')
    assert.equal((await focused(page)).id, 'billing-0')
    await page.locator('li.correction h3').focus()
    await tabTo(page, `Dismiss: ${a.billing[0]}`, 2)
    await page.keyboard.press('Enter')
    await page
      .getByRole('status')
      .filter({ hasText: `Dismissed the request from ${a.billing[0]}` })
      .waitFor()
    await until('the banner is gone', async () => (await banner.count()) === 0)
    await until('focus is on the page heading', async () => (await focused(page)).id === 'page-title')
    assert.deepEqual(await openRequests(a.accountId), [])
    // the change history says so at once
    await until(
      'the history shows both dismissals',
      async () => (await section(page, 'History').getByText('Correction request dismissed').count()) === 2,
    )

    // a reload does not bring them back
    const listed = page.waitForResponse((r) => r.url().includes('/correction-requests'))
    await page.reload()
    await page.locator('#primary').waitFor()
    await listed
    await section(page, 'Mail history').waitFor()
    assert.equal(await banner.count(), 0)
    assert.deepEqual(tab.errors, [], 'console errors on the page')
  })

  test('at 320 px the banner wraps, in English and in Finnish', async () => {
    for (const locale of ['en', 'fi'] as const) {
      const a = await account(locale)
      await file(await linkIn(a, 'Lasku 2026-12-0042 / Northwind Traders Oy', a.billing[0]), {
        reason: 'someone_else',
        suggestedEmail: longAddress('instead'),
        note: 'Olen siirtynyt myyntiin.\nLaskut kuuluvat nyt talousosastolle: kysykää Mikolta.',
      })
      const tab = await open(a, 'admin', 320)
      const { page } = tab
      const title = locale === 'fi' ? 'Väärälle henkilölle menneet viestit' : 'Mail that reached the wrong person'
      const banner = section(page, title)
      await banner.waitFor()
      if (locale === 'fi') {
        await banner
          .getByRole('heading', { level: 3, name: `${a.billing[0]} kertoo, että viestit kuuluvat jollekulle muulle.` })
          .waitFor()
        await banner
          .getByText(
            /^Koskee viestiä ”Lasku 2026-12-0042 \/ Northwind Traders Oy” \(Laskut\), jonka hän sai, koska on laskutusyhteyshenkilö\. Ilmoitettu \d+\.\d+\.\d{4}\.$/,
          )
          .waitFor()
        await banner.getByText(`Ehdotus: ${longAddress('instead')}`, { exact: true }).waitFor()
        await banner.getByRole('button', { name: 'Siirry kohtaan Laskutusyhteyshenkilö' }).waitFor()
        await banner.getByRole('button', { name: `Kuittaa: ${a.billing[0]}` }).waitFor()
      }
      await assertNoOverflow(page, `the banner in ${locale} at 320 px`)
      await assertNoViolations(page, '#corrections-section', `the ${locale} banner at 320 px`)
      await shot(page, `correction-page-top-320-${locale}.png`)
      await shot(banner, `correction-banner-320-${locale}.png`)
      assert.deepEqual(tab.errors, [], 'console errors on the page')
      await tab.context.close()
    }
  })

  test('a member sees the banner without Dismiss; an admin who is made a member loses the button at the 403', async () => {
    const a = await account('en')
    await file(await linkIn(a, 'Invoice 7', a.billing[0]), { reason: 'left' })

    const member = await open(a, 'member')
    const banner = section(member.page, 'Mail that reached the wrong person')
    await banner.getByText(/the account’s admins decide who should receive them/).waitFor()
    await banner
      .getByRole('heading', { level: 3, name: new RegExp(`^${a.billing[0].replace(/\./g, '\\.')} says`) })
      .waitFor()
    assert.equal(await banner.getByRole('button', { name: /^Dismiss/ }).count(), 0)
    await assertNoViolations(member.page, '#corrections-section', 'the read-only banner')
    await member.context.close()

    // the billing admin's page offers Dismiss; they are made a member before pressing it
    const tab = await open(a, 'billing')
    const dismiss = section(tab.page, 'Mail that reached the wrong person').getByRole('button', {
      name: `Dismiss: ${a.billing[0]}`,
    })
    await dismiss.waitFor()
    const demoted = await app.call({
      method: 'PATCH',
      url: `/v1/accounts/${a.accountId}/users/${a.users.billing}`,
      payload: { role: 'member' },
    })
    assert.equal(demoted.statusCode, 200, demoted.body)
    await dismiss.focus()
    await tab.page.keyboard.press('Enter')
    const entry = tab.page.locator('li.correction')
    await entry.getByText(/^You may not change the contacts/).waitFor()
    await until('the button is gone', async () => (await dismiss.count()) === 0)
    assert.match((await focused(tab.page)).id, /^correction-/, 'focus is on the entry')
    assert.equal((await openRequests(a.accountId)).length, 1, 'nothing was dismissed')
  })

  test('the link page at 320 px: no answer chosen, Send alone posts nothing, "I left" by keyboard files it', async () => {
    const a = await account('en')
    const url = await linkIn(a, 'Invoice 9', a.billing[0])
    const tab = await openTab(browser)
    const { page } = tab
    await page.setViewportSize({ width: 320, height: 640 })
    const posts: string[] = []
    page.on('request', (r) => {
      if (r.method() === 'POST') posts.push(r.url())
    })
    await page.goto(`${origin}${url}`)
    await page.getByRole('heading', { level: 1, name: 'Not the right person?' }).waitFor()
    await assertNoOverflow(page, 'the link page at 320 px')
    await shot(page, 'correction-link-page-320.png')
    await assertAccessible(page, 'the link page')
    assert.equal(await page.locator('input[type=radio]').count(), 3)
    assert.equal(await page.locator('input[type=radio]:checked').count(), 0, 'no answer is chosen at first')

    // Send without an answer: the browser's required check stops it
    const send = page.getByRole('button', { name: 'Send to the administrators' })
    await send.focus()
    await page.keyboard.press('Enter')
    await page.waitForTimeout(300)
    assert.deepEqual(posts, [], 'nothing was posted')
    assert.equal(page.url(), `${origin}${url}`)
    assert.equal(
      await page.evaluate(`document.getElementById('reason-not_me').validity.valueMissing`),
      true,
      'the radios say an answer is missing',
    )
    assert.deepEqual(await openRequests(a.accountId), [])

    // keyboard alone, on the page afresh: Tab reaches the answers (the first, unchosen); Down chooses "I left"
    await page.goto(`${origin}${url}`)
    await page.keyboard.press('Tab')
    assert.equal((await focused(page)).id, 'reason-not_me')
    assert.equal(await page.locator('input[type=radio]:checked').count(), 0, 'Tab alone chooses nothing')
    await page.keyboard.press('ArrowDown')
    assert.equal(await page.locator('#reason-left').isChecked(), true)
    await tabTo(page, 'Send to the administrators', 4)
    await Promise.all([page.waitForURL(`${origin}/v1/not-the-right-person`), page.keyboard.press('Enter')])
    await page.getByText(/^Thank you\. The administrators of Account .* have been told\./).waitFor()
    await assertNoOverflow(page, 'the thanks page at 320 px')
    await shot(page, 'correction-link-thanks-320.png')
    const filed = await openRequests(a.accountId)
    assert.deepEqual(
      filed.map((r) => [r.email, r.reason]),
      [[a.billing[0], 'left']],
    )
    assert.deepEqual(tab.errors, [], 'no console error (a CSP violation would be one)')
  })
})
