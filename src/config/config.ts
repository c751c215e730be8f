import net from 'node:net'
import path from 'node:path'

import { type Static, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

import { UNDELIVERABLE_WINDOW_DAYS } from '../account-health/account-health-problems.ts'
import {
  EMAIL_EVENTS_ENV,
  EMAIL_EVENTS_HINTS,
  type EmailEventsConfig,
  emailEventsConfig,
} from './email-events-config.ts'
import { EMBEDDING_ENV, EMBEDDING_HINTS, type EmbeddingConfig, embeddingConfig } from './embedding-config.ts'

/**
 * The environment, all of it (the README's "Configuration" table describes it). Every variable is a
 * string in the environment; the schema says what it must look like, and `loadConfig` turns it into
 * typed, frozen values. This is the only module that reads `process.env`.
 */
const EnvSchema = Type.Object({
  PORT: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
  HOST: Type.Optional(Type.String({ minLength: 1 })),
  DATA_DIR: Type.Optional(Type.String({ minLength: 1 })),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://' })),
  MAIL_FROM: Type.Optional(Type.String({ minLength: 3 })),
  PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$' })),
  BOOTSTRAP_API_KEY: Type.Optional(Type.String({ minLength: 32, pattern: '^[A-Za-z0-9_.~-]+$' })),
  REVIEW_INTERVAL_DAYS: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,4}$' })),
  ROUTING_POLICY: Type.Optional(Type.String({ minLength: 1 })),
  WORKER: Type.Optional(Type.Union([Type.Literal('on'), Type.Literal('off')])),
  WEBHOOK_ALLOW_PRIVATE: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
  /** `false`: serve, worker and the commands only check that the schema is current (migrate as a release step). */
  MIGRATE_ON_START: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
  LOG_LEVEL: Type.Optional(
    Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
  ),
  /** `json` lines, or `pretty` ones for a person; `auto`: pretty on a terminal, JSON otherwise. */
  LOG_FORMAT: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('json'), Type.Literal('pretty')])),
  /** Whose X-Forwarded-For to believe: `false`, `true`, a number of proxies, or addresses and CIDRs. */
  TRUST_PROXY: Type.Optional(Type.String({ minLength: 1 })),
  /** Milliseconds for a whole request, headers and body, to arrive; `0` turns the bound off. */
  HTTP_REQUEST_TIMEOUT_MS: Type.Optional(Type.String({ pattern: '^[0-9]{1,7}$' })),
  /** Milliseconds for a request's headers to arrive; `0` turns the bound off. */
  HTTP_HEADERS_TIMEOUT_MS: Type.Optional(Type.String({ pattern: '^[0-9]{1,7}$' })),
  /** Milliseconds an idle keep-alive connection is kept open for the client's next request. */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,6}$' })),
  /** Milliseconds a connection may pass without a byte either way; `0` turns the bound off. */
  HTTP_CONNECTION_TIMEOUT_MS: Type.Optional(Type.String({ pattern: '^[0-9]{1,7}$' })),
  /** The bearer token a Prometheus scraper sends for `/metrics` on PORT (without it, /metrics is not served there). */
  METRICS_TOKEN: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._~+/=-]{32,}$' })),
  /** A port of its own for /healthz, /readyz and /metrics (serve and worker), e.g. for scraping inside a cluster. */
  MANAGEMENT_PORT: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
  /** Signs webhooks (endpoint secrets are derived from it). Required with DATABASE_URL. */
  SECRET_KEY: Type.Optional(Type.String({ minLength: 32 })),
  /** Seconds a worker holds a claimed delivery before another may take it over. */
  WORKER_LEASE_SECONDS: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,4}$' })),
  /** Requests a minute per client (API key, session or address); `0` turns the limit off. */
  RATE_LIMIT_PER_MINUTE: Type.Optional(Type.String({ pattern: '^[0-9]{1,7}$' })),
  /** Failed authentications a minute per client address; `0` turns this budget off. */
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: Type.Optional(Type.String({ pattern: '^[0-9]{1,7}$' })),
  /** Milliseconds to open a PostgreSQL connection or wait for a free one in the pool. */
  DATABASE_CONNECT_TIMEOUT_MS: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,6}$' })),
  /** Milliseconds a PostgreSQL statement (or an idle transaction) may last; `0` turns the bound off. */
  DATABASE_STATEMENT_TIMEOUT_MS: Type.Optional(Type.String({ pattern: '^[0-9]{1,7}$' })),
  /** PostgreSQL connections one process keeps at most: the server (or pooler) sees this × processes. */
  DATABASE_POOL_MAX: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$' })),
  /**
   * `on` (the default): statements of fixed shape go to PostgreSQL prepared, planned once per
   * connection. `off` for a pooler that cannot carry them: PgBouncer before 1.21 in transaction
   * mode, or 1.21-1.23 left at its default `max_prepared_statements = 0`.
   */
  DATABASE_PREPARED_STATEMENTS: Type.Optional(Type.Union([Type.Literal('on'), Type.Literal('off')])),
  /** Days notifications, webhook events and their deliveries are kept (what is in flight stays). */
  RETENTION_DAYS: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,4}$' })),
  /** Days audit events are kept; unset keeps them forever. */
  AUDIT_RETENTION_DAYS: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,4}$' })),
  ...EMAIL_EVENTS_ENV,
  ...EMBEDDING_ENV,
})

type Env = Static<typeof EnvSchema>

export interface Config {
  readonly port: number
  readonly host: string
  readonly dataDir: string
  readonly databaseUrl: string | undefined
  readonly smtpUrl: string | undefined
  readonly mailFrom: string
  readonly publicUrl: string
  readonly bootstrapApiKey: string | undefined
  readonly reviewIntervalDays: number
  readonly routingPolicyPath: string | undefined
  readonly worker: boolean
  readonly webhookAllowPrivate: boolean
  readonly migrateOnStart: boolean
  readonly logLevel: string
  readonly logFormat: 'auto' | 'json' | 'pretty'
  /** Fastify's `trustProxy`, except that a number is a hop count (build-app.ts). */
  readonly trustProxy: boolean | number | readonly string[]
  readonly httpRequestTimeoutMs: number
  readonly httpHeadersTimeoutMs: number
  readonly httpKeepAliveTimeoutMs: number
  readonly httpConnectionTimeoutMs: number
  readonly metricsToken: string | undefined
  readonly managementPort: number | undefined
  readonly rateLimitPerMinute: number
  readonly rateLimitAuthFailuresPerMinute: number
  readonly secretKey: string | undefined
  readonly workerLeaseSeconds: number
  readonly databaseConnectTimeoutMs: number
  readonly databaseStatementTimeoutMs: number
  readonly databasePoolMax: number
  readonly databasePreparedStatements: boolean
  readonly retentionDays: number
  /** Undefined: audit events are kept forever. */
  readonly auditRetentionDays: number | undefined
  /** Bounces and email-service events (email-events-config.ts). */
  readonly emailEvents: EmailEventsConfig
  /** The settings page inside a host product's (embedding-config.ts). */
  readonly embedding: EmbeddingConfig
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const HINTS: Partial<Record<keyof Env, string>> = {
  PORT: 'a port number',
  DATABASE_URL: 'a postgres:// connection string',
  SMTP_URL: 'an smtp:// or smtps:// URL',
  PUBLIC_URL: 'an http(s):// URL',
  BOOTSTRAP_API_KEY: 'at least 32 characters of letters, digits, "_", "-", "." or "~"',
  REVIEW_INTERVAL_DAYS: 'a whole number of days',
  WORKER: '"on" or "off"',
  WEBHOOK_ALLOW_PRIVATE: '"true" or "false"',
  MIGRATE_ON_START: '"true" or "false"',
  LOG_LEVEL: 'fatal, error, warn, info, debug, trace or silent',
  LOG_FORMAT: 'auto, json or pretty',
  TRUST_PROXY:
    'false, true, a number of proxies in front, or IP addresses and CIDR ranges (10.0.0.0/8) separated by commas',
  HTTP_REQUEST_TIMEOUT_MS: 'a whole number of milliseconds (0 turns the bound off)',
  HTTP_HEADERS_TIMEOUT_MS: 'a whole number of milliseconds (0 turns the bound off), at most HTTP_REQUEST_TIMEOUT_MS',
  HTTP_KEEP_ALIVE_TIMEOUT_MS: 'a whole number of milliseconds',
  HTTP_CONNECTION_TIMEOUT_MS: 'a whole number of milliseconds (0 turns the bound off)',
  METRICS_TOKEN: 'at least 32 characters of letters, digits, "-", ".", "_", "~", "+", "/" or "="',
  MANAGEMENT_PORT: 'a port number',
  RATE_LIMIT_PER_MINUTE: 'a whole number (0 turns the limit off)',
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: 'a whole number (0 turns this budget off)',
  SECRET_KEY: 'at least 32 characters',
  WORKER_LEASE_SECONDS: 'a whole number of seconds',
  DATABASE_CONNECT_TIMEOUT_MS: 'a whole number of milliseconds',
  DATABASE_STATEMENT_TIMEOUT_MS: 'a whole number of milliseconds (0 turns the bound off)',
  DATABASE_POOL_MAX: 'a whole number of connections (1 or more)',
  DATABASE_PREPARED_STATEMENTS: '"on" or "off"',
  RETENTION_DAYS: `a whole number of days, at least ${UNDELIVERABLE_WINDOW_DAYS} (the health check looks back that far)`,
  AUDIT_RETENTION_DAYS: 'a whole number of days (unset keeps audit events forever)',
  ...EMAIL_EVENTS_HINTS,
  ...EMBEDDING_HINTS,
}

/**
 * Validates the environment once, at start, and stops with a message that names the variable.
 * Empty strings count as unset, as shells and `.env` files often leave them.
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const env: Record<string, string> = {}
  for (const key of Object.keys(EnvSchema.properties)) {
    const v = source[key]
    if (v !== undefined && v !== '') env[key] = v
  }
  const firstError = Value.Errors(EnvSchema, env).First()
  if (firstError) {
    const name = firstError.path.replace(/^\//, '') as keyof Env
    throw new ConfigError(`${name} is not valid: expected ${HINTS[name] ?? firstError.message}`)
  }
  const e = env as Env
  const port = Number(e.PORT ?? 3000)
  if (port > 65535) throw new ConfigError(`PORT is not valid: expected ${HINTS.PORT}`)
  // Several processes on one PostgreSQL must derive the same webhook secrets and verification
  // tokens; without SECRET_KEY each would make its own random key (lib/derived-secrets.ts), and
  // signatures and links would fail between them without a word.
  if (e.DATABASE_URL && !e.SECRET_KEY) {
    throw new ConfigError(
      'SECRET_KEY is required with DATABASE_URL: every process on the database (serve, worker, the commands) ' +
        'must sign webhooks and verification links with the same key. Make one with `openssl rand -base64 32` ' +
        `(or \`node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"\`) and give every process the same value.`,
    )
  }
  const retentionDays = Number(e.RETENTION_DAYS ?? 400)
  if (retentionDays < UNDELIVERABLE_WINDOW_DAYS)
    throw new ConfigError(`RETENTION_DAYS is not valid: expected ${HINTS.RETENTION_DAYS}`)
  const managementPort = e.MANAGEMENT_PORT === undefined ? undefined : Number(e.MANAGEMENT_PORT)
  if (managementPort !== undefined && managementPort > 65535)
    throw new ConfigError(`MANAGEMENT_PORT is not valid: expected ${HINTS.MANAGEMENT_PORT}`)
  const trustProxy = parseTrustProxy(e.TRUST_PROXY ?? 'false')
  if (trustProxy === undefined) throw new ConfigError(`TRUST_PROXY is not valid: expected ${HINTS.TRUST_PROXY}`)
  // Bodies are at most 1 MiB: 30 s lets one in at ~35 kB/s, and a client that trickles it (or
  // never finishes) gives its connection up instead of holding it; Node says a server without a
  // proxy in front must bound this (Fastify's default is no bound).
  const httpRequestTimeoutMs = Number(e.HTTP_REQUEST_TIMEOUT_MS ?? 30_000)
  // Headers fit in a packet or two; 10 s is ample, and cuts slow-header (Slowloris) clients early.
  const httpHeadersTimeoutMs = Number(e.HTTP_HEADERS_TIMEOUT_MS ?? 10_000)
  if (httpRequestTimeoutMs > 0 && httpHeadersTimeoutMs > httpRequestTimeoutMs) {
    // Node refuses a server whose headers may take longer than the whole request
    throw new ConfigError(`HTTP_HEADERS_TIMEOUT_MS is not valid: expected ${HINTS.HTTP_HEADERS_TIMEOUT_MS}`)
  }
  const emailEvents = emailEventsConfig(e)
  if ('invalid' in emailEvents)
    throw new ConfigError(`${emailEvents.invalid} is not valid: expected ${HINTS[emailEvents.invalid]}`)
  const embedding = embeddingConfig(e)
  if ('invalid' in embedding)
    throw new ConfigError(`${embedding.invalid} is not valid: expected ${HINTS[embedding.invalid]}`)
  if (e.PUBLIC_URL) {
    try {
      new URL(e.PUBLIC_URL)
    } catch {
      throw new ConfigError(`PUBLIC_URL is not valid: expected ${HINTS.PUBLIC_URL}`)
    }
  }
  return Object.freeze({
    port,
    host: e.HOST ?? '127.0.0.1',
    dataDir: path.resolve(e.DATA_DIR ?? './data'),
    databaseUrl: e.DATABASE_URL,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM ?? 'Account contacts <no-reply@localhost>',
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    bootstrapApiKey: e.BOOTSTRAP_API_KEY,
    reviewIntervalDays: Number(e.REVIEW_INTERVAL_DAYS ?? 180),
    routingPolicyPath: e.ROUTING_POLICY,
    worker: (e.WORKER ?? 'on') === 'on',
    webhookAllowPrivate: e.WEBHOOK_ALLOW_PRIVATE === 'true',
    migrateOnStart: e.MIGRATE_ON_START !== 'false',
    logLevel: e.LOG_LEVEL ?? 'info',
    logFormat: e.LOG_FORMAT ?? 'auto',
    trustProxy,
    httpRequestTimeoutMs,
    httpHeadersTimeoutMs,
    // Longer than the 60 s idle timeout of common load balancers (AWS ALB's default, nginx's upstream
    // keepalive_timeout): the balancer closes an idle connection first, never we while it sends on it (a 502).
    httpKeepAliveTimeoutMs: Number(e.HTTP_KEEP_ALIVE_TIMEOUT_MS ?? 72_000),
    // No byte either way for 2 minutes (Node's own default until v13): longer than any request
    // should take with the database's statement timeout, so only a dead peer is cut.
    httpConnectionTimeoutMs: Number(e.HTTP_CONNECTION_TIMEOUT_MS ?? 120_000),
    metricsToken: e.METRICS_TOKEN,
    managementPort,
    rateLimitPerMinute: Number(e.RATE_LIMIT_PER_MINUTE ?? 1200),
    // Enough for a person who mistypes or an office whose sessions expire together; a guesser at
    // 60 a minute needs longer than the universe's age for one 256-bit key.
    rateLimitAuthFailuresPerMinute: Number(e.RATE_LIMIT_AUTH_FAILURES_PER_MINUTE ?? 60),
    secretKey: e.SECRET_KEY,
    workerLeaseSeconds: Number(e.WORKER_LEASE_SECONDS ?? 60),
    databaseConnectTimeoutMs: Number(e.DATABASE_CONNECT_TIMEOUT_MS ?? 10_000),
    databaseStatementTimeoutMs: Number(e.DATABASE_STATEMENT_TIMEOUT_MS ?? 60_000),
    databasePoolMax: Number(e.DATABASE_POOL_MAX ?? 10),
    databasePreparedStatements: (e.DATABASE_PREPARED_STATEMENTS ?? 'on') === 'on',
    retentionDays,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS === undefined ? undefined : Number(e.AUDIT_RETENTION_DAYS),
    emailEvents,
    embedding,
  })
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])

/**
 * TRUST_PROXY as Fastify takes it: a boolean, a hop count, or a list of addresses, CIDR ranges and
 * proxy-addr's names (`loopback`, `linklocal`, `uniquelocal`). Undefined when it is none of them.
 */
function parseTrustProxy(value: string): boolean | number | string[] | undefined {
  if (value === 'true' || value === 'false') return value === 'true'
  if (/^[0-9]{1,2}$/.test(value)) return Number(value) === 0 ? false : Number(value)
  const entries = value.split(',').map((v) => v.trim())
  const valid = (entry: string) => {
    if (PROXY_NAMES.has(entry)) return true
    const [address = '', bits, ...rest] = entry.split('/')
    const family = net.isIP(address)
    if (family === 0 || rest.length > 0) return false
    return bits === undefined || (/^[0-9]{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128))
  }
  return entries.every(valid) ? entries : undefined
}

/** The variables `serve` also takes as flags (`--port`, `--data-dir`, ...). */
export const CONFIG_VARIABLES = Object.keys(EnvSchema.properties) as (keyof Env)[]

/**
 * The process's environment as it is, for the entry point to hand to the CLI: the CLI merges its
 * flags over it before `loadConfig`, and reads its own client settings (ACCOUNT_CONTACTS_URL) from it.
 */
export const processEnvironment = (): Readonly<Record<string, string | undefined>> => process.env
