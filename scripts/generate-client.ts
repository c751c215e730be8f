// `npm run client:generate`: reads the OpenAPI document (scripts/dump-openapi.ts) on stdin and
// writes the typed client's types, src/client/schema.d.ts. test/client/client.test.ts regenerates
// them with `clientTypes` from the served document and fails when they differ from the file.
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'

import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from 'openapi-typescript'

export const SCHEMA_FILE = fileURLToPath(new URL('../src/client/schema.d.ts', import.meta.url))

/** The TypeScript declarations of a document, exactly as the committed file should read. */
export async function clientTypes(doc: object): Promise<string> {
  // silent: no banner on stderr; the same options here and in the test, or the two would differ
  const ast = await openapiTS(doc as OpenAPI3, { silent: true })
  return COMMENT_HEADER + astToString(ast)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  // read as a stream: readFileSync(0) fails with EAGAIN on the non-blocking pipe tsx hands over
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  const doc = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  fs.writeFileSync(SCHEMA_FILE, await clientTypes(doc))
  process.stderr.write(`Wrote ${SCHEMA_FILE}\n`)
}
