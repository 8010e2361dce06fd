import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { retryDelaySeconds } from "../workers/email-consumer/deliver";
import { classifyResendResponse, classifySmtpError, parseMailbox } from "../workers/email-consumer/providers";
import {
  address,
  captureLogs,
  deliveryFailedEvents,
  inviteDelivery,
  invitedThroughApi,
  mailTo,
  only,
  runQueue,
  smtpVars,
} from "./email-helpers";
import { api } from "./invite-helpers";

/**
 * Failures of the email provider: transient ones retry with exponential backoff and end in the
 * dead-letter queue, whose consumer records the failure; permanent ones stop at once. The SMTP
 * sink scripts the failures by recipient (see scripts/mail-sink.mjs).
 */

// wrangler.toml: max_retries = 5, so Queues deliver a message at most 6 times before dead-lettering it.
const MAX_DELIVERIES = 6;

describe("a provider that fails every time", () => {
  it("retries with doubling delays, then the dead-letter consumer records `failed` with the reason, once", async () => {
    const to = address("tempfail-");
    const { orgId, inviteId, message } = await invitedThroughApi(to);
    const id = crypto.randomUUID();

    const delays: (number | undefined)[] = [];
    for (let attempt = 1; attempt <= MAX_DELIVERIES; attempt++) {
      const [run] = await runQueue([{ id, body: message, attempts: attempt }]);
      expect(run).toMatchObject({ acked: false, retried: true });
      delays.push(run?.delaySeconds);
      expect(await inviteDelivery(inviteId)).toMatchObject({
        delivery_status: "queued",
        delivery_attempts: attempt,
        delivery_error: expect.stringContaining("451"),
      });
    }
    expect(delays).toEqual([10, 20, 40, 80, 160, 320]);
    expect(await mailTo(to)).toHaveLength(0);

    // Queues now moves the message to roster-email-dlq, consumed by the same Worker.
    const [dead] = await runQueue([{ id, body: message }], smtpVars(), "roster-email-dlq");
    expect(dead).toMatchObject({ acked: true, retried: false });
    const after = await inviteDelivery(inviteId);
    expect(after.delivery_status).toBe("failed");
    expect(after.delivery_error).toMatch(/^Gave up after 6 attempt\(s\): SMTP: .*451 4\.3\.0 Try again later/);
    const events = await deliveryFailedEvents(inviteId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ organization_id: orgId, actor_id: null, target_type: "invite" });
    expect(JSON.parse(events[0].data)).toMatchObject({ tokenVersion: 1, attempts: 6 });

    // A duplicate dead letter changes nothing; neither does a late retry of the original.
    await runQueue([{ id, body: message }], smtpVars(), "roster-email-dlq");
    const late = await runQueue([{ body: message, attempts: 2 }]);
    expect(late[0]).toMatchObject({ acked: true, retried: false });
    expect(await inviteDelivery(inviteId)).toEqual(after);
    expect(await deliveryFailedEvents(inviteId)).toHaveLength(1);
  });

  it("the backoff starts at EMAIL_RETRY_BASE_SECONDS and is capped at an hour", async () => {
    const to = address("tempfail-");
    const { message } = await invitedThroughApi(to);
    const [run] = await runQueue([{ body: message, attempts: 3 }], { ...smtpVars(), EMAIL_RETRY_BASE_SECONDS: "7" });
    expect(run?.delaySeconds).toBe(28);
    expect(retryDelaySeconds(10, 1)).toBe(10);
    expect(retryDelaySeconds(10, 12)).toBe(3600);
    expect(retryDelaySeconds(10, 5000)).toBe(3600);
  });

  it("a dead letter for an outdated token version, or for a version already sent, changes nothing", async () => {
    const to = address();
    const { inviteId, message } = await invitedThroughApi(to);
    await runQueue([{ body: message }]);
    const sent = await inviteDelivery(inviteId);
    expect(sent.delivery_status).toBe("sent");

    await runQueue([{ body: message }], smtpVars(), "roster-email-dlq");
    await runQueue([{ body: { ...message, tokenVersion: 7 } }], smtpVars(), "roster-email-dlq");
    expect(await inviteDelivery(inviteId)).toEqual(sent);
    expect(await deliveryFailedEvents(inviteId)).toHaveLength(0);
  });

  it("a server that drops the connection (421) is a transient failure", async () => {
    const to = address("drop-");
    const { inviteId, message } = await invitedThroughApi(to);
    const [run] = await runQueue([{ body: message }]);
    expect(run).toMatchObject({ acked: false, retried: true, delaySeconds: 10 });
    expect((await inviteDelivery(inviteId)).delivery_error).toContain("421");
  });

  it("an unreachable SMTP server is a transient failure", async () => {
    const to = address();
    const { inviteId, message } = await invitedThroughApi(to);
    // Port 1 on the loopback interface: nothing listens there.
    const [run] = await runQueue([{ body: message }], { ...smtpVars(), SMTP_PORT: "1" });
    expect(run).toMatchObject({ acked: false, retried: true });
    expect(await inviteDelivery(inviteId)).toMatchObject({ delivery_status: "queued", delivery_attempts: 1 });
    expect((await inviteDelivery(inviteId)).delivery_error).toMatch(/^SMTP: /);
  });
});

describe("a provider that fails once", () => {
  it("retries, then sends exactly one email and ends `sent`", async () => {
    const to = address("flaky-");
    const { inviteId, message } = await invitedThroughApi(to);
    const id = crypto.randomUUID();

    const [first] = await runQueue([{ id, body: message, attempts: 1 }]);
    expect(first).toMatchObject({ acked: false, retried: true, delaySeconds: 10 });
    expect(await inviteDelivery(inviteId)).toMatchObject({
      delivery_status: "queued",
      delivery_attempts: 1,
      delivery_error: expect.stringContaining("451"),
    });

    const [second] = await runQueue([{ id, body: message, attempts: 2 }]);
    expect(second).toMatchObject({ acked: true, retried: false });
    expect(await mailTo(to)).toHaveLength(1);
    expect(await inviteDelivery(inviteId)).toMatchObject({
      delivery_status: "sent",
      delivery_attempts: 2,
      delivery_error: null,
    });
  });
});

describe("a permanent failure", () => {
  it("(SMTP 550, a rejected recipient) stops retrying at once: `failed` with the reason, audited once", async () => {
    const to = address("reject-");
    const { orgId, inviteId, message } = await invitedThroughApi(to);

    const [run] = await runQueue([{ body: message }]);
    expect(run).toMatchObject({ acked: true, retried: false });
    const after = await inviteDelivery(inviteId);
    expect(after).toMatchObject({ delivery_status: "failed", delivery_attempts: 1 });
    expect(after.delivery_error).toContain("550 5.1.1 Mailbox unavailable");
    const events = await deliveryFailedEvents(inviteId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ organization_id: orgId, actor_id: null });

    // Redelivered: nothing is sent or recorded again.
    expect((await runQueue([{ body: message, attempts: 2 }]))[0]).toMatchObject({ acked: true });
    expect(await inviteDelivery(inviteId)).toEqual(after);
    expect(await deliveryFailedEvents(inviteId)).toHaveLength(1);
    expect(await mailTo(to)).toHaveLength(0);
  });

  it("the invite list shows the failure to admins", async () => {
    const to = address("reject-");
    const { ownerId, orgId, inviteId, message } = await invitedThroughApi(to);
    await runQueue([{ body: message }]);
    const list = await api("GET", `/v1/organizations/${orgId}/invites`, { as: ownerId });
    const shown = list.body.data.find((i: { id: string }) => i.id === inviteId);
    expect(shown.delivery).toMatchObject({ status: "failed", attempts: 1, sentAt: null });
    expect(shown.delivery.lastError).toContain("550");
  });
});

describe("a misconfigured provider", () => {
  it("fails loudly at the first message, records why, and retries (it ends failed through the DLQ)", async () => {
    const to = address();
    const { inviteId, message } = await invitedThroughApi(to);
    const { result, lines } = await captureLogs(() =>
      runQueue([{ body: message }], { EMAIL_PROVIDER: "smtp", SMTP_HOST: "" }),
    );
    expect(result[0]).toMatchObject({ acked: false, retried: true, delaySeconds: 10 });
    expect(lines.some((l) => l.includes("Email provider misconfigured: EMAIL_PROVIDER=smtp needs SMTP_HOST"))).toBe(
      true,
    );
    expect((await inviteDelivery(inviteId)).delivery_error).toBe(
      "Email provider misconfigured: EMAIL_PROVIDER=smtp needs SMTP_HOST",
    );
  });

  it("resend without RESEND_API_KEY, or an unknown EMAIL_PROVIDER, is refused the same way", async () => {
    const to = address();
    const { inviteId, message } = await invitedThroughApi(to);
    const [run] = await runQueue([{ body: message }], { EMAIL_PROVIDER: "resend", RESEND_API_KEY: "" });
    expect(run).toMatchObject({ retried: true });
    expect((await inviteDelivery(inviteId)).delivery_error).toContain("needs RESEND_API_KEY");

    const { result, lines } = await captureLogs(() =>
      runQueue([{ body: message }], { EMAIL_PROVIDER: "carrier-pigeon" }),
    );
    expect(result[0]).toMatchObject({ retried: true, delaySeconds: 10 });
    expect(
      lines.some((l) => l.includes("[email] cannot send: Configuration invalid") && l.includes("EMAIL_PROVIDER")),
    ).toBe(true);
    expect((await inviteDelivery(inviteId)).delivery_error).toMatch(/^Configuration invalid: .*EMAIL_PROVIDER/);
  });

  it("EMAIL_FROM must be an address", () => {
    expect(parseMailbox("Roster <no-reply@localhost>")).toEqual({ name: "Roster", email: "no-reply@localhost" });
    expect(parseMailbox("team@example.com")).toEqual({ name: null, email: "team@example.com" });
    expect(() => parseMailbox("Roster")).toThrow(/EMAIL_FROM/);
  });
});

describe("the Resend provider", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  function resendReplies(...replies: Response[]) {
    const requests: Request[] = [];
    const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const request = new Request(input as RequestInfo, init);
      if (request.url !== "https://api.resend.com/emails") throw new Error(`unexpected fetch ${request.url}`);
      requests.push(request);
      const reply = replies.shift();
      if (reply === undefined) throw new TypeError("Network connection lost");
      return reply;
    });
    return { requests, spy };
  }
  const vars = { EMAIL_PROVIDER: "resend", RESEND_API_KEY: "re_test_key" };

  it("posts the email with an Idempotency-Key per (invite, version) and records Resend's id", async () => {
    const to = address();
    const { inviteId, message } = await invitedThroughApi(to);
    const { requests } = resendReplies(Response.json({ id: "re_msg_1" }));

    const [run] = await runQueue([{ body: message }], vars);
    expect(run).toMatchObject({ acked: true });
    const request = only(requests);
    expect(request.method).toBe("POST");
    expect(request.headers.get("Idempotency-Key")).toBe(`invite-${inviteId}-v1`);
    expect(request.headers.get("Authorization")).toBe("Bearer re_test_key");
    const body = (await request.json()) as any;
    expect(body).toMatchObject({
      from: '"Roster" <no-reply@localhost>',
      to: [to],
      subject: "Ada Lovelace invited you to join Analytical Engines on Roster",
    });
    expect(body.text).toContain(message.token);
    expect(body.html).toContain(message.token);
    expect(await inviteDelivery(inviteId)).toMatchObject({ delivery_status: "sent", delivery_attempts: 1 });
    const row = await env.DB.prepare("SELECT * FROM email_deliveries WHERE invite_id = ?").bind(inviteId).first<any>();
    expect(row).toMatchObject({ state: "sent", provider_message_id: "re_msg_1" });
  });

  it("retries on 5xx, 429 (honouring Retry-After) and network errors; a 422 is permanent", async () => {
    const to = address();
    const { inviteId, message } = await invitedThroughApi(to);
    const id = crypto.randomUUID();
    const { requests } = resendReplies(
      Response.json({ name: "internal_server_error", message: "boom" }, { status: 500 }),
      Response.json(
        { name: "rate_limit_exceeded", message: "slow down" },
        { status: 429, headers: { "Retry-After": "90" } },
      ),
    );

    expect((await runQueue([{ id, body: message, attempts: 1 }], vars))[0]).toMatchObject({
      retried: true,
      delaySeconds: 10,
    });
    expect((await inviteDelivery(inviteId)).delivery_error).toBe("Resend 500 internal_server_error: boom");
    expect((await runQueue([{ id, body: message, attempts: 2 }], vars))[0]).toMatchObject({
      retried: true,
      delaySeconds: 90,
    });
    expect((await runQueue([{ id, body: message, attempts: 3 }], vars))[0]).toMatchObject({
      retried: true,
      delaySeconds: 40,
    });
    expect((await inviteDelivery(inviteId)).delivery_error).toContain("Resend unreachable");
    // Every attempt for this version carries the same key: Resend itself drops a duplicate.
    expect(new Set(requests.map((r) => r.headers.get("Idempotency-Key")))).toEqual(new Set([`invite-${inviteId}-v1`]));

    vi.restoreAllMocks();
    resendReplies(Response.json({ name: "validation_error", message: "Invalid `to` field" }, { status: 422 }));
    expect((await runQueue([{ id, body: message, attempts: 4 }], vars))[0]).toMatchObject({
      acked: true,
      retried: false,
    });
    expect(await inviteDelivery(inviteId)).toMatchObject({
      delivery_status: "failed",
      delivery_error: "Resend 422 validation_error: Invalid `to` field",
      delivery_attempts: 4,
    });
    expect(await deliveryFailedEvents(inviteId)).toHaveLength(1);
  });
});

describe("failure classification", () => {
  it("SMTP: a 5xx reply to MAIL/RCPT/DATA is permanent; 4xx, connection and login trouble are transient", () => {
    const kind = (message: string) => classifySmtpError(new Error(message)).kind;
    expect(kind("Invalid RCPT TO: <a@example.com> 550 5.1.1 No such user\r\n")).toBe("permanent");
    expect(kind("Invalid RCPT TO: <a@example.com> NOTIFY=NEVER 553 bad address\r\n")).toBe("permanent");
    expect(kind("Invalid MAIL FROM: <n@localhost> 554 sender refused\r\n")).toBe("permanent");
    expect(kind("Failed send email body: 552 message too large\r\n")).toBe("permanent");
    expect(kind("Invalid RCPT TO: <a550@example.com> 452 mailbox full, try later\r\n")).toBe("transient");
    expect(kind("Failed to send DATA: 421 shutting down\r\n")).toBe("transient");
    expect(kind("Failed to plain authentication: 535 bad credentials\r\n")).toBe("transient");
    expect(kind("Failed to connect to SMTP server: 554 no thanks\r\n")).toBe("transient");
    expect(kind("Socket timeout!")).toBe("transient");
  });

  it("Resend: 429, 5xx, 401/403 and an in-flight idempotent request are transient; other 4xx are permanent", () => {
    const kind = (status: number, name?: string) => classifyResendResponse(status, { name }, null).kind;
    expect([429, 500, 502, 503, 401, 403].map((s) => kind(s))).toEqual(Array(6).fill("transient"));
    expect(kind(409, "concurrent_idempotent_requests")).toBe("transient");
    expect(kind(409, "invalid_idempotent_request")).toBe("permanent");
    expect([400, 404, 422].map((s) => kind(s))).toEqual(Array(3).fill("permanent"));
    expect(classifyResendResponse(429, {}, "120").retryAfterSeconds).toBe(120);
  });
});
