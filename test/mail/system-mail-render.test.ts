import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { formatDate, listJoin, LOCALES } from '../../src/i18n/labels.ts'
import { escapeHtml } from '../../src/lib/html.ts'
import { renderSystemMail, type SystemMail } from '../../src/mail/system-mail.ts'

const expiresAt = new Date('2026-11-27T12:00:00Z')

/** One of each kind, with words its Finnish version must contain. */
const SAMPLES: Array<{ mail: SystemMail; fiWords: string[] }> = [
  {
    mail: {
      kind: 'verify-email',
      accountName: 'Acme Oy',
      email: 'sec@example.com',
      link: 'https://contacts.example.com/verify?t=abc',
      expiresAt,
    },
    fiWords: ['turvallisuusyhteyshenkilö'],
  },
  {
    mail: {
      kind: 'contact-changed',
      accountName: 'Acme Oy',
      slots: ['decisionMaker', 'security'],
      previousName: 'Matti Meikäläinen',
      newHolder: 'Liisa Virtanen',
      changedBy: 'Anna Admin',
    },
    fiWords: ['päätöksentekijä ja turvallisuusyhteyshenkilö'],
  },
  {
    mail: {
      kind: 'slots-vacated',
      accountName: 'Acme Oy',
      userName: 'Matti',
      slots: ['primary', 'technicalAdmin'],
      settingsUrl: 'https://x.example/ui',
    },
    fiWords: ['Ensisijainen tilin yhteyshenkilö', 'Tekninen ylläpitäjä', 'Tili ja laskutus > Yritystiedot'],
  },
  {
    mail: {
      kind: 'contacts-review',
      accountName: 'Acme Oy',
      lastReviewedAt: expiresAt,
      settingsUrl: 'https://x.example/ui',
    },
    fiWords: ['Ensisijainen tiliyhteyshenkilö', 'laskutusyhteyshenkilöt', '27.11.2026'],
  },
  {
    mail: {
      kind: 'test-message',
      accountName: 'Acme Oy',
      category: 'onboarding',
      recipientName: 'Liisa',
      slots: ['onboarding', 'billing'],
    },
    fiWords: ['käyttöönoton yhteyshenkilö ja laskutusyhteyshenkilö', '[Testi]'],
  },
]

describe('[mail] system mail', () => {
  for (const { mail, fiWords } of SAMPLES) {
    test(`[mail] ${mail.kind} renders in both locales; fi has its Finnish words; subjects differ`, () => {
      const out = Object.fromEntries(LOCALES.map((l) => [l, renderSystemMail(mail, l)] as const))
      for (const l of LOCALES) {
        const r = out[l]!
        assert.ok(r.subject.length > 0 && r.text.trim().length > 0 && r.html.includes('<p'), `${l} parts`)
        assert.ok(r.subject.includes('Acme Oy'), `${l} subject names the account`)
        assert.ok(r.html.includes(`<html lang="${l}">`))
        assert.doesNotMatch(r.html, /\b(?:src|srcset)=|<link|<script|url\(/i, 'no external resources')
      }
      const fi = out.fi!
      for (const w of fiWords) assert.ok(fi.text.includes(w) || fi.subject.includes(w), `fi has "${w}"`)
      assert.notEqual(out.en!.subject, fi.subject)
    })
  }

  test('[mail] contact-changed with an emptied slot says so in both locales', () => {
    const mail: SystemMail = {
      kind: 'contact-changed',
      accountName: 'A',
      slots: ['security'],
      previousName: 'M',
      newHolder: null,
      changedBy: 'X',
    }
    assert.match(renderSystemMail(mail, 'en').text, /this role is now empty/)
    assert.match(renderSystemMail(mail, 'fi').text, /tehtävä on nyt vapaana/)
    assert.equal(renderSystemMail(mail, 'fi').subject, 'Et ole enää tilin A turvallisuusyhteyshenkilö')
  })

  test('[mail] verify-email carries the link in text and html, and its expiry date', () => {
    for (const l of LOCALES) {
      const r = renderSystemMail(SAMPLES[0]!.mail, l)
      assert.ok(r.text.includes('https://contacts.example.com/verify?t=abc'))
      assert.ok(r.html.includes('href="https://contacts.example.com/verify?t=abc"'))
      assert.ok(r.text.includes(formatDate(expiresAt, l)))
    }
  })

  test('[mail] account name is HTML-escaped and CR/LF never reach the subject', () => {
    for (const l of LOCALES) {
      const xss = renderSystemMail(
        {
          kind: 'contacts-review',
          accountName: '<script>alert(1)</script>',
          lastReviewedAt: null,
          settingsUrl: 'https://x.example/ui',
        },
        l,
      )
      assert.ok(!xss.html.includes('<script>'))
      assert.ok(xss.html.includes('&#60;script&#62;alert(1)&#60;/script&#62;'))
      assert.ok(xss.text.includes('<script>'), 'the text part is plain text, not escaped')

      const inj = renderSystemMail(
        {
          kind: 'verify-email',
          accountName: 'Acme\r\nBcc: x@y',
          email: 'a@b.c',
          link: 'https://x.example/v',
          expiresAt,
        },
        l,
      )
      assert.doesNotMatch(inj.subject, /[\r\n]/)
      assert.ok(inj.subject.includes('Acme Bcc: x@y'))
    }
  })

  test('[mail] a non-web link is shown as text, never as an anchor', () => {
    const r = renderSystemMail(
      { kind: 'contacts-review', accountName: 'A', lastReviewedAt: null, settingsUrl: 'javascript:alert(1)' },
      'en',
    )
    assert.ok(!r.html.includes('href='))
  })

  test('[mail] escapeHtml, formatDate, listJoin', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;')
    assert.equal(formatDate(new Date('2026-01-05T23:30:00Z'), 'fi'), '5.1.2026')
    assert.equal(formatDate(expiresAt, 'en'), '27 November 2026')
    assert.equal(listJoin(['a', 'b', 'c'], 'en'), 'a, b and c')
    assert.equal(listJoin(['a', 'b', 'c'], 'fi'), 'a, b ja c')
    assert.equal(listJoin(['a'], 'fi'), 'a')
    assert.equal(listJoin([], 'en'), '')
  })
})
