import { DeliveryError, type EmailProvider, SEND_TIMEOUT_MS, summarize } from "./providers";

/**
 * Cloudflare Email Service through the `send_email` binding EMAIL, in its structured form
 * (`send({from, to, subject, html, text, headers})`, which resolves with `{messageId}`). Message-ID
 * is set by the platform (a custom one is refused with E_HEADER_NOT_ALLOWED), so the per-version
 * key travels in an X- header instead, where a receiver or a support request can still find it.
 */
export function cloudflareProvider(binding: SendEmail): EmailProvider {
  return {
    name: "cloudflare",
    async send(email) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const result = await Promise.race([
          binding.send({
            from: email.from.name === null ? email.from.email : { name: email.from.name, email: email.from.email },
            to: email.to,
            subject: email.subject,
            html: email.html,
            text: email.text,
            headers: { "X-Roster-Message": email.idempotencyKey, "Auto-Submitted": "auto-generated" },
          }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${SEND_TIMEOUT_MS} ms`)), SEND_TIMEOUT_MS);
          }),
        ]);
        return { providerMessageId: result.messageId ?? null };
      } catch (error) {
        throw classifyCloudflareError(error);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * The binding throws an Error whose `code` is one of Email Service's string codes. Refusals of
 * this message or recipient are permanent. Limits, an internal error, and the sender's domain not
 * (yet) verified or onboarded — the operator's to fix, and retries give them the time — are
 * transient, as is an error without a code (the binding itself failing).
 *
 * Locally (miniflare), the simulated binding throws plain Errors without a code: "email to … not
 * allowed" (the binding's destination restrictions, our E_RECIPIENT_NOT_ALLOWED) and "email from
 * … not allowed" (its allowed_sender_addresses).
 */
const PERMANENT_CODES = new Set([
  "E_VALIDATION_ERROR",
  "E_FIELD_MISSING",
  "E_TOO_MANY_RECIPIENTS",
  "E_RECIPIENT_NOT_ALLOWED",
  "E_RECIPIENT_SUPPRESSED",
  "E_CONTENT_TOO_LARGE",
  "E_DELIVERY_FAILED",
  "E_HEADER_NOT_ALLOWED",
  "E_HEADER_USE_API_FIELD",
  "E_HEADER_VALUE_INVALID",
  "E_HEADER_VALUE_TOO_LONG",
  "E_HEADER_NAME_INVALID",
  "E_HEADERS_TOO_LARGE",
  "E_HEADERS_TOO_MANY",
]);

export function classifyCloudflareError(error: unknown): DeliveryError {
  const message = error instanceof Error ? error.message : String(error);
  const raw = (error as { code?: unknown } | null)?.code;
  const code = typeof raw === "string" && /^E_[A-Z_]+$/.test(raw) ? raw : null;
  const reason = `Cloudflare Email${code ? ` ${code}` : ""}: ${summarize(message)}`;
  const permanent = code !== null ? PERMANENT_CODES.has(code) : /^email to .* not allowed$/.test(message);
  return new DeliveryError(permanent ? "permanent" : "transient", reason);
}
