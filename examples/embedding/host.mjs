// A host product's settings page that shows account-contacts' page in a frame (docs/EMBEDDING.md).
//
//   ACCOUNT_CONTACTS_URL=https://contacts.example.com ACCOUNT_CONTACTS_API_KEY=... \
//   ACCOUNT_ID=acme USER_ID=aino PORT=4000 node examples/embedding/host.mjs
//
// and the service started with UI_FRAME_ANCESTORS=<this page's origin>. For each visit the host
// signs its user in with the platform key (POST …/sessions) and puts the sign-in URL in the frame;
// the frame tells the host its height, and the host sizes the frame to it.
import http from 'node:http'
import { fileURLToPath } from 'node:url'

const escapeAttribute = (s) => s.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;')

/**
 * The host's page: its own header, and the frame. It listens only to messages from the service's
 * origin, and only for the height, which it applies to the frame.
 */
export function hostPage({ frameSrc, serviceOrigin }) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Settings · Example host product</title>
<style>
  body { margin: 0; font-family: system-ui, sans-serif; background: #f6f6f8; }
  header { padding: 0.75rem 1.5rem; background: #2d1b4e; color: #fff; }
  main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
  iframe { display: block; width: 100%; height: 40rem; border: 0; }
</style>
</head>
<body>
<header><strong>Example host product</strong> · Settings</header>
<main>
  <iframe id="account-contacts" title="Account contacts" src="${escapeAttribute(frameSrc)}"></iframe>
</main>
<script>
  const SERVICE = ${JSON.stringify(serviceOrigin)};
  const frame = document.getElementById('account-contacts');
  window.frameHeights = [];
  window.addEventListener('message', (event) => {
    if (event.origin !== SERVICE || event.source !== frame.contentWindow) return;
    if (event.data?.type !== 'account-contacts:height' || typeof event.data.height !== 'number') return;
    window.frameHeights.push(event.data.height);
    frame.style.height = event.data.height + 'px';
  });
</script>
</body>
</html>
`
}

/** Signs `userId` in with the platform key; answers the page's sign-in URL. */
export async function signInUrl({ serviceUrl, apiKey, accountId, userId }) {
  const res = await fetch(`${serviceUrl}/v1/accounts/${encodeURIComponent(accountId)}/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ userId }),
  })
  if (res.status !== 201) throw new Error(`POST …/sessions answered ${res.status}: ${await res.text()}`)
  return (await res.json()).url
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const serviceUrl = (process.env.ACCOUNT_CONTACTS_URL ?? 'http://localhost:3000').replace(/\/+$/, '')
  const opts = {
    serviceUrl,
    apiKey: process.env.ACCOUNT_CONTACTS_API_KEY ?? '',
    accountId: process.env.ACCOUNT_ID ?? '',
    userId: process.env.USER_ID ?? '',
  }
  const port = Number(process.env.PORT ?? 4000)
  http
    .createServer(async (req, res) => {
      if (req.url !== '/') return res.writeHead(404).end()
      try {
        const frameSrc = await signInUrl(opts)
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        res.end(hostPage({ frameSrc, serviceOrigin: new URL(serviceUrl).origin }))
      } catch (e) {
        res.writeHead(502, { 'content-type': 'text/plain' }).end(String(e))
      }
    })
    .listen(port, () => console.log(`host page on http://localhost:${port}/ framing ${serviceUrl}`))
}
