// Prints the OpenAPI document the service serves, without a database (for docs and client codegen).
// The one argument, optional, is the PUBLIC_URL it is served under (the document's server).
import { buildApp } from '../src/app/build-app.ts'
import type { Services } from '../src/app/container.ts'

const publicUrl = process.argv[2] ?? 'http://localhost:3000'
const app = await buildApp({ db: undefined } as unknown as Services, {
  publicUrl,
  logLevel: 'silent',
  rateLimitPerMinute: 0,
})
await app.ready()
process.stdout.write(JSON.stringify(app.swagger(), null, 2) + '\n')
await app.close()
