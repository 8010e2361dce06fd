import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleFetch } from "../workers/api/router";
import { BASE, call } from "./helpers";

/**
 * The browser-facing routes (/invite, /demo, /roster-invites.js, /roster-organization.js) as HTTP responses. Their
 * behaviour in a browser is covered by test/browser; here: headers, the CSP, and the server-side
 * rule that the development sign-in exists only while Clerk is not configured at all.
 */
// pk_test_ + base64("clerk.example.com$"): Clerk's publishable key format.
const PUBLISHABLE_KEY = `pk_test_${btoa("clerk.example.com$")}`;
const DEV_MARKERS = ["Development sign-in", "roster.dev-session-token", "Development only"];

async function fetchWith(vars: Partial<Record<keyof Env, string>>, path: string): Promise<Response> {
  return await handleFetch(new Request(`${BASE}${path}`), { ...env, ...vars } as Env, createExecutionContext());
}

function csp(headers: Headers): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const directive of (headers.get("Content-Security-Policy") ?? "").split(";")) {
    const [name, ...values] = directive.trim().split(/\s+/);
    if (name) out[name] = values;
  }
  return out;
}

describe("GET /invite", () => {
  it("is HTML under a strict, nonce-based CSP with no inline handlers", async () => {
    const res = await call("GET", "/invite");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const policy = csp(res.headers);
    expect(policy["default-src"]).toEqual(["'none'"]);
    expect(policy["script-src"]).toHaveLength(1);
    const nonce = /^'nonce-([A-Za-z0-9+/=]+)'$/.exec(policy["script-src"]?.[0] ?? "")?.[1];
    expect(nonce).toBeDefined();
    expect(policy["connect-src"]).toEqual(["'self'"]);
    expect(policy["frame-ancestors"]).toEqual(["'none'"]);
    // Every executable script carries the nonce; the config block is JSON, not script.
    const scripts = [...res.text.matchAll(/<script([^>]*)>/g)].map((m) => m[1] ?? "");
    expect(scripts.length).toBeGreaterThan(0);
    for (const attrs of scripts) {
      if (!attrs.includes('type="application/json"')) expect(attrs).toContain(`nonce="${nonce}"`);
    }
    expect(res.text).not.toMatch(/\son[a-z]+=/i);
    // A fresh nonce per response.
    const again = await call("GET", "/invite");
    expect(again.headers.get("Content-Security-Policy")).not.toBe(res.headers.get("Content-Security-Policy"));
  });

  it("without any Clerk key: the DEVELOPMENT sign-in", async () => {
    const res = await fetchWith({ CLERK_PUBLISHABLE_KEY: "", CLERK_SECRET_KEY: "" }, "/invite");
    const html = await res.text();
    for (const marker of DEV_MARKERS) expect(html).toContain(marker);
    expect(html).toContain('"mode":"dev"');
  });

  it("with CLERK_PUBLISHABLE_KEY: Clerk's SDK from the key's Frontend API, and no development sign-in", async () => {
    const res = await fetchWith({ CLERK_PUBLISHABLE_KEY: PUBLISHABLE_KEY, CLERK_SECRET_KEY: "" }, "/invite");
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const marker of DEV_MARKERS) expect(html).not.toContain(marker);
    expect(html).toContain('"mode":"clerk"');
    expect(html).toContain("https://clerk.example.com/npm/@clerk/clerk-js@6/dist/clerk.browser.js");
    expect(html).toContain("https://clerk.example.com/npm/@clerk/ui@1/dist/ui.browser.js");
    const policy = csp(res.headers);
    expect(policy["script-src"]).toContain("https://clerk.example.com");
    expect(policy["connect-src"]).toEqual(["'self'", "https://clerk.example.com"]);
  });

  it("with only CLERK_SECRET_KEY: still no development sign-in (sign-in is unavailable)", async () => {
    const res = await fetchWith({ CLERK_PUBLISHABLE_KEY: "", CLERK_SECRET_KEY: "sk_test_x" }, "/invite");
    const html = await res.text();
    for (const marker of DEV_MARKERS) expect(html).not.toContain(marker);
    expect(html).toContain('"mode":"none"');
    expect(html).toContain("no CLERK_PUBLISHABLE_KEY configured");
  });

  it("a publishable key that is not one is a configuration error", async () => {
    const res = await fetchWith({ CLERK_PUBLISHABLE_KEY: "pk_test_bm90IGEga2V5" }, "/invite");
    expect(res.status).toBe(500);
    expect(((await res.json()) as { code: string }).code).toBe("MISCONFIGURED");
  });
});

describe("GET /demo", () => {
  it("exists only while Clerk is not configured", async () => {
    const dev = await fetchWith({ CLERK_PUBLISHABLE_KEY: "", CLERK_SECRET_KEY: "" }, "/demo");
    expect(dev.status).toBe(200);
    const html = await dev.text();
    expect(html).toContain("<roster-invites");
    expect(html).toContain("<roster-organization");
    for (const marker of DEV_MARKERS) expect(html).toContain(marker);
    for (const vars of [{ CLERK_PUBLISHABLE_KEY: PUBLISHABLE_KEY }, { CLERK_SECRET_KEY: "sk_test_x" }]) {
      const res = await fetchWith(vars, "/demo");
      expect(res.status).toBe(404);
      expect(((await res.json()) as { code: string }).code).toBe("NOT_FOUND");
    }
  });
});

describe.each([
  ["/roster-invites.js", "roster-invites", "/v1/me/invites"],
  ["/roster-organization.js", "roster-organization", "/members"],
])("GET %s", (path, element, endpoint) => {
  it("serves the component as a cacheable script other origins may embed", async () => {
    const res = await call("GET", path);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/javascript; charset=utf-8");
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=300");
    expect(res.headers.get("Cross-Origin-Resource-Policy")).toBe("cross-origin");
    expect(res.text).toContain(`customElements.define("${element}"`);
    expect(res.text).toContain(endpoint);
  });
});

it("the pages stay out of the OpenAPI document", async () => {
  const paths = Object.keys((await call("GET", "/openapi.json")).body.paths);
  expect(paths).not.toContain("/invite");
  expect(paths).not.toContain("/demo");
  expect(paths).not.toContain("/roster-invites.js");
  expect(paths).not.toContain("/roster-organization.js");
  expect(paths).toContain("/v1/me");
});
