import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { classifyCloudflareError } from "../workers/email-consumer/cloudflare-provider";
import {
  address,
  captureLogs,
  deliveryFailedEvents,
  inviteDelivery,
  invitedThroughApi,
  mailTo,
  only,
  runQueue,
} from "./email-helpers";

/**
 * EMAIL_PROVIDER=cloudflare: the consumer sends through the `send_email` binding EMAIL. The
 * bindings here are miniflare's own simulation of Cloudflare Email Service (wrangler.toml's EMAIL,
 * and EMAIL_LOCKED from vitest.config.ts, restricted to one sender and one recipient): it checks
 * the sender and recipient against the binding's restrictions, keeps the text and HTML parts, and
 * answers with a Message-ID on the sender's domain.
 */
const vars = { EMAIL_PROVIDER: "cloudflare" };

async function providerId(inviteId: string): Promise<string | null> {
  const row = await env.DB.prepare("SELECT provider_message_id FROM email_deliveries WHERE invite_id = ?")
    .bind(inviteId)
    .first<{ provider_message_id: string | null }>();
  return row?.provider_message_id ?? null;
}

describe("the Cloudflare Email Service provider", () => {
  it("sends through the binding and records the Message-ID it answers with", async () => {
    const to = address();
    const { inviteId, message } = await invitedThroughApi(to);
    const { result, lines } = await captureLogs(() => runQueue([{ body: message }], vars));
    expect(only(result)).toEqual({ acked: true, retried: false, delaySeconds: undefined });
    expect(await inviteDelivery(inviteId)).toMatchObject({
      delivery_status: "sent",
      delivery_attempts: 1,
      delivery_error: null,
    });
    // The simulation makes the id on the domain of the `from` it was given (EMAIL_FROM's).
    expect(await providerId(inviteId)).toMatch(/^<[A-Za-z0-9]{36}@localhost>$/);
    expect(lines.join("\n")).toContain("sent via cloudflare");
    expect(lines.join("\n")).not.toContain(message.token);
    // Nothing went over SMTP.
    expect(await mailTo(to)).toEqual([]);
  });

  it("a binding locked to a sender and recipient accepts exactly those (from and to reach the binding as given)", async () => {
    const { inviteId, message } = await invitedThroughApi("cf-allowed@example.com");
    const [run] = await runQueue([{ body: message }], { ...vars, EMAIL: env.EMAIL_LOCKED });
    expect(run).toMatchObject({ acked: true, retried: false });
    expect(await inviteDelivery(inviteId)).toMatchObject({ delivery_status: "sent" });
  });

  it("a recipient the binding may not send to is a permanent failure: `failed` with the reason, audited once", async () => {
    const to = address();
    const { inviteId, message } = await invitedThroughApi(to);
    const [run] = await runQueue([{ body: message }], { ...vars, EMAIL: env.EMAIL_LOCKED });
    expect(run).toMatchObject({ acked: true, retried: false });
    expect(await inviteDelivery(inviteId)).toMatchObject({
      delivery_status: "failed",
      delivery_error: `Cloudflare Email: email to ${to} not allowed`,
    });
    expect(await deliveryFailedEvents(inviteId)).toHaveLength(1);
  });

  it("a sender the binding may not use is transient (the operator's to fix): retried with the reason", async () => {
    const { inviteId, message } = await invitedThroughApi("cf-allowed@example.com");
    const [run] = await runQueue([{ body: message }], {
      ...vars,
      EMAIL: env.EMAIL_LOCKED,
      EMAIL_FROM: "Roster <other@localhost>",
    });
    expect(run).toMatchObject({ acked: false, retried: true, delaySeconds: 10 });
    expect(await inviteDelivery(inviteId)).toMatchObject({
      delivery_status: "queued",
      delivery_error: "Cloudflare Email: email from other@localhost not allowed",
    });
  });

  it("without the EMAIL binding every message retries, saying what is missing", async () => {
    const { inviteId, message } = await invitedThroughApi(address());
    const [run] = await runQueue([{ body: message }], { ...vars, EMAIL: undefined });
    expect(run).toMatchObject({ retried: true });
    expect((await inviteDelivery(inviteId)).delivery_error).toContain('send_email binding "EMAIL"');
  });

  it("maps Email Service's error codes: refusals of the message or recipient are permanent, the rest transient", () => {
    const kind = (code: string | undefined, message = "x") =>
      classifyCloudflareError(Object.assign(new Error(message), code === undefined ? {} : { code })).kind;
    for (const code of [
      "E_RECIPIENT_SUPPRESSED",
      "E_RECIPIENT_NOT_ALLOWED",
      "E_VALIDATION_ERROR",
      "E_FIELD_MISSING",
      "E_CONTENT_TOO_LARGE",
      "E_DELIVERY_FAILED",
      "E_HEADER_NOT_ALLOWED",
    ]) {
      expect(kind(code), code).toBe("permanent");
    }
    for (const code of [
      "E_RATE_LIMIT_EXCEEDED",
      "E_DAILY_LIMIT_EXCEEDED",
      "E_INTERNAL_SERVER_ERROR",
      "E_SENDER_NOT_VERIFIED",
      "E_SENDER_DOMAIN_NOT_AVAILABLE",
      undefined,
    ]) {
      expect(kind(code), String(code)).toBe("transient");
    }
    const error = classifyCloudflareError(
      Object.assign(new Error("Recipient is on suppression list"), { code: "E_RECIPIENT_SUPPRESSED" }),
    );
    expect(error.message).toBe("Cloudflare Email E_RECIPIENT_SUPPRESSED: Recipient is on suppression list");
  });
});
