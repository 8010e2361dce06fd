import { type SQL, sql } from "../sql";

/**
 * Which events are announced to a person by email, and to whom (PRODUCT.md "Notifications"): a
 * membership offered (a consent-pending add), an organization role changed, a join request
 * decided. Adding one is an entry here and a template in
 * workers/email-consumer/notification-templates.ts; the outbox, the queues, idempotency (one email
 * per event) and retries are shared.
 */
export interface NotificationSubject {
  type: string;
  actorId: string | null;
  targetType: string;
  targetId: string;
  data: Record<string, unknown>;
}

interface NotificationRule {
  /** The user to email about the event, or null for none. */
  recipient: (event: NotificationSubject) => string | null;
  /**
   * The same decision's necessary condition in SQL over the audit row's columns (unqualified:
   * `data`, `actor_id`, …), for the hand-off and the sweep, which see only the row: an event it
   * excludes is never handed off for an email. Omitted: every event of the type may notify.
   */
  when?: SQL;
}

const userIdOf = (event: NotificationSubject): string | null =>
  typeof event.data.userId === "string" ? event.data.userId : null;

/** The member an event is about, unless they made the change themselves (nothing to tell them). */
const affectedMember: NotificationRule = {
  recipient: (event) => (event.targetType === "member" && event.targetId !== event.actorId ? event.targetId : null),
};

/** The user a consent-pending add was made for: the offer (an email invite's email carries its own link). */
const offeredUser: NotificationRule = {
  recipient: (event) => (event.data.source === "owner_add" ? userIdOf(event) : null),
  when: sql`json_extract(data, '$.source') = 'owner_add'`,
};

/** The requester, when someone else decided (an `auto` domain's approval has no actor: they joined themselves). */
const requester: NotificationRule = {
  recipient: (event) => {
    const userId = userIdOf(event);
    return event.actorId === null || userId === event.actorId ? null : userId;
  },
  when: sql`actor_id IS NOT NULL`,
};

const RULES: Record<string, NotificationRule> = {
  "invite.created": offeredUser,
  "member.role_changed": affectedMember,
  "join_request.approved": requester,
  "join_request.denied": requester,
};

/** Event types that may send a notification email. */
export const NOTIFYING_EVENT_TYPES: readonly string[] = Object.keys(RULES);

/**
 * Whether an audit row (its unqualified columns `action`, `data`, `actor_id`) may notify someone:
 * in `RETURNING` of every audit insert (the hand-off) and in the sweep's subquery over audit_events.
 */
export const MAY_NOTIFY: SQL = sql.join(
  Object.entries(RULES).map(([type, rule]) =>
    rule.when === undefined ? sql`(action = ${type})` : sql`(action = ${type} AND ${rule.when})`,
  ),
  sql` OR `,
);

/** Whether events of this type may notify someone (the rest are never judged). */
export function notifies(type: string): boolean {
  return Object.hasOwn(RULES, type);
}

/** The user to email about this event, or null for none. */
export function notificationRecipient(event: NotificationSubject): string | null {
  const rule = RULES[event.type];
  return rule === undefined ? null : rule.recipient(event);
}
