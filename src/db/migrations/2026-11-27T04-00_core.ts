import { sql, type Kysely } from 'kysely'

/*
 * Frozen in time: this file never imports application code and never changes once released.
 *
 * Scale-out rules (docs/ARCHITECTURE.md, "Distributed engines"): every tenant table carries
 * `account_id NOT NULL` and leads its primary, unique and foreign keys with it; ids come from the
 * application. Invariants of the contact sheet (docs/PRODUCT.md, "Rules that hold under any number
 * of concurrent writers") live here as constraints, so that no writer, concurrent or buggy, can
 * break them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table accounts (
      id text primary key check (id ~ '^[A-Za-z0-9_-]{1,64}$'),
      name text not null check (char_length(name) between 1 and 200),
      locale text not null default 'en' check (locale in ('en', 'fi')),
      allowed_email_domains text[],
      -- bumped by every change to the sheet; the ETag of GET /contacts
      contacts_version integer not null default 1,
      contacts_reviewed_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db)

  await sql`
    create table users (
      account_id text not null references accounts (id) on delete cascade,
      id text not null check (id ~ '^[A-Za-z0-9_-]{1,64}$'),
      email text not null check (char_length(email) <= 254),
      name text not null check (char_length(name) between 1 and 200),
      role text not null check (role in ('super_admin', 'billing_admin', 'member')),
      status text not null check (status in ('active', 'deactivated')),
      locale text check (locale in ('en', 'fi')),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (account_id, id),
      -- the target of contact_slots' foreign key: a slot can only point at (account, user, 'active')
      unique (account_id, id, status)
    )`.execute(db)
  // One active user per address and account, so "the typed email belongs to a user" is unambiguous.
  await sql`create unique index users_active_email on users (account_id, lower(email)) where status = 'active'`.execute(db)

  await sql`
    create table contact_slots (
      account_id text not null references accounts (id) on delete cascade,
      slot text not null
        check (slot in ('primary', 'billing', 'decisionMaker', 'onboarding', 'security', 'technicalAdmin')),
      -- billing contacts are ordered 0..2: with the primary key this caps them at three;
      -- every other slot has the single position 0: at most one holder
      position smallint not null default 0,
      user_id text,
      -- always 'active' when user_id is set; part of the foreign key below, so deactivating a user
      -- who still holds a slot fails unless the same transaction vacates the slot first
      user_status text,
      email text check (char_length(email) <= 254),
      verification text,
      assigned_at timestamptz not null default now(),
      primary key (account_id, slot, position),
      check ((slot = 'billing' and position between 0 and 2) or (slot <> 'billing' and position = 0)),
      check ((user_id is null) <> (email is null)),
      check ((user_id is null) = (user_status is null)),
      check (user_status is null or user_status = 'active'),
      -- an email address of a non-user only in the security slot, always with a verification state
      check (email is null or (slot = 'security' and verification in ('pending', 'verified'))),
      check (email is not null or verification is null),
      unique (account_id, slot, user_id),
      foreign key (account_id, user_id, user_status) references users (account_id, id, status)
    )`.execute(db)
  await sql`create index contact_slots_user on contact_slots (account_id, user_id) where user_id is not null`.execute(db)

  await sql`
    create table audit_events (
      account_id text not null references accounts (id) on delete cascade,
      id text not null,
      at timestamptz not null default now(),
      actor_type text not null check (actor_type in ('api_key', 'user', 'system')),
      actor_id text not null,
      action text not null,
      before jsonb,
      after jsonb,
      request_id text,
      primary key (account_id, id)
    )`.execute(db)

  // Platform API keys are not tenant data: one key may act on every account.
  await sql`
    create table api_keys (
      id text primary key,
      name text not null,
      -- the first characters of the key, shown in lists so that an operator can tell keys apart
      prefix text not null,
      token_hash text not null unique,
      created_at timestamptz not null default now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    )`.execute(db)

  await sql`
    create table sessions (
      account_id text not null,
      id text not null,
      user_id text not null,
      token_hash text not null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      primary key (account_id, id),
      unique (account_id, token_hash),
      foreign key (account_id, user_id) references users (account_id, id) on delete cascade
    )`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['sessions', 'api_keys', 'audit_events', 'contact_slots', 'users', 'accounts']) {
    await db.schema.dropTable(t).execute()
  }
}
