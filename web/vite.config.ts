import { fileURLToPath } from 'node:url'

import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

const root = fileURLToPath(new URL('.', import.meta.url))
const api = 'http://localhost:3000'

/**
 * The settings page, built into web/dist and served by Fastify under /ui (src/ui/ui.routes.ts).
 * The server's Content-Security-Policy allows only files of its own origin, so nothing may be
 * inlined: no inline scripts, styles only from the emitted .css file.
 */
export default defineConfig({
  root,
  base: '/ui/',
  plugins: [react()],
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
