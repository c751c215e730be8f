import { createHash } from 'node:crypto'

import { PG } from './pg-errors.ts'

/**
 * Which statements go to PostgreSQL as named (prepared) statements. A named statement is parsed
 * and planned once per connection; an unnamed one every time, which is most of a short query's
 * database time (bench/README.md). Kysely sends every query unnamed, so the pool's client asks
 * this for a name.
 *
 * The set stays bounded: lists go to the server as one array parameter (`db/keys.ts`), so a
 * statement's text does not change with a list's length. What could still vary is named only up
 * to the caps below, and a bulk statement is never named.
 *
 * A name is a hash of the statement's text, never a counter: two processes behind one pooler that
 * does not track prepared statements (PgBouncer before 1.21 in transaction mode) may reach the
 * same server connection, and the same name must then mean the same statement there, or one
 * process would run the other's. A pooler like that answers "does not exist" or "already exists"
 * instead; `refusedBy` recognises that, and the pool then sends unnamed statements only.
 */
export class StatementNames {
  readonly #names = new Map<string, string>()
  #on: boolean

  constructor(
    on: boolean,
    private readonly onRefused: (err: Error) => void = () => {},
  ) {
    this.#on = on
  }

  get on(): boolean {
    return this.#on
  }

  /** The name to send `text` under, or undefined to send it unnamed. */
  nameFor(text: string, parameterCount: number): string | undefined {
    if (!this.#on || parameterCount === 0 || parameterCount > MAX_PARAMETERS) return undefined
    const known = this.#names.get(text)
    if (known !== undefined || this.#names.size >= MAX_STATEMENTS) return known
    const name = `ac_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`
    this.#names.set(text, name)
    return name
  }

  /** How many statements have a name: what each connection prepares at most. */
  get size(): number {
    return this.#names.size
  }

  /** The texts that have a name, for tests that check the set stays bounded. */
  texts(): string[] {
    return [...this.#names.keys()]
  }

  /**
   * Whether `err` says the connection cannot carry named statements. The first time, naming stops
   * for good and `onRefused` hears it; the caller then runs the statement again, unnamed.
   */
  refusedBy(err: unknown): boolean {
    const code = (err as { code?: unknown } | undefined)?.code
    if (code !== PG.invalidStatementName && code !== PG.duplicatePreparedStatement) return false
    if (this.#on) {
      this.#on = false
      this.onRefused(err as Error)
    }
    return true
  }
}

/**
 * Statements a pool names at most. The service has fewer than this (test/db/prepared-statements.test.ts
 * counts them); the cap only keeps a text that varies after all (a statement built from input) from
 * growing every connection's cache without end. Past it, new texts go unnamed.
 */
const MAX_STATEMENTS = 500

/**
 * A statement with more parameters than this is a bulk write of many rows (an import), whose row
 * count changes its text, and whose planning is a small part of its cost: it goes unnamed.
 */
const MAX_PARAMETERS = 100
