import type { Browser, Page } from "playwright-core";
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
    serveProductPage(otherOrigin, productPage),
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
