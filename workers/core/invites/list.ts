import { authorizeScope } from "../access";
import type { Db } from "../db";
import { decodeCursor, type Page, type PageQuery, toPage } from "../pagination";
import { prepare, sql } from "../sql";
import { type InviteScope, scopeAccessStatement } from "./scope";
import { INVITE_COLUMNS, INVITE_FROM, type Invite, type InviteRow, type InviteStatus, toInvite } from "./views";

/**
 * The scope's invites, newest first, keyset-paginated on (created_at, id). One round trip: the
 * access check and the page are read together (the page is dropped unless access holds).
 * `pending` means pending and unexpired; `expired` includes pending invites past their expiry.
 */
export async function listInvites(
  db: Db,
  input: { scope: InviteScope; userId: string; status: InviteStatus; page: PageQuery; now: number },
): Promise<Page<Invite>> {
  const { scope, now, page } = input;
  const cursor = decodeCursor(page.cursor);
  const where = [
    scope.kind === "organization" ? sql`i.organization_id = ${scope.orgId}` : sql`i.project_id = ${scope.projectId}`,
  ];
  if (input.status === "pending") {
    where.push(sql`i.status = 'pending' AND i.expires_at > ${now}`);
  } else if (input.status === "expired") {
    where.push(sql`i.status IN ('expired', 'pending') AND (i.status = 'expired' OR i.expires_at <= ${now})`);
  } else {
    where.push(sql`i.status = ${input.status}`);
  }
  if (cursor !== null) {
    where.push(sql`(i.created_at < ${cursor[0]} OR (i.created_at = ${cursor[0]} AND i.id < ${cursor[1]}))`);
  }
  const [accessResult, listResult] = await db.batch([
    scopeAccessStatement(db, scope, input.userId),
    prepare(
      db,
      sql`SELECT ${sql.raw(INVITE_COLUMNS)} FROM ${sql.raw(INVITE_FROM)}
          WHERE ${sql.join(where, sql` AND `)} ORDER BY i.created_at DESC, i.id DESC LIMIT ${page.limit + 1}`,
    ),
  ]);
  authorizeScope(accessResult?.results[0] as never, scope.kind, "invites:read");
  return toPage(
    (listResult?.results ?? []) as InviteRow[],
    page.limit,
    (r) => [r.created_at, r.id],
    (r) => toInvite(r, now),
  );
}
