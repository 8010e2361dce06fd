import { getTableName } from "drizzle-orm";
import { userEmails } from "../../schema";
import { clerkBackend, clerkFailure, withClerkTimeout } from "./clerk-api";
import { applyUserUpsert, clerkUserSchema } from "./clerk-sync";
import type { Config } from "./config";
import { type Db, first } from "./db";
import { ApiError } from "./errors";
import { newUserAccessSql } from "./platform/gate";
import { prepare, type SQL, sql } from "./sql";

/**
 * A user who just signed up through a Clerk ticket usually reaches the accept page before their
 * `user.created` webhook: Roster does not know their verified address yet, so accepting by id
 * would answer 404. With CLERK_SECRET_KEY set (PRODUCT.md "Identity" allows it), the user is read
 * from Clerk (`GET /v1/users/{id}`) and applied exactly as that webhook would be — ordered by
 * Clerk's `updated_at`, so a webhook that did arrive is never overwritten by an older copy — and
 * the accept is tried once more.
 *
 * Only a refusal that a missing address explains leads here, and only for a user with no verified
 * address in Roster yet (one read, on that failure path): a known user's accept keeps its one
 * round trip, and refused requests from a known user never turn into calls to Clerk.
 */
const ADDRESS_REFUSALS = new Set(["INVITE_NOT_FOUND", "INVITE_EMAIL_MISMATCH", "EMAIL_NOT_VERIFIED"]);

export async function withClerkUserRefresh<T>(
  db: Db,
  config: Config,
  userId: string,
  now: number,
  action: () => Promise<T>,
): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof ApiError) || !ADDRESS_REFUSALS.has(error.code) || config.CLERK_SECRET_KEY === undefined) {
      throw error;
    }
    const known = await first(prepare(db, hasVerifiedAddress(userId)));
    if (known !== null || !(await refreshUserFromClerk(db, config, userId, now))) throw error;
    return await action();
  }
}

function hasVerifiedAddress(userId: string): SQL {
  const column = (c: { name: string }) => sql.identifier(c.name);
  return sql`SELECT 1 AS known FROM ${sql.identifier(getTableName(userEmails))}
             WHERE ${column(userEmails.userId)} = ${userId} AND ${column(userEmails.verified)} = 1 LIMIT 1`;
}

/** Reads the user from Clerk and applies it; true when that changed what Roster knows. */
export async function refreshUserFromClerk(db: Db, config: Config, userId: string, now: number): Promise<boolean> {
  let raw: unknown;
  try {
    raw = (await withClerkTimeout(clerkBackend(config).users.getUser(userId))).raw;
  } catch (error) {
    console.warn(`[clerk] could not read user ${userId}: ${clerkFailure(error).message}`);
    return false;
  }
  const user = clerkUserSchema.safeParse(raw);
  if (!user.success || user.data.id !== userId) {
    console.warn(`[clerk] user ${userId}: Clerk's answer is not a user`);
    return false;
  }
  // Recorded like a webhook delivery, keyed by the version read: reading the same version twice
  // applies it once.
  const delivery = { svixId: `bapi_${userId}_${user.data.updated_at}`, type: "user.fetched" };
  // A user Roster first learns of here gets their access as from the webhook.
  return (await applyUserUpsert(db, delivery, user.data, now, newUserAccessSql(config, userId))) === "applied";
}
