import { z } from "zod";
import { type Db, isUniqueViolation } from "./db";
import { canonicalEmail } from "./email";
import { prepare, sql } from "./sql";
import {
  HOLDER_KEEPS_ADDRESS,
  placeholderEmail,
  releaseAddressStatement,
  unverifyLegacyClaimsStatement,
} from "./users";

/**
 * Clerk's user webhooks, applied to `admins` and `user_emails`. The webhook route verifies the
 * Svix signature; everything here assumes an authentic event.
 *
 * Deliveries are at least once and unordered, so:
 * - each applied delivery's `svix-id` is recorded in `webhook_events` in the same batch as its
 *   effect: a replay (or a concurrent duplicate, which fails the batch on the primary key) has
 *   no effect;
 * - created/updated events apply in order of the user's `updated_at`, enforced inside the batch's
 *   SQL, so two concurrent deliveries cannot interleave wrongly;
 * - a deleted user leaves a tombstone that a late created/updated cannot get past
 *   (user.deleted is applied in clerk-user-deleted.ts).
 */

export type WebhookOutcome = "applied" | "duplicate" | "ignored";

const clerkId = z.string().min(1).max(128);
const optionalText = z.string().max(1000).nullish();

const emailAddressSchema = z.object({
  id: z.string().min(1).max(128),
  email_address: z.string().min(3).max(320),
  // Clerk sends `verification: null` for addresses that never started one.
  verification: z.object({ status: z.string() }).nullish(),
});

/** The part of Clerk's User object that Roster keeps. Unknown fields are ignored. */
export const clerkUserSchema = z.object({
  id: clerkId,
  email_addresses: z.array(emailAddressSchema).max(100),
  primary_email_address_id: z.string().nullish(),
  first_name: optionalText,
  last_name: optionalText,
  username: optionalText,
  updated_at: z.number().int().nonnegative(),
});
export type ClerkUser = z.infer<typeof clerkUserSchema>;

export const clerkDeletedUserSchema = z.object({ id: clerkId, deleted: z.literal(true) });

/** The envelope; `data` is parsed per type once the type is known to be one Roster handles. */
export const clerkEventSchema = z.object({ type: z.string().min(1).max(200), data: z.unknown() });

interface UserAddress {
  email: string;
  verified: boolean;
  primary: boolean;
}

/** Clerk's addresses in canonical form; two spellings of one address collapse into one row. */
export function userAddresses(user: ClerkUser): UserAddress[] {
  const byEmail = new Map<string, UserAddress>();
  for (const address of user.email_addresses) {
    const email = canonicalEmail(address.email_address);
    const verified = address.verification?.status === "verified";
    const primary = address.id === user.primary_email_address_id;
    const seen = byEmail.get(email);
    byEmail.set(email, {
      email,
      verified: verified || (seen?.verified ?? false),
      primary: primary || (seen?.primary ?? false),
    });
  }
  return [...byEmail.values()];
}

/** "First Last", else the username, else null. */
export function userDisplayName(user: ClerkUser): string | null {
  const full = [user.first_name, user.last_name]
    .map((part) => part?.trim() ?? "")
    .filter((part) => part !== "")
    .join(" ");
  if (full !== "") return full;
  const username = user.username?.trim() ?? "";
  return username === "" ? null : username;
}

/** The delivery's id, recorded in the batch of its effect (a replay then fails on the key). */
export function recordDeliveryStatement(db: Db, svixId: string, type: string, now: number): D1PreparedStatement {
  return db
    .prepare("INSERT INTO webhook_events (svix_id, event_type, received_at) VALUES (?, ?, ?)")
    .bind(svixId, type, now);
}

export async function alreadyRecorded(db: Db, svixId: string): Promise<boolean> {
  return (await db.prepare("SELECT 1 AS seen FROM webhook_events WHERE svix_id = ?").bind(svixId).first()) !== null;
}

/**
 * user.created / user.updated: one batch, one round trip (two for a duplicate delivery: the
 * failed batch, then the read that tells a duplicate from another constraint failure).
 */
export async function applyUserUpsert(
  db: Db,
  delivery: { svixId: string; type: string },
  user: ClerkUser,
  now: number,
): Promise<WebhookOutcome> {
  const addresses = userAddresses(user);
  // Only a verified address is shown as the user's or held in admins.email: an unverified one is
  // a claim anybody can make in Clerk.
  const primary = addresses.find((a) => a.primary && a.verified)?.email ?? null;
  const placeholder = placeholderEmail(user.id);
  // The guard every user_emails statement carries: this event's upsert is the one stored. It is
  // false when the upsert was skipped (an older event, or a tombstoned user whose row is gone).
  const isCurrent = sql`(SELECT clerk_updated_at FROM admins WHERE id = ${user.id}) = ${user.updated_at}`;
  const statements = [
    recordDeliveryStatement(db, delivery.svixId, delivery.type, now),
    releaseAddressStatement(db, primary, user.id),
    // When a holder keeps the address (HOLDER_KEEPS_ADDRESS), this user gets their placeholder there;
    // user_emails still has the real address. The upsert's WHERE is what keeps an older event
    // from overwriting a newer one; a tombstoned user is never re-inserted. (The SELECT needs its
    // WHERE for SQLite to parse the ON CONFLICT clause.)
    prepare(
      db,
      sql`INSERT INTO admins (id, email, name, role, created_at, clerk_updated_at, updated_at)
          SELECT ${user.id},
                 CASE WHEN ${primary} IS NULL OR EXISTS (
                        SELECT 1 FROM admins h WHERE h.email = ${primary} AND h.id <> ${user.id} AND ${HOLDER_KEEPS_ADDRESS})
                      THEN ${placeholder} ELSE ${primary} END,
                 ${userDisplayName(user)}, 'member', ${now}, ${user.updated_at}, ${now}
          WHERE NOT EXISTS (SELECT 1 FROM user_tombstones WHERE user_id = ${user.id})
          ON CONFLICT (id) DO UPDATE SET
            email = excluded.email, name = excluded.name,
            clerk_updated_at = excluded.clerk_updated_at, updated_at = excluded.updated_at
          WHERE admins.clerk_updated_at IS NULL OR excluded.clerk_updated_at >= admins.clerk_updated_at`,
    ),
    prepare(db, sql`DELETE FROM user_emails WHERE user_id = ${user.id} AND ${isCurrent}`),
    ...addresses.map((a) =>
      prepare(
        db,
        sql`INSERT INTO user_emails (user_id, email, verified, is_primary, created_at)
            SELECT ${user.id}, ${a.email}, ${a.verified ? 1 : 0}, ${a.primary ? 1 : 0}, ${now} WHERE ${isCurrent}`,
      ),
    ),
    unverifyLegacyClaimsStatement(db, user.id, user.updated_at),
  ];
  try {
    const results = await db.batch(statements);
    return (results[2]?.meta.changes ?? 0) > 0 ? "applied" : "ignored";
  } catch (error) {
    if (isUniqueViolation(error) && (await alreadyRecorded(db, delivery.svixId))) return "duplicate";
    throw error;
  }
}
