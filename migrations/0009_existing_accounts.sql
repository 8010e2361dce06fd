-- Existing accounts (seed 001): consent-pending adds, organization domains, join requests.

-- How an invite came about: an email invite, or an existing user added by id ("owner_add"),
-- pending their consent. Existing rows are email invites.
ALTER TABLE invites ADD COLUMN source TEXT NOT NULL DEFAULT 'email' CHECK (source IN ('email', 'owner_add'));

-- Email domains an organization claimed, canonical (trimmed, lower-case, IDNA ASCII). The claimer
-- held a verified address at the domain when claiming it. Several organizations may claim one
-- domain (each claimer proved an address there): each is suggested on its own.
CREATE TABLE organization_domains (
  organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  domain TEXT NOT NULL CHECK (length(domain) BETWEEN 3 AND 253),
  enrollment TEXT NOT NULL DEFAULT 'request' CHECK (enrollment IN ('request', 'auto')),
  verified_by TEXT REFERENCES admins(id) ON DELETE SET NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (organization_id, domain)
) WITHOUT ROWID;
-- Suggestions look organizations up by the domain of a verified address.
CREATE INDEX organization_domains_domain ON organization_domains (domain, organization_id);

-- A user asking to join an organization suggested to them by a domain. Every decision is a guarded
-- transition out of 'pending'; decision_nonce is the deciding request's random value, on which the
-- rest of its batch (membership, audit rows) is keyed, as invites.accept_nonce is for accepts.
CREATE TABLE join_requests (
  id TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'withdrawn')),
  -- The organization role granted on approval; NULL until approved.
  role TEXT CHECK (role IN ('owner', 'director', 'manager', 'member', 'guest')),
  message TEXT CHECK (message IS NULL OR length(message) <= 500),
  -- The claimed domain the request came through.
  domain TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  decided_at INTEGER,
  -- NULL for an automatic approval (enrollment 'auto') and once the decider is deleted.
  decided_by TEXT REFERENCES admins(id) ON DELETE SET NULL,
  decision_nonce TEXT,
  CHECK ((status = 'approved') = (role IS NOT NULL))
);
-- One pending request at most per (organization, user).
CREATE UNIQUE INDEX join_requests_one_pending ON join_requests (organization_id, user_id) WHERE status = 'pending';
CREATE INDEX join_requests_org_status ON join_requests (organization_id, status, created_at DESC, id DESC);
CREATE INDEX join_requests_user ON join_requests (user_id, created_at DESC, id DESC);

-- Their notification emails (the consent-pending offer, a join request's decision) are the
-- events' notifications: 0008's notification_deliveries, one per event.
