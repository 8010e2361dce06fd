-- The acceptance that won an invite: a random value the accepting request stamps in its guarded
-- UPDATE. The rest of that request's batch (memberships, audit rows, the answer) is keyed on
-- (invite, nonce), a primary-key lookup, instead of re-evaluating the whole acceptance condition;
-- a concurrent accept that lost — even in the same millisecond — carries another nonce and so
-- writes nothing.
ALTER TABLE invites ADD COLUMN accept_nonce TEXT;
