import type { Db } from "../db";
import { prepare, sql } from "../sql";
import {
  RECEIVED_INVITE_COLUMNS,
  RECEIVED_INVITE_FROM,
  type ReceivedInvite,
  type ReceivedInviteRow,
  toReceivedInvite,
} from "./views";

/** The banner feed is not paginated: it shows the newest invites, at most this many. */
const RECEIVED_INVITES_MAX = 100;

/**
 * The banner feed: pending, unexpired invites addressed to any VERIFIED address of the caller,
 * newest first (at most 100). One round trip.
 */
export async function receivedInvites(db: Db, input: { userId: string; now: number }): Promise<ReceivedInvite[]> {
  const { results } = await prepare(
    db,
    sql`SELECT ${RECEIVED_INVITE_COLUMNS} FROM ${sql.raw(RECEIVED_INVITE_FROM)}
        WHERE i.status = 'pending' AND i.expires_at > ${input.now}
          AND i.email IN (SELECT email FROM user_emails WHERE user_id = ${input.userId} AND verified = 1)
        ORDER BY i.created_at DESC, i.id DESC LIMIT ${RECEIVED_INVITES_MAX}`,
  ).all<ReceivedInviteRow>();
  return results.map(toReceivedInvite);
}
