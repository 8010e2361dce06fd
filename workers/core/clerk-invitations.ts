import { getTableName } from "drizzle-orm";
import { emailDeliveries, invites } from "../../schema";
import { type ClerkBackend, clerkFailure, withClerkTimeout } from "./clerk-api";
import type { Config } from "./config";
import { all, batch, type Db } from "./db";
import type { ClerkInvitationKind, ClerkRevokeMessage } from "./email-messages";
import { prepare, type SQL, sql } from "./sql";

export type { ClerkInvitationKind, ClerkRevokeMessage } from "./email-messages";

/**
 * The Clerk invitation behind a Roster invite, when Clerk delivers it (EMAIL_PROVIDER=clerk).
 *
 * The email consumer creates one Clerk invitation per (invite, token version) and records its id
 * beside that version's delivery (`email_deliveries.clerk_invitation_id`). A Clerk invitation is
 * *stale* once its invite is no longer pending, has expired, or was resent (a newer version
 * replaced it); a stale one is revoked at Clerk, asynchronously:
 *
 * - after the batch that made it stale commits, the route queues a `clerk_revoke` message
 *   (`queueClerkRevocation`: resend, revoke, accept and decline by id);
 * - the hourly job queues one for every invite that still has a stale Clerk invitation
 *   (`sweepStaleClerkInvitations`): expiry, accept by token, and any message that could not be
 *   queued;
 * - the consumer (`revokeStaleClerkInvitations`) revokes what is stale *now*, read from D1, and
 *   marks each revoked: a duplicate or late message finds nothing left to do.
 *
 * Platform invitations (issue 12) plug in as another `kind`: their redirect URL is
 * `{APP_URL}/join?invitation={id}` and `public_metadata.roster.kind` is "platform_invitation";
 * they need their own stale query beside the invites' one below.
 */
export interface ClerkInvitationRef {
  kind: ClerkInvitationKind;
  id: string;
}

/** Where Clerk sends the invitee after the ticket sign-up or sign-in: the accept page, by id. */
export function clerkRedirectUrl(config: Config, ref: ClerkInvitationRef): string {
  switch (ref.kind) {
    case "invite":
      return `${config.APP_URL}/invite?invite=${encodeURIComponent(ref.id)}`;
  }
}

/** What Roster stores in the Clerk invitation (it becomes the user's public metadata on sign-up). */
export function clerkPublicMetadata(ref: ClerkInvitationRef): { roster: { kind: ClerkInvitationKind; id: string } } {
  return { roster: { kind: ref.kind, id: ref.id } };
}

type ClerkRevokeQueue = Pick<Queue<ClerkRevokeMessage>, "sendBatch">;

/**
 * The route's hook, called after its batch committed. Only when Clerk delivers; a failure to
 * queue is logged, never the request's failure: the hourly sweep queues it again.
 */
export async function queueClerkRevocation(
  queue: ClerkRevokeQueue,
  config: Config,
  refs: readonly ClerkInvitationRef[],
): Promise<void> {
  if (config.EMAIL_PROVIDER !== "clerk" || refs.length === 0) return;
  try {
    await queue.sendBatch(refs.map((ref) => ({ body: revokeMessage(ref), contentType: "json" as const })));
  } catch (error) {
    console.error(
      JSON.stringify({
        event: "clerk.revoke_enqueue_failed",
        ids: refs.map((r) => r.id),
        error: error instanceof Error ? error.message : String(error),
      }),
    );
  }
}

function revokeMessage(ref: ClerkInvitationRef): ClerkRevokeMessage {
  return { type: "clerk_revoke", kind: ref.kind, id: ref.id };
}

// The deliveries (alias `d`) and their invites (alias `i`), named by the schema.
const DELIVERIES = sql.identifier(getTableName(emailDeliveries));
const INVITES = sql.identifier(getTableName(invites));
const d = Object.fromEntries(
  (["inviteId", "tokenVersion", "clerkInvitationId", "clerkRevokedAt"] as const).map((key) => [
    key,
    sql.raw(`d."${emailDeliveries[key].name}"`),
  ]),
) as Record<"inviteId" | "tokenVersion" | "clerkInvitationId" | "clerkRevokedAt", SQL>;
const i = Object.fromEntries(
  (["id", "status", "expiresAt", "tokenVersion"] as const).map((key) => [key, sql.raw(`i."${invites[key].name}"`)]),
) as Record<"id" | "status" | "expiresAt" | "tokenVersion", SQL>;

/** The deliveries joined to their invites. */
const DELIVERIES_OF_INVITES = sql`${DELIVERIES} d JOIN ${INVITES} i ON ${i.id} = ${d.inviteId}`;

/** Stale: the invite is no longer pending, is past its expiry, or moved on to a newer version. */
function staleAt(now: number): SQL {
  return sql`${d.clerkInvitationId} IS NOT NULL AND ${d.clerkRevokedAt} IS NULL
    AND (${i.status} <> 'pending' OR ${i.expiresAt} <= ${now} OR ${d.tokenVersion} < ${i.tokenVersion})`;
}

export type RevokeOutcome =
  | { kind: "done"; revoked: number }
  | { kind: "retry"; reason: string; retryAfter: number | null };

/**
 * The consumer's side: one read, one Backend API call per stale Clerk invitation
 * (`POST /v1/invitations/{id}/revoke`), one batch marking the finished ones. Clerk answering 4xx
 * (already revoked, accepted by the ticket sign-up, expired, unknown) means there is nothing left
 * to revoke; 429, 5xx and no answer leave it stale for the retry.
 */
export async function revokeStaleClerkInvitations(
  db: Db,
  clerk: ClerkBackend,
  ref: ClerkInvitationRef,
  now: number,
): Promise<RevokeOutcome> {
  const results = await all<{ token_version: number; clerk_invitation_id: string }>(
    prepare(
      db,
      sql`SELECT ${d.tokenVersion} AS token_version, ${d.clerkInvitationId} AS clerk_invitation_id
          FROM ${DELIVERIES_OF_INVITES} WHERE ${d.inviteId} = ${ref.id} AND ${staleAt(now)}`,
    ),
  );

  const finished: { version: number; clerkId: string }[] = [];
  let retry: { reason: string; retryAfter: number | null } | null = null;
  for (const row of results) {
    try {
      await withClerkTimeout(clerk.invitations.revokeInvitation(row.clerk_invitation_id));
      finished.push({ version: row.token_version, clerkId: row.clerk_invitation_id });
    } catch (error) {
      const failure = clerkFailure(error);
      if (failure.transient) {
        retry = { reason: failure.message, retryAfter: failure.retryAfterSeconds };
      } else {
        console.warn(`[clerk] invitation ${row.clerk_invitation_id}: nothing to revoke (${failure.message})`);
        finished.push({ version: row.token_version, clerkId: row.clerk_invitation_id });
      }
    }
  }
  const revokedAt = sql.identifier(emailDeliveries.clerkRevokedAt.name);
  await batch(
    db,
    finished.map((f) =>
      prepare(
        db,
        sql`UPDATE ${DELIVERIES} SET ${revokedAt} = ${now}
            WHERE ${sql.identifier(emailDeliveries.inviteId.name)} = ${ref.id}
              AND ${sql.identifier(emailDeliveries.tokenVersion.name)} = ${f.version}
              AND ${sql.identifier(emailDeliveries.clerkInvitationId.name)} = ${f.clerkId} AND ${revokedAt} IS NULL`,
      ),
    ),
  );
  return retry === null ? { kind: "done", revoked: finished.length } : { kind: "retry", ...retry };
}

/** Invites one sweep queues at most (one sendBatch call). */
export const SWEEP_LIMIT = 100;

/**
 * The hourly job's step: queues a revocation for each invite that still has a stale Clerk
 * invitation. One statement, one sendBatch; running twice only queues duplicates, which find
 * nothing left to do.
 */
export async function sweepStaleClerkInvitations(
  db: Db,
  queue: ClerkRevokeQueue,
  now: number,
  limit = SWEEP_LIMIT,
): Promise<number> {
  const results = await all<{ invite_id: string }>(
    prepare(
      db,
      sql`SELECT DISTINCT ${d.inviteId} AS invite_id FROM ${DELIVERIES_OF_INVITES} WHERE ${staleAt(now)} LIMIT ${limit}`,
    ),
  );
  if (results.length === 0) return 0;
  await queue.sendBatch(
    results.map((r) => ({ body: revokeMessage({ kind: "invite", id: r.invite_id }), contentType: "json" as const })),
  );
  return results.length;
}
