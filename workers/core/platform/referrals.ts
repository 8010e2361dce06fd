import type { Db } from "../db";
import { iso } from "../db";
import { afterNumericCursor, type Page, type PageQuery, toPage } from "../pagination";
import { prepare, sql } from "../sql";

export interface Referral {
  userId: string;
  name: string | null;
  joinedAt: string;
}

/** `GET /v1/me/referrals`: users whose referredBy is the caller, in the order they joined. One statement. */
export async function listReferrals(db: Db, userId: string, page: PageQuery): Promise<Page<Referral>> {
  const after = afterNumericCursor(page.cursor, "a.created_at", "a.id");
  const rows = (
    await prepare(
      db,
      sql`SELECT a.id, a.name, a.created_at FROM admins a WHERE a.referred_by = ${userId} AND ${after}
          ORDER BY a.created_at, a.id LIMIT ${page.limit + 1}`,
    ).all<{ id: string; name: string | null; created_at: number }>()
  ).results;
  return toPage(
    rows,
    page.limit,
    (r) => [r.created_at, r.id],
    (r) => ({ userId: r.id, name: r.name, joinedAt: iso(r.created_at) }),
  );
}
