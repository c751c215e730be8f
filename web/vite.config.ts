import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

import react from '@vitejs/plugin-react'
import { defineConfig, type Plugin } from 'vite'

const root = fileURLToPath(new URL('.', import.meta.url))
const api = 'http://localhost:3000'

/** Files smaller than this are sent as they are: compressing them saves less than a packet. */
const COMPRESS_FROM_BYTES = 1024

/**
 * Writes a brotli (`.br`) and a gzip (`.gz`) copy beside each script and stylesheet, at the
 * highest levels, once at build time: the server sends the copy the browser accepts
 * (`preCompressed`, src/ui/ui.routes.ts) and never compresses per request.
 */
const precompress = (): Plugin => ({
  name: 'account-contacts-precompress',
  apply: 'build',
  closeBundle() {
    const assets = path.join(root, 'dist/assets')
    for (const name of fs.readdirSync(assets)) {
      if (!/\.(js|css|svg)$/.test(name)) continue
      const file = path.join(assets, name)
      const body = fs.readFileSync(file)
      if (body.length < COMPRESS_FROM_BYTES) continue
      fs.writeFileSync(
        `${file}.br`,
        brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY } }),
      )
      fs.writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }))
    }
  },
})

/**
 * The settings page, built into web/dist and served by Fastify under /ui (src/ui/ui.routes.ts).
 * The server's Content-Security-Policy allows only files of its own origin, so nothing may be
 * inlined: no inline scripts, styles only from the emitted .css file.
 */
export default defineConfig({
  root,
  base: '/ui/',
  plugins: [react(), precompress()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // never turn small assets into data: URLs inside the CSS or JS
    assetsInlineLimit: 0,
  },
  // `npx vite --config web/vite.config.ts` for development, beside `npm start` on port 3000
  server: {
    fs: { allow: ['..'] },
    proxy: { '/v1': api, '/ui/session': api, '/ui/sign-out': api, '/ui/demo-mail': api },
  },
})
