import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { address, inviteDelivery, mailTo, only, runQueue } from "./email-helpers";
import { seedOrg, seedUser, uid } from "./helpers";
import { api, spyQueue } from "./invite-helpers";

/**
 * The notification emails of existing accounts, through the Worker's real queue() handler to the
 * SMTP sink: the consent-pending offer (an owner_add invite: no token link) and a join request's
 * decision (at most once per request and decision).
 */
async function notice(key: string) {
  return await env.DB.prepare("SELECT state, attempts, last_error FROM notification_deliveries WHERE key = ?")
    .bind(key)
    .first<{ state: string; attempts: number; last_error: string | null }>();
}

describe("the consent-pending offer", () => {
  it("tells the user who added them where, as what, and to sign in — with no token link; delivery is tracked on the invite", async () => {
    const owner = await seedUser({ name: "Alice Admin" });
    const org = await seedOrg(owner.id, { name: "Acme" });
    const to = address();
    const user = await seedUser({ email: to });
    const queue = spyQueue();
    const res = await api("POST", `/v1/organizations/${org.id}/members`, {
      as: owner.id,
      body: { userId: user.id, role: "manager" },
      queue,
    });
    expect(res.status, res.text).toBe(201);
    const message = only(queue.messages);
    expect(await runQueue([{ body: message }])).toEqual([{ acked: true, retried: false, delaySeconds: undefined }]);
    const mail = only(await mailTo(to));
    expect(mail.subject).toBe("Alice Admin added you to Acme on Roster");
    expect(mail.text).toContain("Alice Admin added you to the organization Acme as a manager.");
    expect(mail.text).toContain("sign in to accept or decline");
    for (const part of [mail.text ?? "", mail.html ?? ""]) {
      expect(part).not.toContain(message.token);
      expect(part).not.toContain("#token=");
    }
    expect(mail.link).toBe("http://localhost:8787");
    expect(await inviteDelivery(res.body.invite.id)).toMatchObject({ delivery_status: "sent", delivery_attempts: 1 });
    // A redelivery sends nothing more.
    await runQueue([{ body: message }]);
    expect(await mailTo(to)).toHaveLength(1);
  });
});

describe("a join request's decision", () => {
  async function decided(status: "approved" | "denied", prefix = "") {
    const domain = `${uid("corp").toLowerCase().replaceAll("_", "-")}.com`;
    const owner = await seedUser();
    const org = await seedOrg(owner.id, { name: "Initech" });
    const now = Date.now();
    await env.DB.prepare(
      "INSERT INTO organization_domains (organization_id, domain, enrollment, verified_by, created_at, updated_at) VALUES (?, ?, 'request', ?, ?, ?)",
    )
      .bind(org.id, domain, owner.id, now, now)
      .run();
    const to = `${prefix}${uid("mail").toLowerCase()}@${domain}`;
    const user = await seedUser({ email: to });
    const jr = await api("POST", `/v1/organizations/${org.id}/join-requests`, { as: user.id, body: {} });
    expect(jr.status, jr.text).toBe(201);
    const queue = spyQueue();
    const res = await api("POST", `/v1/join-requests/${jr.body.id}/${status === "approved" ? "approve" : "deny"}`, {
      as: owner.id,
      body: status === "approved" ? { role: "member" } : undefined,
      queue,
    });
    expect(res.status, res.text).toBe(200);
    return { to, message: only(queue.messages) as unknown, key: `join_request:${jr.body.id}:${status}` };
  }

  it("approved: the requester is told they joined, once (a redelivery sends nothing)", async () => {
    const { to, message, key } = await decided("approved");
    expect(await runQueue([{ body: message }])).toEqual([{ acked: true, retried: false, delaySeconds: undefined }]);
    const mail = only(await mailTo(to));
    expect(mail.subject).toBe("You joined Initech on Roster");
    expect(mail.text).toContain("Your request to join Initech was approved: you are now a member there.");
    await runQueue([{ body: message }]);
    expect(await mailTo(to)).toHaveLength(1);
    expect(await notice(key)).toMatchObject({ state: "sent", attempts: 1 });
  });

  it("denied: the requester is told, with no link", async () => {
    const { to, message } = await decided("denied");
    await runQueue([{ body: message }]);
    const mail = only(await mailTo(to));
    expect(mail.subject).toBe("Your request to join Initech was declined");
    expect(mail.link).toBeNull();
  });

  it("a transient failure retries; the dead-letter queue records it failed; a rejected recipient fails at once", async () => {
    const temp = await decided("approved", "tempfail-");
    const [first] = await runQueue([{ body: temp.message }]);
    expect(first).toMatchObject({ acked: false, retried: true });
    expect(await notice(temp.key)).toMatchObject({ state: "sending", attempts: 1 });
    expect(await runQueue([{ body: temp.message, attempts: 6 }], undefined, "roster-email-dlq")).toEqual([
      { acked: true, retried: false, delaySeconds: undefined },
    ]);
    expect((await notice(temp.key))?.state).toBe("failed");
    expect((await notice(temp.key))?.last_error).toContain("451");

    const rejected = await decided("denied", "reject-");
    expect(await runQueue([{ body: rejected.message }])).toEqual([
      { acked: true, retried: false, delaySeconds: undefined },
    ]);
    expect(await notice(rejected.key)).toMatchObject({ state: "failed" });
  });

  it("a message for a decision the request no longer has sends nothing", async () => {
    const { to, message } = await decided("approved");
    const stale = { ...(message as object), status: "denied" };
    expect(await runQueue([{ body: stale }])).toEqual([{ acked: true, retried: false, delaySeconds: undefined }]);
    expect(await mailTo(to)).toEqual([]);
  });
});
