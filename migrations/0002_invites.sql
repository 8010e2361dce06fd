-- One invites table for organization and project invites, with email delivery state, and the
-- fixed-window counters behind the rate limits.
CREATE TABLE invites (
  id TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  project_id TEXT REFERENCES projects(id) ON DELETE CASCADE,
  -- Canonical address: trimmed, NFC, lower-case.
  email TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  -- The organization role granted when the invitee is not yet a member.
  role TEXT NOT NULL DEFAULT 'member'
    CHECK (role IN ('owner', 'director', 'manager', 'member', 'guest')),
  -- Set exactly for project invites.
  project_role TEXT CHECK (project_role IN ('admin', 'editor', 'viewer')),
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'accepted', 'declined', 'revoked', 'expired')),
  -- SHA-256 of the raw token (hex); the raw token exists only in the email link.
  token_hash TEXT NOT NULL UNIQUE,
  -- Incremented by every resend: the email consumer drops messages for older versions.
  token_version INTEGER NOT NULL DEFAULT 1,
  invited_by TEXT REFERENCES admins(id) ON DELETE SET NULL,
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
  CHECK ((project_id IS NULL) = (project_role IS NULL))
);
-- One pending invite at most per (address, organization, project): concurrent identical invite
-- requests cannot create two. COALESCE because NULLs never collide in a unique index.
CREATE UNIQUE INDEX invites_one_pending
  ON invites (email, organization_id, COALESCE(project_id, '')) WHERE status = 'pending';
-- Inviter lists, by organization or project and status, newest first.
CREATE INDEX invites_org_status ON invites (organization_id, status, created_at DESC, id DESC);
CREATE INDEX invites_project_status ON invites (project_id, status, created_at DESC, id DESC)
  WHERE project_id IS NOT NULL;
-- The banner feed: pending invites by address.
CREATE INDEX invites_email_status ON invites (email, status, expires_at);
-- The expiry job: pending past expires_at; finished past retention.
CREATE INDEX invites_status_expires ON invites (status, expires_at);
CREATE INDEX invites_status_updated ON invites (status, updated_at);

-- Fixed-window rate-limit counters: key (e.g. 'invite:org:<id>'), window start (ms).
CREATE TABLE rate_limits (
  key TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (key, window_start)
) WITHOUT ROWID;
CREATE INDEX rate_limits_window ON rate_limits (window_start);
