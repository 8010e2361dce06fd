import type { Config } from "../config";
import { isPlatformAdmin } from "../platform-admins";
import { type SQL, sql } from "../sql";

/**
 * SQL: the platform invitations a user's quota counts — pending unexpired and accepted ones
 * (API.md: revoked and expired ones free their place). A pending invitation past `now` has
 * expired, whether or not the hourly job marked it.
 */
export function quotaUsedSql(inviterId: SQL | string, now: number): SQL {
  return sql`(SELECT count(*) FROM platform_invitations
    WHERE invited_by = ${inviterId} AND (status = 'accepted' OR (status = 'pending' AND expires_at > ${now})))`;
}

/** How many more platform invitations the user may send; null = no limit (operators). */
export function invitationsLeft(config: Config, userId: string, access: string, used: number): number | null {
  if (isPlatformAdmin(config, userId)) return null;
  if (access !== "active") return 0;
  return Math.max(0, config.PLATFORM_INVITES_PER_USER - used);
}
