-- The schema after all migrations. Generated: npm run db:snapshot

table accounts (
  id text not null,
  name text not null,
  locale text not null default 'en'::text,
  allowed_email_domains ARRAY,
  contacts_version integer not null default 1,
  contacts_reviewed_at timestamp with time zone,
  created_at timestamp with time zone not null default now(),
  updated_at timestamp with time zone not null default now(),
  constraint accounts_id_check CHECK ((id ~ '^[A-Za-z0-9_-]{1,64}$'::text)),
  constraint accounts_locale_check CHECK ((locale = ANY (ARRAY['en'::text, 'fi'::text]))),
  constraint accounts_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= 200))),
  constraint accounts_pkey PRIMARY KEY (id)
);

table api_keys (
  id text not null,
  name text not null,
  prefix text not null,
  token_hash text not null,
  created_at timestamp with time zone not null default now(),
  last_used_at timestamp with time zone,
  revoked_at timestamp with time zone,
  constraint api_keys_pkey PRIMARY KEY (id),
  constraint api_keys_token_hash_key UNIQUE (token_hash)
);

table audit_events (
  account_id text not null,
  id text not null,
  at timestamp with time zone not null default now(),
  actor_type text not null,
  actor_id text not null,
  action text not null,
  before jsonb,
  after jsonb,
  request_id text,
  constraint audit_events_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
  constraint audit_events_actor_type_check CHECK ((actor_type = ANY (ARRAY['api_key'::text, 'user'::text, 'system'::text]))),
  constraint audit_events_pkey PRIMARY KEY (account_id, id)
);

table contact_slots (
  account_id text not null,
  slot text not null,
  position smallint not null default 0,
  user_id text,
  user_status text,
  email text,
  verification text,
  assigned_at timestamp with time zone not null default now(),
  constraint contact_slots_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
  constraint contact_slots_account_id_slot_user_id_key UNIQUE (account_id, slot, user_id),
  constraint contact_slots_account_id_user_id_user_status_fkey FOREIGN KEY (account_id, user_id, user_status) REFERENCES users(account_id, id, status),
  constraint contact_slots_check CHECK ((((slot = 'billing'::text) AND (("position" >= 0) AND ("position" <= 2))) OR ((slot <> 'billing'::text) AND ("position" = 0)))),
  constraint contact_slots_check1 CHECK (((user_id IS NULL) <> (email IS NULL))),
  constraint contact_slots_check2 CHECK (((user_id IS NULL) = (user_status IS NULL))),
  constraint contact_slots_check3 CHECK (((email IS NULL) OR ((slot = 'security'::text) AND (verification = ANY (ARRAY['pending'::text, 'verified'::text]))))),
  constraint contact_slots_check4 CHECK (((email IS NOT NULL) OR (verification IS NULL))),
  constraint contact_slots_email_check CHECK ((char_length(email) <= 254)),
  constraint contact_slots_pkey PRIMARY KEY (account_id, slot, "position"),
  constraint contact_slots_slot_check CHECK ((slot = ANY (ARRAY['primary'::text, 'billing'::text, 'decisionMaker'::text, 'onboarding'::text, 'security'::text, 'technicalAdmin'::text]))),
  constraint contact_slots_user_status_check CHECK (((user_status IS NULL) OR (user_status = 'active'::text)))
);

table sessions (
  account_id text not null,
  id text not null,
  user_id text not null,
  token_hash text not null,
  created_at timestamp with time zone not null default now(),
  expires_at timestamp with time zone not null,
  constraint sessions_account_id_token_hash_key UNIQUE (account_id, token_hash),
  constraint sessions_account_id_user_id_fkey FOREIGN KEY (account_id, user_id) REFERENCES users(account_id, id) ON DELETE CASCADE,
  constraint sessions_pkey PRIMARY KEY (account_id, id)
);

table users (
  account_id text not null,
  id text not null,
  email text not null,
  name text not null,
  role text not null,
  status text not null,
  locale text,
  created_at timestamp with time zone not null default now(),
  updated_at timestamp with time zone not null default now(),
  constraint users_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
  constraint users_account_id_id_status_key UNIQUE (account_id, id, status),
  constraint users_email_check CHECK ((char_length(email) <= 254)),
  constraint users_id_check CHECK ((id ~ '^[A-Za-z0-9_-]{1,64}$'::text)),
  constraint users_locale_check CHECK ((locale = ANY (ARRAY['en'::text, 'fi'::text]))),
  constraint users_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= 200))),
  constraint users_pkey PRIMARY KEY (account_id, id),
  constraint users_role_check CHECK ((role = ANY (ARRAY['super_admin'::text, 'billing_admin'::text, 'member'::text]))),
  constraint users_status_check CHECK ((status = ANY (ARRAY['active'::text, 'deactivated'::text])))
);

CREATE UNIQUE INDEX accounts_pkey ON public.accounts USING btree (id);
CREATE UNIQUE INDEX api_keys_pkey ON public.api_keys USING btree (id);
CREATE UNIQUE INDEX api_keys_token_hash_key ON public.api_keys USING btree (token_hash);
CREATE UNIQUE INDEX audit_events_pkey ON public.audit_events USING btree (account_id, id);
CREATE UNIQUE INDEX contact_slots_account_id_slot_user_id_key ON public.contact_slots USING btree (account_id, slot, user_id);
CREATE UNIQUE INDEX contact_slots_pkey ON public.contact_slots USING btree (account_id, slot, "position");
CREATE INDEX contact_slots_user ON public.contact_slots USING btree (account_id, user_id) WHERE (user_id IS NOT NULL);
CREATE UNIQUE INDEX sessions_account_id_token_hash_key ON public.sessions USING btree (account_id, token_hash);
CREATE UNIQUE INDEX sessions_pkey ON public.sessions USING btree (account_id, id);
CREATE UNIQUE INDEX users_account_id_id_status_key ON public.users USING btree (account_id, id, status);
CREATE UNIQUE INDEX users_active_email ON public.users USING btree (account_id, lower(email)) WHERE (status = 'active'::text);
CREATE UNIQUE INDEX users_pkey ON public.users USING btree (account_id, id);
