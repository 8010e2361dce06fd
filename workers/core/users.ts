import type { Db } from "./db";

/**
 * Users are Clerk's: the `admins` table (legacy name) mirrors them, fed by Clerk's webhooks.
 */
export interface UserRow {
  id: string;
  email: string;
  name: string | null;
  clerk_updated_at: number | null;
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
 * The row takes the column's default access, `active`: it runs only behind the sign-up gate
 * (workers/api/gated-db.ts), whose statement in the same batch has just judged this user as a new
 * user would be — admitted, within the cap — so the insert is that decision.
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

/** Case is kept: Clerk ids are case-sensitive, and so is the UNIQUE index on admins.email. */
export function placeholderEmail(userId: string): string {
  return `${userId.replace(/[^A-Za-z0-9_-]/g, "-")}@users.invalid`;
}

/** The caller's verified addresses: what accepting an invite by address match reads. */
export function verifiedEmailsStatement(db: Db, userId: string): D1PreparedStatement {
  return db.prepare("SELECT email FROM user_emails WHERE user_id = ? AND verified = 1").bind(userId);
}
