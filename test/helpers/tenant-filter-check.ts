import { type Kysely, type KyselyPlugin, PostgresQueryCompiler, sql } from 'kysely'
import { loadModule, parseSync } from 'libpg-query'

import type { Database } from '../../src/db/database.ts'

/**
 * A statement that touches a tenant table across accounts on purpose, and why. A statement is let
 * through when its text matches `match` and every table it leaves unfiltered is in `tables`.
 */
export interface AllowedStatement {
  name: string
  reason: string
  tables: string[]
  match: RegExp
}

export interface Violation {
  sql: string
  problems: string[]
}

/** Tables with an `account_id` column, as the database itself lists them. */
export async function listTenantTables(db: Kysely<Database>): Promise<string[]> {
  const res = await sql<{ name: string }>`
    select distinct c.table_name as name from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_schema = 'public' and c.column_name = 'account_id' and t.table_type = 'BASE TABLE'
    order by 1`.execute(db)
  return res.rows.map((r) => r.name)
}

// libpg-query's parseSync returns `any`: the walker below reads its JSON parse tree by shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
type Node = any

interface Rel {
  name: string
  table: string | undefined
  /** A subquery, CTE, VALUES or set-returning function: checked on its own, its columns count as given. */
  derived: boolean
  tenant: boolean
  bound: boolean
}

interface Scope {
  rels: Rel[]
  parent: Scope | undefined
  ctes: Set<string>
}

const one = (node: Node): [string, Node] => Object.entries(node)[0] as [string, Node]
const colName = (c: Node): string[] => (c.fields as Node[]).map((f) => (f.String ? f.String.sval : '*'))

/** The AND-ed conditions of an expression. */
function conjuncts(expr: Node | undefined): Node[] {
  if (!expr) return []
  if (expr.BoolExpr?.boolop === 'AND_EXPR') return (expr.BoolExpr.args as Node[]).flatMap(conjuncts)
  return [expr]
}

/** Whether an expression reads no column of the statement (parameters, constants, functions of them, subqueries). */
function columnFree(expr: Node): boolean {
  if (expr === null || typeof expr !== 'object') return true
  if (Array.isArray(expr)) return expr.every(columnFree)
  if ('ColumnRef' in expr) return false
  if ('SubLink' in expr) return true // its query is checked as a statement of its own
  return Object.values(expr).every(columnFree)
}

/**
 * Checks SQL text: every tenant table (and every root table in `roots`, with its own key column,
 * such as `accounts.id`) it reads, updates or deletes from must be restricted by an
 * `account_id` condition (in WHERE or a join's ON, equal to a value, to a list of values, or to the
 * `account_id` of a relation that is itself restricted), and every INSERT into one must give
 * `account_id` (and an ON CONFLICT target must name it). Answers the problems found.
 */
export function createStatementChecker(tenantTables: Iterable<string>, roots: Record<string, string> = {}) {
  // each checked table and the column that says whose it is
  const key = new Map<string, string>([
    ...[...tenantTables].map((t) => [t, 'account_id'] as const),
    ...Object.entries(roots),
  ])
  const tenant = { has: (t: string) => key.has(t) }
  const keyOf = (rel: Rel) => key.get(rel.table ?? '')

  function resolve(scope: Scope | undefined, ref: string[]): { rel: Rel; column: string } | undefined {
    const column = ref[ref.length - 1]!
    for (let s = scope; s; s = s.parent) {
      if (ref.length >= 2) {
        const rel = s.rels.find((r) => r.name === ref[ref.length - 2])
        if (rel) return { rel, column }
      } else {
        // unqualified: the tenant relation of this level, else its only relation
        const tenants = s.rels.filter((r) => r.tenant)
        const rel = tenants.length === 1 ? tenants[0] : s.rels.length === 1 ? s.rels[0] : undefined
        if (rel) return { rel, column }
      }
    }
    return undefined
  }

  /** Whether `expr` gives a value that is already one account's (or a set of accounts'): the other side of an equality. */
  function givesAccount(expr: Node, scope: Scope): boolean {
    if (columnFree(expr)) return true
    if (expr.ColumnRef) {
      const r = resolve(scope, colName(expr.ColumnRef))
      if (!r) return false
      if (r.rel.derived) return true
      return r.rel.tenant && r.rel.bound && r.column === keyOf(r.rel)
    }
    return false
  }

  /** The relation whose account_id (or accounts.id) `expr` is, if it is one of this level's. */
  function accountColumnOf(expr: Node, scope: Scope): Rel | undefined {
    if (!expr?.ColumnRef) return undefined
    const ref = colName(expr.ColumnRef)
    const r = resolve({ ...scope, parent: undefined }, ref)
    if (!r || r.rel.derived) return undefined
    return r.rel.tenant && r.column === keyOf(r.rel) ? r.rel : undefined
  }

  /** Pairs (column side, value side) of an equality-like condition. */
  function pairs(cond: Node): [Node, Node][] {
    // `x IN (select ...)`: the subquery is checked as a statement of its own
    const sub = cond.SubLink
    if (sub?.subLinkType === 'ANY_SUBLINK' && (!sub.operName || sub.operName[0]?.String?.sval === '=')) {
      const test = sub.testexpr
      return test?.RowExpr ? (test.RowExpr.args as Node[]).map((a) => [a, cond] as [Node, Node]) : [[test, cond]]
    }
    const e = cond.A_Expr
    if (!e) return []
    const op = e.name?.[0]?.String?.sval
    const equality = (e.kind === 'AEXPR_OP' || e.kind === 'AEXPR_OP_ANY' || e.kind === 'AEXPR_IN') && op === '='
    if (!equality) return []
    const l = e.lexpr
    const r = e.rexpr
    if (l?.RowExpr && r?.RowExpr && l.RowExpr.args.length === r.RowExpr.args.length) {
      return (l.RowExpr.args as Node[]).flatMap((a, i) => [
        [a, r.RowExpr.args[i]] as [Node, Node],
        [r.RowExpr.args[i], a] as [Node, Node],
      ])
    }
    if (l?.RowExpr) return columnFree(r) ? (l.RowExpr.args as Node[]).map((a) => [a, r] as [Node, Node]) : []
    return [
      [l, r],
      [r, l],
    ]
  }

  /** The relations of this level that `expr` alone restricts (an OR does when each of its arms does). */
  function restricted(expr: Node, scope: Scope): Set<Rel> {
    const b = expr?.BoolExpr
    if (b?.boolop === 'AND_EXPR') return new Set((b.args as Node[]).flatMap((a) => [...restricted(a, scope)]))
    if (b?.boolop === 'OR_EXPR') {
      const arms = (b.args as Node[]).map((a) => restricted(a, scope))
      return new Set(arms[0] ? [...arms[0]].filter((r) => arms.every((arm) => arm.has(r))) : [])
    }
    const rels = new Set<Rel>()
    for (const [col, value] of pairs(expr)) {
      const rel = accountColumnOf(col, scope)
      if (rel && givesAccount(value, scope)) rels.add(rel)
    }
    return rels
  }

  function bind(scope: Scope, conds: { cond: Node; bindable: Set<Rel> | undefined }[]) {
    for (let changed = true; changed;) {
      changed = false
      for (const { cond, bindable } of conds) {
        for (const rel of restricted(cond, scope)) {
          if (rel.bound || (bindable && !bindable.has(rel))) continue
          rel.bound = true
          changed = true
        }
      }
    }
  }

  /** Relations of a FROM list, and the join conditions with the relations each may restrict. */
  function fromItems(
    items: Node[] | undefined,
    scope: Scope,
    conds: { cond: Node; bindable: Set<Rel> | undefined }[],
    later: Node[],
  ): Rel[] {
    const rels: Rel[] = []
    for (const item of items ?? []) {
      const [kind, n] = one(item)
      if (kind === 'RangeVar') {
        const cte = scope.ctes.has(n.relname) && !n.schemaname
        const rel: Rel = {
          name: n.alias?.aliasname ?? n.relname,
          table: cte ? undefined : n.relname,
          derived: cte,
          tenant: !cte && tenant.has(n.relname),
          bound: false,
        }
        rels.push(rel)
      } else if (kind === 'JoinExpr') {
        const left = fromItems([n.larg], scope, conds, later)
        const right = fromItems([n.rarg], scope, conds, later)
        rels.push(...left, ...right)
        // an outer join's ON restricts only its nullable side
        const bindable =
          n.jointype === 'JOIN_LEFT'
            ? new Set(right)
            : n.jointype === 'JOIN_RIGHT'
              ? new Set(left)
              : n.jointype === 'JOIN_FULL'
                ? new Set<Rel>()
                : undefined
        for (const c of conjuncts(n.quals)) conds.push({ cond: c, bindable })
        if (n.quals) later.push(n.quals)
        if (n.alias) rels.push({ name: n.alias.aliasname, table: undefined, derived: true, tenant: false, bound: true })
      } else {
        // RangeSubselect, RangeFunction, ...: checked on their own
        rels.push({ name: n.alias?.aliasname ?? '', table: undefined, derived: true, tenant: false, bound: true })
        later.push(item)
      }
    }
    return rels
  }

  function withCtes(node: Node, scope: Scope | undefined): Scope {
    const ctes = new Set(scope?.ctes ?? [])
    for (const c of node.withClause?.ctes ?? []) ctes.add(c.CommonTableExpr.ctename)
    return { rels: [], parent: scope, ctes }
  }

  function level(
    stmt: Node,
    outer: Scope | undefined,
    problems: string[],
    target: Node | undefined,
    from: Node[] | undefined,
    where: Node | undefined,
    verb: string,
  ): Scope {
    const scope = withCtes(stmt, outer)
    for (const c of stmt.withClause?.ctes ?? [])
      visit(c.CommonTableExpr.ctequery, { ...scope, parent: outer }, problems)
    const conds: { cond: Node; bindable: Set<Rel> | undefined }[] = []
    const later: Node[] = []
    scope.rels = fromItems([...(target ? [{ RangeVar: target }] : []), ...(from ?? [])], scope, conds, later)
    for (const c of conjuncts(where)) conds.push({ cond: c, bindable: undefined })
    bind(scope, conds)
    for (const r of scope.rels) {
      if (r.tenant && !r.bound)
        problems.push(
          `${verb} ${r.table}${r.name !== r.table ? ` (as ${r.name})` : ''} without a condition on ${keyOf(r)}`,
        )
    }
    for (const n of later) visit(n, scope, problems)
    return scope
  }

  function visit(node: Node, scope: Scope | undefined, problems: string[]): void {
    if (node === null || typeof node !== 'object') return
    if (Array.isArray(node)) {
      for (const n of node) visit(n, scope, problems)
      return
    }
    if (node.SelectStmt) {
      const s = node.SelectStmt
      if (s.op && s.op !== 'SETOP_NONE') {
        const inner = withCtes(s, scope)
        for (const c of s.withClause?.ctes ?? [])
          visit(c.CommonTableExpr.ctequery, { ...inner, parent: scope }, problems)
        visit(s.larg ? { SelectStmt: s.larg } : null, inner, problems)
        visit(s.rarg ? { SelectStmt: s.rarg } : null, inner, problems)
        return
      }
      const lvl = level(s, scope, problems, undefined, s.fromClause, s.whereClause, 'reads')
      visit(
        [s.targetList, s.whereClause, s.havingClause, s.valuesLists, s.sortClause, s.groupClause, s.limitCount],
        lvl,
        problems,
      )
      return
    }
    if (node.UpdateStmt) {
      const s = node.UpdateStmt
      const lvl = level(s, scope, problems, s.relation, s.fromClause, s.whereClause, 'updates')
      visit([s.targetList, s.whereClause, s.returningList], lvl, problems)
      return
    }
    if (node.DeleteStmt) {
      const s = node.DeleteStmt
      const lvl = level(s, scope, problems, s.relation, s.usingClause, s.whereClause, 'deletes from')
      visit([s.whereClause, s.returningList], lvl, problems)
      return
    }
    if (node.InsertStmt) {
      const s = node.InsertStmt
      const inner = withCtes(s, scope)
      for (const c of s.withClause?.ctes ?? []) visit(c.CommonTableExpr.ctequery, { ...inner, parent: scope }, problems)
      const table = s.relation.relname as string
      if (tenant.has(table) && !(inner.ctes.has(table) && !s.relation.schemaname)) {
        const k = key.get(table)!
        const cols = (s.cols as Node[] | undefined)?.map((c) => c.ResTarget.name as string)
        if (!cols?.includes(k)) problems.push(`inserts into ${table} with no ${k} column`)
        const infer = s.onConflictClause?.infer?.InferClause?.indexElems as Node[] | undefined
        if (infer && !infer.some((e) => e.IndexElem?.name === k))
          problems.push(`ON CONFLICT on ${table} without ${k} in its target`)
      }
      visit(s.selectStmt, inner, problems)
      const self: Scope = {
        rels: [{ name: s.relation.alias?.aliasname ?? table, table, derived: true, tenant: false, bound: true }],
        parent: inner,
        ctes: inner.ctes,
      }
      visit([s.onConflictClause, s.returningList], self, problems)
      return
    }
    if (node.RangeVar) {
      // a table outside SELECT/INSERT/UPDATE/DELETE: DDL, COPY, LOCK, TRUNCATE
      const name = node.RangeVar.relname as string
      if (tenant.has(name) && !scope?.ctes.has(name)) problems.push(`names ${name} outside a filtered statement`)
      return
    }
    for (const v of Object.values(node)) visit(v, scope, problems)
  }

  return {
    /** The problems of one SQL text (possibly several statements). */
    check(text: string): string[] {
      const problems: string[] = []
      for (const s of parseSync(text).stmts) visit(s.stmt, undefined, problems)
      return problems
    },
  }
}

export type StatementChecker = ReturnType<typeof createStatementChecker>

/** Loads the parser (WebAssembly); call once before checking. */
export const loadParser = () => loadModule()

/**
 * A Kysely plugin that checks every statement the database client runs (query builders, raw `sql`
 * templates, inside and outside transactions: each is compiled through the plugins) before it is
 * sent. An unfiltered statement that no allow-list entry covers is recorded and fails: it never
 * reaches the database.
 */
export function tenantFilterPlugin(allow: AllowedStatement[]) {
  const compiler = new PostgresQueryCompiler()
  const violations: Violation[] = []
  const allowedHits = new Map<string, number>(allow.map((a) => [a.name, 0]))
  let checker: StatementChecker | undefined
  const early: string[] = []
  let statements = 0

  /** Throws (and records) when `text` leaves a tenant table unfiltered and no entry allows it. */
  function judge(text: string) {
    const problems = checker!.check(text)
    if (problems.length === 0) return
    const entry = allow.find(
      (a) => a.match.test(text) && problems.every((p) => a.tables.some((t) => p.includes(` ${t}`))),
    )
    if (entry) return void allowedHits.set(entry.name, allowedHits.get(entry.name)! + 1)
    violations.push({ sql: text, problems })
    throw new Error(`tenant filter check: ${problems.join('; ')}\n${text}`)
  }

  const plugin: KyselyPlugin = {
    transformQuery({ node, queryId }) {
      const text = compiler.compileQuery(node, queryId).sql
      statements++
      if (checker) judge(text)
      else early.push(text)
      return node
    },
    async transformResult({ result }) {
      return result
    },
  }
  return {
    plugin,
    violations,
    allowedHits,
    statements: () => statements,
    /**
     * Starts checking with `checker` (made from the database's own table list, which can only be
     * read once the client exists); statements sent before are checked now.
     */
    arm(c: StatementChecker) {
      checker = c
      for (const text of early.splice(0)) judge(text)
    },
  }
}
