import type { Db } from "./db";
import { prepare, type SQL, sql } from "./sql";

// Users are Clerk's: the `admins` table (legacy name) mirrors them, fed by Clerk's webhooks.

/**
 * THE address Roster shows for a user to others, as a SQL expression over the `admins` row aliased
 * `user` (a LEFT JOINed row may be NULL: then so is the address). The one rule behind
 * `Member.email` (organization and project member lists) and the inviter on the accept page, the
 * banner and in the email (core/invites/views.ts `inviterLabel`: the name, else this): the
 * primary address when Clerk verified it, else null. An unverified address is a claim anybody can
 * make in Clerk, so it never vouches for anyone. A legacy user whom Clerk has not synced yet
 * (clerk_updated_at NULL) has only their legacy address in user_emails: it is theirs until Clerk
 * says otherwise, verified or not (a legacy address colliding with another user's is kept
 * unverified: see migration 0006). Read from user_emails, never admins.email, whose UNIQUE legacy
 * constraint makes it a first-come slot that may hold a placeholder.
 */
export function displayEmailSql(user: string): SQL {
  const u = sql.raw(user);
  return sql`(SELECT ue.email FROM user_emails ue
           WHERE ue.user_id = ${u}.id AND ue.is_primary = 1 AND (ue.verified = 1 OR ${u}.clerk_updated_at IS NULL)
           LIMIT 1)`;
}

export interface UserEmailRow {
  email: string;
  verified: number;
  is_primary: number;
}

/**
 * A user known only from a session token (their user.created webhook has not arrived) still
 * needs an `admins` row before they can hold a membership. This statement, put in the batch that
 * needs it, creates a placeholder row: no name, no addresses, and an address under the reserved
 * `.invalid` TLD (RFC 2606) that can never receive mail. user.created replaces it. A user Clerk
 * deleted (tombstoned) is not brought back by a still-valid session token: no row is created, and
 * the membership insert that follows in the batch then fails its foreign key.
 */
export function ensureUserStatement(db: Db, userId: string, now: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO admins (id, email, name, role, created_at, updated_at)
       SELECT ?, ?, NULL, 'member', ?, ?
       WHERE NOT EXISTS (SELECT 1 FROM user_tombstones WHERE user_id = ?)
       ON CONFLICT (id) DO NOTHING`,
    )
    .bind(userId, placeholderEmail(userId), now, now, userId);
}

/**
 * Case is kept: Clerk ids are case-sensitive, and so is the UNIQUE index on admins.email. The id
 * is kept whole (never sanitised) so that SQL computes the same value (placeholderEmailSql).
 */
export function placeholderEmail(userId: string): string {
  return `${userId}@users.invalid`;
}

/** placeholderEmail as a SQL expression over a user id column. */
export function placeholderEmailSql(idColumn: SQL): SQL {
  return sql`${idColumn} || '@users.invalid'`;
}

/** The caller's verified addresses: what accepting an invite by address match reads. */
export function verifiedEmailsStatement(db: Db, userId: string): D1PreparedStatement {
  return db.prepare("SELECT email FROM user_emails WHERE user_id = ? AND verified = 1").bind(userId);
}

/**
 * Who keeps admins.email (UNIQUE, legacy) when another user claims the address too, as a SQL
 * condition over the holder's row aliased `h`: a holder Clerk verified it for, or a legacy user
 * Clerk has not synced yet (their address until Clerk says otherwise; nothing existing is lost).
 */
export const HOLDER_KEEPS_ADDRESS: SQL = sql`(h.clerk_updated_at IS NULL OR EXISTS (
  SELECT 1 FROM user_emails hv WHERE hv.user_id = h.id AND hv.email = h.email AND hv.verified = 1))`;

/**
 * Before `userId` takes `address` (their primary verified one) in admins.email: another holder
 * who does not keep it (an unverified claim, stored before only verified addresses were) gives
 * it up for their placeholder. First come is not first served.
 */
export function releaseAddressStatement(db: Db, address: string | null, userId: string): D1PreparedStatement {
  return prepare(
    db,
    sql`UPDATE admins AS h SET email = ${placeholderEmailSql(sql`h.id`)}
        WHERE h.email = ${address} AND h.id <> ${userId} AND NOT ${HOLDER_KEEPS_ADDRESS}`,
  );
}

/**
 * After Clerk's event at `updatedAt` for `userId` is stored: Clerk has said whose its verified
 * addresses are, so a legacy user not synced yet who holds one of them from the migration
 * (verified by assumption, not by Clerk) no longer matches invites to it. Their own sync
 * restores whatever Clerk verified for them. No effect when the event was not the one stored.
 */
export function unverifyLegacyClaimsStatement(db: Db, userId: string, updatedAt: number): D1PreparedStatement {
  return prepare(
    db,
    sql`UPDATE user_emails SET verified = 0
        WHERE verified = 1 AND user_id <> ${userId}
          AND email IN (SELECT email FROM user_emails WHERE user_id = ${userId} AND verified = 1)
          AND user_id IN (SELECT id FROM admins WHERE clerk_updated_at IS NULL)
          AND (SELECT clerk_updated_at FROM admins WHERE id = ${userId}) = ${updatedAt}`,
  );
}
