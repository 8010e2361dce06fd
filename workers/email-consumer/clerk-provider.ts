import { type ClerkBackend, clerkFailure, withClerkTimeout } from "../core/clerk-api";
import { clerkPublicMetadata, clerkRedirectUrl } from "../core/clerk-invitations";
import type { Config } from "../core/config";
import { DeliveryError, type EmailProvider } from "./providers";

/**
 * Clerk as the sender (seed 002): instead of our email, a Clerk invitation
 * (`POST {CLERK_API_URL}/v1/invitations` through @clerk/backend), which Clerk emails with its
 * sign-up ticket. Its redirect URL is the accept page with the invite's id; the invitation's id
 * becomes the delivery's provider id, stored per version so that resend, revoke, accept and expiry
 * can revoke it (core/clerk-invitations.ts).
 *
 * Clerk's answers: 2xx sent; 429, 5xx and no answer retried; any other 4xx fails the delivery
 * with Clerk's message.
 */
export function clerkProvider(clerk: ClerkBackend, config: Config): EmailProvider {
  return {
    name: "clerk",
    async send(email) {
      // Clerk sends invitations only; it has no API for another kind of email (a notification).
      const about = email.about;
      if (about === undefined) {
        throw new DeliveryError("permanent", "EMAIL_PROVIDER=clerk sends invitations only, not this email");
      }
      try {
        const invitation = await withClerkTimeout(
          clerk.invitations.createInvitation({
            emailAddress: email.to,
            redirectUrl: clerkRedirectUrl(config, about),
            publicMetadata: clerkPublicMetadata(about),
            notify: true,
            // Roster decides who is invited: an address Clerk already knows (a user, an earlier
            // invitation of a resent invite) still gets this one.
            ignoreExisting: true,
            expiresInDays: config.INVITE_TTL_DAYS,
          }),
        );
        return { providerMessageId: invitation.id };
      } catch (error) {
        const failure = clerkFailure(error);
        throw new DeliveryError(
          failure.transient ? "transient" : "permanent",
          failure.message,
          failure.retryAfterSeconds,
        );
      }
    },
  };
}
