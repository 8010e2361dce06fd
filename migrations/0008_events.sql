-- Outbound events: a transactional outbox over the audit log (API.md "Events (outbound webhooks)").
--
-- Every audit row is an event. Its delivery state lives in `events`, one row per audit row,
-- written by a trigger on audit_events: whatever statement writes an audit row (the typed
-- function in workers/core/audit.ts, a raw INSERT … SELECT, a job), its outbox row is written
-- in the same statement, so in the same transaction — no write path can forget it, and there is
-- no window in which a change is committed and its event is not.
--
-- `sequence` is AUTOINCREMENT: strictly increasing and never reused, and D1 applies writes one
-- transaction at a time, so it is the order in which events were committed.

-- audit_events is rebuilt only to let organization_id be NULL: platform events (platform
-- invitations, admissions) belong to no organization and live in the same log. Nothing
-- references audit_events, so the rebuild is a plain copy.
CREATE TABLE audit_events_new (
  id TEXT PRIMARY KEY,
  organization_id TEXT,
  actor_id TEXT,
  action TEXT NOT NULL,
  target_type TEXT NOT NULL,
  target_id TEXT NOT NULL,
  data TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
  created_at INTEGER NOT NULL
);
INSERT INTO audit_events_new (id, organization_id, actor_id, action, target_type, target_id, data, created_at)
  SELECT id, organization_id, actor_id, action, target_type, target_id, data, created_at FROM audit_events ORDER BY rowid;
DROP TABLE audit_events;
ALTER TABLE audit_events_new RENAME TO audit_events;
CREATE INDEX audit_events_org_created ON audit_events (organization_id, created_at DESC, id DESC);

CREATE TABLE events (
  sequence INTEGER PRIMARY KEY AUTOINCREMENT,
  -- The audit row's id (evt_… for rows written by Roster; legacy ids stay as they are). No
  -- foreign key: the audit log is append-only and this row is only its delivery state.
  event_id TEXT NOT NULL UNIQUE,
  -- The audit action, copied for the operators' `type=` filter and the sweep.
  type TEXT NOT NULL,
  -- pending: not delivered yet; sent: a 2xx from EVENTS_WEBHOOK_URL; failed: every attempt
  -- failed (redeliverable); disabled: recorded while no EVENTS_WEBHOOK_URL was set (never sent
  -- unless an operator redelivers it).
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'disabled')),
  -- Every POST made, redeliveries included.
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  -- When the event is next due (ms): the sweep re-enqueues pending events overdue by its grace.
  next_attempt_at INTEGER NOT NULL,
  -- The consumer invocation holding the event while it POSTs, and until when (ms).
  claim_id TEXT,
  lease_until INTEGER NOT NULL DEFAULT 0,
  -- Set once the event's notification email (if its type has one) was handed to EMAIL_QUEUE.
  notified_at INTEGER,
  sent_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX events_type_sequence ON events (type, sequence);
CREATE INDEX events_status_sequence ON events (status, sequence);
-- The sweep's scan: only pending events, oldest due first.
CREATE INDEX events_pending_due ON events (next_attempt_at) WHERE status = 'pending';

-- Events recorded before the outbox existed get their sequence in the order they were written and
-- are never sent: `disabled`, like events recorded while no URL is set.
INSERT INTO events (event_id, type, status, next_attempt_at, created_at, updated_at)
  SELECT id, action, 'disabled', created_at, created_at, created_at FROM audit_events ORDER BY created_at, rowid;

CREATE TRIGGER audit_events_outbox AFTER INSERT ON audit_events
BEGIN
  INSERT INTO events (event_id, type, next_attempt_at, created_at, updated_at)
  VALUES (NEW.id, NEW.action, NEW.created_at, NEW.created_at, NEW.created_at);
END;

-- Notification emails announcing an event (member.role_changed, …), at most one per event: the
-- email consumer claims the row before sending, like email_deliveries does for invites.
CREATE TABLE notification_deliveries (
  event_id TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
  claim_id TEXT NOT NULL,
  lease_until INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  provider_message_id TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
