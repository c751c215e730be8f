import path from 'node:path'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { UNDELIVERABLE_WINDOW_DAYS } from '../health/health-problems.ts'

/**
 * The environment, as SPEC 8 lists it. Every variable is a string in the environment; the schema
 * says what it must look like, and `loadConfig` turns it into typed, frozen values. This is the
 * only module that reads `process.env`.
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
  LOG_LEVEL: Type.Optional(
    Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
  ),
  /** Signs webhooks (endpoint secrets are derived from it). Required when processes share PostgreSQL. */
  SECRET_KEY: Type.Optional(Type.String({ minLength: 32 })),
  /** Seconds a worker holds a claimed delivery before another may take it over. */
  WORKER_LEASE_SECONDS: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,4}$' })),
  /** Requests a minute per client (API key, session or address); `0` turns the limit off. */
  RATE_LIMIT_PER_MINUTE: Type.Optional(Type.String({ pattern: '^[0-9]{1,7}$' })),
  /** Milliseconds to open a PostgreSQL connection or wait for a free one in the pool. */
  DATABASE_CONNECT_TIMEOUT_MS: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,6}$' })),
  /** Milliseconds a PostgreSQL statement (or an idle transaction) may last; `0` turns the bound off. */
  DATABASE_STATEMENT_TIMEOUT_MS: Type.Optional(Type.String({ pattern: '^[0-9]{1,7}$' })),
  /** Days notifications, webhook events and their deliveries are kept (what is in flight stays). */
  RETENTION_DAYS: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,4}$' })),
  /** Days audit events are kept; unset keeps them forever. */
  AUDIT_RETENTION_DAYS: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,4}$' })),
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
  readonly logLevel: string
  readonly rateLimitPerMinute: number
  readonly secretKey: string | undefined
  readonly workerLeaseSeconds: number
  readonly databaseConnectTimeoutMs: number
  readonly databaseStatementTimeoutMs: number
  readonly retentionDays: number
  /** Undefined: audit events are kept forever. */
  readonly auditRetentionDays: number | undefined
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
  LOG_LEVEL: 'fatal, error, warn, info, debug, trace or silent',
  RATE_LIMIT_PER_MINUTE: 'a whole number (0 turns the limit off)',
  SECRET_KEY: 'at least 32 characters',
  WORKER_LEASE_SECONDS: 'a whole number of seconds',
  DATABASE_CONNECT_TIMEOUT_MS: 'a whole number of milliseconds',
  DATABASE_STATEMENT_TIMEOUT_MS: 'a whole number of milliseconds (0 turns the bound off)',
  RETENTION_DAYS: `a whole number of days, at least ${UNDELIVERABLE_WINDOW_DAYS} (the health check looks back that far)`,
  AUDIT_RETENTION_DAYS: 'a whole number of days (unset keeps audit events forever)',
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
  const retentionDays = Number(e.RETENTION_DAYS ?? 400)
  if (retentionDays < UNDELIVERABLE_WINDOW_DAYS) throw new ConfigError(`RETENTION_DAYS is not valid: expected ${HINTS.RETENTION_DAYS}`)
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
    logLevel: e.LOG_LEVEL ?? 'info',
    rateLimitPerMinute: Number(e.RATE_LIMIT_PER_MINUTE ?? 1200),
    secretKey: e.SECRET_KEY,
    workerLeaseSeconds: Number(e.WORKER_LEASE_SECONDS ?? 60),
    databaseConnectTimeoutMs: Number(e.DATABASE_CONNECT_TIMEOUT_MS ?? 10_000),
    databaseStatementTimeoutMs: Number(e.DATABASE_STATEMENT_TIMEOUT_MS ?? 60_000),
    retentionDays,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS === undefined ? undefined : Number(e.AUDIT_RETENTION_DAYS),
  })
}

/** The variables `serve` also takes as flags (`--port`, `--data-dir`, ...). */
export const CONFIG_VARIABLES = Object.keys(EnvSchema.properties) as (keyof Env)[]
