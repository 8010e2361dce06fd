import type { Db } from "../core/db";
import { prepare, sql } from "../core/sql";

/**
 * The hourly job's platform invitation steps (API.md: they expire and are purged like invites).
 * Same chunking and idempotence as expire-invites.ts: each chunk is one statement over rows
 * selected by a guarded condition, so two overlapping runs never handle a row twice.
 */
export interface PlatformStep {
  name: "expiredPlatformInvitations" | "purgedPlatformInvitations";
  cost: number;
  chunk(db: Db, now: number, rows: number): Promise<number>;
}

/** Pending platform invitations past their expiry become `expired` (their quota place is freed). */
export const expirePlatformStep: PlatformStep = {
  name: "expiredPlatformInvitations",
  cost: 1,
  async chunk(db, now, rows) {
    const [result] = await db.batch([
      prepare(
        db,
        sql`UPDATE platform_invitations SET status = 'expired', updated_at = ${now} WHERE rowid IN (
              SELECT rowid FROM platform_invitations WHERE status = 'pending' AND expires_at <= ${now}
              ORDER BY expires_at, rowid LIMIT ${rows})`,
      ),
    ]);
    return result?.meta.changes ?? 0;
  },
};

/**
 * Revoked and expired platform invitations past the retention are deleted (with their delivery
 * rows, by cascade). Accepted ones are kept: they are the referral record and count in quotas.
 */
export function purgePlatformStep(retentionMs: number): PlatformStep {
  return {
    name: "purgedPlatformInvitations",
    cost: 1,
    async chunk(db, now, rows) {
      const [result] = await db.batch([
        prepare(
          db,
          sql`DELETE FROM platform_invitations WHERE rowid IN (
                SELECT rowid FROM platform_invitations WHERE status IN ('revoked', 'expired')
                  AND updated_at < ${now - retentionMs} LIMIT ${rows})`,
        ),
      ]);
      return result?.meta.changes ?? 0;
    },
  };
}
