import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'

import type { Browser, Locator, Page } from 'playwright-core'

import { ACCOUNT_HEADER } from '../../src/delivery/transports/transport.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { getSheet, type MadeAccount, makeAccount } from '../helpers/factories.ts'
import { suiteScope } from '../helpers/suite-scope.ts'
import {
  assertAccessible,
  ensurePageBuilt,
  launchChromium,
  openTab,
  screenshot,
  section,
  servePage,
  signIn,
  skipReason,
  type Tab,
  until,
} from './browser.ts'

// The settings page (docs/PRODUCT.md, "The settings page") in a real Chromium against the real app on a real
// socket: the page's steps, the limits, the languages, read-only members, problems next to their fields, and axe.

/** Gives an account and its users real names, so that the screenshots read like a real page. */
async function dress(app: TestApp, a: MadeAccount, name: string, people: Record<string, string>) {
  assert.equal(
    (await app.call({ method: 'PATCH', url: `/v1/accounts/${a.accountId}`, payload: { name } })).statusCode,
    200,
  )
  for (const [key, person] of Object.entries(people)) {
    const res = await app.call({
      method: 'PATCH',
      url: `/v1/accounts/${a.accountId}/users/${a.users[key]}`,
      payload: { name: person },
    })
    assert.equal(res.statusCode, 200, res.body)
  }
}

/** Chooses a user in the labelled dropdown and presses its Save. */
async function choose(page: Page, label: string, userId: string) {
  const select = page.getByRole('combobox', { name: label, exact: true })
  await select.selectOption(userId)
  await select
    .locator('xpath=..')
    .getByRole('button', { name: /^Save|^Tallenna/ })
    .click()
}

async function sawSaved(where: Locator, words = 'Saved') {
  await where.getByRole('status').filter({ hasText: words }).first().waitFor()
}

/** One mail of `accountId`'s, as the eml transport writes it (the mailbox shows only the account's own). */
const oneMail = (accountId: string) =>
  [
    'From: account-contacts <no-reply@example.com>',
    'To: Olivia Reed <olivia@example.com>',
    'Subject: [Test] Invoices',
    'Date: Fri, 27 Nov 2026 09:00:00 +0000',
    'Message-ID: <test-1@account-contacts>',
    `${ACCOUNT_HEADER}: ${accountId}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    'A test message.',
    '',
  ].join('\r\n')

describe('[pglite] the settings page in Chromium', { skip: skipReason() }, () => {
  const suite = suiteScope()
  let app: TestApp
  let browser: Browser
  let origin: string
  const mailDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-demo-mail-'))

  before(async () => {
    ensurePageBuilt()
    app = await buildTestApp(suite.scope, 'pglite', { config: { mailDir } })
    origin = await servePage(app)
    browser = await launchChromium()
  })
  after(async () => {
    await browser?.close()
    await suite.close()
    fs.rmSync(mailDir, { recursive: true, force: true })
  })

  /** A signed-in tab, its console watched: `noConsoleErrors` then says no CSP violation happened. */
  async function open(a: MadeAccount, userKey: string): Promise<Tab> {
    const tab = await openTab(browser)
    await signIn(app, origin, tab, a.accountId, a.users[userKey]!)
    return tab
  }
  const noConsoleErrors = (tab: Tab) => assert.deepEqual(tab.errors, [], 'console errors on the page')

  test('an admin fills the sheet step by step: primary contact, three billing contacts, other contacts, an outside security address', async () => {
    const a = await makeAccount(app, { extraUsers: 4 })
    await dress(app, a, 'Northwind Traders Ltd', {
      admin: 'Olivia Reed',
      billing: 'Marcus Chen',
      member: 'Priya Natarajan',
      u1: 'Daniel Okafor',
      u2: 'Sofia Lindqvist',
      u3: 'James Whitaker',
      u4: 'Hannah Müller',
    })
    fs.writeFileSync(path.join(mailDir, '2026-11-27T09-00-00.000Z_test-1@account-contacts.eml'), oneMail(a.accountId))
    const tab = await open(a, 'admin')
    const { page } = tab
    // the token left the address bar; the page is "Account & Billing" › "Company information"
    assert.equal(page.url(), `${origin}/ui/`)
    await page.getByRole('heading', { level: 1, name: 'Account & Billing' }).waitFor()
    assert.equal(
      await page
        .getByRole('navigation')
        .getByRole('link', { name: 'Company information' })
        .getAttribute('aria-current'),
      'page',
    )

    // Primary account contact: "Select a user", choose, Save, "Saved"; the API agrees
    const primary = section(page, 'Primary account contact')
    assert.equal(await primary.getByRole('combobox', { name: 'Primary account contact' }).inputValue(), '')
    await choose(page, 'Primary account contact', a.users.admin!)
    await sawSaved(primary)
    assert.equal((await getSheet(app, a.accountId)).sheet.primary.userId, a.users.admin)

    // Billing contacts: one dropdown each, "Add another" until three, then it is gone
    const billing = section(page, 'Billing contacts')
    const picks = [a.users.billing!, a.users.u1!, a.users.u2!]
    for (const [i, userId] of picks.entries()) {
      if (i > 0) await billing.getByRole('button', { name: 'Add another' }).click()
      await choose(page, `Billing contact ${i + 1}`, userId)
      const saved = async () =>
        (await billing.getByRole('combobox').count()) === i + 1 &&
        (await billing.getByRole('combobox', { name: `Billing contact ${i + 1}`, exact: true }).inputValue()) === userId
      await until(`billing contact ${i + 1} is saved`, saved)
      await sawSaved(billing)
    }
    assert.equal(await billing.getByRole('button', { name: 'Add another' }).count(), 0)
    await billing.getByText('The account has three billing contacts').waitFor()
    assert.deepEqual(
      (await getSheet(app, a.accountId)).sheet.billing.map((c: { userId: string }) => c.userId),
      picks,
    )
    // a fourth is refused by the API too
    const fourth = await app.call({
      method: 'POST',
      url: `/v1/accounts/${a.accountId}/contacts/billing`,
      payload: { userId: a.users.u3 },
    })
    assert.equal(fourth.statusCode, 409)
    assert.equal(fourth.json().code, 'billing-contact-limit')

    // Other contacts: a decision maker, and an outside address as the security contact (pending)
    const other = section(page, 'Other contacts')
    await choose(page, 'Decision maker', a.users.u3!)
    await sawSaved(other)
    await other.getByRole('radio', { name: 'an email address' }).check()
    await other
      .getByRole('textbox', { name: 'Email address of the security contact' })
      .fill('security@contractor.example')
    await other.getByRole('button', { name: /^Save/ }).click()
    await other.getByText('Pending verification', { exact: true }).waitFor()
    await other.getByRole('button', { name: 'Resend verification email' }).waitFor()
    const { sheet } = await getSheet(app, a.accountId)
    assert.equal(sheet.decisionMaker.userId, a.users.u3)
    assert.deepEqual(sheet.security, { type: 'email', email: 'security@contractor.example', verification: 'pending' })

    // confirm up to date, and send a test invoice to whoever receives invoices
    const review = section(page, 'Are the contacts up to date?')
    await review.getByRole('button', { name: 'Confirm contacts are up to date' }).click()
    await sawSaved(review, 'Confirmed')
    await review.getByText(/^Last confirmed up to date: \d+ \w+ \d{4}$/).waitFor()
    const invoices = section(page, 'Who receives what').getByRole('row', { name: /^Invoices/ })
    await invoices.getByText('Olivia Reed').waitFor()
    await invoices.getByRole('button', { name: 'Send test: Invoices' }).click()
    await invoices.getByRole('status').filter({ hasText: 'Test message sent to 4 recipients' }).waitFor()

    // the warnings, the history (newest first) and the demo mailbox are there
    await section(page, 'Warnings').getByText('security@contractor.example has not verified').waitFor()
    const history = section(page, 'History')
    await history.getByRole('row').nth(1).getByText('Contacts confirmed up to date').waitFor()
    await history.getByText('Decision maker: — → James Whitaker').waitFor()
    await section(page, 'Sent mail (demo)').getByText('[Test] Invoices').waitFor()

    await page.reload()
    await section(page, 'History').getByRole('row').nth(3).waitFor()
    await section(page, 'Who receives what')
      .getByRole('row', { name: /^Invoices/ })
      .getByText('Olivia Reed')
      .waitFor()
    await section(page, 'Warnings').getByRole('listitem').first().waitFor()
    await section(page, 'Sent mail (demo)').getByText('[Test] Invoices').waitFor()
    await assertAccessible(page, 'the English page')
    await screenshot(page, 'settings-en.png')
    noConsoleErrors(tab)
  })

  test('the history pages with "Load more"', async () => {
    const a = await makeAccount(app, { extraUsers: 1 })
    // 6 user.created + account.created + 24 changes = 31 events; pages of 20
    for (let i = 0; i < 12; i++) {
      for (const method of ['PUT', 'DELETE'] as const) {
        const res = await app.call({
          method,
          url: `/v1/accounts/${a.accountId}/contacts/onboarding`,
          ...(method === 'PUT' ? { payload: { userId: a.users.u1 } } : {}),
        })
        assert.equal(res.statusCode, 200, res.body)
      }
    }
    const { page } = await open(a, 'admin')
    // the page leaves the sign-ins out: the host product mints a session each time it opens the page
    const all = await app.call({
      method: 'GET',
      url: `/v1/accounts/${a.accountId}/audit-events?limit=200&exclude=session.created`,
    })
    const total = (all.json().data as unknown[]).length
    assert.ok(total > 20 && total <= 40, `${total} events`)
    const history = section(page, 'History')
    const rows = history.locator('tbody tr')
    await until('the first page is shown', async () => (await rows.count()) === 20)
    await history.getByRole('button', { name: 'Load more' }).click()
    await until('the rest is shown', async () => (await rows.count()) === total)
    assert.equal(await history.getByRole('button', { name: 'Load more' }).count(), 0)
    assert.equal(await history.getByText('Sign-in link created').count(), 0)
    const times: string[] = []
    for (const t of await history.locator('tbody time').all()) times.push((await t.getAttribute('datetime')) ?? '')
    assert.deepEqual(times, [...times].sort().reverse(), 'newest first')
  })

  test('a Finnish account is in Finnish, and the switch changes the language and is remembered', async () => {
    const a = await makeAccount(app, { locale: 'fi', extraUsers: 3 })
    await dress(app, a, 'Pohjolan Puu Oy', {
      admin: 'Aino Virtanen',
      billing: 'Mikko Korhonen',
      member: 'Liisa Nieminen',
      u1: 'Juha Mäkinen',
      u2: 'Elina Hämäläinen',
      u3: 'Antti Laine',
    })
    const put = (slot: string, payload: object) =>
      app.call({ method: 'PUT', url: `/v1/accounts/${a.accountId}/contacts/${slot}`, payload })
    await put('primary', { userId: a.users.admin })
    await app.call({
      method: 'POST',
      url: `/v1/accounts/${a.accountId}/contacts/billing`,
      payload: { userId: a.users.billing },
    })
    await put('onboarding', { userId: a.users.u1 })
    await put('technical-admin', { userId: a.users.u3 })
    await put('security', { email: 'tietoturva@kumppani.example' })

    const tab = await open(a, 'admin')
    const { page } = tab
    await page.getByRole('heading', { level: 1, name: 'Tili ja laskutus' }).waitFor()
    assert.equal(await page.locator('html').getAttribute('lang'), 'fi')
    await page.getByRole('link', { name: 'Yritystiedot' }).waitFor()
    for (const h of ['Ensisijainen tilin yhteyshenkilö', 'Laskutusyhteyshenkilöt', 'Muut yhteystiedot']) {
      await page.getByRole('heading', { level: 2, name: h }).waitFor()
    }
    await page.getByRole('button', { name: 'Lisää toinen' }).waitFor()
    const decisionMaker = page.getByRole('combobox', { name: 'Päätöksentekijä', exact: true })
    assert.equal(await decisionMaker.locator('option').first().textContent(), 'Valitse käyttäjä')
    await page.getByText('Odottaa vahvistusta', { exact: true }).waitFor()
    await section(page, 'Kuka saa mitäkin viestejä')
      .getByRole('row', { name: /^Laskut/ })
      .getByText('Aino Virtanen')
      .waitFor()
    await section(page, 'Muutoshistoria').getByRole('row').nth(1).waitFor()
    await assertAccessible(page, 'the Finnish page')
    await screenshot(page, 'settings-fi.png')

    // the switch: English now, and still after a reload (kept in localStorage)
    await page.getByRole('group', { name: 'Kieli' }).getByRole('button', { name: 'English' }).click()
    await page.getByRole('heading', { level: 1, name: 'Account & Billing' }).waitFor()
    await page.reload()
    await page.getByRole('heading', { level: 2, name: 'Primary account contact' }).waitFor()
    assert.equal(await page.locator('html').getAttribute('lang'), 'en')
    await page.getByRole('button', { name: 'Suomi' }).click()
    await page.getByRole('heading', { level: 1, name: 'Tili ja laskutus' }).waitFor()
    noConsoleErrors(tab)
  })

  test('a member sees the contacts but can change nothing, and is told why', async () => {
    const a = await makeAccount(app, { extraUsers: 1 })
    await app.call({
      method: 'PUT',
      url: `/v1/accounts/${a.accountId}/contacts/primary`,
      payload: { userId: a.users.admin },
    })
    const tab = await open(a, 'member')
    const { page } = tab
    await page.getByText('You can see the contacts but not change them').waitFor()
    const selects = page.locator('main select')
    assert.ok((await selects.count()) >= 5)
    for (const s of await selects.all()) assert.equal(await s.isDisabled(), true)
    assert.equal(await page.getByRole('combobox', { name: 'Primary account contact' }).inputValue(), a.users.admin)
    // the only buttons left are the language, signing out and refreshing lists
    const buttons = await page.locator('main button').allTextContents()
    assert.deepEqual(
      buttons.filter((b) => !/^(Load more|Refresh)$/.test(b)),
      [],
    )
    for (const name of ['Add another', 'Confirm contacts are up to date', 'Remove']) {
      assert.equal(await page.getByRole('button', { name }).count(), 0, name)
    }
    await assertAccessible(page, 'the read-only page')
    noConsoleErrors(tab)
    // and the server refuses a write made with the member's cookie and CSRF token anyway
    const status = await page.evaluate(`(async () => {
      const csrf = document.cookie.split('; ').find((c) => c.startsWith('ac_csrf='))?.slice(8) ?? ''
      const res = await fetch('/v1/accounts/${a.accountId}/contacts/primary', {
        method: 'PUT', credentials: 'same-origin',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({ userId: '${a.users.member}' }),
      })
      return res.status
    })()`)
    assert.equal(status, 403)
    assert.equal((await getSheet(app, a.accountId)).sheet.primary.userId, a.users.admin)
  })

  test('a problem is shown in words next to its field, and the field says it is invalid', async () => {
    const a = await makeAccount(app, { allowedEmailDomains: ['example.com'] })
    const { page } = await open(a, 'billing')
    const other = section(page, 'Other contacts')
    await other.getByRole('radio', { name: 'an email address' }).check()
    const input = other.getByRole('textbox', { name: 'Email address of the security contact' })
    await page.getByText('The address must be in: example.com.').waitFor()

    await input.fill('someone@elsewhere.org')
    await other.getByRole('button', { name: /^Save/ }).click()
    const error = page.locator('#security-email-error')
    await error.getByText('The address must be in one of the domains this account allows: example.com.').waitFor()
    assert.equal(await input.getAttribute('aria-invalid'), 'true')
    assert.match((await input.getAttribute('aria-describedby')) ?? '', /\bsecurity-email-error\b/)
    assert.equal(await other.getByRole('status').filter({ hasText: 'Saved' }).count(), 0)

    await input.fill('not an address')
    await other.getByRole('button', { name: /^Save/ }).click()
    await error.getByText('This is not a valid email address.').waitFor()
    assert.equal((await getSheet(app, a.accountId)).sheet.security, null)

    // fixed, it saves and the problem goes
    await input.fill('security@example.com')
    await other.getByRole('button', { name: /^Save/ }).click()
    await other.getByText('Pending verification', { exact: true }).waitFor()
    assert.equal(await error.textContent(), '')
    assert.equal(await input.getAttribute('aria-invalid'), null)
  })

  test('a billing dropdown replaces its contact in place; a change meanwhile conflicts only when it was to the same slot, and says who made it', async () => {
    const a = await makeAccount(app, { extraUsers: 3 })
    for (const key of ['u1', 'u2']) {
      await app.call({
        method: 'POST',
        url: `/v1/accounts/${a.accountId}/contacts/billing`,
        payload: { userId: a.users[key] },
      })
    }
    const tab = await open(a, 'admin')
    const { page } = tab
    const billing = section(page, 'Billing contacts')
    await choose(page, 'Billing contact 1', a.users.u3!)
    await sawSaved(billing)
    const ids = async () => (await getSheet(app, a.accountId)).sheet.billing.map((c: { userId: string }) => c.userId)
    assert.deepEqual(await ids(), [a.users.u3, a.users.u2])

    // someone else sets the primary contact; this page still shows the sheet before that
    await app.call({
      method: 'PUT',
      url: `/v1/accounts/${a.accountId}/contacts/primary`,
      payload: { userId: a.users.billing },
    })
    // another slot: no conflict, it saves, and the page shows the other change too
    await choose(page, 'Decision maker', a.users.u1!)
    await sawSaved(section(page, 'Other contacts'))
    assert.equal((await getSheet(app, a.accountId)).sheet.decisionMaker.userId, a.users.u1)
    assert.equal((await getSheet(app, a.accountId)).sheet.primary.userId, a.users.billing)
    await until(
      'the page shows the newer sheet',
      async () =>
        (await page.getByRole('combobox', { name: 'Primary account contact' }).inputValue()) === a.users.billing,
    )

    // the same slot: a conflict, which says who set what
    await app.call({
      method: 'PUT',
      url: `/v1/accounts/${a.accountId}/contacts/decision-maker`,
      payload: { userId: a.users.u2 },
    })
    await choose(page, 'Decision maker', a.users.u3!)
    await page
      .locator('#decision-maker-error')
      .getByText(
        /^The platform \(API key\) set Decision maker to User u2 at .*make your change again if you still want it\.$/,
      )
      .waitFor()
    // nothing was overwritten, and the page now shows the other change
    assert.equal((await getSheet(app, a.accountId)).sheet.decisionMaker.userId, a.users.u2)
    await until(
      'the page shows the newer sheet',
      async () => (await page.getByRole('combobox', { name: 'Decision maker' }).inputValue()) === a.users.u2,
    )
    // made again, it saves
    await choose(page, 'Decision maker', a.users.u3!)
    await sawSaved(section(page, 'Other contacts'))
    assert.equal((await getSheet(app, a.accountId)).sheet.decisionMaker.userId, a.users.u3)
    // the billing place is replaced in place by its own call, so a change elsewhere does not stop it either
    await app.call({ method: 'DELETE', url: `/v1/accounts/${a.accountId}/contacts/primary` })
    await choose(page, 'Billing contact 2', a.users.u1!)
    await sawSaved(billing)
    assert.deepEqual(await ids(), [a.users.u3, a.users.u1])
  })

  test('without a session the page says how to sign in again', async () => {
    const tab = await openTab(browser)
    await tab.page.goto(`${origin}/ui/`)
    await tab.page.getByText('You are signed out; open the sign-in link from your product again.').waitFor()
    // so does a sign-in link that is no good, which still leaves the address bar
    await tab.page.goto(`${origin}/ui/sign-in#token=acs_nope.not-a-real-token`)
    await tab.page.getByText('You are signed out; open the sign-in link from your product again.').waitFor()
    assert.equal(tab.page.url(), `${origin}/ui/`)
  })
})
