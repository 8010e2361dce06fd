import { type ClerkBackend, clerkFailure, withClerkTimeout } from "./clerk-api";
import type { Config } from "./config";
import type { Db } from "./db";

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
export type ClerkInvitationKind = "invite";

export interface ClerkInvitationRef {
  kind: ClerkInvitationKind;
  id: string;
}

/** EMAIL_QUEUE message: revoke whatever is stale for this invite. */
export interface ClerkRevokeMessage {
  type: "clerk_revoke";
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

/** Stale: the invite is no longer pending, is past its expiry, or moved on to a newer version. */
const STALE_INVITE_SQL = `d.clerk_invitation_id IS NOT NULL AND d.clerk_revoked_at IS NULL
  AND (i.status <> 'pending' OR i.expires_at <= ? OR d.token_version < i.token_version)`;

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
  const { results } = await db
    .prepare(
      `SELECT d.token_version, d.clerk_invitation_id FROM email_deliveries d JOIN invites i ON i.id = d.invite_id
       WHERE d.invite_id = ? AND ${STALE_INVITE_SQL}`,
    )
    .bind(ref.id, now)
    .all<{ token_version: number; clerk_invitation_id: string }>();

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
  if (finished.length > 0) {
    await db.batch(
      finished.map((f) =>
        db
          .prepare(
            `UPDATE email_deliveries SET clerk_revoked_at = ?
             WHERE invite_id = ? AND token_version = ? AND clerk_invitation_id = ? AND clerk_revoked_at IS NULL`,
          )
          .bind(now, ref.id, f.version, f.clerkId),
      ),
    );
  }
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
  const { results } = await db
    .prepare(
      `SELECT DISTINCT d.invite_id FROM email_deliveries d JOIN invites i ON i.id = d.invite_id
       WHERE ${STALE_INVITE_SQL} LIMIT ?`,
    )
    .bind(now, limit)
    .all<{ invite_id: string }>();
  if (results.length === 0) return 0;
  await queue.sendBatch(
    results.map((r) => ({ body: revokeMessage({ kind: "invite", id: r.invite_id }), contentType: "json" as const })),
  );
  return results.length;
}
