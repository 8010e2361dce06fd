import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API, api, createOrg, createUser, devSignIn, launchBrowser, type TestUser, watch } from "./support";

/**
 * `<roster-invites>` and existing accounts, in Chromium on the development /demo page: a
 * consent-pending add ("Olivia Owner added you to …") accepted like an invite, and suggestions
 * of the user's email domain ("People at acme.example use Acme") with Ask to join / Join. The
 * screenshots are committed (docs/screenshots/banner/), to be looked at; names are fixed (each
 * browser run starts on a fresh database) so that they change only when the banner does.
 */
const SHOTS = join(new URL("../..", import.meta.url).pathname, "docs", "screenshots", "banner");
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
});

async function shot(page: Page, name: string): Promise<void> {
  // The banner alone, at a fixed width: the committed images stay comparable from run to run.
  await page.locator("roster-invites").screenshot({ path: join(SHOTS, `${name}.png`) });
}

async function recordEvents(page: Page): Promise<void> {
  await page.evaluate(`
    window.rosterEvents = [];
    for (const type of ["roster:accepted", "roster:declined", "roster:requested", "roster:joined", "roster:error"]) {
      document.addEventListener(type, (event) => window.rosterEvents.push({ type, detail: event.detail }));
    }
  `);
}

async function events(page: Page): Promise<{ type: string; detail: any }[]> {
  return (await page.evaluate("window.rosterEvents")) as { type: string; detail: any }[];
}

async function openDemo(user: TestUser): Promise<{ page: Page; seen: ReturnType<typeof watch> }> {
  const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
  const seen = watch(page);
  await page.goto(`${API}/demo`);
  await recordEvents(page);
  const loaded = page.waitForResponse((r) => r.url() === `${API}/v1/me/suggestions` && r.status() === 200);
  await devSignIn(page, user);
  await loaded;
  return { page, seen };
}

/** An organization owned by someone at `domain`, which claimed it with `enrollment`. */
async function orgOfDomain(name: string, domain: string, enrollment: "request" | "auto") {
  const owner = await createUser("Olivia Owner", { domain });
  const org = await createOrg(owner, name);
  const claimed = await api("POST", `/v1/organizations/${org.id}/domains`, {
    as: owner.id,
    body: { domain, enrollment },
  });
  expect(claimed.status, JSON.stringify(claimed.body)).toBe(201);
  return { owner, org };
}

const items = (page: Page) => page.locator("roster-invites li");
const liveRegion = (page: Page) => page.locator("roster-invites [aria-live=polite]");

describe("<roster-invites>: consent-pending adds", () => {
  it('shows "Olivia Owner added you to …" beside an email invite; accepting it joins', async () => {
    const owner = await createUser("Olivia Owner");
    const user = await createUser("Ada Added");
    const acme = await createOrg(owner, "Acme Robotics");
    const globex = await createOrg(owner, "Globex Shipping");
    const added = await api("POST", `/v1/organizations/${acme.id}/members`, {
      as: owner.id,
      body: { userId: user.id, role: "manager" },
    });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body.invite.source).toBe("owner_add");
    const invited = await api("POST", `/v1/organizations/${globex.id}/invites`, {
      as: owner.id,
      body: { emails: [user.email] },
    });
    expect(invited.status).toBe(201);

    const { page, seen } = await openDemo(user);
    await expect.poll(() => items(page).count()).toBe(2);
    const offer = items(page).filter({ hasText: acme.name });
    expect(await offer.getAttribute("data-source")).toBe("owner_add");
    expect(await offer.textContent()).toContain(`Olivia Owner added you to ${acme.name}`);
    expect(await offer.textContent()).toContain("Role: Manager · Expires");
    const email = items(page).filter({ hasText: globex.name });
    expect(await email.textContent()).toContain("Invited by Olivia Owner");
    await shot(page, "owner-add-and-invite");

    await page.getByRole("button", { name: `Accept the invitation to ${acme.name}` }).click();
    await expect.poll(() => liveRegion(page).textContent()).toBe(`You joined ${acme.name} as Manager.`);
    const accepted = (await events(page)).filter((e) => e.type === "roster:accepted");
    expect(accepted.map((e) => [e.detail.invite.id, e.detail.invite.source])).toEqual([
      [added.body.invite.id, "owner_add"],
    ]);
    const me = await api("GET", "/v1/me", { as: user.id });
    expect(me.body.organizations.map((o: { id: string; role: string }) => [o.id, o.role])).toContainEqual([
      acme.id,
      "manager",
    ]);
    expect(seen.errors).toEqual([]);
    await page.close();
  });
});

describe("<roster-invites>: suggestions of the user's email domain", () => {
  it("Ask to join sends a request (roster:requested); Join joins at once (roster:joined)", async () => {
    const domain = "techpark.example";
    const requestOrg = await orgOfDomain("Initech", domain, "request");
    const autoOrg = await orgOfDomain("Hooli", domain, "auto");
    const user = await createUser("Sam Suggested", { domain });
    // Someone of another domain is suggested nothing.
    const stranger = await createUser("Stan Stranger", { domain: "elsewhere.example" });
    expect((await api("GET", "/v1/me/suggestions", { as: stranger.id })).body.data).toEqual([]);

    const { page, seen } = await openDemo(user);
    await expect.poll(() => items(page).count()).toBe(2);
    expect(await page.locator("roster-invites .title").textContent()).toBe("2 organizations you can join");
    const ask = items(page).filter({ hasText: requestOrg.org.name });
    expect(await ask.textContent()).toContain(`People at ${domain} use ${requestOrg.org.name}`);
    expect(await ask.textContent()).toContain("An administrator approves requests");
    const join = items(page).filter({ hasText: autoOrg.org.name });
    expect(await join.textContent()).toContain(`Your ${domain} address lets you join as Member`);
    await shot(page, "suggestions");

    await page.getByRole("button", { name: `Ask to join ${requestOrg.org.name}` }).click();
    await expect.poll(() => items(page).count()).toBe(1);
    await expect
      .poll(() => liveRegion(page).textContent())
      .toBe(`Request sent to ${requestOrg.org.name}. An administrator will decide.`);
    const requested = (await events(page)).filter((e) => e.type === "roster:requested");
    expect(requested.map((e) => [e.detail.organization.id, e.detail.joinRequest.status])).toEqual([
      [requestOrg.org.id, "pending"],
    ]);
    const pending = await api("GET", `/v1/organizations/${requestOrg.org.id}/join-requests`, {
      as: requestOrg.owner.id,
    });
    expect(pending.body.data.map((r: { user: { userId: string } }) => r.user.userId)).toEqual([user.id]);
    await shot(page, "after-ask-to-join");

    await page.getByRole("button", { name: `Join ${autoOrg.org.name}` }).click();
    await expect.poll(() => items(page).count()).toBe(0);
    await expect.poll(() => liveRegion(page).textContent()).toBe(`You joined ${autoOrg.org.name}.`);
    const joined = (await events(page)).filter((e) => e.type === "roster:joined");
    expect(joined.map((e) => [e.detail.organization.id, e.detail.joinRequest.status])).toEqual([
      [autoOrg.org.id, "approved"],
    ]);
    const me = await api("GET", "/v1/me", { as: user.id });
    expect(me.body.organizations.map((o: { id: string }) => o.id)).toContain(autoOrg.org.id);
    expect(me.body.organizations.map((o: { id: string }) => o.id)).not.toContain(requestOrg.org.id);
    expect(seen.errors).toEqual([]);
    await page.close();
  });

  it("works with the keyboard alone, with a visible focus ring; a full organization says so and stays", async () => {
    const domain = "fullhouse.example";
    const { owner, org } = await orgOfDomain("Full House", domain, "auto");
    // One seat, taken by the owner: joining must be refused with a human message.
    expect((await api("PATCH", `/v1/organizations/${org.id}`, { as: owner.id, body: { maxMembers: 1 } })).status).toBe(
      200,
    );
    const user = await createUser("Kim Keyboard", { domain });
    const { page } = await openDemo(user);
    await expect.poll(() => items(page).count()).toBe(1);
    await page.evaluate("document.activeElement && document.activeElement.blur()");
    const focusedLabel = () =>
      page.evaluate(
        "(() => { const a = document.activeElement; const inner = a && a.shadowRoot ? a.shadowRoot.activeElement : null; return inner ? inner.getAttribute('aria-label') || inner.textContent : null; })()",
      ) as Promise<string | null>;
    for (let i = 0; i < 6 && (await focusedLabel()) !== `Join ${org.name}`; i++) await page.keyboard.press("Tab");
    expect(await focusedLabel()).toBe(`Join ${org.name}`);
    expect(
      await page.evaluate(
        "getComputedStyle(document.querySelector('roster-invites').shadowRoot.activeElement).outlineStyle",
      ),
    ).toBe("solid");
    await page.keyboard.press("Enter");
    await expect
      .poll(() => liveRegion(page).textContent())
      .toBe(`Could not join ${org.name}. The organization has no free seats. Ask an administrator to free one.`);
    expect(await items(page).count()).toBe(1);
    expect(await items(page).textContent()).toContain("no free seats");
    const errors = (await events(page)).filter((e) => e.type === "roster:error");
    expect(errors.map((e) => [e.detail.action, e.detail.code])).toEqual([["join", "SEAT_LIMIT_REACHED"]]);
    // Focus stays on the item's button.
    expect(await focusedLabel()).toBe(`Join ${org.name}`);
    await shot(page, "join-refused-seat-limit");
    await page.close();
  });
});
