-- The schema after all migrations. Generated: npm run db:snapshot

table account_tree_lock (
  id boolean not null default true,
  moves bigint not null default 0,
  constraint account_tree_lock_id_check CHECK (id),
  constraint account_tree_lock_pkey PRIMARY KEY (id)
);

table accounts (
  id text not null,
  name text not null,
  locale text not null default 'en'::text,
  allowed_email_domains ARRAY,
  contacts_version integer not null default 1,
  contacts_reviewed_at timestamp with time zone,
  created_at timestamp with time zone not null default now(),
  updated_at timestamp with time zone not null default now(),
  review_reminded_at timestamp with time zone,
  parent_account_id text,
  slot_rules jsonb not null default '{}'::jsonb,
  constraint accounts_id_check CHECK ((id ~ '^[A-Za-z0-9_-]{1,64}$'::text)),
  constraint accounts_locale_check CHECK ((locale = ANY (ARRAY['en'::text, 'fi'::text]))),
  constraint accounts_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= 200))),
  constraint accounts_parent_account_id_fkey FOREIGN KEY (parent_account_id) REFERENCES accounts(id) ON DELETE RESTRICT,
  constraint accounts_pkey PRIMARY KEY (id),
  constraint accounts_slot_rules_check CHECK (valid_slot_rules(slot_rules))
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

table broadcasts (
  id text not null,
  category text not null,
  subject text not null,
  text text not null,
  account_ids ARRAY,
  status text not null default 'running'::text,
  total integer not null,
  processed integer not null default 0,
  notifications integer not null default 0,
  undeliverable integer not null default 0,
  cursor text,
  actor_type text not null,
  actor_id text not null,
  created_at timestamp with time zone not null default now(),
  finished_at timestamp with time zone,
  html text,
  advanced_at timestamp with time zone,
  cancelled_at timestamp with time zone,
  cancelled_by text,
  cancelled_deliveries integer not null default 0,
  constraint broadcasts_pkey PRIMARY KEY (id),
  constraint broadcasts_status_check CHECK ((status = ANY (ARRAY['running'::text, 'done'::text, 'cancelled'::text])))
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

table correction_requests (
  account_id text not null,
  id text not null,
  delivery_id text not null,
  notification_id text,
  category text not null,
  subject text not null,
  email text not null,
  slots ARRAY not null,
  reason text not null,
  suggested_email text,
  note text,
  status text not null default 'open'::text,
  created_at timestamp with time zone not null default now(),
  dismissed_at timestamp with time zone,
  constraint correction_requests_account_id_delivery_id_key UNIQUE (account_id, delivery_id),
  constraint correction_requests_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
  constraint correction_requests_pkey PRIMARY KEY (account_id, id),
  constraint correction_requests_reason_check CHECK ((reason = ANY (ARRAY['not_me'::text, 'left'::text, 'someone_else'::text]))),
  constraint correction_requests_status_check CHECK ((status = ANY (ARRAY['open'::text, 'dismissed'::text])))
);

table deliveries (
  account_id text not null,
  id text not null,
  channel text not null,
  notification_id text,
  event_id text,
  endpoint_id text,
  recipient text not null,
  recipient_name text,
  content jsonb,
  status text not null default 'queued'::text,
  attempts integer not null default 0,
  max_attempts integer not null,
  next_attempt_at timestamp with time zone not null default now(),
  lock_token text,
  last_error text,
  delivered_at timestamp with time zone,
  created_at timestamp with time zone not null default now(),
  updated_at timestamp with time zone not null default now(),
  return_token text,
  fallback_for text,
  constraint deliveries_account_id_event_id_fkey FOREIGN KEY (account_id, event_id) REFERENCES events(account_id, id) ON DELETE CASCADE,
  constraint deliveries_account_id_notification_id_fkey FOREIGN KEY (account_id, notification_id) REFERENCES notifications(account_id, id) ON DELETE CASCADE,
  constraint deliveries_channel_check CHECK ((channel = ANY (ARRAY['email'::text, 'webhook'::text]))),
  constraint deliveries_check CHECK ((((channel = 'email'::text) AND (notification_id IS NOT NULL) AND (event_id IS NULL)) OR ((channel = 'webhook'::text) AND (event_id IS NOT NULL) AND (endpoint_id IS NOT NULL) AND (notification_id IS NULL)))),
  constraint deliveries_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  constraint deliveries_pkey PRIMARY KEY (account_id, id),
  constraint deliveries_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'sending'::text, 'retrying'::text, 'delivered'::text, 'failed'::text, 'cancelled'::text, 'bounced'::text])))
);

table email_verifications (
  account_id text not null,
  id text not null,
  email text not null,
  token_hash text not null,
  expires_at timestamp with time zone not null,
  used_at timestamp with time zone,
  created_at timestamp with time zone not null default now(),
  constraint email_verifications_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
  constraint email_verifications_account_id_token_hash_key UNIQUE (account_id, token_hash),
  constraint email_verifications_pkey PRIMARY KEY (account_id, id)
);

table events (
  account_id text not null,
  id text not null,
  type text not null,
  payload jsonb not null,
  created_at timestamp with time zone not null default now(),
  constraint events_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
  constraint events_pkey PRIMARY KEY (account_id, id)
);

table idempotency_keys (
  account_id text not null,
  actor_id text not null,
  key text not null,
  request_hash text not null,
  status text not null,
  response_status integer,
  response_body jsonb,
  created_at timestamp with time zone not null default now(),
  constraint idempotency_keys_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
  constraint idempotency_keys_pkey PRIMARY KEY (account_id, actor_id, key),
  constraint idempotency_keys_status_check CHECK ((status = ANY (ARRAY['running'::text, 'done'::text])))
);

table mail_events (
  source text not null,
  event_id text not null,
  account_id text not null,
  delivery_id text not null,
  kind text not null,
  recipient text not null,
  diagnostic text not null,
  at timestamp with time zone not null,
  received_at timestamp with time zone not null default now(),
  constraint mail_events_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
  constraint mail_events_kind_check CHECK ((kind = ANY (ARRAY['hard_bounce'::text, 'soft_bounce'::text, 'complaint'::text, 'delivered'::text]))),
  constraint mail_events_pkey PRIMARY KEY (source, event_id),
  constraint mail_events_source_check CHECK ((source = ANY (ARRAY['smtp'::text, 'ses'::text, 'postmark'::text, 'sendgrid'::text, 'mailgun'::text])))
);

table notifications (
  account_id text not null,
  id text not null,
  category text not null,
  subject text not null,
  text text,
  html text,
  is_test boolean not null default false,
  kind text not null default 'notification'::text,
  fallback text,
  status text not null,
  recipients jsonb not null,
  broadcast_id text,
  actor_type text not null,
  actor_id text not null,
  request_id text,
  created_at timestamp with time zone not null default now(),
  constraint notifications_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
  constraint notifications_fallback_check CHECK ((fallback = ANY (ARRAY['primary'::text, 'super_admins'::text]))),
  constraint notifications_kind_check CHECK ((kind = ANY (ARRAY['notification'::text, 'system'::text]))),
  constraint notifications_pkey PRIMARY KEY (account_id, id),
  constraint notifications_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'undeliverable'::text]))),
  constraint notifications_subject_check CHECK (((char_length(subject) >= 1) AND (char_length(subject) <= 300))),
  constraint notifications_text_check CHECK (((text IS NOT NULL) OR (broadcast_id IS NOT NULL))) NOT VALID
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

table soft_bounce_addresses (
  account_id text not null,
  email text not null,
  reports bigint not null default 1,
  last_report_at timestamp with time zone not null default now(),
  constraint soft_bounce_addresses_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
  constraint soft_bounce_addresses_pkey PRIMARY KEY (account_id, email)
);

table suppressions (
  account_id text not null,
  email text not null,
  reason text not null,
  at timestamp with time zone not null default now(),
  kind text not null default 'hard_bounce'::text,
  source text not null default 'smtp'::text,
  delivery_id text,
  constraint suppressions_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
  constraint suppressions_kind_check CHECK ((kind = ANY (ARRAY['hard_bounce'::text, 'soft_bounce'::text, 'complaint'::text]))),
  constraint suppressions_pkey PRIMARY KEY (account_id, email),
  constraint suppressions_source_check CHECK ((source = ANY (ARRAY['smtp'::text, 'ses'::text, 'postmark'::text, 'sendgrid'::text, 'mailgun'::text])))
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

table verification_mail_limits (
  account_id text not null,
  scope text not null,
  key text not null,
  sent_at jsonb not null,
  last_at timestamp with time zone not null,
  constraint verification_mail_limits_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
  constraint verification_mail_limits_pkey PRIMARY KEY (account_id, scope, key),
  constraint verification_mail_limits_scope_check CHECK ((scope = ANY (ARRAY['address'::text, 'account'::text, 'caller'::text])))
);

table webhook_endpoints (
  id text not null,
  url text not null,
  description text,
  event_types ARRAY,
  status text not null default 'enabled'::text,
  disabled_reason text,
  created_at timestamp with time zone not null default now(),
  constraint webhook_endpoints_pkey PRIMARY KEY (id),
  constraint webhook_endpoints_status_check CHECK ((status = ANY (ARRAY['enabled'::text, 'disabled'::text]))),
  constraint webhook_endpoints_url_check CHECK ((char_length(url) <= 2048))
);

CREATE UNIQUE INDEX account_tree_lock_pkey ON public.account_tree_lock USING btree (id);
CREATE INDEX accounts_parent ON public.accounts USING btree (parent_account_id) WHERE (parent_account_id IS NOT NULL);
CREATE UNIQUE INDEX accounts_pkey ON public.accounts USING btree (id);
CREATE UNIQUE INDEX api_keys_pkey ON public.api_keys USING btree (id);
CREATE UNIQUE INDEX api_keys_token_hash_key ON public.api_keys USING btree (token_hash);
CREATE INDEX audit_events_at ON public.audit_events USING btree (at);
CREATE UNIQUE INDEX audit_events_pkey ON public.audit_events USING btree (account_id, id);
CREATE UNIQUE INDEX broadcasts_pkey ON public.broadcasts USING btree (id);
CREATE INDEX broadcasts_running ON public.broadcasts USING btree (advanced_at NULLS FIRST, created_at) WHERE (status = 'running'::text);
CREATE UNIQUE INDEX contact_slots_account_id_slot_user_id_key ON public.contact_slots USING btree (account_id, slot, user_id);
CREATE UNIQUE INDEX contact_slots_pkey ON public.contact_slots USING btree (account_id, slot, "position");
CREATE INDEX contact_slots_user ON public.contact_slots USING btree (account_id, user_id) WHERE (user_id IS NOT NULL);
CREATE UNIQUE INDEX correction_requests_account_id_delivery_id_key ON public.correction_requests USING btree (account_id, delivery_id);
CREATE INDEX correction_requests_dismissed ON public.correction_requests USING btree (dismissed_at);
CREATE UNIQUE INDEX correction_requests_pkey ON public.correction_requests USING btree (account_id, id);
CREATE INDEX correction_requests_recent ON public.correction_requests USING btree (account_id, created_at);
CREATE INDEX deliveries_due ON public.deliveries USING btree (next_attempt_at) WHERE (status = ANY (ARRAY['queued'::text, 'sending'::text, 'retrying'::text]));
CREATE INDEX deliveries_event ON public.deliveries USING btree (account_id, event_id) WHERE (event_id IS NOT NULL);
CREATE INDEX deliveries_notification ON public.deliveries USING btree (account_id, notification_id) WHERE (notification_id IS NOT NULL);
CREATE UNIQUE INDEX deliveries_pkey ON public.deliveries USING btree (account_id, id);
CREATE UNIQUE INDEX deliveries_return_token ON public.deliveries USING btree (return_token) WHERE (return_token IS NOT NULL);
CREATE UNIQUE INDEX email_verifications_account_id_token_hash_key ON public.email_verifications USING btree (account_id, token_hash);
CREATE UNIQUE INDEX email_verifications_pkey ON public.email_verifications USING btree (account_id, id);
CREATE INDEX events_created ON public.events USING btree (created_at);
CREATE UNIQUE INDEX events_pkey ON public.events USING btree (account_id, id);
CREATE INDEX idempotency_keys_created ON public.idempotency_keys USING btree (created_at);
CREATE UNIQUE INDEX idempotency_keys_pkey ON public.idempotency_keys USING btree (account_id, actor_id, key);
CREATE INDEX mail_events_delivery ON public.mail_events USING btree (account_id, delivery_id);
CREATE UNIQUE INDEX mail_events_pkey ON public.mail_events USING btree (source, event_id);
CREATE INDEX mail_events_received ON public.mail_events USING btree (received_at);
CREATE INDEX mail_events_soft ON public.mail_events USING btree (account_id, recipient, at) WHERE (kind = 'soft_bounce'::text);
CREATE INDEX notifications_broadcast ON public.notifications USING btree (broadcast_id) WHERE (broadcast_id IS NOT NULL);
CREATE INDEX notifications_created ON public.notifications USING btree (created_at);
CREATE UNIQUE INDEX notifications_pkey ON public.notifications USING btree (account_id, id);
CREATE UNIQUE INDEX sessions_account_id_token_hash_key ON public.sessions USING btree (account_id, token_hash);
CREATE UNIQUE INDEX sessions_pkey ON public.sessions USING btree (account_id, id);
CREATE INDEX soft_bounce_addresses_last_report ON public.soft_bounce_addresses USING btree (last_report_at);
CREATE UNIQUE INDEX soft_bounce_addresses_pkey ON public.soft_bounce_addresses USING btree (account_id, email);
CREATE UNIQUE INDEX suppressions_pkey ON public.suppressions USING btree (account_id, email);
CREATE UNIQUE INDEX users_account_id_id_status_key ON public.users USING btree (account_id, id, status);
CREATE UNIQUE INDEX users_active_email ON public.users USING btree (account_id, lower(email)) WHERE (status = 'active'::text);
CREATE UNIQUE INDEX users_pkey ON public.users USING btree (account_id, id);
CREATE UNIQUE INDEX verification_mail_limits_pkey ON public.verification_mail_limits USING btree (account_id, scope, key);
CREATE UNIQUE INDEX webhook_endpoints_pkey ON public.webhook_endpoints USING btree (id);
