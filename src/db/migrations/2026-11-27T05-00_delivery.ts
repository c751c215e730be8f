import { sql, type Kysely } from 'kysely'

/*
 * Frozen in time. Notifications, their deliveries (the transactional outbox), webhook endpoints and
 * events, idempotency keys, email verifications, broadcasts. Tenant tables lead their keys with
 * account_id; webhook endpoints and broadcasts are the platform's own.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table accounts add column review_reminded_at timestamptz`.execute(db)

  await sql`
    create table notifications (
      account_id text not null references accounts (id) on delete cascade,
      id text not null,
      category text not null,
      subject text not null check (char_length(subject) between 1 and 300),
      text text not null,
      html text,
      is_test boolean not null default false,
      -- 'notification': sent by the platform through the routing policy; 'system': our own mail
      -- (verification, contact_changed, ...) to named addresses
      kind text not null default 'notification' check (kind in ('notification', 'system')),
      -- null, 'primary' or 'super_admins': how the recipients were found when the category's own
      -- slots were empty; 'undeliverable' status when nobody was found at all
      fallback text check (fallback in ('primary', 'super_admins')),
      status text not null check (status in ('queued', 'undeliverable')),
      recipients jsonb not null,
      broadcast_id text,
      actor_type text not null,
      actor_id text not null,
      request_id text,
      created_at timestamptz not null default now(),
      primary key (account_id, id)
    )`.execute(db)

  await sql`
    create table events (
      account_id text not null references accounts (id) on delete cascade,
      id text not null,
      type text not null,
      payload jsonb not null,
      created_at timestamptz not null default now(),
      primary key (account_id, id)
    )`.execute(db)

  await sql`
    create table webhook_endpoints (
      id text primary key,
      url text not null check (char_length(url) <= 2048),
      description text,
      -- null: every event type
      event_types text[],
      status text not null default 'enabled' check (status in ('enabled', 'disabled')),
      disabled_reason text,
      created_at timestamptz not null default now()
    )`.execute(db)

  await sql`
    create table deliveries (
      account_id text not null,
      id text not null,
      channel text not null check (channel in ('email', 'webhook')),
      notification_id text,
      event_id text,
      endpoint_id text references webhook_endpoints (id) on delete cascade,
      -- the address (email) or the endpoint's URL at the time (webhook), for display
      recipient text not null,
      recipient_name text,
      -- this recipient's own subject/text/html (personal system mail), else the notification's
      content jsonb,
      status text not null default 'queued' check (status in ('queued', 'sending', 'retrying', 'delivered', 'failed')),
      attempts integer not null default 0,
      max_attempts integer not null,
      -- when the delivery may next be claimed; while 'sending' it is the end of the lease, after
      -- which another worker may take it over (the sender died)
      next_attempt_at timestamptz not null default now(),
      -- fencing token of the current claim: a settle with a stale token changes nothing
      lock_token text,
      last_error text,
      delivered_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (account_id, id),
      foreign key (account_id, notification_id) references notifications (account_id, id) on delete cascade,
      foreign key (account_id, event_id) references events (account_id, id) on delete cascade,
      check ((channel = 'email' and notification_id is not null and event_id is null)
          or (channel = 'webhook' and event_id is not null and endpoint_id is not null and notification_id is null))
    )`.execute(db)
  // The workers' claim scans only what is due: a small partial index, whatever the history holds.
  await sql`create index deliveries_due on deliveries (next_attempt_at) where status in ('queued', 'sending', 'retrying')`.execute(db)
  await sql`create index deliveries_notification on deliveries (account_id, notification_id) where notification_id is not null`.execute(db)

  // Addresses a mail server refused for good (5xx): the account's health shows them.
  await sql`
    create table undeliverable_addresses (
      account_id text not null references accounts (id) on delete cascade,
      email text not null,
      reason text not null,
      at timestamptz not null default now(),
      primary key (account_id, email)
    )`.execute(db)

  await sql`
    create table idempotency_keys (
      account_id text not null references accounts (id) on delete cascade,
      -- the caller (API key or user): one caller's key never answers another's request
      actor_id text not null,
      key text not null,
      request_hash text not null,
      status text not null check (status in ('running', 'done')),
      response_status integer,
      response_body jsonb,
      created_at timestamptz not null default now(),
      primary key (account_id, actor_id, key)
    )`.execute(db)

  await sql`
    create table email_verifications (
      account_id text not null references accounts (id) on delete cascade,
      id text not null,
      email text not null,
      token_hash text not null,
      expires_at timestamptz not null,
      used_at timestamptz,
      created_at timestamptz not null default now(),
      primary key (account_id, id),
      unique (account_id, token_hash)
    )`.execute(db)

  await sql`
    create table broadcasts (
      id text primary key,
      category text not null,
      subject text not null,
      text text not null,
      account_ids text[],
      status text not null default 'running' check (status in ('running', 'done')),
      total integer not null,
      processed integer not null default 0,
      notifications integer not null default 0,
      undeliverable integer not null default 0,
      -- the last account id fanned out: the next batch starts after it
      cursor text,
      actor_type text not null,
      actor_id text not null,
      created_at timestamptz not null default now(),
      finished_at timestamptz
    )`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['broadcasts', 'email_verifications', 'idempotency_keys', 'undeliverable_addresses', 'deliveries', 'webhook_endpoints', 'events', 'notifications']) {
    await db.schema.dropTable(t).execute()
  }
  await sql`alter table accounts drop column review_reminded_at`.execute(db)
}
