import assert from 'node:assert/strict'
import fs from 'node:fs'
import { isBuiltin } from 'node:module'
import path from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import ts from 'typescript'

/*
 * The installed package has its `dependencies` and nothing else (`npm install --omit=dev`): a
 * module under src/ (compiled to dist/) or bin/ that imports a development dependency crashes
 * there at once, while every test here, which has them all, passes. So the imports are read from
 * the sources. Type-only imports count too: dist/*.d.ts keeps them for the client's users.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

function productionFiles(): string[] {
  const src = fs
    .readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|js|mjs)$/.test(f) && !f.endsWith('.test.ts'))
    .map((f) => path.join('src', f))
  const bin = fs.readdirSync(path.join(ROOT, 'bin')).map((f) => path.join('bin', f))
  return [...src, ...bin]
}

/** Every module specifier `text` (of `file`) names: import and export declarations, and `import('...')`. */
function specifiers(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const found: string[] = []
  const visit = (node: ts.Node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0]
      // a computed specifier cannot be checked here; none of ours is one, and it should stay so
      assert.ok(arg && ts.isStringLiteralLike(arg), `${file}: import() of a computed specifier`)
      found.push(arg.text)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
const packageOf = (spec: string) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/')

test('production code (src/ but tests, bin/) imports only built-ins and packages in `dependencies`', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>
  }
  const files = productionFiles()
  assert.ok(files.length > 50, `found only ${files.length} files: is the walk right?`)
  const wrong: string[] = []
  let packages = 0
  for (const file of files) {
    for (const spec of specifiers(file, fs.readFileSync(path.join(ROOT, file), 'utf8'))) {
      if (spec.startsWith('.') || isBuiltin(spec)) continue
      packages++
      if (!(packageOf(spec) in manifest.dependencies)) wrong.push(`${file} imports '${spec}'`)
    }
  }
  assert.ok(packages > 20, 'the walk found almost no package imports')
  assert.deepEqual(wrong, [], 'each of these must be a dependency (or the import must go)')
})

test('the check sees what it is for: a development dependency, a type-only import, a re-export, a dynamic import', () => {
  const probe =
    "import { simpleParser } from 'mailparser'\nimport type { X } from 'vite/x'\nexport * from '@scope/pkg/sub'\nawait import('node:fs')\n"
  assert.deepEqual(specifiers('probe.ts', probe).map(packageOf), ['mailparser', 'vite', '@scope/pkg', 'node:fs'])
  assert.throws(() => specifiers('probe.ts', 'await import(name)'), /computed specifier/)
})
