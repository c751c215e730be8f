// Prints the OpenAPI document the service serves, without a database (for docs and client codegen).
import { buildApp } from '../src/app/build-app.ts'
import type { Services } from '../src/app/container.ts'

const app = await buildApp({ db: undefined } as unknown as Services, { publicUrl: 'http://localhost:3000', logLevel: 'silent', rateLimitPerMinute: 0 })
await app.ready()
process.stdout.write(JSON.stringify(app.swagger(), null, 2) + '\n')
await app.close()
