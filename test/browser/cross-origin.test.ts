import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  API,
  api,
  createOrg,
  createUser,
  invite,
  launchBrowser,
  screenshot,
  serveProductPage,
  sessionToken,
  type TestUser,
  watch,
} from "./support";

/**
 * A product page on another origin embeds the banner with `<script src>` and
 * `<roster-invites api-base=…>`, and hands it a session token through `getToken`. Only an origin
 * listed in CORS_ORIGINS may use it: the Worker runs with CORS_ORIGINS = the allowed test origin.
 */
const allowedOrigin = inject("allowedOrigin");
const otherOrigin = inject("otherOrigin");
let browser: Browser;
let servers: { close(): Promise<void> }[] = [];
/** What the page on `otherOrigin` serves instead of the product page (an attacker's page), when set. */
let otherPage: string | null = null;
/** The session token the product page hands the banner (the product's own Clerk session, here signed by the test). */
let pageToken = "";

function productPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Product</title>
<link rel="icon" href="data:,">
<style>
  body { font: 15px/1.5 Georgia, serif; margin: 2rem; background: #fffdf7; }
  roster-invites { --roster-accent: #8250df; --roster-bg: #fbefff; --roster-border: #d2a8ff; --roster-radius: 2px;
    max-width: 36rem; margin-bottom: 1rem; }
</style>
</head>
<body>
<h1>Acme Product</h1>
<roster-invites api-base="${API}"></roster-invites>
<p>The rest of the product.</p>
<script src="${API}/roster-invites.js"></script>
<script>
  window.rosterEvents = [];
  for (const type of ["roster:accepted", "roster:declined", "roster:error"]) {
    document.addEventListener(type, (event) => window.rosterEvents.push({ type, detail: event.detail }));
  }
  document.querySelector("roster-invites").getToken = async () => ${JSON.stringify(pageToken)};
</script>
</body>
</html>`;
}

beforeAll(async () => {
  browser = await launchBrowser();
  servers = await Promise.all([
    serveProductPage(allowedOrigin, productPage),
    serveProductPage(otherOrigin, () => otherPage ?? productPage()),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
});

async function setup(): Promise<{ invitee: TestUser; org: { id: string; name: string } }> {
  const owner = await createUser("Olivia Owner");
  const invitee = await createUser("Mary Jackson");
  const org = await createOrg(owner, `Cross Origin ${Math.random().toString(36).slice(2, 8)}`);
  await invite(owner, { orgId: org.id }, invitee.email);
  pageToken = await sessionToken(invitee.id);
  return { invitee, org };
}

async function events(page: Page): Promise<{ type: string; detail: any }[]> {
  return (await page.evaluate("window.rosterEvents")) as { type: string; detail: any }[];
}

describe("the banner on another origin", () => {
  it("works from an origin listed in CORS_ORIGINS: lists and accepts across origins", async () => {
    const { invitee, org } = await setup();
    const page = await browser.newPage();
    const seen = watch(page);
    await page.goto(`${allowedOrigin}/`);
    const item = page.locator("roster-invites li");
    await expect.poll(() => item.count()).toBe(1);
    expect(await item.textContent()).toContain(org.name);
    // The product's theme reaches into the Shadow DOM through the custom properties.
    expect(
      await page.evaluate(
        "getComputedStyle(document.querySelector('roster-invites').shadowRoot.querySelector('button.accept')).backgroundColor",
      ),
    ).toBe("rgb(130, 80, 223)");
    await screenshot(page, "cross-origin-allowed");

    await page.getByRole("button", { name: `Accept the invitation to ${org.name}` }).click();
    await expect.poll(() => item.count()).toBe(0);
    expect((await events(page)).map((e) => e.type)).toEqual(["roster:accepted"]);
    const me = await api("GET", "/v1/me", { as: invitee.id });
    expect(me.body.organizations.map((o: { id: string }) => o.id)).toContain(org.id);
    expect(seen.errors).toEqual([]);
    await page.close();
  });

  it("fails from an origin that is not listed: the browser withholds the API's answers", async () => {
    const { invitee } = await setup();
    const page = await browser.newPage();
    const seen = watch(page);
    await page.goto(`${otherOrigin}/`);
    await expect.poll(async () => (await events(page)).length).toBe(1);
    const [error] = await events(page);
    expect(error).toMatchObject({ type: "roster:error", detail: { action: "load", code: "NETWORK" } });
    expect(await page.locator("roster-invites section").count()).toBe(0);
    expect(seen.errors.some((e) => e.includes("CORS policy"))).toBe(true);
    // A direct request from that page, with the user's token, is refused the same way (at the preflight).
    const outcome = await page.evaluate(`
      fetch(${JSON.stringify(`${API}/v1/me/invites`)}, { headers: { Authorization: "Bearer " + ${JSON.stringify(pageToken)} } })
        .then(() => "read", (e) => e.name)
    `);
    expect(outcome).toBe("TypeError");
    // The invite is still there for the user: nothing was read or changed across origins.
    expect((await api("GET", "/v1/me/invites", { as: invitee.id })).body.data).toHaveLength(1);
    await screenshot(page, "cross-origin-refused");
    await page.close();
  });
});

/**
 * Cross-site request forgery (issue 9, item 5): the browser holds the user's `__session` cookie
 * (as Clerk sets it: SameSite=Lax, which 127.0.0.1 pages on other ports still count as same-site,
 * like sibling subdomains), and a page on another origin makes the no-body POSTs a CORS preflight
 * never guards. The Worker must refuse them (403) and change nothing, while the same request from
 * its own origin (the accept page's) still works.
 */
describe("a cookie-authenticated write from another origin (CSRF)", () => {
  let context: BrowserContext;

  afterAll(async () => {
    otherPage = null;
    await context?.close();
  });

  /** The status the Worker answered for the next request to `path` (seen on the wire, even when opaque to the page). */
  function answerTo(page: Page, method: string, path: string): Promise<number> {
    return page
      .waitForResponse((r) => r.request().method() === method && new URL(r.url()).pathname === path)
      .then((r) => r.status());
  }

  it("an attacker's page cannot accept or decline with the victim's cookie; the Worker's own origin can", async () => {
    const owner = await createUser("Olivia Owner");
    const victim = await createUser("Vic Victim");
    const org = await createOrg(owner, `Csrf Target ${Math.random().toString(36).slice(2, 8)}`);
    const { id: inviteId } = await invite(owner, { orgId: org.id }, victim.email);
    const acceptPath = `/v1/invites/${inviteId}/accept`;
    const declinePath = `/v1/invites/${inviteId}/decline`;

    context = await browser.newContext();
    await context.addCookies([
      {
        name: "__session",
        value: await sessionToken(victim.id),
        domain: "127.0.0.1",
        path: "/",
        httpOnly: true,
        sameSite: "Lax",
      },
    ]);

    // 1. The attacker's page: a no-cors fetch (fire and forget) and an auto-submitting form.
    otherPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Free prizes</title>
<link rel="icon" href="data:,"></head><body>
<form id="f" method="POST" action="${API}${declinePath}"></form>
<script>
  window.sent = fetch(${JSON.stringify(`${API}${acceptPath}`)}, { method: "POST", mode: "no-cors", credentials: "include" })
    .then((r) => r.type, (e) => "error " + e.message);
</script></body></html>`;
    const attacker = await context.newPage();
    const fetched = answerTo(attacker, "POST", acceptPath);
    await attacker.goto(`${otherOrigin}/prizes`);
    expect(await attacker.evaluate("window.sent")).toBe("opaque");
    // 403, not 401: the cookie did travel with the request, and the origin was refused.
    expect(await fetched).toBe(403);
    const submitted = answerTo(attacker, "POST", declinePath);
    await attacker.evaluate("document.getElementById('f').submit()");
    expect(await submitted).toBe(403);
    await screenshot(attacker, "csrf-form-refused");
    await attacker.close();

    // 2. An origin in CORS_ORIGINS, but not marked ;credentials: refused all the same. (The
    // browser withholds the answer from the page either way; what counts is the state below.)
    otherPage = null;
    const listed = await context.newPage();
    await listed.goto(`${allowedOrigin}/`);
    const outcome = await listed.evaluate(`
      fetch(${JSON.stringify(`${API}${acceptPath}`)}, { method: "POST", credentials: "include" })
        .then((r) => "read " + r.status, (e) => e.name)
    `);
    expect(outcome).toBe("TypeError");
    await listed.close();

    // Nothing changed: the invite is still pending and the victim is not a member.
    const pending = await api("GET", "/v1/me/invites", { as: victim.id });
    expect(pending.body.data.map((i: { id: string }) => i.id)).toEqual([inviteId]);
    const before = await api("GET", "/v1/me", { as: victim.id });
    expect(before.body.organizations.map((o: { id: string }) => o.id)).not.toContain(org.id);

    // 3. The same cookie POST from the Worker's own origin (the accept page's document) works.
    const own = await context.newPage();
    await own.goto(`${API}/invite`);
    const status = await own.evaluate(`fetch(${JSON.stringify(acceptPath)}, { method: "POST" }).then((r) => r.status)`);
    expect(status).toBe(200);
    const after = await api("GET", "/v1/me", { as: victim.id });
    expect(after.body.organizations.map((o: { id: string }) => o.id)).toContain(org.id);
    await own.close();
  });
});
