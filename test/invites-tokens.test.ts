import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { sha256Hex } from "../workers/core/tokens";
import { type CallResult, seedOrg, seedProject, seedUser } from "./helpers";
import { type ApiOptions, api, spyQueue } from "./invite-helpers";

/**
 * Token hygiene: the raw token exists only in the EMAIL_QUEUE message. The test intercepts it there
 * (as only the email consumer can), runs the whole lifecycle, and looks for it everywhere else:
 * every response body and header, every log line, every D1 table (its hash only in invites).
 */
describe("token hygiene", () => {
  afterEach(() => vi.restoreAllMocks());

  it("no raw token in any response, log line, audit event or D1 column across a full lifecycle", async () => {
    const logged: string[] = [];
    for (const method of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        logged.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
      });
    }
    const responses: CallResult[] = [];
    const call = async (method: string, path: string, options: ApiOptions = {}) => {
      const res = await api(method, path, options);
      responses.push(res);
      return res;
    };

    const owner = await seedUser();
    const invitee = await seedUser();
    const other = await seedUser();
    const org = await seedOrg(owner.id);
    const project = await seedProject(org.id, [{ id: owner.id, role: "admin" }]);

    // Create (org + project invites), list.
    const q1 = spyQueue();
    const created = await call("POST", `/v1/projects/${project.id}/invites`, {
      as: owner.id,
      body: { emails: [invitee.email, other.email] },
      queue: q1,
    });
    expect(created.status).toBe(201);
    const inviteId = created.body.results[0].invite.id as string;
    const otherId = created.body.results[1].invite.id as string;
    const first = q1.messages.find((m) => m.inviteId === inviteId)?.token as string;
    const otherToken = q1.messages.find((m) => m.inviteId === otherId)?.token as string;
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await call("GET", `/v1/organizations/${org.id}/invites`, { as: owner.id });
    await call("GET", `/v1/projects/${project.id}/invites`, { as: owner.id });

    // Invitee side: preview, banner feed, a wrong-account accept.
    await call("POST", "/v1/invites/preview", { body: { token: first } });
    await call("GET", "/v1/me/invites", { as: invitee.id });
    await call("POST", "/v1/invites/accept", { as: other.id, body: { token: first } });

    // Resend rotates; the old token is refused; the new one accepted.
    const q2 = spyQueue();
    expect((await call("POST", `/v1/invites/${inviteId}/resend`, { as: owner.id, queue: q2 })).status).toBe(200);
    const second = q2.messages[0]?.token as string;
    await call("POST", "/v1/invites/preview", { body: { token: first } });
    await call("POST", "/v1/invites/preview", { body: { token: second } });
    expect((await call("POST", "/v1/invites/accept", { as: invitee.id, body: { token: second } })).status).toBe(200);
    await call("POST", "/v1/invites/accept", { as: invitee.id, body: { token: second } });

    // Revoke and decline paths, then every list and the audit log.
    await call("DELETE", `/v1/invites/${otherId}`, { as: owner.id });
    await call("POST", "/v1/invites/accept", { as: other.id, body: { token: otherToken } });
    await call("POST", `/v1/invites/${otherId}/decline`, { as: other.id });
    for (const status of ["pending", "accepted", "revoked", "expired", "declined"]) {
      await call("GET", `/v1/organizations/${org.id}/invites?status=${status}`, { as: owner.id });
    }
    await call("GET", `/v1/organizations/${org.id}/audit-events`, { as: owner.id });
    await call("GET", "/v1/me", { as: invitee.id });

    const secrets = [first, second, otherToken];
    const hashes = await Promise.all(secrets.map((t) => sha256Hex(t)));
    expect(responses.length).toBeGreaterThan(15);
    for (const res of responses) {
      const headers = [...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
      for (const secret of [...secrets, ...hashes]) {
        expect(res.text).not.toContain(secret);
        expect(headers).not.toContain(secret);
      }
    }
    for (const line of logged) for (const secret of secrets) expect(line).not.toContain(secret);

    // D1: the raw tokens are in no table; their hashes only in invites.token_hash.
    const tables = await env.DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
    ).all<{ name: string }>();
    expect(tables.results.map((t) => t.name)).toContain("audit_events");
    for (const { name } of tables.results) {
      const rows = await env.DB.prepare(`SELECT * FROM "${name}"`).all();
      const dump = JSON.stringify(rows.results);
      for (const secret of secrets) expect(dump, `table ${name}`).not.toContain(secret);
      if (name !== "invites") for (const hash of hashes) expect(dump, `table ${name}`).not.toContain(hash);
    }
    const row = await env.DB.prepare("SELECT token_hash, token_version FROM invites WHERE id = ?")
      .bind(inviteId)
      .first<{ token_hash: string; token_version: number }>();
    expect(row).toEqual({ token_hash: hashes[1], token_version: 2 });
  });

  it("each invite gets its own 256-bit token; the queue message carries the invite id and token version", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const queue = spyQueue();
    const emails = Array.from({ length: 20 }, (_, i) => `tok${i}-${crypto.randomUUID().slice(0, 6)}@example.com`);
    const res = await api("POST", `/v1/organizations/${org.id}/invites`, { as: owner.id, body: { emails }, queue });
    expect(res.status).toBe(201);
    expect(queue.calls).toEqual([20]);
    const tokens = queue.messages.map((m) => m.token);
    expect(new Set(tokens).size).toBe(20);
    for (const m of queue.messages) {
      expect(m).toEqual({
        type: "invite",
        inviteId: expect.stringMatching(/^inv_/),
        tokenVersion: 1,
        token: expect.any(String),
      });
      expect(atob(`${m.token.replaceAll("-", "+").replaceAll("_", "/")}=`)).toHaveLength(32);
    }
  });

  it("sha256Hex is SHA-256 as 64 lower-case hex digits (FIPS 180-2 vectors, multi-byte UTF-8, the stored hash of each issued token)", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(await sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(await sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
    // UTF-8, not UTF-16: "é" is the two bytes c3 a9.
    expect(await sha256Hex("é")).toBe("4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c");
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const queue = spyQueue();
    const emails = [
      `h1-${crypto.randomUUID().slice(0, 6)}@example.com`,
      `h2-${crypto.randomUUID().slice(0, 6)}@example.com`,
    ];
    const res = await api("POST", `/v1/organizations/${org.id}/invites`, { as: owner.id, body: { emails }, queue });
    expect(res.status).toBe(201);
    for (const m of queue.messages) {
      const row = await env.DB.prepare("SELECT token_hash FROM invites WHERE id = ?")
        .bind(m.inviteId)
        .first<{ token_hash: string }>();
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(m.token));
      const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
      expect(row?.token_hash).toBe(hex);
      expect(await sha256Hex(m.token)).toBe(hex);
    }
  });
});
