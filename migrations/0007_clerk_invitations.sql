-- EMAIL_PROVIDER=clerk: Clerk sends the invitation, as a Clerk invitation that Roster must revoke
-- when the invite is resent (a new Clerk invitation replaces it), revoked, accepted, declined or
-- expired. The id is kept per (invite, token version), beside the delivery that created it: a
-- send of an older version that finishes after a resend still records its id, so nothing Clerk
-- holds is ever forgotten. clerk_revoked_at is set once Clerk has revoked it (or answered that
-- there is nothing left to revoke).
ALTER TABLE email_deliveries ADD COLUMN clerk_invitation_id TEXT;
ALTER TABLE email_deliveries ADD COLUMN clerk_revoked_at INTEGER;

-- The Clerk invitations still live: what the revocation consumer and the hourly sweep look up.
CREATE INDEX email_deliveries_clerk_live ON email_deliveries (invite_id)
  WHERE clerk_invitation_id IS NOT NULL AND clerk_revoked_at IS NULL;
