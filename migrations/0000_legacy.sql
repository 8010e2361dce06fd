-- The legacy single-organization schema, exactly as existing installations have it.
CREATE TABLE organizations (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE admins (
  id TEXT PRIMARY KEY,                       -- Clerk user id
  email TEXT NOT NULL UNIQUE,
  name TEXT,
  organization_id TEXT REFERENCES organizations(id),
  role TEXT NOT NULL DEFAULT 'member',       -- 'owner' | 'admin' | 'member'
  created_at INTEGER NOT NULL);
CREATE TABLE projects (id TEXT PRIMARY KEY, organization_id TEXT NOT NULL REFERENCES organizations(id),
  name TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE project_admins (project_id TEXT NOT NULL REFERENCES projects(id),
  admin_id TEXT NOT NULL REFERENCES admins(id), role TEXT NOT NULL,   -- 'admin' | 'editor' | 'viewer'
  created_at INTEGER NOT NULL, PRIMARY KEY (project_id, admin_id));
