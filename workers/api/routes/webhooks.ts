import { Webhook, WebhookVerificationError } from "svix";
import { z } from "zod";
import {
  applyUserUpsert,
  clerkDeletedUserSchema,
  clerkEventSchema,
  clerkUserSchema,
  type WebhookOutcome,
} from "../../core/clerk-sync";
import { applyUserDeleted } from "../../core/clerk-user-deleted";
import { ApiError } from "../../core/errors";
import { defineRoute, json, type RouteDefinition, readBody, validate } from "../route";

const receiptSchema = z.object({
  received: z.literal(true),
  outcome: z.enum(["applied", "duplicate", "ignored"]),
});

const SVIX_HEADERS = ["svix-id", "svix-timestamp", "svix-signature"] as const;

/**
 * Verifies the Svix signature over the exact bytes received, and the timestamp (±5 minutes,
 * which the library checks). Returns the parsed JSON payload.
 */
function verifySignature(secret: string, payload: string, request: Request): unknown {
  let webhook: Webhook;
  try {
    webhook = new Webhook(secret);
  } catch {
    // A secret that is not whsec_ + base64: the operator's mistake, not the sender's.
    throw new ApiError("MISCONFIGURED", "CLERK_WEBHOOK_SIGNING_SECRET is not a valid whsec_ secret.");
  }
  const headers: Record<string, string> = {};
  for (const name of SVIX_HEADERS) headers[name] = request.headers.get(name) ?? "";
  try {
    return webhook.verify(payload, headers);
  } catch (error) {
    if (error instanceof WebhookVerificationError) {
      console.warn(JSON.stringify({ event: "webhook.rejected", reason: error.message }));
      throw new ApiError("WEBHOOK_SIGNATURE_INVALID", "The webhook signature is missing, invalid or too old.");
    }
    // Authentic bytes that are not JSON.
    throw new ApiError("VALIDATION_FAILED", "The webhook payload is not valid JSON.");
  }
}

export const webhookRoutes: RouteDefinition[] = [
  defineRoute({
    method: "post",
    path: "/webhooks/clerk",
    summary: "Clerk user events (Svix-signed): keep users and their addresses current",
    tag: "Webhooks",
    auth: false,
    rawBody: true,
    responses: { 200: { description: "Received: applied, a duplicate delivery, or ignored.", schema: receiptSchema } },
    errors: ["WEBHOOK_SIGNATURE_INVALID", "VALIDATION_FAILED", "PAYLOAD_TOO_LARGE", "CONFLICT", "MISCONFIGURED"],
    handler: async ({ request, config, db, now }) => {
      const secret = config.CLERK_WEBHOOK_SIGNING_SECRET;
      if (secret === undefined) {
        throw new ApiError("MISCONFIGURED", "CLERK_WEBHOOK_SIGNING_SECRET is not configured.");
      }
      const payload = await readBody(request);
      const event = validate(clerkEventSchema, verifySignature(secret, payload, request), "body");
      // Verified above, so the header is present and signed.
      const delivery = { svixId: request.headers.get("svix-id") ?? "", type: event.type };
      let outcome: WebhookOutcome;
      switch (event.type) {
        case "user.created":
        case "user.updated":
          outcome = await applyUserUpsert(
            db,
            delivery,
            validate(z.object({ data: clerkUserSchema }), event, "body").data,
            now,
          );
          break;
        case "user.deleted":
          outcome = await applyUserDeleted(
            db,
            delivery,
            validate(z.object({ data: clerkDeletedUserSchema }), event, "body").data.id,
            now,
          );
          break;
        default:
          outcome = "ignored";
      }
      return json(200, { received: true, outcome });
    },
  }),
];
