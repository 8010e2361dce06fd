import { type Db, iso } from "../db";
import { maskEmail } from "../email";
import { ApiError } from "../errors";
import {
  assertNotOver,
  type RateWindow,
  rateCountSql,
  rateCounts,
  rateGuard,
  rateIncrementStatement,
} from "../rate-limit";
import { prepare, sql } from "../sql";
import { sha256Hex } from "../tokens";
import { effectivePlatformStatus, type PlatformInvitationStatus } from "./views";

export interface PlatformInvitationPreview {
  id: string;
  invitedBy: { name: string | null };
  emailHint: string;
  expiresAt: string;
  status: PlatformInvitationStatus;
}

/** `POST /v1/platform/invitations/preview` (no auth): any known token, whatever its status. One round trip. */
export async function previewPlatformInvitation(
  db: Db,
  input: { token: string; now: number; rate: RateWindow },
): Promise<PlatformInvitationPreview> {
  const { now, rate } = input;
  const guard = rateGuard([rate]);
  const [, read] = await db.batch([
    rateIncrementStatement(db, rate, 1),
    prepare(
      db,
      sql`SELECT p.id, p.email, p.status, p.expires_at, inviter.name AS inviter_name, ${guard} AS within,
                 ${rateCountSql(rate.key, rate.windowStart)} AS rate_count
          FROM (SELECT 1) LEFT JOIN platform_invitations p ON p.token_hash = ${await sha256Hex(input.token)}
          LEFT JOIN admins inviter ON inviter.id = p.invited_by`,
    ),
  ]);
  const row = read?.results[0] as
    | {
        id: string | null;
        email: string;
        status: PlatformInvitationStatus;
        expires_at: number;
        inviter_name: string | null;
        within: number;
        rate_count: number | null;
      }
    | undefined;
  if (row?.within !== 1) assertNotOver([rate], rateCounts([{ key: rate.key, count: row?.rate_count ?? 0 }]), now);
  if (row?.id == null) throw new ApiError("INVITE_NOT_FOUND", "No such invitation.");
  return {
    id: row.id,
    invitedBy: { name: row.inviter_name },
    emailHint: maskEmail(row.email),
    expiresAt: iso(row.expires_at),
    status: effectivePlatformStatus(row, now),
  };
}
