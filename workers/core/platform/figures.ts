import type { Config } from "../config";
import { type Db, iso } from "../db";
import { afterNumericCursor, type Page, type PageQuery, toPage } from "../pagination";
import { requirePlatformAdmin } from "../platform-admins";
import { prepare, sql } from "../sql";
import { displayEmailSql } from "../users";

export interface PlatformFigures {
  signupMode: "open" | "invite_only";
  cap: number | null;
  active: number;
  waitlisted: number;
  pendingInvitations: number;
}

/** The gate's figures for operators (`GET /v1/platform`): one statement. */
export async function platformFigures(db: Db, config: Config, userId: string, now: number): Promise<PlatformFigures> {
  requirePlatformAdmin(config, userId);
  const row = await prepare(
    db,
    sql`SELECT (SELECT count(*) FROM admins WHERE access = 'active') AS active,
              (SELECT count(*) FROM admins WHERE access = 'waitlisted') AS waitlisted,
            (SELECT count(*) FROM platform_invitations WHERE status = 'pending' AND expires_at > ${now}) AS pending`,
  ).first<{ active: number; waitlisted: number; pending: number }>();
  return {
    signupMode: config.SIGNUP_MODE,
    cap: config.SIGNUP_CAP,
    active: row?.active ?? 0,
    waitlisted: row?.waitlisted ?? 0,
    pendingInvitations: row?.pending ?? 0,
  };
}

export interface WaitlistEntry {
  userId: string;
  email: string | null;
  name: string | null;
  createdAt: string;
}

/** The waitlist, longest-waiting first (`GET /v1/platform/waitlist`): one statement. */
export async function listWaitlist(
  db: Db,
  config: Config,
  userId: string,
  page: PageQuery,
): Promise<Page<WaitlistEntry>> {
  requirePlatformAdmin(config, userId);
  const after = afterNumericCursor(page.cursor, "a.created_at", "a.id");
  const rows = (
    await prepare(
      db,
      sql`SELECT a.id, a.name, a.created_at, ${displayEmailSql("a")} AS email
          FROM admins a WHERE a.access = 'waitlisted' AND ${after}
          ORDER BY a.created_at, a.id LIMIT ${page.limit + 1}`,
    ).all<{ id: string; name: string | null; created_at: number; email: string | null }>()
  ).results;
  return toPage(
    rows,
    page.limit,
    (r) => [r.created_at, r.id],
    (r) => ({ userId: r.id, email: r.email, name: r.name, createdAt: iso(r.created_at) }),
  );
}
