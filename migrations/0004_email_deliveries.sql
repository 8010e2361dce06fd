-- Email delivery idempotency: one row per (invite, token version), the unit the email consumer
-- sends at most once. Queues deliver at least once, so before sending, a consumer claims the row
-- ('sending', with a lease); it then records 'sent' (never sent again) or, for a permanent or
-- dead-lettered failure, 'failed'. A claim whose holder crashed expires with its lease and the
-- next delivery of the message takes it over. Rows go with their invite (ON DELETE CASCADE), so
-- the expiry job's purge of finished invites purges them too.
CREATE TABLE email_deliveries (
  invite_id TEXT NOT NULL REFERENCES invites(id) ON DELETE CASCADE,
  token_version INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
  -- The consumer invocation holding a 'sending' claim, and until when (ms) it holds it.
  claim_id TEXT NOT NULL,
  lease_until INTEGER NOT NULL,
  -- The provider's id for the sent message, when it gives one (Resend).
  provider_message_id TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (invite_id, token_version)
) WITHOUT ROWID;
