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
    // Test hook: what a completed Clerk sign-in does.
    __signIn: function (email, token) {
      clerk.user = { id: "user_fake", primaryEmailAddress: { emailAddress: email } };
      clerk.session = { id: "sess_fake", getToken: async function () { return token; } };
      emit();
    }
  };
  function emit() { listeners.forEach(function (fn) { fn({ user: clerk.user, session: clerk.session }); }); }
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

async function clerkPage(): Promise<{ page: Page; seen: ReturnType<typeof watch>; clerkRequests: string[] }> {
  const config: Config = getConfig({ CLERK_PUBLISHABLE_KEY: PUBLISHABLE_KEY, APP_URL: API } as unknown as Env);
  const page = await browser.newPage();
  const seen = watch(page);
  const clerkRequests: string[] = [];
  await page.route(`${API}/invite`, async (route) => {
    const nonce = newNonce();
    await route.fulfill({
      status: 200,
      headers: {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": contentSecurityPolicy(nonce, authMode(config).clerk),
      },
      body: acceptPageHtml(config, nonce),
    });
  });
  await page.route(`https://${FRONTEND_API}/**`, async (route) => {
    const url = route.request().url();
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
