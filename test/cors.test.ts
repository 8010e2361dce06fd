import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleFetch } from "../workers/api/router";
import { BASE, signToken } from "./helpers";

/** CORS, through the Worker's real fetch handler with a chosen CORS_ORIGINS. */
const APP = "https://app.example.com";
const LOCAL = "http://localhost:5173";
const OTHER = "https://evil.example.net";

async function fetchWith(
  corsOrigins: string | undefined,
  path: string,
  init: RequestInit & { headers?: Record<string, string> } = {},
): Promise<Response> {
  return await handleFetch(
    new Request(`${BASE}${path}`, init),
    { ...env, CORS_ORIGINS: corsOrigins } as Env,
    createExecutionContext(),
  );
}

function accessControlHeaders(res: Response): string[] {
  return [...res.headers.keys()].filter((name) => name.startsWith("access-control-"));
}

const LIST = `${APP};credentials, ${LOCAL}`;

function preflightFrom(origin: string, method = "POST") {
  return {
    method: "OPTIONS",
    headers: {
      Origin: origin,
      "Access-Control-Request-Method": method,
      "Access-Control-Request-Headers": "authorization, content-type",
    },
  };
}

describe("CORS preflight", () => {
  it("an allowed origin gets its origin back, the API's methods and the Authorization/Content-Type headers", async () => {
    const res = await fetchWith(LIST, "/v1/me/invites", preflightFrom(LOCAL));
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(LOCAL);
    expect(res.headers.get("Access-Control-Allow-Methods")?.split(/,\s*/)).toEqual(["GET", "POST", "PATCH", "DELETE"]);
    expect(res.headers.get("Access-Control-Allow-Headers")?.toLowerCase().split(/,\s*/)).toEqual(
      expect.arrayContaining(["authorization", "content-type"]),
    );
    expect(Number(res.headers.get("Access-Control-Max-Age"))).toBeGreaterThan(0);
    expect(res.headers.get("Vary")).toContain("Origin");
    // Credentials only for entries marked ;credentials.
    expect(res.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  });

  it("an entry marked ;credentials also allows credentials", async () => {
    const res = await fetchWith(LIST, "/v1/invites/inv_x/accept", preflightFrom(APP));
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(APP);
    expect(res.headers.get("Access-Control-Allow-Credentials")).toBe("true");
  });

  it("any other origin gets no Access-Control header at all", async () => {
    for (const origin of [OTHER, "https://app.example.com.evil.test", "http://app.example.com", "null"]) {
      const res = await fetchWith(LIST, "/v1/me/invites", preflightFrom(origin));
      expect(res.status).toBe(204);
      expect(accessControlHeaders(res), origin).toEqual([]);
    }
  });

  it("without CORS_ORIGINS nobody is allowed, and responses do not vary by origin", async () => {
    const res = await fetchWith(undefined, "/v1/me/invites", preflightFrom(APP));
    expect(accessControlHeaders(res)).toEqual([]);
    const get = await fetchWith("", "/healthz", { headers: { Origin: APP } });
    expect(accessControlHeaders(get)).toEqual([]);
    expect(get.headers.get("Vary")).toBeNull();
  });
});

describe("CORS on responses", () => {
  it("an allowed origin can read successes and errors, with the headers it needs exposed", async () => {
    const ok = await fetchWith(LIST, "/v1/me", {
      headers: { Origin: LOCAL, Authorization: `Bearer ${await signToken("user_cors_reader")}` },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("Access-Control-Allow-Origin")).toBe(LOCAL);
    expect(ok.headers.get("Access-Control-Expose-Headers")).toContain("X-Request-Id");
    expect(ok.headers.get("Vary")).toContain("Origin");

    const unauthenticated = await fetchWith(LIST, "/v1/me", { headers: { Origin: LOCAL } });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get("Access-Control-Allow-Origin")).toBe(LOCAL);
  });

  it("another origin's request is served without any Access-Control header (the browser withholds it)", async () => {
    const res = await fetchWith(LIST, "/healthz", { headers: { Origin: OTHER } });
    expect(res.status).toBe(200);
    expect(accessControlHeaders(res)).toEqual([]);
    expect(res.headers.get("Vary")).toContain("Origin");
  });

  it("a malformed CORS_ORIGINS fails loudly instead of allowing anything", async () => {
    for (const bad of ["*", "app.example.com", "https://app.example.com/path", `${APP};cookies`]) {
      const res = await fetchWith(bad, "/healthz", { headers: { Origin: APP } });
      expect(res.status, bad).toBe(500);
      expect(((await res.json()) as { code: string }).code).toBe("MISCONFIGURED");
      expect(accessControlHeaders(res)).toEqual([]);
    }
  });

  it("a trailing slash or upper case in an entry is normalised to the browser's origin form", async () => {
    const res = await fetchWith("HTTPS://App.Example.com/", "/healthz", { headers: { Origin: APP } });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(APP);
  });
});
