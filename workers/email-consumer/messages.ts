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

export type EmailMessage = InviteEmailMessage;
