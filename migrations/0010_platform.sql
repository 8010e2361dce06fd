-- The platform (API.md "Platform: the sign-up gate and platform invitations"): every user's
-- access, their referrer, and invitations to the product itself, independent of organizations.

-- Users who exist when the gate is introduced stay active: the column's default fills them.
-- New rows always name their access (decided from SIGNUP_MODE and SIGNUP_CAP when inserted).
ALTER TABLE admins ADD COLUMN access TEXT NOT NULL DEFAULT 'active' CHECK (access IN ('active', 'waitlisted'));
-- Set once, by the first accepted platform invitation: the inviter a referral programme credits.
ALTER TABLE admins ADD COLUMN referred_by TEXT;
ALTER TABLE admins ADD COLUMN admitted_at INTEGER;
-- The cap's count (active users) and the waitlist read this index; referrals read the second.
CREATE INDEX admins_access ON admins (access, created_at);
CREATE INDEX admins_referred_by ON admins (referred_by) WHERE referred_by IS NOT NULL;

CREATE TABLE platform_invitations (
  id TEXT PRIMARY KEY,
  -- Canonical address: trimmed, NFC, lower-case.
  email TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  -- SHA-256 of the raw token (hex); the raw token exists only in the email link.
  token_hash TEXT NOT NULL UNIQUE,
  -- Incremented by every resend: the email consumer drops messages for older versions.
  token_version INTEGER NOT NULL DEFAULT 1,
  invited_by TEXT REFERENCES admins(id) ON DELETE SET NULL,
  source TEXT NOT NULL CHECK (source IN ('operator', 'referral')),
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'revoked', 'expired')),
  accepted_by TEXT REFERENCES admins(id) ON DELETE SET NULL,
  accepted_at INTEGER,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  -- Set at every status change: the purge's retention is counted from it.
  updated_at INTEGER NOT NULL,
  delivery_status TEXT NOT NULL DEFAULT 'queued' CHECK (delivery_status IN ('queued', 'sent', 'failed')),
  delivery_attempts INTEGER NOT NULL DEFAULT 0,
  delivery_error TEXT,
  delivery_sent_at INTEGER,
  -- Stamped by the accepting request: the rest of its batch keys on (invitation, nonce).
  accept_nonce TEXT
);
-- One pending invitation per address: concurrent identical requests cannot create two.
CREATE UNIQUE INDEX platform_invitations_one_pending ON platform_invitations (email) WHERE status = 'pending';
-- The inviter's list and quota count; the operator's list; the expiry job.
CREATE INDEX platform_invitations_inviter ON platform_invitations (invited_by, status, created_at DESC, id DESC);
CREATE INDEX platform_invitations_status ON platform_invitations (status, created_at DESC, id DESC);
CREATE INDEX platform_invitations_status_expires ON platform_invitations (status, expires_at);
CREATE INDEX platform_invitations_status_updated ON platform_invitations (status, updated_at);

-- Email idempotency for platform invitations, as email_deliveries is for invites: one row per
-- (invitation, token version), claimed before sending.
CREATE TABLE platform_email_deliveries (
  invitation_id TEXT NOT NULL REFERENCES platform_invitations(id) ON DELETE CASCADE,
  token_version INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
  claim_id TEXT NOT NULL,
  lease_until INTEGER NOT NULL,
  provider_message_id TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (invitation_id, token_version)
) WITHOUT ROWID;
