import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API,
  api,
  createOrg,
  createProject,
  createUser,
  devSignIn,
  invite,
  launchBrowser,
  screenshot,
  type TestUser,
  watch,
} from "./support";

/**
 * `<roster-invites>` in Chromium, hosted by the development /demo page (same origin as the API;
 * cross-origin use is in cross-origin.test.ts). No invite token is involved: the banner works on
 * the signed-in user's own invites by id.
 */
let browser: Browser;
let owner: TestUser;
const suffix = Math.random().toString(36).slice(2, 8);

beforeAll(async () => {
  browser = await launchBrowser();
  owner = await createUser("Olivia Owner");
});

afterAll(async () => {
  await browser?.close();
});

/** Records the banner's events in the page, to read back with `events(page)`. */
async function recordEvents(page: Page): Promise<void> {
  await page.evaluate(`
    window.rosterEvents = [];
    for (const type of ["roster:accepted", "roster:declined", "roster:error"]) {
      document.addEventListener(type, (event) => window.rosterEvents.push({ type, detail: event.detail }));
    }
  `);
}

async function events(page: Page): Promise<{ type: string; detail: any }[]> {
  return (await page.evaluate("window.rosterEvents")) as { type: string; detail: any }[];
}

async function openDemo(user: TestUser): Promise<{ page: Page; seen: ReturnType<typeof watch> }> {
  const page = await browser.newPage();
  const seen = watch(page);
  await page.goto(`${API}/demo`);
  await recordEvents(page);
  // Signing in makes the banner load the user's invites.
  const loaded = invitesLoaded(page);
  await devSignIn(page, user);
  await loaded;
  return { page, seen };
}

/** The banner's two loads: its invites and its suggestions (it renders once both have answered). */
function invitesLoaded(page: Page) {
  return Promise.all(
    ["/v1/me/invites", "/v1/me/suggestions"].map((path) =>
      page.waitForResponse((r) => r.url() === `${API}${path}` && r.status() === 200),
    ),
  );
}

/**
 * Once the invitee joins, /demo's `<roster-organization>` panel (beside the banner) opens that
 * organization and asks for its join requests and domains, which a Roster without those
 * endpoints answers with 404: not a fault of the banner.
 */
const PANEL_PROBE = /status of 404 .*\/v1\/organizations\/[^/]+\/(join-requests|domains)\b/;

const items = (page: Page) => page.locator("roster-invites li");
const liveRegion = (page: Page) => page.locator("roster-invites [aria-live=polite]");

describe("<roster-invites>", () => {
  it("lists two pending invites; accepting one joins it, declining the other removes it", async () => {
    const invitee = await createUser("Grace Hopper");
    const northwind = await createOrg(owner, `Northwind ${suffix}`);
    const globex = await createOrg(owner, `Globex ${suffix}`);
    const website = await createProject(owner, globex.id, "Website");
    const orgInvite = await invite(owner, { orgId: northwind.id }, invitee.email, "manager");
    const projectInvite = await invite(owner, { projectId: website.id }, invitee.email, "editor");

    const { page, seen } = await openDemo(invitee);
    await expect.poll(() => items(page).count()).toBe(2);
    expect(await page.locator("roster-invites .title").textContent()).toBe("You have 2 pending invitations");
    const first = items(page).filter({ hasText: northwind.name });
    expect(await first.textContent()).toContain("Role: Manager · Invited by Olivia Owner · Expires");
    const second = items(page).filter({ hasText: globex.name });
    expect(await second.textContent()).toContain("project Website");
    expect(await second.textContent()).toContain("Role: Editor");
    await screenshot(page, "banner-two-invites");

    await page.getByRole("button", { name: `Accept the invitation to ${northwind.name}` }).click();
    await expect.poll(() => items(page).count()).toBe(1);
    await expect.poll(() => liveRegion(page).textContent()).toBe(`You joined ${northwind.name} as Manager.`);
    const accepted = (await events(page)).filter((e) => e.type === "roster:accepted");
    expect(accepted).toHaveLength(1);
    expect(accepted[0]?.detail.invite.id).toBe(orgInvite.id);
    expect(accepted[0]?.detail.organization).toMatchObject({ id: northwind.id, role: "manager" });
    const me = await api("GET", "/v1/me", { as: invitee.id });
    expect(me.body.organizations.map((o: { id: string; role: string }) => [o.id, o.role])).toContainEqual([
      northwind.id,
      "manager",
    ]);
    await screenshot(page, "banner-after-accept");

    await page.getByRole("button", { name: `Decline the invitation to ${globex.name} / Website` }).click();
    await expect.poll(() => items(page).count()).toBe(0);
    await expect
      .poll(() => liveRegion(page).textContent())
      .toBe(`You declined the invitation to ${globex.name} / Website.`);
    const declined = (await events(page)).filter((e) => e.type === "roster:declined");
    expect(declined.map((e) => e.detail.invite.id)).toEqual([projectInvite.id]);
    expect((await api("GET", "/v1/me/invites", { as: invitee.id })).body.data).toEqual([]);
    const after = await api("GET", "/v1/me", { as: invitee.id });
    expect(after.body.organizations.map((o: { id: string }) => o.id)).not.toContain(globex.id);
    expect(after.body.projects).toEqual([]);
    expect(
      (await api("GET", `/v1/organizations/${globex.id}/invites?status=declined`, { as: owner.id })).body.data,
    ).toEqual([expect.objectContaining({ id: projectInvite.id, status: "declined" })]);
    await screenshot(page, "banner-after-decline");
    expect(seen.errors.filter((e) => !PANEL_PROBE.test(e))).toEqual([]);
    await page.close();
  });

  it("renders nothing when there is no pending invite", async () => {
    const nobody = await createUser("Nobody Invited");
    const { page } = await openDemo(nobody);
    expect(await page.locator("roster-invites section").count()).toBe(0);
    expect(await page.locator("roster-invites").boundingBox()).toMatchObject({ height: 0 });
    await page.close();
  });

  it("works with the keyboard alone, with a visible focus ring", async () => {
    const invitee = await createUser("Katherine Johnson");
    const org = await createOrg(owner, `Keyboard Banner ${suffix}`);
    await invite(owner, { orgId: org.id }, invitee.email);
    const { page } = await openDemo(invitee);
    await expect.poll(() => items(page).count()).toBe(1);
    // Start from the top of the document, as a keyboard user arriving on the page.
    await page.evaluate("document.activeElement && document.activeElement.blur()");
    const focusedLabel = () =>
      page.evaluate(
        "(() => { const a = document.activeElement; const inner = a && a.shadowRoot ? a.shadowRoot.activeElement : null; return inner ? inner.getAttribute('aria-label') || inner.textContent : null; })()",
      ) as Promise<string | null>;
    for (let i = 0; i < 6 && (await focusedLabel()) !== `Accept the invitation to ${org.name}`; i++) {
      await page.keyboard.press("Tab");
    }
    expect(await focusedLabel()).toBe(`Accept the invitation to ${org.name}`);
    expect(
      await page.evaluate(
        "getComputedStyle(document.querySelector('roster-invites').shadowRoot.activeElement).outlineStyle",
      ),
    ).toBe("solid");
    await screenshot(page, "banner-keyboard-focus");
    await page.keyboard.press("Enter");
    await expect.poll(() => liveRegion(page).textContent()).toBe(`You joined ${org.name} as Member.`);
    const me = await api("GET", "/v1/me", { as: invitee.id });
    expect(me.body.organizations.map((o: { id: string }) => o.id)).toContain(org.id);
    // Focus stays inside the banner (on Dismiss, the last invite being gone), not lost to <body>.
    expect(await focusedLabel()).toBe("Dismiss invitations");
    await page.close();
  });

  it("is dismissible for the browser session", async () => {
    const invitee = await createUser("Dorothy Vaughan");
    const org = await createOrg(owner, `Dismiss ${suffix}`);
    await invite(owner, { orgId: org.id }, invitee.email);
    const { page } = await openDemo(invitee);
    await expect.poll(() => items(page).count()).toBe(1);
    await page.getByRole("button", { name: "Dismiss invitations" }).click();
    await expect.poll(() => page.locator("roster-invites section").count()).toBe(0);
    // Still dismissed after a reload in the same tab (sessionStorage)...
    const reloaded = invitesLoaded(page);
    await page.reload();
    await reloaded;
    expect(await page.locator("roster-invites section").count()).toBe(0);
    // ...but a new browser session shows the invite again.
    const fresh = await openDemo(invitee);
    await expect.poll(() => items(fresh.page).count()).toBe(1);
    // The invite itself is untouched.
    expect((await api("GET", "/v1/me/invites", { as: invitee.id })).body.data).toHaveLength(1);
    await page.close();
    await fresh.page.close();
  });
});
