import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type Config, getConfig } from "../../workers/core/config";
import { acceptPageHtml, authMode } from "../../workers/pages/accept-page";
import { contentSecurityPolicy, newNonce } from "../../workers/pages/html";
import {
  API,
  api,
  createOrg,
  createUser,
  invite,
  inviteToken,
  launchBrowser,
  screenshot,
  serveProductPage,
  sessionToken,
  type TestUser,
  uid,
  watch,
} from "./support";

/**
 * The accept page with CLERK_PUBLISHABLE_KEY set, in Chromium. This suite has no network, so
 * Clerk's Frontend API host is played by a stand-in: Playwright answers the two script requests
 * the page makes to it with a small fake of clerk-js (load, addListener, openSignIn, session
 * tokens). The page itself is rendered by the Worker's own page code with a Clerk configuration
 * and served under its CSP at the Worker's origin, so its API calls reach the real Worker.
 */
const FRONTEND_API = "clerk.roster-browser.test";
const PUBLISHABLE_KEY = `pk_test_${Buffer.from(`${FRONTEND_API}$`).toString("base64")}`;

const FAKE_CLERK_JS = `
(function () {
  var script = document.currentScript;
  var listeners = [];
  var clerk = {
    user: null,
    session: null,
    publishableKey: script.getAttribute("data-clerk-publishable-key"),
    loadOptions: null,
    openSignInCalls: [],
    load: async function (options) { clerk.loadOptions = options; },
    addListener: function (fn) { listeners.push(fn); fn({ user: clerk.user, session: clerk.session }); return function () {}; },
    openSignIn: function (options) { clerk.openSignInCalls.push(options); },
    signOut: async function () { clerk.user = null; clerk.session = null; emit(); },
    openSignUpCalls: [],
    openSignUp: function (options) { clerk.openSignUpCalls.push(options); },
    // clerk-js's client resources: create() posts the params, form-encoded, to the Frontend API
    // (/v1/client/sign_ups, /v1/client/sign_ins) and exposes the attempt's status and session.
    client: {
      signUp: { create: async function (params) { return attempt(await fapi("/client/sign_ups", params)); } },
      signIn: { create: async function (params) { return attempt(await fapi("/client/sign_ins", params)); } }
    },
    // setActive touches the session at the Frontend API, which answers with its user and token.
    setActive: async function (options) {
      var session = await fapi("/client/sessions/" + encodeURIComponent(options.session) + "/touch", {});
      var jwt = session.last_active_token.jwt;
      clerk.user = { id: session.user.id, primaryEmailAddress: { emailAddress: session.user.email_addresses[0].email_address } };
      clerk.session = { id: session.id, getToken: async function () { return jwt; } };
      emit();
    },
    // Test hook: what a completed Clerk sign-in does.
    __signIn: function (email, token) {
      clerk.user = { id: "user_fake", primaryEmailAddress: { emailAddress: email } };
      clerk.session = { id: "sess_fake", getToken: async function () { return token; } };
      emit();
    }
  };
  function emit() { listeners.forEach(function (fn) { fn({ user: clerk.user, session: clerk.session }); }); }
  var frontendApi = atob(clerk.publishableKey.replace(/^pk_(test|live)_/, "")).slice(0, -1);
  async function fapi(path, params) {
    var res = await fetch("https://" + frontendApi + "/v1" + path + "?_clerk_js_version=6", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(params).toString()
    });
    var json = await res.json();
    if (!res.ok) throw new Error(json.errors[0].long_message);
    return json.response;
  }
  function attempt(json) { return { status: json.status, createdSessionId: json.created_session_id }; }
  window.Clerk = clerk;
})();
`;
const FAKE_CLERK_UI_JS = "window.__internal_ClerkUICtor = function ClerkUI() {};";

let browser: Browser;
let owner: TestUser;
let ada: TestUser;
let org: { id: string; name: string };
let token: string;

beforeAll(async () => {
  browser = await launchBrowser();
  [owner, ada] = await Promise.all([createUser("Olivia Owner"), createUser("Ada Lovelace")]);
  org = await createOrg(owner, `Clerk Mode ${Math.random().toString(36).slice(2, 8)}`);
  await invite(owner, { orgId: org.id }, ada.email);
  token = await inviteToken(org.name);
});

afterAll(async () => {
  await browser?.close();
});

/**
 * The stand-in Frontend API's side of Clerk's invitation tickets: the tickets "Clerk" issued
 * (ticket -> who and which flow), the sessions it started, and what it was asked.
 */
interface Ticket {
  user: { id: string; email: string; name: string };
  status: "sign_up" | "sign_in";
  used: boolean;
}
const tickets = new Map<string, Ticket>();
const sessions = new Map<string, Ticket["user"]>();
const fapiCalls: { path: string; params: Record<string, string> }[] = [];

function fapiError(status: number, code: string, longMessage: string) {
  return { status, body: { errors: [{ code, message: code, long_message: longMessage, meta: {} }] } };
}

/** POST /v1/client/sign_ups | sign_ins (strategy=ticket) and /v1/client/sessions/{id}/touch, as Clerk answers them. */
async function frontendApi(path: string, params: Record<string, string>): Promise<{ status: number; body: unknown }> {
  fapiCalls.push({ path, params });
  const flow = path === "/v1/client/sign_ups" ? "sign_up" : path === "/v1/client/sign_ins" ? "sign_in" : null;
  if (flow !== null) {
    if (params.strategy !== "ticket") return fapiError(422, "strategy_for_user_invalid", "Only tickets here");
    const ticket = tickets.get(params.ticket ?? "");
    if (ticket === undefined || ticket.used || ticket.status !== flow) {
      return fapiError(422, "ticket_invalid", "The invitation ticket is invalid or was already used");
    }
    ticket.used = true;
    // A ticket sign-up creates the user with the invited address verified, and Clerk announces
    // it with a user.created webhook (signed, to the Worker), as createUser sends it.
    if (flow === "sign_up") await createUser(ticket.user.name, { id: ticket.user.id, email: ticket.user.email });
    const sessionId = `sess_${uid("ticket")}`;
    sessions.set(sessionId, ticket.user);
    const object = flow === "sign_up" ? "sign_up_attempt" : "sign_in_attempt";
    return {
      status: 200,
      body: {
        response: { object, id: `${flow}_${uid("attempt")}`, status: "complete", created_session_id: sessionId },
      },
    };
  }
  const touch = /^\/v1\/client\/sessions\/([^/]+)\/touch$/.exec(path);
  const user = touch ? sessions.get(decodeURIComponent(touch[1] as string)) : undefined;
  if (touch && user) {
    return {
      status: 200,
      body: {
        response: {
          object: "session",
          id: touch[1],
          status: "active",
          user: { id: user.id, email_addresses: [{ email_address: user.email }] },
          last_active_token: { object: "token", jwt: await sessionToken(user.id) },
        },
      },
    };
  }
  return fapiError(404, "resource_not_found", `No ${path}`);
}

async function clerkPage(): Promise<{ page: Page; seen: ReturnType<typeof watch>; clerkRequests: string[] }> {
  const config: Config = getConfig({ CLERK_PUBLISHABLE_KEY: PUBLISHABLE_KEY, APP_URL: API } as unknown as Env);
  const page = await browser.newPage();
  const seen = watch(page);
  const clerkRequests: string[] = [];
  await page.route(
    (url) => url.origin === API && url.pathname === "/invite",
    async (route) => {
      const nonce = newNonce();
      await route.fulfill({
        status: 200,
        headers: {
          "Content-Type": "text/html; charset=utf-8",
          "Content-Security-Policy": contentSecurityPolicy(nonce, authMode(config).clerk),
        },
        body: acceptPageHtml(config, nonce),
      });
    },
  );
  await page.route(`https://${FRONTEND_API}/**`, async (route) => {
    const url = route.request().url();
    const { pathname } = new URL(url);
    if (pathname.startsWith("/v1/")) {
      const params = Object.fromEntries(new URLSearchParams(route.request().postData() ?? ""));
      const answer = await frontendApi(pathname, params);
      await route.fulfill({
        status: answer.status,
        headers: { "Content-Type": "application/json", "Access-Control-Allow-Origin": "*" },
        body: JSON.stringify(answer.body),
      });
      return;
    }
    clerkRequests.push(url);
    await route.fulfill({
      status: 200,
      headers: { "Content-Type": "text/javascript", "Access-Control-Allow-Origin": "*" },
      body: url.includes("/@clerk/ui@") ? FAKE_CLERK_UI_JS : FAKE_CLERK_JS,
    });
  });
  return { page, seen, clerkRequests };
}

describe("the accept page with Clerk", () => {
  it("loads Clerk from the key's Frontend API, signs in with Clerk, and accepts with Clerk's session token", async () => {
    const { page, seen, clerkRequests } = await clerkPage();
    await page.goto(`${API}/invite#token=${token}`);
    await page.locator("#details").waitFor({ state: "visible" });
    expect(page.url()).toBe(`${API}/invite`);
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    expect(clerkRequests.sort()).toEqual([
      `https://${FRONTEND_API}/npm/@clerk/clerk-js@6/dist/clerk.browser.js`,
      `https://${FRONTEND_API}/npm/@clerk/ui@1/dist/ui.browser.js`,
    ]);
    expect(await page.evaluate("window.Clerk.publishableKey")).toBe(PUBLISHABLE_KEY);
    expect(await page.evaluate("typeof window.Clerk.loadOptions.ui.ClerkUI")).toBe("function");
    // No development sign-in in Clerk mode.
    expect(await page.locator(".dev").count()).toBe(0);
    expect(await page.getByLabel("Session token").count()).toBe(0);
    await screenshot(page, "accept-page-clerk-signed-out");

    // Signing in opens Clerk's modal and comes back to this page, whose URL no longer holds the token.
    await page.getByRole("button", { name: "Sign in" }).click();
    const calls = (await page.evaluate("window.Clerk.openSignInCalls")) as { forceRedirectUrl: string }[];
    expect(calls).toHaveLength(1);
    expect(calls[0]?.forceRedirectUrl).toBe(`${API}/invite`);

    await page.evaluate(
      `window.Clerk.__signIn(${JSON.stringify(ada.email)}, ${JSON.stringify(await sessionToken(ada.id))})`,
    );
    await expect.poll(() => page.locator("#auth").textContent()).toBe(`Signed in as ${ada.email}`);
    await page.locator("#accept").click();
    await expect.poll(() => page.locator("#message").textContent()).toContain(`You are now a member of ${org.name}.`);
    const me = await api("GET", "/v1/me", { as: ada.id });
    expect(me.body.organizations.map((o: { id: string }) => o.id)).toContain(org.id);
    expect(seen.urls.filter((url) => url.includes(token))).toEqual([]);
    expect(seen.errors).toEqual([]);
    await page.close();
  });
});

describe("<roster-invites> with Clerk on the page", () => {
  it("takes the session token from window.Clerk by default and reloads when the user signs in", async () => {
    const mae = await createUser("Mae Jemison");
    const spaceOrg = await createOrg(owner, `Clerk Banner ${Math.random().toString(36).slice(2, 8)}`);
    await invite(owner, { orgId: spaceOrg.id }, mae.email);
    const productUrl = `${inject("allowedOrigin")}/with-clerk`;
    const product = await serveProductPage(
      productUrl,
      () => `<!doctype html><html><head><link rel="icon" href="data:,"></head><body>
<script data-clerk-publishable-key="${PUBLISHABLE_KEY}">${FAKE_CLERK_JS}</script>
<roster-invites api-base="${API}"></roster-invites>
<script src="${API}/roster-invites.js"></script>
</body></html>`,
    );
    const page = await browser.newPage();
    const seen = watch(page);
    await page.goto(productUrl);
    // Signed out: the banner asks for nothing and shows nothing.
    await page.waitForFunction("customElements.get('roster-invites') !== undefined");
    expect(await page.locator("roster-invites section").count()).toBe(0);
    expect(seen.urls.filter((u) => u.includes("/v1/"))).toEqual([]);

    await page.evaluate(
      `window.Clerk.__signIn(${JSON.stringify(mae.email)}, ${JSON.stringify(await sessionToken(mae.id))})`,
    );
    await expect.poll(() => page.locator("roster-invites li").count()).toBe(1);
    expect(await page.locator("roster-invites li").textContent()).toContain(spaceOrg.name);
    expect(seen.errors).toEqual([]);
    await page.close();
    await product.close();
  });
});

describe("the accept page opened from Clerk's invitation email (EMAIL_PROVIDER=clerk)", () => {
  /** An invite to `user`'s address and the ticket "Clerk" issued for it. */
  async function clerkInvitation(user: Ticket["user"], status: Ticket["status"]) {
    const invited = await invite(owner, { orgId: org.id }, user.email);
    const ticket = `tkt_${uid("ticket")}`;
    tickets.set(ticket, { user, status, used: false });
    return { inviteId: invited.id, ticket };
  }

  it("completes the ticket sign-up, drops the ticket from the URL, and accepts by id", async () => {
    const id = uid();
    const newcomer = { id, name: "Nina Newcomer", email: `nina.${id.slice(-8)}@example.com` };
    const { inviteId, ticket } = await clerkInvitation(newcomer, "sign_up");
    const { page, seen } = await clerkPage();
    const before = fapiCalls.length;

    await page.goto(`${API}/invite?invite=${inviteId}&__clerk_ticket=${ticket}&__clerk_status=sign_up`);
    await expect.poll(() => page.locator("#auth").textContent()).toBe(`Signed in as ${newcomer.email}`);
    await page.locator("#details").waitFor({ state: "visible" });
    expect(page.url()).toBe(`${API}/invite?invite=${inviteId}`);
    expect(await page.locator("#d-org").textContent()).toBe(org.name);
    // The sign-up went the way clerk-js makes it: the ticket strategy, then the session made active.
    const calls = fapiCalls.slice(before);
    expect(calls[0]).toEqual({ path: "/v1/client/sign_ups", params: { strategy: "ticket", ticket } });
    expect(calls[1]?.path).toMatch(/^\/v1\/client\/sessions\/sess_[^/]+\/touch$/);
    await screenshot(page, "accept-page-clerk-ticket");

    await page.locator("#accept").click();
    await expect.poll(() => page.locator("#message").textContent()).toContain(`You are now a member of ${org.name}.`);
    const me = await api("GET", "/v1/me", { as: newcomer.id });
    expect(me.body.organizations.map((o: { id: string }) => o.id)).toContain(org.id);
    // The ticket was in the link Clerk sent, and nowhere after it.
    expect(seen.urls.filter((url) => url.includes(ticket))).toEqual([
      `${API}/invite?invite=${inviteId}&__clerk_ticket=${ticket}&__clerk_status=sign_up`,
    ]);
    expect(seen.errors).toEqual([]);
    await page.close();
  });

  it("completes a ticket sign-in for an address Clerk already knows", async () => {
    const grace = await createUser("Grace Hopper");
    const { inviteId, ticket } = await clerkInvitation(grace, "sign_in");
    const { page, seen } = await clerkPage();
    await page.goto(`${API}/invite?invite=${inviteId}&__clerk_ticket=${ticket}&__clerk_status=sign_in`);
    await expect.poll(() => page.locator("#auth").textContent()).toBe(`Signed in as ${grace.email}`);
    expect(fapiCalls.some((c) => c.path === "/v1/client/sign_ins" && c.params.ticket === ticket)).toBe(true);
    await page.locator("#accept").click();
    await expect.poll(() => page.locator("#message").textContent()).toContain(`You are now a member of ${org.name}.`);
    expect(seen.errors).toEqual([]);
    await page.close();
  });

  it("a user already signed in accepts without the ticket", async () => {
    const mary = await createUser("Mary Jackson");
    const { inviteId } = await clerkInvitation(mary, "sign_in");
    const { page, seen } = await clerkPage();
    await page.goto(`${API}/invite?invite=${inviteId}`);
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    const before = fapiCalls.length;
    await page.evaluate(
      `window.Clerk.__signIn(${JSON.stringify(mary.email)}, ${JSON.stringify(await sessionToken(mary.id))})`,
    );
    await page.locator("#details").waitFor({ state: "visible" });
    await page.locator("#accept").click();
    await expect.poll(() => page.locator("#message").textContent()).toContain(`You are now a member of ${org.name}.`);
    expect(fapiCalls.slice(before)).toEqual([]);
    expect(seen.errors).toEqual([]);
    await page.close();
  });

  it("a used or unknown ticket says so and offers Clerk's sign-in", async () => {
    const { page, seen } = await clerkPage();
    await page.goto(`${API}/invite?invite=inv_unknown&__clerk_ticket=tkt_forged&__clerk_status=sign_up`);
    await expect
      .poll(() => page.locator("#message").textContent())
      .toContain("Your invitation link could not sign you in.");
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    expect(seen.errors.filter((e) => !e.includes("422"))).toEqual([]);
    await page.close();
  });
});
