import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { escapeHtml, renderInvitation } from "../workers/email-consumer/template";
import {
  address,
  captureLogs,
  inviteDelivery,
  invitedThroughApi,
  mailTo,
  only,
  runQueue,
  smtpVars,
} from "./email-helpers";
import { clerkWebhook, seedOrg, seedProject, seedUser, uid } from "./helpers";
import { api, inviteRow, seedInvite, spyQueue } from "./invite-helpers";

/**
 * The email consumer end to end: the API queues an invite, the Worker's queue() handler sends it
 * over cloudflare:sockets to a real SMTP server (test/global-setup.ts), and the link in the mail
 * that arrived accepts the invite.
 */
describe("invitation email over SMTP", () => {
  it("arrives with the inviter, organization, role and expiry, and its link accepts the invite", async () => {
    const to = address();
    const { orgId, inviteId, message } = await invitedThroughApi(to);

    expect(await runQueue([{ body: message }])).toEqual([{ acked: true, retried: false, delaySeconds: undefined }]);

    const mail = only(await mailTo(to));
    expect(mail.subject).toBe("Ada Lovelace invited you to join Analytical Engines on Roster");
    expect(mail.from).toBe('"Roster" <no-reply@localhost>');
    expect(mail.envelope).toEqual({ from: "no-reply@localhost", to: [to] });
    expect(mail.messageId).toBe(`<invite-${inviteId}-v1@localhost>`);
    const expires = (await inviteRow(inviteId)).expires_at as number;
    const expiry = new Intl.DateTimeFormat("en-US", { dateStyle: "long", timeZone: "UTC" }).format(expires);
    for (const part of [mail.text, mail.html]) {
      expect(part).toContain("Ada Lovelace");
      expect(part).toContain("Analytical Engines");
      expect(part).toContain("as a member");
      expect(part).toContain(expiry);
    }
    // One action: the button, whose href is the link (the HTML repeats it as text for clients without buttons).
    expect(mail.html?.match(/<a /g)).toHaveLength(1);
    expect(mail.html).toContain(`href="${escapeHtml(mail.link ?? "")}"`);

    const link = new URL(mail.link ?? "");
    expect(`${link.origin}${link.pathname}`).toBe("http://localhost:8787/invite");
    const token = new URLSearchParams(link.hash.slice(1)).get("token");
    expect(token).toBe(message.token);

    expect(await inviteDelivery(inviteId)).toMatchObject({
      delivery_status: "sent",
      delivery_attempts: 1,
      delivery_error: null,
    });
    expect((await inviteDelivery(inviteId)).delivery_sent_at).toBeGreaterThan(0);

    const invitee = await seedUser({ email: to });
    const accepted = await api("POST", "/v1/invites/accept", { as: invitee.id, body: { token } });
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.body.organization).toMatchObject({ id: orgId, role: "member" });
    expect((await inviteRow(inviteId)).status).toBe("accepted");
  });

  it("names the project, the project role and the organization role for a project invite", async () => {
    const owner = await seedUser({ name: "Grace Hopper" });
    const org = await seedOrg(owner.id, { name: "Navy Labs" });
    const project = await seedProject(org.id, [{ id: owner.id, role: "admin" }], "Compiler");
    const to = address();
    const { id, token } = await seedInvite({
      orgId: org.id,
      projectId: project.id,
      email: to,
      invitedBy: owner.id,
      role: "guest",
      projectRole: "editor",
    });

    await runQueue([{ body: { type: "invite", inviteId: id, tokenVersion: 1, token } }]);

    const [mail] = await mailTo(to);
    expect(mail?.subject).toBe("Grace Hopper invited you to the Compiler project in Navy Labs on Roster");
    expect(mail?.text).toContain("invited you to join the project Compiler in Navy Labs as an editor.");
    expect(mail?.text).toContain("If you are not a member of Navy Labs yet, you will join it as a guest.");
  });

  it("names a nameless inviter by their verified address only, never an unverified one (issue 9 item 9)", async () => {
    const sendFrom = async (inviterEmail: { email: string; verified: boolean }) => {
      const inviterId = uid();
      const synced = await clerkWebhook({
        type: "user.created",
        data: {
          id: inviterId,
          email_addresses: [
            {
              id: "idn_1",
              email_address: inviterEmail.email,
              verification: { status: inviterEmail.verified ? "verified" : "unverified" },
            },
          ],
          primary_email_address_id: "idn_1",
          first_name: null,
          last_name: null,
          username: null,
          updated_at: 1000,
        },
      });
      expect(synced.body.outcome).toBe("applied");
      const org = await seedOrg(inviterId, { name: "Mirrors" });
      const to = address();
      const { id, token } = await seedInvite({ orgId: org.id, email: to, invitedBy: inviterId });
      await runQueue([{ body: { type: "invite", inviteId: id, tokenVersion: 1, token } }]);
      return only(await mailTo(to));
    };
    const spoof = `ceo.${uid().toLowerCase()}@victim.test`;
    expect((await sendFrom({ email: spoof, verified: false })).subject).toBe(
      "A teammate invited you to join Mirrors on Roster",
    );
    const real = `real.${uid().toLowerCase()}@example.com`;
    expect((await sendFrom({ email: real, verified: true })).subject).toBe(
      `${real} invited you to join Mirrors on Roster`,
    );
  });

  it("honours INVITE_LINK_TEMPLATE", async () => {
    const to = address();
    const { message } = await invitedThroughApi(to);
    await runQueue([{ body: message }], {
      ...smtpVars(),
      INVITE_LINK_TEMPLATE: "https://app.example.com/join?t={token}",
    });
    const [mail] = await mailTo(to);
    expect(mail?.link).toBe(`https://app.example.com/join?t=${message.token}`);
  });
});

describe("what the email shows is escaped", () => {
  it("HTML-escapes every name in the HTML part", async () => {
    const hostile = `<script>alert("x")</script> & 'Co'`;
    const inviterName = `<img src=x onerror="alert(1)">`;
    const owner = await seedUser({ name: inviterName });
    const org = await seedOrg(owner.id, { name: hostile });
    const to = address();
    const { id, token } = await seedInvite({ orgId: org.id, email: to, invitedBy: owner.id });

    await runQueue([{ body: { type: "invite", inviteId: id, tokenVersion: 1, token } }]);

    const [mail] = await mailTo(to);
    expect(mail?.html).not.toContain("<script>");
    expect(mail?.html).not.toContain("<img");
    expect(mail?.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Co&#39;");
    expect(mail?.html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    // The plain-text part is not HTML: it carries the names as they are.
    expect(mail?.text).toContain(hostile);
  });

  it("escapes the link inside its href attribute", () => {
    const rendered = renderInvitation({
      email: "a@example.com",
      organizationName: "Org",
      projectName: null,
      role: "member",
      projectRole: null,
      inviterName: "X",
      inviterEmail: null,
      expiresAt: Date.UTC(2030, 0, 1),
      link: `https://app.example.com/invite#token=a"><script>x</script>`,
    });
    expect(rendered.html).toContain(
      `href="https://app.example.com/invite#token=a&quot;&gt;&lt;script&gt;x&lt;/script&gt;"`,
    );
    expect(rendered.html).not.toContain("<script>");
  });

  it("strips CR/LF from names, so they cannot add headers or recipients", async () => {
    const owner = await seedUser({ name: "Eve\r\nBcc: victim@evil.test" });
    const org = await seedOrg(owner.id, { name: "Acme\r\nX-Injected: yes\n\nbody" });
    const to = address();
    const { id, token } = await seedInvite({ orgId: org.id, email: to, invitedBy: owner.id });

    const run = await runQueue([{ body: { type: "invite", inviteId: id, tokenVersion: 1, token } }], {
      ...smtpVars(),
      EMAIL_FROM: "Roster\r\nBcc: sneaky@evil.test <no-reply@localhost>",
    });
    expect(run[0]?.acked).toBe(true);

    const mail = only(await mailTo(to));
    expect(mail.envelope.to).toEqual([to]);
    const names = mail.headers.map(([name]) => name.toLowerCase());
    expect(names).not.toContain("bcc");
    expect(names).not.toContain("x-injected");
    expect(mail?.subject).toBe("Eve Bcc: victim@evil.test invited you to join Acme X-Injected: yes body on Roster");
    expect(mail?.from).toBe('"Roster Bcc: sneaky@evil.test" <no-reply@localhost>');
    expect(await mailTo("victim@evil.test")).toEqual([]);
    expect(await mailTo("sneaky@evil.test")).toEqual([]);
  });
});

describe("sent at most once per (invite, token version)", () => {
  it("a redelivered message sends nothing the second time", async () => {
    const to = address();
    const { inviteId, message } = await invitedThroughApi(to);

    await runQueue([{ body: message }]);
    const again = await runQueue([{ body: message, attempts: 2 }]);

    expect(again[0]).toMatchObject({ acked: true, retried: false });
    expect(await mailTo(to)).toHaveLength(1);
    expect((await inviteDelivery(inviteId)).delivery_attempts).toBe(1);
  });

  it("the same message delivered twice at once sends one email; the loser looks again later", async () => {
    const to = address();
    const { message } = await invitedThroughApi(to);

    const runs = await Promise.all([runQueue([{ body: message }]), runQueue([{ body: message }])]);
    const outcomes = runs.map(only);
    expect(outcomes.filter((o) => o.acked)).toHaveLength(1);
    const loser = outcomes.find((o) => o.retried);
    expect(loser?.delaySeconds).toBeGreaterThan(0);

    expect((await runQueue([{ body: message, attempts: 2 }]))[0]).toMatchObject({ acked: true });
    expect(await mailTo(to)).toHaveLength(1);
  });

  it("a claim whose holder crashed (lease over) is taken over and sent; a live one is waited for", async () => {
    const to = address();
    const { inviteId, message } = await invitedThroughApi(to);
    const claim = (leaseUntil: number) =>
      env.DB.prepare(
        `INSERT INTO email_deliveries (invite_id, token_version, state, claim_id, lease_until, created_at, updated_at)
         VALUES (?, 1, 'sending', 'crashed', ?, 0, 0)
         ON CONFLICT (invite_id, token_version) DO UPDATE SET lease_until = excluded.lease_until`,
      )
        .bind(inviteId, leaseUntil)
        .run();

    await claim(Date.now() + 120_000);
    const waiting = await runQueue([{ body: message }]);
    expect(waiting[0]).toMatchObject({ acked: false, retried: true });
    expect(waiting[0]?.delaySeconds).toBeGreaterThan(100);
    expect(waiting[0]?.delaySeconds).toBeLessThanOrEqual(120);
    expect(await mailTo(to)).toHaveLength(0);

    await claim(Date.now() - 1);
    expect((await runQueue([{ body: message, attempts: 2 }]))[0]).toMatchObject({ acked: true });
    expect(await mailTo(to)).toHaveLength(1);
    expect((await inviteDelivery(inviteId)).delivery_status).toBe("sent");
  });
});

describe("messages that are no longer worth sending are acked and dropped", () => {
  it("an outdated token version (a resend rotated the token) sends nothing, early or late", async () => {
    const to = address();
    const { ownerId, inviteId, message: first } = await invitedThroughApi(to);
    const { queue } = await resend(ownerId, inviteId);
    const second = only(queue);
    expect(second.tokenVersion).toBe(2);

    expect((await runQueue([{ body: first }]))[0]).toMatchObject({ acked: true, retried: false });
    expect(await mailTo(to)).toHaveLength(0);
    expect(await inviteDelivery(inviteId)).toMatchObject({ delivery_status: "queued", delivery_attempts: 0 });

    await runQueue([{ body: second }]);
    const mails = await mailTo(to);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.link).toContain(second.token);
    expect(mails[0]?.messageId).toBe(`<invite-${inviteId}-v2@localhost>`);

    // The old message arriving late changes nothing.
    const before = await inviteDelivery(inviteId);
    await runQueue([{ body: first, attempts: 3 }]);
    expect(await inviteDelivery(inviteId)).toEqual(before);
    expect(await mailTo(to)).toHaveLength(1);
  });

  it("a revoked invite sends nothing", async () => {
    const to = address();
    const { ownerId, inviteId, message } = await invitedThroughApi(to);
    expect((await api("DELETE", `/v1/invites/${inviteId}`, { as: ownerId })).status).toBe(204);

    expect((await runQueue([{ body: message }]))[0]).toMatchObject({ acked: true, retried: false });
    expect(await mailTo(to)).toHaveLength(0);
    expect(await inviteDelivery(inviteId)).toMatchObject({ delivery_attempts: 0, delivery_status: "queued" });
  });

  for (const status of ["accepted", "declined", "expired"] as const) {
    it(`an ${status} invite sends nothing`, async () => {
      const owner = await seedUser();
      const org = await seedOrg(owner.id);
      const to = address();
      const { id, token } = await seedInvite({ orgId: org.id, email: to, invitedBy: owner.id, status });
      expect((await runQueue([{ body: { type: "invite", inviteId: id, tokenVersion: 1, token } }]))[0]).toMatchObject({
        acked: true,
        retried: false,
      });
      expect(await mailTo(to)).toHaveLength(0);
    });
  }

  it("a pending invite past its expiry sends nothing (the cron has not marked it yet)", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const to = address();
    const { id, token } = await seedInvite({
      orgId: org.id,
      email: to,
      invitedBy: owner.id,
      expiresAt: Date.now() - 1000,
    });
    expect((await runQueue([{ body: { type: "invite", inviteId: id, tokenVersion: 1, token } }]))[0]?.acked).toBe(true);
    expect(await mailTo(to)).toHaveLength(0);
  });

  it("a token that does not match the invite sends nothing (no link that cannot work)", async () => {
    const to = address();
    const { inviteId, message } = await invitedThroughApi(to);
    const forged = { ...message, token: "A".repeat(43) };
    expect((await runQueue([{ body: forged }]))[0]?.acked).toBe(true);
    expect(await mailTo(to)).toHaveLength(0);
    expect((await inviteDelivery(inviteId)).delivery_attempts).toBe(0);
  });

  it("an invite that no longer exists sends nothing", async () => {
    const body = { type: "invite", inviteId: "inv_gone", tokenVersion: 1, token: "B".repeat(43) };
    expect((await runQueue([{ body }]))[0]).toMatchObject({ acked: true, retried: false });
  });

  it("a malformed message is logged without its values and acked, not retried forever", async () => {
    const secret = "C".repeat(43);
    const { result, lines } = await captureLogs(() =>
      runQueue([{ body: { type: "invite", inviteId: "inv_x\r\nfake", tokenVersion: "1", token: secret } }]),
    );
    expect(result[0]).toMatchObject({ acked: true, retried: false });
    expect(lines.some((l) => l.includes("malformed"))).toBe(true);
    expect(lines.join("\n")).not.toContain(secret);
    expect(lines.join("\n")).not.toContain("fake");
  });
});

describe("the raw token in logs", () => {
  it("appears nowhere in the SMTP provider's logs, and only in the console provider's message", async () => {
    const to = address();
    const { message } = await invitedThroughApi(to);
    const smtp = await captureLogs(() => runQueue([{ body: message }]));
    expect(smtp.lines.length).toBeGreaterThan(0);
    expect(smtp.lines.join("\n")).not.toContain(message.token);

    const other = address();
    const { message: second } = await invitedThroughApi(other);
    const printed = await captureLogs(() => runQueue([{ body: second }], { EMAIL_PROVIDER: "console" }));
    const withToken = printed.lines.filter((l) => l.includes(second.token));
    expect(withToken).toHaveLength(1);
    expect(withToken[0]).toContain("[email:console]");
    expect(withToken[0]).toContain(`To: ${other}`);
    expect(withToken[0]).toContain(`http://localhost:8787/invite#token=${second.token}`);
  });
});

async function resend(ownerId: string, inviteId: string) {
  const queue = spyQueue();
  const res = await api("POST", `/v1/invites/${inviteId}/resend`, { as: ownerId, queue });
  expect(res.status, res.text).toBe(200);
  return { res, queue: queue.messages };
}
