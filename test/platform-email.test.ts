import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { escapeHtml } from "../workers/email-consumer/template";
import { address, mailTo, only, runQueue, smtpVars } from "./email-helpers";
import { seedUser } from "./helpers";
import { api, spyQueue } from "./invite-helpers";
import { seedUserWith } from "./platform-helpers";

async function invited(to: string, vars: Record<string, string>) {
  const inviter = await seedUser({ name: "Grace <Hopper>" });
  const queue = spyQueue();
  const res = await api("POST", "/v1/platform/invitations", {
    as: inviter.id,
    body: { emails: [to] },
    vars: { PLATFORM_INVITES_PER_USER: "3", ...vars },
    queue,
  });
  expect(res.status, res.text).toBe(201);
  return { inviter, id: res.body.results[0].invitation.id as string, message: only(queue.messages) as unknown as any };
}

async function delivery(id: string) {
  return await env.DB.prepare(
    "SELECT delivery_status, delivery_attempts, delivery_error FROM platform_invitations WHERE id = ?",
  )
    .bind(id)
    .first();
}

describe("platform invitation email over SMTP", () => {
  it("says who invited them to which product, the expiry, one button; sent once per token version", async () => {
    const to = address();
    const vars = { ...smtpVars(), PRODUCT_NAME: "Acme Beta" };
    const { id, message } = await invited(to, vars);
    expect(await runQueue([{ body: message }], vars)).toEqual([
      { acked: true, retried: false, delaySeconds: undefined },
    ]);
    const mail = only(await mailTo(to));
    expect(mail.subject).toBe("Grace <Hopper> invited you to Acme Beta");
    expect(mail.messageId).toBe(`<platform-invitation-${id}-v1@localhost>`);
    expect(mail.text).toContain("Grace <Hopper> invited you to join Acme Beta.");
    expect(mail.html).toContain("Grace &lt;Hopper&gt;");
    expect(mail.html).not.toContain("<Hopper>");
    expect(mail.html?.match(/<a /g)).toHaveLength(1);
    const link = /https?:\/\/\S+\/join#token=[A-Za-z0-9_-]{43}/.exec(mail.text ?? "")?.[0] ?? "";
    expect(link).toBe(`http://localhost:8787/join#token=${message.token}`);
    expect(mail.html).toContain(`href="${escapeHtml(link)}"`);
    const expiry = new Intl.DateTimeFormat("en-US", { dateStyle: "long", timeZone: "UTC" }).format(
      Date.now() + 7 * 86_400_000,
    );
    expect(mail.text).toContain(expiry);
    expect(await delivery(id)).toMatchObject({ delivery_status: "sent", delivery_attempts: 1, delivery_error: null });

    // The same message again (at-least-once delivery): acked, not sent twice.
    expect((await runQueue([{ body: message }], vars))[0]?.acked).toBe(true);
    expect(await mailTo(to)).toHaveLength(1);

    // The link's token accepts the invitation.
    const invitee = await seedUserWith("waitlisted");
    await env.DB.prepare("UPDATE user_emails SET email = ? WHERE user_id = ?").bind(to, invitee.id).run();
    const accepted = await api("POST", "/v1/platform/invitations/accept", {
      as: invitee.id,
      body: { token: message.token },
    });
    expect(accepted.status, accepted.text).toBe(200);
  });

  it("a message of a rotated token is dropped; the new one is sent with the new link", async () => {
    const to = address();
    const vars = smtpVars();
    const { inviter, id, message } = await invited(to, vars);
    const queue = spyQueue();
    expect((await api("POST", `/v1/platform/invitations/${id}/resend`, { as: inviter.id, queue, vars })).status).toBe(
      200,
    );
    const fresh = only(queue.messages) as unknown as any;
    expect((await runQueue([{ body: message }], vars))[0]?.acked).toBe(true);
    expect(await mailTo(to)).toHaveLength(0);
    expect((await runQueue([{ body: fresh }], vars))[0]?.acked).toBe(true);
    const mail = only(await mailTo(to));
    expect(mail.text).toContain(fresh.token);
    expect(mail.messageId).toBe(`<platform-invitation-${id}-v2@localhost>`);
  });
});
