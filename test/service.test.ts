import { describe, expect, it } from "vitest";
import { call, expectProblem, seedUser, uid } from "./helpers";

describe("service", () => {
  it("GET /healthz answers without auth, with a request id and no-store", async () => {
    const res = await call("GET", "/healthz");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
    expect(res.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
  });

  it("an unknown path is a problem+json 404", async () => {
    expectProblem(await call("GET", "/nope"), 404, "NOT_FOUND");
  });

  it("GET /openapi.json documents every route with OpenAPI 3.1", async () => {
    const res = await call("GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    expect(Object.keys(res.body.paths)).toContain("/v1/me");
  });
});

describe("GET /v1/me", () => {
  it("requires a session token", async () => {
    expectProblem(await call("GET", "/v1/me"), 401, "UNAUTHENTICATED");
  });

  it("a valid token whose user.created has not arrived yet gets 200 with empty lists", async () => {
    const id = uid();
    const res = await call("GET", "/v1/me", { as: id });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      user: { id, email: null, name: null, emails: [], access: "active", referredBy: null, invitationsLeft: 0 },
      organizations: [],
      projects: [],
    });
  });

  it("a synced user sees their addresses", async () => {
    const user = await seedUser({ emails: [{ email: "alt@example.org", verified: false }] });
    const res = await call("GET", "/v1/me", { as: user.id });
    expect(res.status).toBe(200);
    expect(res.body.user.email).toBe(user.email);
    expect(res.body.user.emails).toEqual([
      { email: user.email, verified: true },
      { email: "alt@example.org", verified: false },
    ]);
  });
});
