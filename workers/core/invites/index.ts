/**
 * Invitations: one `invites` table for organization and project invites, and their lifecycle, one
 * use case per file — the inviter's side (create, add-member: an existing user added by id pending
 * their consent, list, resend, revoke) and the invitee's
 * (preview, accept, decline, the banner feed of received invites). Shared pieces: scope.ts (the
 * scope and the by-id read), refusal.ts (why an invitee may not take an invite), expire.ts (THE
 * expiry transition, also used by the cron job), queue.ts (the hand-off to EMAIL_QUEUE).
 *
 * Every change is one D1 batch (one transaction). Transitions are guarded in SQL and their
 * changed-row count decides the outcome; the audit rows of a transition sit in the same batch,
 * either BEFORE the UPDATE guarded by the very condition it evaluates (revoke, decline, resend),
 * or AFTER it keyed on something only this request wrote — its fresh invite ids (create), its
 * accept_nonce (accept). A batch is serialized against every other write, so the audit row is
 * written exactly when the transition happens — even when two concurrent requests carry the same
 * millisecond (workerd's clock only moves on I/O).
 *
 * Raw tokens never reach D1: rows hold the SHA-256 hash and `token_version`; the raw token goes
 * only into the EMAIL_QUEUE message, after the batch that stored its hash has committed.
 *
 * This index only re-exports (nothing in the folder imports it).
 */
export { type AcceptResult, acceptInvite } from "./accept";
export { type AddMemberInput, type AddOutcome, addExistingUser } from "./add-member";
export {
  type CreateInvitesInput,
  type CreateOutcome,
  type CreateResult,
  createInvites,
  MAX_EMAILS_PER_REQUEST,
} from "./create";
export { declineInvite } from "./decline";
export { expireOverdueStatements } from "./expire";
export { listInvites } from "./list";
export { previewInvite } from "./preview";
export { enqueueInviteEmails, type InviteQueue } from "./queue";
export { receivedInvites } from "./received";
export type { InviteKey } from "./refusal";
export { resendInvite } from "./resend";
export { revokeInvite } from "./revoke";
export type { InviteScope } from "./scope";
export * from "./views";
