// ESLint: TypeScript's recommended rules, imports in one order and never twice, and the project's
// own conventions (no SQL outside repositories, time from the Clock, environment from the config).
// Formatting is Prettier's (.prettierrc.json), so no rule here is about layout.
import js from '@eslint/js'
import importX from 'eslint-plugin-import-x'
import simpleImportSort from 'eslint-plugin-simple-import-sort'
import globals from 'globals'
import tseslint from 'typescript-eslint'

// SQL lives in repositories (`*.repository.ts`) and in src/db/: a service or a route that needs a
// query asks a repository for it, so each domain's SQL is in one place to read, index and test.
// These are Kysely's query-builder entry points; `db.transaction()` is not one (a service owns
// its transaction boundary).
const QUERY_BUILDERS = [
  'selectFrom',
  'selectNoFrom',
  'insertInto',
  'updateTable',
  'deleteFrom',
  'mergeInto',
  'replaceInto',
]
const noQueryBuilders = {
  selector: `CallExpression[callee.property.name=/^(${QUERY_BUILDERS.join('|')})$/]`,
  message: 'SQL belongs in a *.repository.ts (or src/db/): call a repository function instead.',
}
const noRawSql = {
  name: 'kysely',
  importNames: ['sql'],
  message: 'SQL belongs in a *.repository.ts (or src/db/): call a repository function instead.',
}

// The time is the injected Clock's (or the database's now()), so that tests can move it without
// sleeping; src/lib/clock.ts is where the real clock reads it.
const noNewDate = {
  selector: "NewExpression[callee.name='Date'][arguments.length=0]",
  message: "Take the time from the injected Clock (src/lib/clock.ts), or from SQL's now().",
}

const SQL_HOMES = ['src/**/*.repository.ts', 'src/db/**']
const CLOCK = 'src/lib/clock.ts'

export default tseslint.config(
  {
    // Generated files, and migrations: frozen once written, so a rule learnt later does not edit one.
    ignores: ['dist/', 'web/dist/', 'node_modules/', 'src/client/schema.d.ts', 'bench/results/', 'src/db/migrations/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { 'simple-import-sort': simpleImportSort, 'import-x': importX },
    rules: {
      'simple-import-sort/imports': 'error',
      'simple-import-sort/exports': 'error',
      'import-x/no-duplicates': ['error', { 'prefer-inline': true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // `const { omitted, ...rest } = x` is how a copy leaves fields out: the omitted names are unused on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // `let worker; app = build({ probe: () => worker?.x() }); worker = create(app)`: the closure is
      // handed out before the value exists and may run before it does; it must read undefined then,
      // where a const declared later would throw.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  { files: ['web/src/**'], languageOptions: { globals: { ...globals.browser } } },

  // The conventions, in src/ only. no-restricted-syntax is one rule, so each group of files gets
  // the selectors that apply to it (a later block would replace, not add to, an earlier one's).
  {
    files: ['src/**'],
    ignores: [...SQL_HOMES, CLOCK],
    rules: {
      'no-restricted-syntax': ['error', noQueryBuilders, noNewDate],
      'no-restricted-imports': ['error', { paths: [noRawSql] }],
    },
  },
  { files: SQL_HOMES, rules: { 'no-restricted-syntax': ['error', noNewDate] } },
  { files: [CLOCK], rules: { 'no-restricted-syntax': ['error', noQueryBuilders] } },
  {
    // Configuration is read from the environment once, validated and frozen in src/config/, then
    // passed down: a setting read anywhere else escapes its validation and its documentation.
    files: ['src/**'],
    ignores: ['src/config/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read settings from the Config (src/config/), passed in.' },
      ],
    },
  },

  {
    // The fuzzer walks an OpenAPI document and arbitrary JSON answers by shape: `any` is their type.
    files: ['test/reliability/fuzz-*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
)
