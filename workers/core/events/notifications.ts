/**
 * Which events are announced to a person by email, and to whom (PRODUCT.md "Notifications").
 * Adding one (a join request decided, a membership offered) is an entry here and a template in
 * workers/email-consumer/notification-templates.ts; the outbox, the queues, idempotency and
 * retries are shared.
 */
export interface NotificationSubject {
  type: string;
  actorId: string | null;
  targetType: string;
  targetId: string;
  data: Record<string, unknown>;
}

type RecipientRule = (event: NotificationSubject) => string | null;

/** The member an event is about, unless they made the change themselves (nothing to tell them). */
const affectedMember: RecipientRule = (event) =>
  event.targetType === "member" && event.targetId !== event.actorId ? event.targetId : null;

const RULES: Record<string, RecipientRule> = {
  "member.role_changed": affectedMember,
};

/** Event types that may send a notification email (the hand-off and the sweep read it). */
export const NOTIFYING_EVENT_TYPES: readonly string[] = Object.keys(RULES);

export function notifies(type: string): boolean {
  return Object.hasOwn(RULES, type);
}

/** The user to email about this event, or null for none. */
export function notificationRecipient(event: NotificationSubject): string | null {
  const rule = RULES[event.type];
  return rule === undefined ? null : rule(event);
}
