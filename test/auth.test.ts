import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { handleFetch } from "../workers/api/router";
import { BASE, type CallResult, call, expectProblem, signToken, uid } from "./helpers";

/**
 * Session tokens: every way a token can be wrong is the same 401 UNAUTHENTICATED. Each test also
 * checks the logged reason, so it fails if the token is rejected for some other reason than the
 * one it is about (a test for expiry that passes because the signature broke proves nothing).
 */

function base64url(data: string | Uint8Array): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

function claims(userId: string): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: userId,
    sid: `sess_${userId}`,
    iss: "https://clerk.roster.test",
    iat: now - 5,
    nbf: now - 5,
    exp: now + 300,
  };
}

/** The reasons the Worker logged for rejecting tokens while `run` ran. */
async function rejectionReasons(
  run: () => Promise<CallResult | Response>,
): Promise<{ status: number; reasons: string[] }> {
  const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
  const result = await run();
  const reasons = warn.mock.calls
    .map((c) => String(c[0]))
    .filter((line) => line.includes("auth.rejected"))
    .map((line) => JSON.parse(line).reason as string);
  warn.mockRestore();
  return { status: result.status, reasons };
}

async function me(token: string): Promise<CallResult> {
  return await call("GET", "/v1/me", { token });
}

/** The Worker's fetch with CLERK_AUTHORIZED_PARTIES set, as a deployment would configure it. */
async function fetchWithParties(token: string | null): Promise<Response> {
  const exec = createExecutionContext();
  const response = await handleFetch(
    new Request(`${BASE}/v1/me`, { headers: token === null ? {} : { Authorization: `Bearer ${token}` } }),
    { ...env, CLERK_AUTHORIZED_PARTIES: "https://app.example" },
    exec,
  );
  await waitOnExecutionContext(exec);
  return response;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("session tokens that are rejected with 401 UNAUTHENTICATED", () => {
  it("no token at all", async () => {
    const res = await call("GET", "/v1/me");
    expectProblem(res, 401, "UNAUTHENTICATED");
  });

  it("an Authorization header that is not a Bearer token", async () => {
    const token = await signToken(uid());
    expectProblem(
      await call("GET", "/v1/me", { headers: { Authorization: `Basic ${token}` } }),
      401,
      "UNAUTHENTICATED",
    );
  });

  it("a malformed token", async () => {
    for (const token of ["not-a-jwt", "a.b.c", `${base64url("{")}.${base64url("{}")}.sig`]) {
      const { status, reasons } = await rejectionReasons(() => me(token));
      expect(status).toBe(401);
      expect(reasons.join()).toMatch(/Invalid JWT form/);
    }
  });

  it("an expired token", async () => {
    const token = await signToken(uid(), { expiresIn: -60 });
    const { status, reasons } = await rejectionReasons(() => me(token));
    expect(status).toBe(401);
    expect(reasons.join()).toMatch(/expired/i);
  });

  it("a token not yet valid (nbf in the future)", async () => {
    const token = await signToken(uid(), { notBefore: 120 });
    const { status, reasons } = await rejectionReasons(() => me(token));
    expect(status).toBe(401);
    expect(reasons.join()).toMatch(/not before/i);
  });

  it("a tampered payload under a genuine signature", async () => {
    const victim = uid();
    const [header, , signature] = (await signToken(uid())).split(".");
    const forged = `${header}.${base64url(JSON.stringify(claims(victim)))}.${signature}`;
    const { status, reasons } = await rejectionReasons(() => me(forged));
    expect(status).toBe(401);
    expect(reasons.join()).toMatch(/signature is invalid/i);
  });

  it("a token signed with another RSA key", async () => {
    const attacker = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const token = await signToken(uid(), { key: attacker.privateKey });
    const { status, reasons } = await rejectionReasons(() => me(token));
    expect(status).toBe(401);
    expect(reasons.join()).toMatch(/signature is invalid/i);
  });

  it("alg: none (an unsigned token)", async () => {
    const token = `${base64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${base64url(JSON.stringify(claims(uid())))}.`;
    const { status, reasons } = await rejectionReasons(() => me(token));
    expect(status).toBe(401);
    expect(reasons.join()).toMatch(/Invalid JWT algorithm "none"/);
  });

  it("HS256 'signed' with the public key as the HMAC secret (key confusion)", async () => {
    const hmacKey = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(env.CLERK_JWT_KEY),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const signingInput = `${base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${base64url(JSON.stringify(claims(uid())))}`;
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, new TextEncoder().encode(signingInput)));
    const token = `${signingInput}.${base64url(mac)}`;
    const { status, reasons } = await rejectionReasons(() => me(token));
    expect(status).toBe(401);
    expect(reasons.join()).toMatch(/Invalid JWT algorithm "HS256"/);
  });

  it("a wrong azp when CLERK_AUTHORIZED_PARTIES is set", async () => {
    const token = await signToken(uid(), { azp: "https://evil.example" });
    const { status, reasons } = await rejectionReasons(() => fetchWithParties(token));
    expect(status).toBe(401);
    expect(reasons.join()).toMatch(/Authorized party/i);
  });

  it("no azp at all when CLERK_AUTHORIZED_PARTIES is set", async () => {
    const token = await signToken(uid());
    const { status, reasons } = await rejectionReasons(() => fetchWithParties(token));
    expect(status).toBe(401);
    expect(reasons.join()).toMatch(/Authorized party/i);
  });

  it("a token without a sid claim: a JWT-template token signed with the instance key is not a login (issue 9 #8)", async () => {
    const id = uid();
    const template = await signToken(id, { sid: null });
    for (const run of [
      () => me(template),
      () => call("GET", "/v1/me", { headers: { Cookie: `__session=${template}` } }),
      () => call("POST", "/v1/organizations", { token: template, body: { name: "Via a template token" } }),
    ]) {
      const { status, reasons } = await rejectionReasons(run);
      expect(status).toBe(401);
      expect(reasons.join()).toMatch(/no sid claim/);
    }
    // Nothing was created for the caller of the POST.
    const owned = await env.DB.prepare("SELECT count(*) AS n FROM organization_users WHERE user_id = ?")
      .bind(id)
      .first<{ n: number }>();
    expect(owned?.n).toBe(0);
  });

  it("a sid that is not a non-empty string", async () => {
    for (const sid of ["", 42, null, { id: "sess_1" }]) {
      const token = await signToken(uid(), { claims: { sid } });
      const { status, reasons } = await rejectionReasons(() => me(token));
      expect(status).toBe(401);
      expect(reasons.join()).toMatch(/no sid claim/);
    }
  });

  it("every rejection is the same problem+json: the reason is logged, not told", async () => {
    const expired = await me(await signToken(uid(), { expiresIn: -60 }));
    const forged = await me(`${base64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${base64url("{}")}.`);
    expectProblem(expired, 401, "UNAUTHENTICATED");
    expectProblem(forged, 401, "UNAUTHENTICATED");
    expect(expired.body.detail).toBe(forged.body.detail);
    expect(forged.text).not.toMatch(/none|algorithm|signature/i);
  });
});

describe("session tokens that are accepted", () => {
  it("the right azp when CLERK_AUTHORIZED_PARTIES is set", async () => {
    const id = uid();
    const response = await fetchWithParties(await signToken(id, { azp: "https://app.example" }));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { user: { id: string } }).user.id).toBe(id);
  });

  it("any azp when CLERK_AUTHORIZED_PARTIES is unset", async () => {
    const id = uid();
    const res = await me(await signToken(id, { azp: "https://anything.example" }));
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(id);
  });

  it("Authorization: Bearer", async () => {
    const id = uid();
    const res = await call("GET", "/v1/me", { headers: { Authorization: `Bearer ${await signToken(id)}` } });
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(id);
  });

  it("the __session cookie", async () => {
    const id = uid();
    const res = await call("GET", "/v1/me", {
      headers: { Cookie: `theme=dark; __session=${await signToken(id)}; other=1` },
    });
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(id);
  });

  it("responses to token-bearing requests are no-store and no-referrer", async () => {
    const res = await call("GET", "/v1/me", { as: uid() });
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
  });
});
