import { assertOrgPermission, type OrgAccessRow, orgAccessFromRow, orgAccessStatement } from "./access";
import { type Db, iso } from "./db";
import { decodeCursor, type Page, type PageQuery, toPage } from "./pagination";
import { prepare, sql } from "./sql";

/** Reading the audit log (writing is `auditStatement` in audit.ts, inside each change's batch). */
interface AuditEventRow {
  id: string;
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string;
  data: string;
  created_at: number;
}

export interface AuditEventView {
  id: string;
  action: string;
  actor: { userId: string } | null;
  target: { type: string; id: string };
  data: Record<string, unknown>;
  createdAt: string;
}

function toAuditEvent(row: AuditEventRow): AuditEventView {
  let data: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(row.data);
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) data = parsed;
  } catch {
    // The column is CHECKed json_valid; an unparsable value cannot be stored.
  }
  return {
    id: row.id,
    action: row.action,
    actor: row.actor_id === null ? null : { userId: row.actor_id },
    target: { type: row.target_type, id: row.target_id },
    data,
    createdAt: iso(row.created_at),
  };
}

/**
 * An organization's audit events, newest first, keyset-paginated on (created_at, id). audit:read
 * (owners and directors; other members 403, non-members 404). One round trip: the access check
 * and the page are read together, and the page is dropped unless access holds.
 */
export async function listAuditEvents(
  db: Db,
  input: { orgId: string; userId: string; page: PageQuery },
): Promise<Page<AuditEventView>> {
  const { orgId, userId, page } = input;
  const cursor = decodeCursor(page.cursor);
  const after =
    cursor === null ? sql`` : sql`AND (created_at < ${cursor[0]} OR (created_at = ${cursor[0]} AND id < ${cursor[1]}))`;
  const [accessResult, listResult] = await db.batch([
    orgAccessStatement(db, orgId, userId),
    prepare(
      db,
      sql`SELECT id, actor_id, action, target_type, target_id, data, created_at FROM audit_events
          WHERE organization_id = ${orgId} ${after} ORDER BY created_at DESC, id DESC LIMIT ${page.limit + 1}`,
    ),
  ]);
  assertOrgPermission(orgAccessFromRow(accessResult?.results[0] as OrgAccessRow | undefined), "audit:read");
  return toPage((listResult?.results ?? []) as AuditEventRow[], page.limit, (r) => [r.created_at, r.id], toAuditEvent);
}
