import type { Db } from "../db";
import { ApiError } from "../errors";
import { assertNotOver, type RateWindow, rateCounts, rateIncrementStatement } from "../rate-limit";
import { prepare, sql } from "../sql";
import { sha256Hex } from "../tokens";
import {
  type InvitePreview,
  RECEIVED_INVITE_COLUMNS,
  RECEIVED_INVITE_FROM,
  type ReceivedInviteRow,
  toInvitePreview,
} from "./views";

/**
 * Preview for whoever holds the token (no sign-in): names, role, a masked address hint, expiry and
 * status, whatever the status. One round trip, the per-IP limiter included.
 */
export async function previewInvite(
  db: Db,
  input: { token: string; now: number; rate?: RateWindow },
): Promise<InvitePreview> {
  const { now, rate } = input;
  const hash = await sha256Hex(input.token);
  const results = await db.batch([
    ...(rate ? [rateIncrementStatement(db, rate, 1)] : []),
    prepare(
      db,
      sql`SELECT ${RECEIVED_INVITE_COLUMNS} FROM ${sql.raw(RECEIVED_INVITE_FROM)} WHERE i.token_hash = ${hash}`,
    ),
    ...(rate
      ? [
          prepare(
            db,
            sql`SELECT key, count FROM rate_limits WHERE key = ${rate.key} AND window_start = ${rate.windowStart}`,
          ),
        ]
      : []),
  ]);
  if (rate) assertNotOver([rate], rateCounts(results.at(-1)?.results as { key: string; count: number }[]), now);
  const row = results[rate ? 1 : 0]?.results[0] as ReceivedInviteRow | undefined;
  if (row === undefined) throw new ApiError("INVITE_NOT_FOUND", "This invite link is not valid.");
  return toInvitePreview(row, now);
}
