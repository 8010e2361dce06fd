import { z } from "zod";
import { TOKEN_PATTERN } from "./tokens";

/**
 * Messages on EMAIL_QUEUE. The raw token travels only here, to be put in the email link; the
 * consumer sends at most once per (inviteId, tokenVersion) and drops messages whose version is
 * no longer the invite's current one (a resend rotated the token) or whose invite is no longer
 * pending.
 */
export interface InviteEmailMessage {
  type: "invite";
  inviteId: string;
  tokenVersion: number;
  token: string;
}

/**
 * A notification announcing an event to one user (PRODUCT.md "Notifications"), handed off by the
 * events consumer. Sent at most once per event (`notification_deliveries`).
 */
export interface NotificationEmailMessage {
  type: "notification";
  eventId: string;
  userId: string;
}

/** A platform invitation (API.md "Platform"): sent at most once per (invitationId, tokenVersion). */
export interface PlatformInvitationEmailMessage {
  type: "platform_invitation";
  invitationId: string;
  tokenVersion: number;
  token: string;
}

/** What a Clerk invitation stands for (core/clerk-invitations.ts); platform invitations come next. */
export type ClerkInvitationKind = "invite";

/** EMAIL_PROVIDER=clerk: revoke whatever Clerk invitation is stale for this invite. */
export interface ClerkRevokeMessage {
  type: "clerk_revoke";
  kind: ClerkInvitationKind;
  id: string;
}

/**
 * EMAIL_QUEUE carries the invitation emails, the notifications and, with EMAIL_PROVIDER=clerk,
 * Clerk revocations (those are told apart first and parsed by `clerkRevokeMessageSchema`).
 */
export type EmailMessage =
  | InviteEmailMessage
  | NotificationEmailMessage
  | PlatformInvitationEmailMessage
  | ClerkRevokeMessage;

// Ids are ours (`inv_…`): a strict alphabet keeps them safe in logs and in the Message-ID header.
const inviteId = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, "not an invite id");

/**
 * What the consumer accepts off the queue. A body that fails it is logged (without its values:
 * it may hold a token) and acked: retrying cannot make it valid.
 */
const inviteMessageSchema = z.object({
  type: z.literal("invite"),
  inviteId,
  tokenVersion: z.number().int().positive(),
  token: z.string().regex(TOKEN_PATTERN, "not a token"),
}) satisfies z.ZodType<InviteEmailMessage>;

const notificationMessageSchema = z.object({
  type: z.literal("notification"),
  eventId: z.string().regex(/^[A-Za-z0-9_.:-]{1,255}$/, "not an event id"),
  userId: z.string().regex(/^[A-Za-z0-9_.:-]{1,255}$/, "not a user id"),
}) satisfies z.ZodType<NotificationEmailMessage>;

const platformInvitationMessageSchema = z.object({
  type: z.literal("platform_invitation"),
  invitationId: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, "not an invitation id"),
  tokenVersion: z.number().int().positive(),
  token: z.string().regex(TOKEN_PATTERN, "not a token"),
}) satisfies z.ZodType<PlatformInvitationEmailMessage>;

export const emailMessageSchema = z.discriminatedUnion("type", [
  inviteMessageSchema,
  notificationMessageSchema,
  platformInvitationMessageSchema,
]) satisfies z.ZodType<Exclude<EmailMessage, ClerkRevokeMessage>>;

export const clerkRevokeMessageSchema = z.object({
  type: z.literal("clerk_revoke"),
  kind: z.literal("invite"),
  id: inviteId,
}) satisfies z.ZodType<ClerkRevokeMessage>;

/** The issues of an invalid body, as paths and messages only: never the values. */
export function describeInvalidMessage(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
}
