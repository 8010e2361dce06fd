import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "svix";
import { afterEach, describe, expect, it, vi } from "vitest";
import { handleFetch } from "../workers/api/router";
import { applyUserDeleted } from "../workers/core/clerk-user-deleted";
import type { Db } from "../workers/core/db";
import { ensureUserStatement, placeholderEmail } from "../workers/core/users";
import { BASE, call, clerkWebhook, expectProblem, seedOrg, seedProject, seedUser, uid } from "./helpers";

interface Address {
  email: string;
  verified?: boolean;
  primary?: boolean;
}

/** Clerk's User object as its webhooks carry it (the fields Roster reads, plus some it ignores). */
function clerkUser(
  id: string,
  options: {
    emails: Address[];
    firstName?: string | null;
    lastName?: string | null;
    username?: string | null;
    updatedAt: number;
  },
) {
  const addresses = options.emails.map((a, i) => ({
    id: `idn_${id}_${i}`,
    object: "email_address",
    email_address: a.email,
    verification: { status: a.verified === false ? "unverified" : "verified", strategy: "email_code" },
    linked_to: [],
  }));
  const primaryIndex = Math.max(
    0,
    options.emails.findIndex((a) => a.primary),
  );
  return {
    id,
    object: "user",
    email_addresses: addresses,
    primary_email_address_id: addresses[primaryIndex]?.id ?? null,
    first_name: options.firstName === undefined ? "Ada" : options.firstName,
    last_name: options.lastName === undefined ? "Lovelace" : options.lastName,
    username: options.username ?? null,
    image_url: "https://img.clerk.com/x",
    created_at: 1_700_000_000_000,
    updated_at: options.updatedAt,
  };
}

function userCreated(id: string, options: Parameters<typeof clerkUser>[1]) {
  return { type: "user.created", data: clerkUser(id, options) };
}

function userUpdated(id: string, options: Parameters<typeof clerkUser>[1]) {
  return { type: "user.updated", data: clerkUser(id, options) };
}

function userDeleted(id: string) {
  return { type: "user.deleted", data: { id, object: "user", deleted: true } };
}

function address(id: string, label = "a"): string {
  return `${label}.${id.toLowerCase()}@example.com`;
}

async function adminRow(id: string) {
  return await env.DB.prepare("SELECT id, email, name, clerk_updated_at FROM admins WHERE id = ?")
    .bind(id)
    .first<{ id: string; email: string; name: string | null; clerk_updated_at: number | null }>();
}

async function emailRows(id: string) {
  return (
    await env.DB.prepare("SELECT email, verified, is_primary FROM user_emails WHERE user_id = ? ORDER BY email")
      .bind(id)
      .all<{ email: string; verified: number; is_primary: number }>()
  ).results;
}

async function deliveryRecorded(msgId: string): Promise<boolean> {
  return (await env.DB.prepare("SELECT 1 FROM webhook_events WHERE svix_id = ?").bind(msgId).first()) !== null;
}

async function audit(orgId: string) {
  return (
    await env.DB.prepare(
      "SELECT action, actor_id, target_type, target_id, data FROM audit_events WHERE organization_id = ? ORDER BY created_at, action",
    )
      .bind(orgId)
      .all<{ action: string; actor_id: string | null; target_type: string; target_id: string; data: string }>()
  ).results.map((r) => ({ ...r, data: JSON.parse(r.data) }));
}

async function role(orgId: string, userId: string): Promise<string | null> {
  const row = await env.DB.prepare("SELECT role FROM organization_users WHERE organization_id = ? AND user_id = ?")
    .bind(orgId, userId)
    .first<{ role: string }>();
  return row?.role ?? null;
}

describe("POST /webhooks/clerk — signature", () => {
  it("a correctly signed user.created is applied", async () => {
    const id = uid();
    const res = await clerkWebhook(userCreated(id, { emails: [{ email: address(id) }], updatedAt: Date.now() }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true, outcome: "applied" });
    expect(await adminRow(id)).not.toBeNull();
  });

  it("missing Svix headers → 400 WEBHOOK_SIGNATURE_INVALID, nothing written", async () => {
    const id = uid();
    const res = await call("POST", "/webhooks/clerk", {
      body: userCreated(id, { emails: [{ email: address(id) }], updatedAt: Date.now() }),
    });
    expectProblem(res, 400, "WEBHOOK_SIGNATURE_INVALID");
    expect(await adminRow(id)).toBeNull();
  });

  it("each missing header alone is rejected", async () => {
    for (const header of ["svix-id", "svix-timestamp", "svix-signature"]) {
      const id = uid();
      const msgId = `msg_${crypto.randomUUID()}`;
      const payload = JSON.stringify(userCreated(id, { emails: [{ email: address(id) }], updatedAt: Date.now() }));
      const now = new Date();
      const headers: Record<string, string> = {
        "Content-Type": "application/json",
        "svix-id": msgId,
        "svix-timestamp": String(Math.floor(now.getTime() / 1000)),
        "svix-signature": new Webhook(env.CLERK_WEBHOOK_SIGNING_SECRET).sign(msgId, now, payload),
      };
      delete headers[header];
      expectProblem(
        await call("POST", "/webhooks/clerk", { rawBody: payload, headers }),
        400,
        "WEBHOOK_SIGNATURE_INVALID",
      );
      expect(await adminRow(id)).toBeNull();
      expect(await deliveryRecorded(msgId)).toBe(false);
    }
  });

  it("signed with another secret → 400, nothing written", async () => {
    const id = uid();
    const other = `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))))}`;
    const res = await clerkWebhook(userCreated(id, { emails: [{ email: address(id) }], updatedAt: Date.now() }), {
      secret: other,
    });
    expectProblem(res, 400, "WEBHOOK_SIGNATURE_INVALID");
    expect(await adminRow(id)).toBeNull();
  });

  it("a tampered body under the original signature → 400, nothing written", async () => {
    const id = uid();
    const msgId = `msg_${crypto.randomUUID()}`;
    const original = JSON.stringify({
      object: "event",
      ...userCreated(id, { emails: [{ email: address(id) }], updatedAt: Date.now() }),
    });
    const now = new Date();
    const signature = new Webhook(env.CLERK_WEBHOOK_SIGNING_SECRET).sign(msgId, now, original);
    const tampered = original.replace(address(id), "attacker@evil.example");
    expect(tampered).not.toBe(original);
    const res = await call("POST", "/webhooks/clerk", {
      rawBody: tampered,
      headers: {
        "Content-Type": "application/json",
        "svix-id": msgId,
        "svix-timestamp": String(Math.floor(now.getTime() / 1000)),
        "svix-signature": signature,
      },
    });
    expectProblem(res, 400, "WEBHOOK_SIGNATURE_INVALID");
    expect(await adminRow(id)).toBeNull();
    expect(await deliveryRecorded(msgId)).toBe(false);
  });

  it("a garbage signature → 400", async () => {
    const id = uid();
    const res = await clerkWebhook(userCreated(id, { emails: [{ email: address(id) }], updatedAt: Date.now() }), {
      headers: { "svix-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" },
    });
    expectProblem(res, 400, "WEBHOOK_SIGNATURE_INVALID");
    expect(await adminRow(id)).toBeNull();
  });

  it("a timestamp more than 5 minutes old → 400, nothing written", async () => {
    const id = uid();
    const res = await clerkWebhook(userCreated(id, { emails: [{ email: address(id) }], updatedAt: Date.now() }), {
      timestamp: new Date(Date.now() - 6 * 60_000),
    });
    expectProblem(res, 400, "WEBHOOK_SIGNATURE_INVALID");
    expect(await adminRow(id)).toBeNull();
  });

  it("a timestamp more than 5 minutes in the future → 400, nothing written", async () => {
    const id = uid();
    const res = await clerkWebhook(userCreated(id, { emails: [{ email: address(id) }], updatedAt: Date.now() }), {
      timestamp: new Date(Date.now() + 6 * 60_000),
    });
    expectProblem(res, 400, "WEBHOOK_SIGNATURE_INVALID");
    expect(await adminRow(id)).toBeNull();
  });

  it("a timestamp within 5 minutes (either way) is accepted", async () => {
    for (const offset of [-4 * 60_000, 4 * 60_000]) {
      const id = uid();
      const res = await clerkWebhook(userCreated(id, { emails: [{ email: address(id) }], updatedAt: Date.now() }), {
        timestamp: new Date(Date.now() + offset),
      });
      expect(res.status).toBe(200);
      expect(await adminRow(id)).not.toBeNull();
    }
  });

  it("no CLERK_WEBHOOK_SIGNING_SECRET → 500 MISCONFIGURED, logged, nothing written", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const id = uid();
    const msgId = `msg_${crypto.randomUUID()}`;
    const payload = JSON.stringify(userCreated(id, { emails: [{ email: address(id) }], updatedAt: Date.now() }));
    const now = new Date();
    const response = await handleFetch(
      new Request(`${BASE}/webhooks/clerk`, {
        method: "POST",
        body: payload,
        headers: {
          "Content-Type": "application/json",
          "svix-id": msgId,
          "svix-timestamp": String(Math.floor(now.getTime() / 1000)),
          "svix-signature": new Webhook(env.CLERK_WEBHOOK_SIGNING_SECRET).sign(msgId, now, payload),
        },
      }),
      { ...env, CLERK_WEBHOOK_SIGNING_SECRET: "" },
      createExecutionContext(),
    );
    expect(response.status).toBe(500);
    expect(((await response.json()) as { code: string }).code).toBe("MISCONFIGURED");
    expect(errors.mock.calls.map((c) => String(c[0])).join("\n")).toContain("CLERK_WEBHOOK_SIGNING_SECRET");
    expect(await adminRow(id)).toBeNull();
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("POST /webhooks/clerk — payloads", () => {
  it("an authentic payload that does not match the schema → 400 VALIDATION_FAILED, nothing written", async () => {
    const id = uid();
    const msgId = `msg_${crypto.randomUUID()}`;
    const res = await clerkWebhook(
      { type: "user.created", data: { id, email_addresses: "nope", updated_at: "yesterday" } },
      { msgId },
    );
    expectProblem(res, 400, "VALIDATION_FAILED");
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(
      expect.arrayContaining(["data.email_addresses", "data.updated_at"]),
    );
    expect(await adminRow(id)).toBeNull();
    expect(await deliveryRecorded(msgId)).toBe(false);
  });

  it("a user.deleted without its id → 400 VALIDATION_FAILED", async () => {
    expectProblem(await clerkWebhook({ type: "user.deleted", data: { deleted: true } }), 400, "VALIDATION_FAILED");
  });

  it("an authentic body that is not JSON → 400 VALIDATION_FAILED", async () => {
    const msgId = `msg_${crypto.randomUUID()}`;
    const now = new Date();
    const payload = "not json {";
    const res = await call("POST", "/webhooks/clerk", {
      rawBody: payload,
      headers: {
        "Content-Type": "application/json",
        "svix-id": msgId,
        "svix-timestamp": String(Math.floor(now.getTime() / 1000)),
        "svix-signature": new Webhook(env.CLERK_WEBHOOK_SIGNING_SECRET).sign(msgId, now, payload),
      },
    });
    expectProblem(res, 400, "VALIDATION_FAILED");
  });

  it("a body over 64 KiB → 413", async () => {
    const id = uid();
    const event = userCreated(id, { emails: [{ email: address(id) }], updatedAt: Date.now() });
    const res = await clerkWebhook({ ...event, data: { ...event.data, padding: "x".repeat(70_000) } });
    expectProblem(res, 413, "PAYLOAD_TOO_LARGE");
    expect(await adminRow(id)).toBeNull();
  });

  it("other event types → 200 ignored, nothing written", async () => {
    const msgId = `msg_${crypto.randomUUID()}`;
    const res = await clerkWebhook(
      { type: "session.created", data: { id: "sess_1", user_id: uid() } },
      {
        msgId,
      },
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true, outcome: "ignored" });
    expect(await deliveryRecorded(msgId)).toBe(false);
  });
});

describe("user.created / user.updated", () => {
  it("creates the user with canonical addresses, verification states, primary and name (seen through /v1/me)", async () => {
    const id = uid();
    const updatedAt = Date.now();
    const res = await clerkWebhook(
      userCreated(id, {
        emails: [
          { email: `  Work.${id}@Example.COM `, verified: false },
          { email: `Home.${id}@Example.com`, primary: true },
        ],
        updatedAt,
      }),
    );
    expect(res.status).toBe(200);
    const me = await call("GET", "/v1/me", { as: id });
    expect(me.body.user).toEqual({
      id,
      email: `home.${id.toLowerCase()}@example.com`,
      name: "Ada Lovelace",
      emails: [
        { email: `home.${id.toLowerCase()}@example.com`, verified: true },
        { email: `work.${id.toLowerCase()}@example.com`, verified: false },
      ],
    });
    expect(await adminRow(id)).toEqual({
      id,
      email: `home.${id.toLowerCase()}@example.com`,
      name: "Ada Lovelace",
      clerk_updated_at: updatedAt,
    });
  });

  it("the name falls back to the username, then null", async () => {
    const a = uid();
    await clerkWebhook(
      userCreated(a, {
        emails: [{ email: address(a) }],
        firstName: null,
        lastName: null,
        username: "ada99",
        updatedAt: 1,
      }),
    );
    expect((await adminRow(a))?.name).toBe("ada99");
    const b = uid();
    await clerkWebhook(
      userCreated(b, { emails: [{ email: address(b) }], firstName: null, lastName: null, updatedAt: 1 }),
    );
    expect((await adminRow(b))?.name).toBeNull();
    const c = uid();
    await clerkWebhook(
      userCreated(c, { emails: [{ email: address(c) }], firstName: "Grace", lastName: null, updatedAt: 1 }),
    );
    expect((await adminRow(c))?.name).toBe("Grace");
  });

  it("a newer user.updated replaces all the user's addresses and their states", async () => {
    const id = uid();
    await clerkWebhook(
      userCreated(id, {
        emails: [
          { email: address(id, "old"), primary: true },
          { email: address(id, "b"), verified: false },
        ],
        updatedAt: 1000,
      }),
    );
    const res = await clerkWebhook(
      userUpdated(id, {
        emails: [
          { email: address(id, "b"), verified: true },
          { email: address(id, "new"), primary: true },
        ],
        firstName: "Grace",
        lastName: "Hopper",
        updatedAt: 2000,
      }),
    );
    expect(res.body.outcome).toBe("applied");
    expect(await emailRows(id)).toEqual([
      { email: address(id, "b"), verified: 1, is_primary: 0 },
      { email: address(id, "new"), verified: 1, is_primary: 1 },
    ]);
    expect(await adminRow(id)).toMatchObject({
      email: address(id, "new"),
      name: "Grace Hopper",
      clerk_updated_at: 2000,
    });
  });

  it("an older event after a newer one → 200 ignored, nothing overwritten", async () => {
    const id = uid();
    await clerkWebhook(userUpdated(id, { emails: [{ email: address(id, "new") }], firstName: "New", updatedAt: 5000 }));
    const res = await clerkWebhook(
      userCreated(id, { emails: [{ email: address(id, "old") }], firstName: "Old", updatedAt: 4000 }),
    );
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe("ignored");
    expect(await adminRow(id)).toMatchObject({
      email: address(id, "new"),
      name: "New Lovelace",
      clerk_updated_at: 5000,
    });
    expect(await emailRows(id)).toEqual([{ email: address(id, "new"), verified: 1, is_primary: 1 }]);
  });

  it("concurrent deliveries of different versions settle on the newest, whatever the order", async () => {
    const id = uid();
    const versions = [3000, 1000, 5000, 2000, 4000];
    const results = await Promise.all(
      versions.map((v) =>
        clerkWebhook(userUpdated(id, { emails: [{ email: address(id, `v${v}`) }], firstName: `V${v}`, updatedAt: v })),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await adminRow(id)).toMatchObject({ name: "V5000 Lovelace", clerk_updated_at: 5000 });
    expect(await emailRows(id)).toEqual([{ email: address(id, "v5000"), verified: 1, is_primary: 1 }]);
  });

  it("a repeated svix-id → 200 and no effect", async () => {
    const id = uid();
    const msgId = `msg_${crypto.randomUUID()}`;
    const event = userCreated(id, { emails: [{ email: address(id) }], updatedAt: 1000 });
    expect((await clerkWebhook(event, { msgId })).body.outcome).toBe("applied");
    // Something changes after the first delivery; replaying it must not undo that.
    await env.DB.prepare("UPDATE admins SET name = 'Changed since' WHERE id = ?").bind(id).run();
    await env.DB.prepare("DELETE FROM user_emails WHERE user_id = ?").bind(id).run();
    const replay = await clerkWebhook(event, { msgId });
    expect(replay.status).toBe(200);
    expect(replay.body.outcome).toBe("duplicate");
    expect((await adminRow(id))?.name).toBe("Changed since");
    expect(await emailRows(id)).toEqual([]);
  });

  it("two concurrent deliveries of one svix-id: one applies, the other is a duplicate", async () => {
    const id = uid();
    const msgId = `msg_${crypto.randomUUID()}`;
    const event = userCreated(id, { emails: [{ email: address(id) }], updatedAt: 1000 });
    const results = await Promise.all([clerkWebhook(event, { msgId }), clerkWebhook(event, { msgId })]);
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    expect(results.map((r) => r.body.outcome).sort()).toEqual(["applied", "duplicate"]);
    expect(await emailRows(id)).toHaveLength(1);
  });

  it("an address another user already holds in admins.email: this user gets a placeholder there, the real address in user_emails", async () => {
    const holder = await seedUser();
    const id = uid();
    const res = await clerkWebhook(
      userCreated(id, { emails: [{ email: holder.email.toUpperCase() }], updatedAt: 1000 }),
    );
    expect(res.status).toBe(200);
    expect((await adminRow(id))?.email).toBe(placeholderEmail(id));
    expect(await emailRows(id)).toEqual([{ email: holder.email, verified: 1, is_primary: 1 }]);
    expect((await adminRow(holder.id))?.email).toBe(holder.email);
    const me = await call("GET", "/v1/me", { as: id });
    expect(me.body.user.email).toBe(holder.email);
  });

  it("a placeholder row created from a session token (clerk_updated_at NULL) is updated", async () => {
    const id = uid();
    await ensureUserStatement(env.DB, id, Date.now()).run();
    expect(await adminRow(id)).toMatchObject({ email: placeholderEmail(id), clerk_updated_at: null });
    const res = await clerkWebhook(userCreated(id, { emails: [{ email: address(id) }], updatedAt: 1 }));
    expect(res.body.outcome).toBe("applied");
    expect(await adminRow(id)).toMatchObject({ email: address(id), name: "Ada Lovelace", clerk_updated_at: 1 });
    expect(await emailRows(id)).toEqual([{ email: address(id), verified: 1, is_primary: 1 }]);
  });

  it("a late user.created after user.deleted does not resurrect the user → 200 ignored", async () => {
    const id = uid();
    await clerkWebhook(userCreated(id, { emails: [{ email: address(id) }], updatedAt: 1000 }));
    expect((await clerkWebhook(userDeleted(id))).body.outcome).toBe("applied");
    const late = await clerkWebhook(userUpdated(id, { emails: [{ email: address(id) }], updatedAt: 9000 }));
    expect(late.status).toBe(200);
    expect(late.body.outcome).toBe("ignored");
    expect(await adminRow(id)).toBeNull();
    expect(await emailRows(id)).toEqual([]);
  });
});

describe("only verified addresses are shown or held (issue 9 item 9)", () => {
  // Member.email and admins.email came from Clerk's primary address whether or not it was
  // verified, and the first claimant of an address in admins.email kept it: anybody could show up
  // in member lists (and as the inviter in emails) under someone else's address.
  async function memberEmails(orgId: string, as: string): Promise<Record<string, string | null>> {
    const res = await call("GET", `/v1/organizations/${orgId}/members`, { as });
    return Object.fromEntries(res.body.data.map((m: any) => [m.userId, m.email]));
  }

  it("an unverified primary address is not the member's address: null in member lists and admins.email", async () => {
    const owner = await seedUser();
    const id = uid();
    const claimed = address(id, "claimed");
    await clerkWebhook(
      userCreated(id, {
        emails: [{ email: claimed, verified: false, primary: true }, { email: address(id, "other") }],
        updatedAt: 1000,
      }),
    );
    const org = await seedOrg(owner.id, { members: [{ id, role: "member" }] });
    expect((await memberEmails(org.id, owner.id))[id]).toBeNull();
    // The user themselves sees their own primary address, flagged unverified.
    const me = await call("GET", "/v1/me", { as: id });
    expect(me.body.user.email).toBe(claimed);
    expect(me.body.user.emails).toEqual([
      { email: claimed, verified: false },
      { email: address(id, "other"), verified: true },
    ]);
    expect((await adminRow(id))?.email).toBe(placeholderEmail(id));
    // Once Clerk verifies it, it is theirs.
    await clerkWebhook(userUpdated(id, { emails: [{ email: claimed, primary: true }], updatedAt: 2000 }));
    expect((await memberEmails(org.id, owner.id))[id]).toBe(claimed);
    expect((await adminRow(id))?.email).toBe(claimed);
  });

  it("a user known only from their session token is listed with email null, never their placeholder", async () => {
    const owner = await seedUser();
    const id = uid();
    await ensureUserStatement(env.DB, id, Date.now()).run();
    const org = await seedOrg(owner.id, { members: [{ id, role: "member" }] });
    expect((await memberEmails(org.id, owner.id))[id]).toBeNull();
    expect((await call("GET", "/v1/me", { as: id })).body.user.email).toBeNull();
  });

  it("an unverified claim never displaces a verified holder's address", async () => {
    const holder = await seedUser();
    const owner = await seedUser();
    const spoofer = uid();
    await clerkWebhook(userCreated(spoofer, { emails: [{ email: holder.email, verified: false }], updatedAt: 1000 }));
    const org = await seedOrg(owner.id, {
      members: [
        { id: holder.id, role: "member" },
        { id: spoofer, role: "member" },
      ],
    });
    const emails = await memberEmails(org.id, owner.id);
    expect([emails[holder.id], emails[spoofer]]).toEqual([holder.email, null]);
    expect((await adminRow(holder.id))?.email).toBe(holder.email);
    expect((await adminRow(spoofer))?.email).toBe(placeholderEmail(spoofer));
  });

  it("a verified address displaces an unverified claim stored before this fix (first come is not first served)", async () => {
    const squatter = uid();
    const claimed = address(squatter, "squatted");
    // As the old code stored it: the squatter's unverified primary in admins.email.
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO admins (id, email, name, role, created_at, clerk_updated_at, updated_at) VALUES (?, ?, 'Squatter', 'member', 1, 1, 1)",
      ).bind(squatter, claimed),
      env.DB.prepare(
        "INSERT INTO user_emails (user_id, email, verified, is_primary, created_at) VALUES (?, ?, 0, 1, 1)",
      ).bind(squatter, claimed),
    ]);
    const owner = uid();
    await clerkWebhook(userCreated(owner, { emails: [{ email: claimed }], updatedAt: 1000 }));
    expect((await adminRow(owner))?.email).toBe(claimed);
    expect((await adminRow(squatter))?.email).toBe(placeholderEmail(squatter));
  });

  it("Clerk verifying an address for a user unverifies a not-yet-synced legacy user's claim to it", async () => {
    const legacy = uid("user_legacy");
    const shared = `${legacy.toLowerCase()}@legacy.test`;
    // A legacy user as migration 0001 left them: never synced, their address assumed verified.
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO admins (id, email, name, role, created_at, updated_at) VALUES (?, ?, 'Legacy', 'member', 1, 1)",
      ).bind(legacy, shared),
      env.DB.prepare(
        "INSERT INTO user_emails (user_id, email, verified, is_primary, created_at) VALUES (?, ?, 1, 1, 1)",
      ).bind(legacy, shared),
    ]);
    const claimant = uid();
    // An unverified claim to it changes nothing; Clerk verifying it for the claimant does.
    await clerkWebhook(userCreated(claimant, { emails: [{ email: shared, verified: false }], updatedAt: 1000 }));
    expect(await emailRows(legacy)).toEqual([{ email: shared, verified: 1, is_primary: 1 }]);
    await clerkWebhook(userUpdated(claimant, { emails: [{ email: shared }], updatedAt: 2000 }));
    expect(await emailRows(legacy)).toEqual([{ email: shared, verified: 0, is_primary: 1 }]);
    expect(await emailRows(claimant)).toEqual([{ email: shared, verified: 1, is_primary: 1 }]);
    // The legacy user keeps their legacy admins.email (nothing existing is lost).
    expect((await adminRow(legacy))?.email).toBe(shared);
  });
});

describe("user.deleted", () => {
  it("removes memberships (audited, no actor), project memberships, the user, their addresses; leaves a tombstone", async () => {
    const owner = await seedUser();
    const gone = await seedUser({ emails: [{ email: `alt.${uid().toLowerCase()}@example.org`, verified: true }] });
    const org = await seedOrg(owner.id, { members: [{ id: gone.id, role: "manager" }] });
    const project = await seedProject(org.id, [{ id: gone.id, role: "admin" }]);
    const res = await clerkWebhook(userDeleted(gone.id));
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe("applied");
    expect(await role(org.id, gone.id)).toBeNull();
    expect(await role(org.id, owner.id)).toBe("owner");
    const projectRow = await env.DB.prepare("SELECT 1 FROM project_admins WHERE project_id = ? AND admin_id = ?")
      .bind(project.id, gone.id)
      .first();
    expect(projectRow).toBeNull();
    expect(await adminRow(gone.id)).toBeNull();
    expect(await emailRows(gone.id)).toEqual([]);
    const tombstone = await env.DB.prepare("SELECT user_id FROM user_tombstones WHERE user_id = ?")
      .bind(gone.id)
      .first();
    expect(tombstone).toEqual({ user_id: gone.id });
    expect(await audit(org.id)).toEqual([
      {
        action: "member.removed",
        actor_id: null,
        target_type: "member",
        target_id: gone.id,
        data: { role: "manager", reason: "user_deleted" },
      },
    ]);
    // Their old session token finds nothing of theirs any more.
    const me = await call("GET", "/v1/me", { as: gone.id });
    expect(me.body).toEqual({
      user: { id: gone.id, email: null, name: null, emails: [] },
      organizations: [],
      projects: [],
    });
  });

  it("an organization they alone owned gets its highest-ranked, longest-standing member promoted (audited)", async () => {
    const gone = await seedUser();
    const [director1, director2, manager, member] = await Promise.all([seedUser(), seedUser(), seedUser(), seedUser()]);
    // seedOrg gives later members later join times: manager joined first, then director1, then director2.
    const org = await seedOrg(gone.id, {
      members: [
        { id: manager.id, role: "manager" },
        { id: director1.id, role: "director" },
        { id: member.id, role: "member" },
        { id: director2.id, role: "director" },
      ],
    });
    expect((await clerkWebhook(userDeleted(gone.id))).status).toBe(200);
    expect(await role(org.id, director1.id)).toBe("owner");
    expect(await role(org.id, director2.id)).toBe("director");
    expect(await role(org.id, manager.id)).toBe("manager");
    expect(await role(org.id, gone.id)).toBeNull();
    const events = await audit(org.id);
    expect(events).toEqual(
      expect.arrayContaining([
        {
          action: "member.promoted",
          actor_id: null,
          target_type: "member",
          target_id: director1.id,
          data: { from: "director", to: "owner", reason: "owner_deleted", previousOwner: gone.id },
        },
        {
          action: "member.removed",
          actor_id: null,
          target_type: "member",
          target_id: gone.id,
          data: { role: "owner", reason: "user_deleted" },
        },
      ]),
    );
    expect(events).toHaveLength(2);
    // The new owner sees it through the API.
    const me = await call("GET", "/v1/me", { as: director1.id });
    expect(me.body.organizations.find((o: { id: string }) => o.id === org.id)?.role).toBe("owner");
  });

  it("with equal ranks the longest-standing member wins; a guest inherits when nobody else is left", async () => {
    const gone = await seedUser();
    const [early, late] = await Promise.all([seedUser(), seedUser()]);
    const org = await seedOrg(gone.id, {
      members: [
        { id: early.id, role: "member" },
        { id: late.id, role: "member" },
      ],
    });
    const guest = await seedUser();
    const guestOrg = await seedOrg(gone.id, { members: [{ id: guest.id, role: "guest" }] });
    await clerkWebhook(userDeleted(gone.id));
    expect(await role(org.id, early.id)).toBe("owner");
    expect(await role(org.id, late.id)).toBe("member");
    expect(await role(guestOrg.id, guest.id)).toBe("owner");
  });

  it("an organization with another owner keeps its roles", async () => {
    const gone = await seedUser();
    const [coOwner, director] = await Promise.all([seedUser(), seedUser()]);
    const org = await seedOrg(gone.id, {
      members: [
        { id: director.id, role: "director" },
        { id: coOwner.id, role: "owner" },
      ],
    });
    await clerkWebhook(userDeleted(gone.id));
    expect(await role(org.id, coOwner.id)).toBe("owner");
    expect(await role(org.id, director.id)).toBe("director");
    expect((await audit(org.id)).map((e) => e.action)).toEqual(["member.removed"]);
  });

  it("an organization left with no member is deleted with its projects (audited)", async () => {
    const gone = await seedUser();
    const org = await seedOrg(gone.id);
    const project = await seedProject(org.id, [{ id: gone.id, role: "admin" }]);
    await clerkWebhook(userDeleted(gone.id));
    expect(await env.DB.prepare("SELECT 1 FROM organizations WHERE id = ?").bind(org.id).first()).toBeNull();
    expect(await env.DB.prepare("SELECT 1 FROM projects WHERE id = ?").bind(project.id).first()).toBeNull();
    expect((await audit(org.id)).map((e) => e.action).sort()).toEqual(["member.removed", "organization.deleted"]);
  });

  it("for a user never synced, still leaves a tombstone", async () => {
    const id = uid();
    expect((await clerkWebhook(userDeleted(id))).body.outcome).toBe("applied");
    const late = await clerkWebhook(userCreated(id, { emails: [{ email: address(id) }], updatedAt: Date.now() }));
    expect(late.body.outcome).toBe("ignored");
    expect(await adminRow(id)).toBeNull();
  });

  it("a repeated svix-id → 200 duplicate", async () => {
    const gone = await seedUser();
    const msgId = `msg_${crypto.randomUUID()}`;
    expect((await clerkWebhook(userDeleted(gone.id), { msgId })).body.outcome).toBe("applied");
    const replay = await clerkWebhook(userDeleted(gone.id), { msgId });
    expect(replay.status).toBe(200);
    expect(replay.body.outcome).toBe("duplicate");
  });

  it("memberships that change between the read and the batch make it re-plan, never leave an org without owner", async () => {
    const gone = await seedUser();
    const [first, second] = await Promise.all([seedUser(), seedUser()]);
    const org = await seedOrg(gone.id, {
      members: [
        { id: first.id, role: "director" },
        { id: second.id, role: "manager" },
      ],
    });
    // Between the first read and its write batch, the planned successor leaves the organization.
    let batches = 0;
    const racing = new Proxy(env.DB, {
      get(target, property) {
        if (property === "batch") {
          return async (statements: D1PreparedStatement[]) => {
            batches++;
            if (batches === 2) {
              await target
                .prepare("DELETE FROM organization_users WHERE organization_id = ? AND user_id = ?")
                .bind(org.id, first.id)
                .run();
            }
            return await target.batch(statements);
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as Db;
    const outcome = await applyUserDeleted(
      racing,
      { svixId: `msg_${crypto.randomUUID()}`, type: "user.deleted" },
      gone.id,
      Date.now(),
    );
    expect(outcome).toBe("applied");
    expect(batches).toBe(4); // read, failed write, read again, write
    expect(await role(org.id, second.id)).toBe("owner");
    const promoted = (await audit(org.id)).filter((e) => e.action === "member.promoted").map((e) => e.target_id);
    expect(promoted).toEqual([second.id]);
  });
});

describe("a deleted user's still-valid session token", () => {
  it("cannot bring the user back by creating an organization (401, nothing written)", async () => {
    const user = await seedUser();
    const deleted = await clerkWebhook({ type: "user.deleted", data: { id: user.id, deleted: true, object: "user" } });
    expect(deleted.status).toBe(200);
    const created = await call("POST", "/v1/organizations", { as: user.id, body: { name: "Zombie Inc" } });
    expectProblem(created, 401, "UNAUTHENTICATED");
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM admins WHERE id = ?").bind(user.id).first("n");
    expect(rows).toBe(0);
    const orgs = await env.DB.prepare("SELECT count(*) AS n FROM organizations WHERE name = 'Zombie Inc'").first("n");
    expect(orgs).toBe(0);
  });
});
