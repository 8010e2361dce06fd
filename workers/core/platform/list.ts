import type { Config } from "../config";
import type { Db } from "../db";
import { ApiError } from "../errors";
import { decodeCursor, type Page, type PageQuery, toPage } from "../pagination";
import { isPlatformAdmin } from "../platform-admins";
import { prepare, type SQL, sql } from "../sql";
import {
  PLATFORM_INVITATION_COLUMNS,
  PLATFORM_INVITATION_FROM,
  type PlatformInvitation,
  type PlatformInvitationRow,
  type PlatformInvitationStatus,
  toPlatformInvitation,
} from "./views";

/** SQL over `p` for a status as the contract reads it: `pending` is unexpired; `expired` includes pending past expiry. */
function statusSql(status: PlatformInvitationStatus, now: number): SQL {
  if (status === "pending") return sql`p.status = 'pending' AND p.expires_at > ${now}`;
  if (status === "expired") return sql`(p.status = 'expired' OR (p.status = 'pending' AND p.expires_at <= ${now}))`;
  return sql`p.status = ${status}`;
}

/**
 * `GET /v1/platform/invitations?status=`: operators see every invitation, others the ones they
 * sent; newest first, keyset-paginated on (created_at, id). One statement.
 */
export async function listPlatformInvitations(
  db: Db,
  config: Config,
  input: { userId: string; status: PlatformInvitationStatus; page: PageQuery; now: number },
): Promise<Page<PlatformInvitation>> {
  const { userId, page, now } = input;
  const status = statusSql(input.status, now);
  const cursor = decodeCursor(page.cursor);
  if (cursor !== null && typeof cursor[0] !== "number") {
    throw new ApiError("VALIDATION_FAILED", "The cursor is not valid.", {
      errors: [{ path: "cursor", message: "Invalid cursor" }],
    });
  }
  const before =
    cursor === null
      ? sql`1`
      : sql`(p.created_at < ${cursor[0] as number} OR (p.created_at = ${cursor[0] as number} AND p.id < ${String(cursor[1])}))`;
  const mine = isPlatformAdmin(config, userId) ? sql`1` : sql`p.invited_by = ${userId}`;
  const rows = (
    await prepare(
      db,
      sql`SELECT ${PLATFORM_INVITATION_COLUMNS} FROM ${PLATFORM_INVITATION_FROM}
          WHERE ${mine} AND ${status} AND ${before}
          ORDER BY p.created_at DESC, p.id DESC LIMIT ${page.limit + 1}`,
    ).all<PlatformInvitationRow>()
  ).results;
  return toPage(
    rows,
    page.limit,
    (r) => [r.created_at, r.id],
    (r) => toPlatformInvitation(r, now),
  );
}
