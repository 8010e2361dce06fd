-- Many organizations per user: organization_users, users' email addresses, Clerk sync state,
-- the audit log, and the backfill from the legacy single-organization columns.

-- Organizations gain a unique slug, an optional seat limit and an update time. Legacy rows take
-- their id as slug: ids are unique, so the backfill cannot collide.
ALTER TABLE organizations ADD COLUMN slug TEXT;
ALTER TABLE organizations ADD COLUMN max_members INTEGER CHECK (max_members IS NULL OR max_members > 0);
ALTER TABLE organizations ADD COLUMN updated_at INTEGER;
UPDATE organizations SET slug = id, updated_at = created_at;
CREATE UNIQUE INDEX organizations_slug ON organizations (slug);

-- admins and project_admins are rebuilt (SQLite cannot change constraints in place):
-- * admins.organization_id is deprecated: organization_users becomes the one source of
--   membership and no code reads or writes the column. It keeps its values but loses its foreign
--   key, whose stale reference would otherwise block deleting an organization. The rebuild also
--   adds Clerk sync state: clerk_updated_at is the updated_at of the last applied webhook (NULL
--   until the first one arrives, i.e. a user known only from a session token).
-- * project_admins gains a CHECK on its role and cascading foreign keys; a legacy role outside
--   the enum becomes 'viewer'.
-- Order matters: D1 enforces foreign keys, and dropping a table that another table references
-- counts violations that a later rename does not clear. So project_admins is set aside first,
-- admins is rebuilt while nothing references it, and project_admins is rebuilt last.
CREATE TABLE project_admins_legacy AS SELECT project_id, admin_id, role, created_at FROM project_admins;
DROP TABLE project_admins;

CREATE TABLE admins_new (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  name TEXT,
  organization_id TEXT,                      -- deprecated: see organization_users
  role TEXT NOT NULL DEFAULT 'member',       -- deprecated: legacy role, see organization_users
  created_at INTEGER NOT NULL,
  clerk_updated_at INTEGER,
  updated_at INTEGER NOT NULL
);
INSERT INTO admins_new (id, email, name, organization_id, role, created_at, updated_at)
  SELECT id, email, name, organization_id, role, created_at, created_at FROM admins;
DROP TABLE admins;
ALTER TABLE admins_new RENAME TO admins;

CREATE TABLE project_admins (
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  admin_id TEXT NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
  role TEXT NOT NULL DEFAULT 'viewer' CHECK (role IN ('admin', 'editor', 'viewer')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, admin_id)
);
INSERT INTO project_admins (project_id, admin_id, role, created_at, updated_at)
  SELECT project_id, admin_id,
         CASE WHEN role IN ('admin', 'editor', 'viewer') THEN role ELSE 'viewer' END,
         created_at, created_at
  FROM project_admins_legacy;
DROP TABLE project_admins_legacy;
CREATE INDEX project_admins_project_joined ON project_admins (project_id, created_at, admin_id);
CREATE INDEX project_admins_admin ON project_admins (admin_id, project_id);

-- Every address of a user with its verification state, in canonical form (trimmed, NFC,
-- lower-case). Accepting an invite by address match reads only verified rows.
CREATE TABLE user_emails (
  user_id TEXT NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  verified INTEGER NOT NULL CHECK (verified IN (0, 1)),
  is_primary INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1)),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, email)
);
CREATE INDEX user_emails_email ON user_emails (email, verified);
-- Legacy admins' addresses came from Clerk's primary address: keep them, as verified.
INSERT INTO user_emails (user_id, email, verified, is_primary, created_at)
  SELECT id, lower(trim(email)), 1, 1, created_at FROM admins;

-- Users deleted in Clerk: a user.created/updated delivered after user.deleted must not
-- resurrect the user.
CREATE TABLE user_tombstones (user_id TEXT PRIMARY KEY, deleted_at INTEGER NOT NULL);

-- Many-to-many organization membership, one role each.
CREATE TABLE organization_users (
  organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
  role TEXT NOT NULL DEFAULT 'member'
    CHECK (role IN ('owner', 'director', 'manager', 'member', 'guest')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (organization_id, user_id)
);
-- The member list pages by (joined, user id); "my organizations" reads by user.
CREATE INDEX organization_users_org_joined ON organization_users (organization_id, created_at, user_id);
CREATE INDEX organization_users_user ON organization_users (user_id, created_at, organization_id);

-- Backfill: every admin with an organization becomes its member; owner->owner, admin->director,
-- anything else->member.
INSERT INTO organization_users (organization_id, user_id, role, created_at, updated_at)
  SELECT organization_id, id,
         CASE role WHEN 'owner' THEN 'owner' WHEN 'admin' THEN 'director' ELSE 'member' END,
         created_at, created_at
  FROM admins WHERE organization_id IS NOT NULL;

-- An organization with members but no owner gets its earliest admin-role member promoted
-- (earliest member of any role when it has no legacy admin).
UPDATE organization_users SET role = 'owner'
WHERE rowid IN (
  SELECT (
    SELECT ou.rowid FROM organization_users ou JOIN admins a ON a.id = ou.user_id
    WHERE ou.organization_id = o.organization_id
    ORDER BY (a.role = 'admin') DESC, ou.created_at, ou.user_id LIMIT 1)
  FROM (SELECT DISTINCT organization_id FROM organization_users) o
  WHERE NOT EXISTS (SELECT 1 FROM organization_users x
                    WHERE x.organization_id = o.organization_id AND x.role = 'owner')
);

-- A project member is always an organization member: legacy project members who were not
-- members of the project's organization join it as 'member'.
INSERT INTO organization_users (organization_id, user_id, role, created_at, updated_at)
  SELECT DISTINCT p.organization_id, pa.admin_id, 'member', min(pa.created_at), min(pa.created_at)
  FROM project_admins pa JOIN projects p ON p.id = pa.project_id
  WHERE NOT EXISTS (SELECT 1 FROM organization_users ou
                    WHERE ou.organization_id = p.organization_id AND ou.user_id = pa.admin_id)
  GROUP BY p.organization_id, pa.admin_id;

CREATE INDEX projects_org_created ON projects (organization_id, created_at, id);

-- The append-only audit log. No foreign keys: history outlives the rows it describes.
CREATE TABLE audit_events (
  id TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL,
  actor_id TEXT,
  action TEXT NOT NULL,
  target_type TEXT NOT NULL,
  target_id TEXT NOT NULL,
  data TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
  created_at INTEGER NOT NULL
);
CREATE INDEX audit_events_org_created ON audit_events (organization_id, created_at DESC, id DESC);

-- Clerk webhook deliveries already applied, by svix-id (deduplication; purged after a window).
CREATE TABLE webhook_events (
  svix_id TEXT PRIMARY KEY,
  event_type TEXT NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE INDEX webhook_events_received ON webhook_events (received_at);
