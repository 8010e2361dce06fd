import { z } from "zod";

/**
 * Notification messages on EMAIL_QUEUE that carry no token: the requester of a join request is
 * told the decision. Sent at most once per (request, decision) — `notification_deliveries` —
 * with the invite emails' retry and failure rules. Kept apart from the invite messages so that it
 * can move to the outbound events mechanism as it is.
 */
export interface JoinRequestDecidedMessage {
  type: "join_request_decided";
  requestId: string;
  status: "approved" | "denied";
}

export const joinRequestDecidedSchema = z.object({
  type: z.literal("join_request_decided"),
  requestId: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, "not a join request id"),
  status: z.enum(["approved", "denied"]),
}) satisfies z.ZodType<JoinRequestDecidedMessage>;

/** The idempotency key of a notice: one email per request and decision. */
export function notificationKey(message: JoinRequestDecidedMessage): string {
  return `join_request:${message.requestId}:${message.status}`;
}
