-- Repairs what 0001's backfill got wrong. On a database already migrated it repairs the data; on a
-- new install it runs right after 0001 (a `migrations apply` applies every pending migration
-- in one go, so nothing sees the state in between) and repairs the same shapes; on an empty
-- database, or one already repaired, it changes nothing (every statement selects only what is
-- still broken).

-- 1. Organizations with members but no owner. 0001 promoted owners before it made legacy project
-- members members of the project's organization, so an organization whose people all came in
-- through its projects ended with members only: nobody could invite, rename or delete it. Each
-- gets one member promoted, in 0001's order of preference (its legacy admin-role members first,
-- then the earliest, then by user id), after the highest organization role (which ranks 0001's
-- own promotions the same way: its directors were exactly its legacy admins). Audited like every
-- promotion: `member.promoted`, no actor. The choice is kept in a work table so that the audit
-- row and the update name the same member.
CREATE TABLE legacy_repair_0006 (
  organization_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  from_role TEXT NOT NULL,
  at INTEGER NOT NULL
);
INSERT INTO legacy_repair_0006 (organization_id, user_id, from_role, at)
  SELECT m.organization_id, m.user_id, m.role, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
  FROM organization_users m
  WHERE m.rowid IN (
    SELECT (
      SELECT ou.rowid FROM organization_users ou JOIN admins a ON a.id = ou.user_id
      WHERE ou.organization_id = o.organization_id
      ORDER BY CASE ou.role WHEN 'director' THEN 4 WHEN 'manager' THEN 3 WHEN 'member' THEN 2 ELSE 1 END DESC,
               (a.role = 'admin') DESC, ou.created_at, ou.user_id
      LIMIT 1)
    FROM (SELECT DISTINCT organization_id FROM organization_users) o
    WHERE NOT EXISTS (SELECT 1 FROM organization_users x
                      WHERE x.organization_id = o.organization_id AND x.role = 'owner')
  );
INSERT INTO audit_events (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
  SELECT 'evt_' || lower(hex(randomblob(16))), organization_id, NULL, 'member.promoted', 'member', user_id,
         json_object('from', from_role, 'to', 'owner', 'reason', 'legacy_ownerless'), at
  FROM legacy_repair_0006;
UPDATE organization_users
  SET role = 'owner',
      updated_at = (SELECT r.at FROM legacy_repair_0006 r WHERE r.organization_id = organization_users.organization_id)
  WHERE (organization_id, user_id) IN (SELECT organization_id, user_id FROM legacy_repair_0006);
DROP TABLE legacy_repair_0006;

-- 2. Legacy addresses whose canonical forms collide. 0001 kept every legacy address as verified,
-- so legacy admins `Bob@a.test` and `bob@a.test` both held a verified `bob@a.test` and either
-- could accept an invite to it. A legacy address is verified only by assumption (it came from
-- Clerk once); where two users hold the same canonical address, neither is verified until Clerk
-- says so (their user.created/updated webhook). A legacy user's address that Clerk has verified
-- for another user is likewise no longer theirs to accept with. Clerk-synced rows are Clerk's
-- word and stay as they are.
UPDATE user_emails SET verified = 0
  WHERE verified = 1
    AND user_id IN (SELECT id FROM admins WHERE clerk_updated_at IS NULL)
    AND EXISTS (SELECT 1 FROM user_emails o JOIN admins oa ON oa.id = o.user_id
                WHERE o.email = user_emails.email AND o.user_id <> user_emails.user_id
                  AND (oa.clerk_updated_at IS NULL OR o.verified = 1));

-- 3. admins.email (UNIQUE, legacy) went to the first user who claimed an address in Clerk,
-- verified or not. A synced user holding one that is not their primary verified address gives
-- it up for their placeholder (workers/core/users.ts placeholderEmail); a synced user whose
-- primary verified address is then free takes it. OR IGNORE: a row that would collide keeps its
-- value (the webhook sorts it out at the user's next event).
UPDATE OR IGNORE admins SET email = id || '@users.invalid'
  WHERE clerk_updated_at IS NOT NULL AND email NOT LIKE '%@users.invalid'
    AND NOT EXISTS (SELECT 1 FROM user_emails ue
                    WHERE ue.user_id = admins.id AND ue.email = admins.email AND ue.verified = 1 AND ue.is_primary = 1);
UPDATE OR IGNORE admins
  SET email = (SELECT ue.email FROM user_emails ue WHERE ue.user_id = admins.id AND ue.verified = 1 AND ue.is_primary = 1)
  WHERE clerk_updated_at IS NOT NULL AND email LIKE '%@users.invalid'
    AND EXISTS (SELECT 1 FROM user_emails ue WHERE ue.user_id = admins.id AND ue.verified = 1 AND ue.is_primary = 1);
