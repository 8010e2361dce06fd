import { assertOrgPermission, type OrgAccessRow, orgAccessFromRow, orgAccessStatement } from "../access";
import type { Db } from "../db";
import { decodeCursor, type Page, type PageQuery, toPage } from "../pagination";
import { prepare, type SQL, sql } from "../sql";
import {
  JOIN_REQUEST_COLUMNS,
  JOIN_REQUEST_FROM,
  type JoinRequest,
  type JoinRequestRow,
  type JoinRequestStatus,
  toJoinRequest,
} from "./views";

/**
 * An organization's join requests with one status, newest first, keyset-paginated on
 * (created_at, id) — for those who decide them (members:invite; other members 403, outsiders 404).
 * One round trip: access and page are read together, the page dropped unless access holds.
 */
export async function listJoinRequests(
  db: Db,
  input: { orgId: string; userId: string; status: JoinRequestStatus; page: PageQuery },
): Promise<Page<JoinRequest>> {
  const { orgId, userId, page } = input;
  const [access, list] = await db.batch([
    orgAccessStatement(db, orgId, userId),
    prepare(
      db,
      sql`SELECT ${JOIN_REQUEST_COLUMNS} FROM ${JOIN_REQUEST_FROM}
          WHERE r.organization_id = ${orgId} AND r.status = ${input.status} ${after(page)}
          ORDER BY r.created_at DESC, r.id DESC LIMIT ${page.limit + 1}`,
    ),
  ]);
  assertOrgPermission(orgAccessFromRow(access?.results[0] as OrgAccessRow | undefined), "members:invite");
  return toPage((list?.results ?? []) as JoinRequestRow[], page.limit, (r) => [r.created_at, r.id], toJoinRequest);
}

/** The caller's own join requests, every status, newest first, keyset-paginated. One round trip. */
export async function listMyJoinRequests(
  db: Db,
  input: { userId: string; page: PageQuery },
): Promise<Page<JoinRequest>> {
  const { userId, page } = input;
  const { results } = await prepare(
    db,
    sql`SELECT ${JOIN_REQUEST_COLUMNS} FROM ${JOIN_REQUEST_FROM}
        WHERE r.user_id = ${userId} ${after(page)} ORDER BY r.created_at DESC, r.id DESC LIMIT ${page.limit + 1}`,
  ).all<JoinRequestRow>();
  return toPage(results, page.limit, (r) => [r.created_at, r.id], toJoinRequest);
}

/** The keyset condition after the page's cursor (created_at, id), newest first; nothing on the first page. */
function after(page: PageQuery): SQL {
  const cursor = decodeCursor(page.cursor);
  if (cursor === null) return sql``;
  return sql`AND (r.created_at < ${cursor[0]} OR (r.created_at = ${cursor[0]} AND r.id < ${cursor[1]}))`;
}
