import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { auditOf, BASE, expectProblem, seedOrg, seedUser, signToken } from "./helpers";
import { api, inviteRow, seedInvite } from "./invite-helpers";

/**
 * Cross-site request forgery (issue 9, item 5). The browser attaches the `__session` cookie to
 * requests any site makes, and a no-body POST is a CORS "simple" request: no preflight stops it.
 * So a cookie-authenticated POST/PATCH/DELETE must come from the Worker's own origin (BASE here)
 * or a CORS_ORIGINS entry marked `;credentials` (judged by Origin, else Sec-Fetch-Site); every
 * other one is 403 FORBIDDEN and changes nothing. Bearer tokens are not affected. The same attack
 * from a real page in Chromium is test/browser/cross-origin.test.ts.
 */
const TRUSTED = "https://app.example.com";
const LISTED_WITHOUT_CREDENTIALS = "http://localhost:5173";
const ATTACKER = "https://attacker.example.net";
const vars = { CORS_ORIGINS: `${TRUSTED};credentials, ${LISTED_WITHOUT_CREDENTIALS}` };

/** An invite pending for a signed-up user: what an attacker wants the victim's browser to accept. */
async function pendingInvite() {
  const owner = await seedUser();
  const invitee = await seedUser();
  const org = await seedOrg(owner.id);
  const invite = await seedInvite({ orgId: org.id, email: invitee.email, invitedBy: owner.id });
  return { owner, invitee, org, inviteId: invite.id };
}

async function withCookie(userId: string, headers: Record<string, string> = {}): Promise<Record<string, string>> {
  return { Cookie: `theme=dark; __session=${await signToken(userId)}`, ...headers };
}

async function isMember(orgId: string, userId: string): Promise<boolean> {
  const row = await env.DB.prepare("SELECT 1 AS yes FROM organization_users WHERE organization_id = ? AND user_id = ?")
    .bind(orgId, userId)
    .first();
  return row !== null;
}

describe("cookie-authenticated unsafe requests from an untrusted origin are 403 FORBIDDEN and change nothing", () => {
  const refused: [string, Record<string, string>][] = [
    ["an attacker's Origin", { Origin: ATTACKER }],
    ["an origin in CORS_ORIGINS without ;credentials", { Origin: LISTED_WITHOUT_CREDENTIALS }],
    ['Origin "null" (a sandboxed frame, a data: URL)', { Origin: "null" }],
    ["the Worker's host on another scheme", { Origin: BASE.replace("http:", "https:") }],
    [
      "an attacker's Origin, even with Sec-Fetch-Site: same-origin",
      { Origin: ATTACKER, "Sec-Fetch-Site": "same-origin" },
    ],
    ["no Origin and Sec-Fetch-Site: same-site (a sibling subdomain)", { "Sec-Fetch-Site": "same-site" }],
    ["no Origin and Sec-Fetch-Site: cross-site", { "Sec-Fetch-Site": "cross-site" }],
    ["neither Origin nor Sec-Fetch-Site", {}],
  ];
  for (const [label, headers] of refused) {
    it(`accept by id with ${label}`, async () => {
      const { invitee, org, inviteId } = await pendingInvite();
      const res = await api("POST", `/v1/invites/${inviteId}/accept`, {
        headers: await withCookie(invitee.id, headers),
        vars,
      });
      expectProblem(res, 403, "FORBIDDEN");
      expect((await inviteRow(inviteId)).status).toBe("pending");
      expect(await isMember(org.id, invitee.id)).toBe(false);
      expect(await auditOf(org.id)).toEqual([]);
    });
  }

  it("decline by id, resend, rename (PATCH) and delete (DELETE) from an attacker's origin", async () => {
    const { owner, invitee, org, inviteId } = await pendingInvite();
    const headers = (userId: string) => withCookie(userId, { Origin: ATTACKER });
    const declined = await api("POST", `/v1/invites/${inviteId}/decline`, { headers: await headers(invitee.id), vars });
    const resent = await api("POST", `/v1/invites/${inviteId}/resend`, { headers: await headers(owner.id), vars });
    const renamed = await api("PATCH", `/v1/organizations/${org.id}`, {
      headers: await headers(owner.id),
      body: { name: "Pwned" },
      vars,
    });
    const deleted = await api("DELETE", `/v1/organizations/${org.id}`, { headers: await headers(owner.id), vars });
    for (const res of [declined, resent, renamed, deleted]) expectProblem(res, 403, "FORBIDDEN");
    const row = await inviteRow(inviteId);
    expect({ status: row.status, token_version: row.token_version }).toEqual({ status: "pending", token_version: 1 });
    const stored = await env.DB.prepare("SELECT name FROM organizations WHERE id = ?").bind(org.id).first();
    expect(stored).not.toBeNull();
    expect(stored?.name).not.toBe("Pwned");
    expect(await auditOf(org.id)).toEqual([]);
  });
});

describe("cookie-authenticated unsafe requests from a trusted origin still work", () => {
  const accepted: [string, Record<string, string>][] = [
    ["the Worker's own Origin (the accept page)", { Origin: BASE }],
    ["a CORS_ORIGINS entry marked ;credentials", { Origin: TRUSTED }],
    ["no Origin but Sec-Fetch-Site: same-origin", { "Sec-Fetch-Site": "same-origin" }],
  ];
  for (const [label, headers] of accepted) {
    it(`accept by id with ${label}`, async () => {
      const { invitee, org, inviteId } = await pendingInvite();
      const res = await api("POST", `/v1/invites/${inviteId}/accept`, {
        headers: await withCookie(invitee.id, headers),
        vars,
      });
      expect(res.status, res.text).toBe(200);
      expect((await inviteRow(inviteId)).status).toBe("accepted");
      expect(await isMember(org.id, invitee.id)).toBe(true);
    });
  }

  it("safe methods with the cookie are not judged by origin (CORS decides who may read them)", async () => {
    const { invitee } = await pendingInvite();
    const res = await api("GET", "/v1/me/invites", {
      headers: await withCookie(invitee.id, { Origin: ATTACKER }),
      vars,
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(1);
  });
});

describe("bearer-authenticated requests are not affected", () => {
  it("a bearer token works from any origin, or none (no browser attaches it on its own)", async () => {
    for (const headers of [{ Origin: ATTACKER }, {}] as Record<string, string>[]) {
      const { invitee, org, inviteId } = await pendingInvite();
      const res = await api("POST", `/v1/invites/${inviteId}/accept`, {
        headers: { Authorization: `Bearer ${await signToken(invitee.id)}`, ...headers },
        vars,
      });
      expect(res.status, res.text).toBe(200);
      expect(await isMember(org.id, invitee.id)).toBe(true);
    }
  });

  it("a bearer token wins over a cookie sent alongside it: the origin rule does not apply", async () => {
    const { invitee, inviteId } = await pendingInvite();
    const stranger = await seedUser();
    const res = await api("POST", `/v1/invites/${inviteId}/decline`, {
      headers: {
        Authorization: `Bearer ${await signToken(invitee.id)}`,
        ...(await withCookie(stranger.id, { Origin: ATTACKER })),
      },
      vars,
    });
    expect(res.status, res.text).toBe(204);
    expect((await inviteRow(inviteId)).status).toBe("declined");
  });
});

describe("the OpenAPI document", () => {
  it("documents the 403 on every authenticated write, and the origin rule on the cookie scheme", async () => {
    const doc = (await api("GET", "/openapi.json")).body;
    for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (method === "get" || operation.security === undefined) continue;
        expect(operation.responses["403"]?.description ?? "", `${method} ${path}`).toContain("FORBIDDEN");
      }
    }
    expect(doc.components.securitySchemes.session.description).toContain(";credentials");
  });
});
