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
  inviteToken,
  launchBrowser,
  screenshot,
  sessionToken,
  sql,
  type TestUser,
  watch,
} from "./support";

/**
 * The accept page (`/invite#token=…`) in Chromium, against the real Worker: tokens come from the
 * invite emails the console provider printed, sign-in is the DEVELOPMENT sign-in (Clerk is not
 * configured in this suite).
 */
let browser: Browser;
let owner: TestUser;
let ada: TestUser;
let bob: TestUser;
let una: TestUser;
type Case = "happy" | "project" | "expired" | "revoked" | "mismatch" | "keyboard" | "decline" | "seats" | "unverified";
const orgs = {} as Record<Case, { id: string; name: string }>;
const tokens: Record<string, string> = {};
const invites: Record<string, { id: string }> = {};
const suffix = Math.random().toString(36).slice(2, 8);

beforeAll(async () => {
  browser = await launchBrowser();
  [owner, ada, bob, una] = await Promise.all([
    createUser("Olivia Owner"),
    createUser("Ada Lovelace"),
    createUser("Bob Builder"),
    createUser("Una Verified", { verified: false }),
  ]);
  for (const kind of [
    "happy",
    "project",
    "expired",
    "revoked",
    "mismatch",
    "keyboard",
    "decline",
    "seats",
    "unverified",
  ] as const) {
    orgs[kind] = await createOrg(owner, `${kind[0]?.toUpperCase()}${kind.slice(1)} Inc ${suffix}`);
  }
  const project = await createProject(owner, orgs.project.id, "Website");
  for (const kind of ["happy", "expired", "revoked", "mismatch", "keyboard", "decline", "seats"] as const) {
    invites[kind] = await invite(owner, { orgId: orgs[kind].id }, ada.email, kind === "happy" ? "manager" : undefined);
  }
  invites.project = await invite(owner, { projectId: project.id }, ada.email, "editor");
  invites.unverified = await invite(owner, { orgId: orgs.unverified.id }, una.email);
  for (const kind of Object.keys(orgs) as (keyof typeof orgs)[]) tokens[kind] = await inviteToken(orgs[kind].name);
});

afterAll(async () => {
  await browser?.close();
});

async function openInvite(kind: string): Promise<{ page: Page; seen: ReturnType<typeof watch> }> {
  const page = await browser.newPage();
  const seen = watch(page);
  await page.goto(`${API}/invite#token=${tokens[kind]}`);
  await page.locator("#details").waitFor({ state: "visible" });
  return { page, seen };
}

async function membership(user: TestUser, orgId: string): Promise<string | null> {
  const me = await api("GET", "/v1/me", { as: user.id });
  return me.body.organizations.find((o: { id: string }) => o.id === orgId)?.role ?? null;
}

describe("the accept page", () => {
  it("shows the invite, accepts it by token, and never puts the token in a URL it requests", async () => {
    const { page, seen } = await openInvite("happy");
    // The fragment is gone from the address bar as soon as the page has read it.
    expect(page.url()).toBe(`${API}/invite`);
    await expect.poll(() => page.locator("#d-org").textContent()).toBe(orgs.happy.name);
    expect(await page.locator("#d-inviter").textContent()).toBe("Olivia Owner");
    expect(await page.locator("#d-role").textContent()).toBe("Manager");
    expect(await page.locator("#d-email").textContent()).toMatch(/^a•+@example\.com$/);
    expect(await page.locator("#d-expires").textContent()).not.toBe("");
    expect(await page.locator("#actions").isVisible()).toBe(false);
    await screenshot(page, "accept-page-signed-out");

    await devSignIn(page, ada);
    await page.locator("#accept").waitFor({ state: "visible" });
    await screenshot(page, "accept-page-signed-in");
    await page.locator("#accept").click();
    await expect
      .poll(() => page.locator("#message").textContent())
      .toContain(`You are now a member of ${orgs.happy.name}.`);
    expect(await page.locator("#onward-link").getAttribute("href")).toBe(API);
    expect(await page.locator("#actions").isVisible()).toBe(false);
    await screenshot(page, "accept-page-accepted");

    expect(await membership(ada, orgs.happy.id)).toBe("manager");
    const token = tokens.happy as string;
    expect(seen.urls.filter((url) => url.includes(token))).toEqual([]);
    expect(seen.urls).toContain(`${API}/v1/invites/preview`);
    expect(seen.urls).toContain(`${API}/v1/invites/accept`);
    expect(seen.errors).toEqual([]);

    // The same link again: already accepted, said plainly, no buttons.
    const again = await openInvite("happy");
    await expect.poll(() => again.page.locator("#message").textContent()).toContain("already been accepted");
    expect(await again.page.locator("#actions").isVisible()).toBe(false);
    await page.close();
    await again.page.close();
  });

  it("accepts a project invite: the project and its organization are joined", async () => {
    const { page } = await openInvite("project");
    expect(await page.locator("#headline").textContent()).toBe(`Join Website in ${orgs.project.name}`);
    expect(await page.locator("#d-role").textContent()).toContain("Editor of the project");
    await devSignIn(page, ada);
    await page.locator("#accept").click();
    await expect
      .poll(() => page.locator("#message").textContent())
      .toContain(`You are now a member of the project Website in ${orgs.project.name}.`);
    const me = await api("GET", "/v1/me", { as: ada.id });
    expect(me.body.projects.map((p: { name: string; role: string }) => [p.name, p.role])).toContainEqual([
      "Website",
      "editor",
    ]);
    expect(await membership(ada, orgs.project.id)).toBe("member");
    await page.close();
  });

  it("an expired invite says so and asks for a new invite", async () => {
    await sql(`UPDATE invites SET expires_at = ${Date.now() - 60_000} WHERE id = '${invites.expired?.id}'`);
    const { page } = await openInvite("expired");
    await expect.poll(() => page.locator("#message").textContent()).toContain("This invite expired on");
    expect(await page.locator("#message").textContent()).toContain("Ask Olivia Owner to send you a new invite.");
    expect(await page.locator("#actions").isVisible()).toBe(false);
    expect(await page.locator("#message").getAttribute("class")).toContain("error");
    await screenshot(page, "accept-page-expired");
    expect(await membership(ada, orgs.expired.id)).toBeNull();
    await page.close();
  });

  it("a revoked invite says it was withdrawn", async () => {
    expect((await api("DELETE", `/v1/invites/${invites.revoked?.id}`, { as: owner.id })).status).toBe(204);
    const { page } = await openInvite("revoked");
    await expect
      .poll(() => page.locator("#message").textContent())
      .toContain(`This invite was withdrawn by ${orgs.revoked.name}.`);
    expect(await page.locator("#actions").isVisible()).toBe(false);
    await screenshot(page, "accept-page-revoked");
    await page.close();
  });

  it("signed in with another address: shows where the invite went and offers to switch account", async () => {
    const { page } = await openInvite("mismatch");
    await devSignIn(page, bob);
    await page.locator("#accept").click();
    const hint = (await page.locator("#d-email").textContent()) as string;
    await expect
      .poll(() => page.locator("#message").textContent())
      .toContain(`This invite was sent to ${hint}, but you are signed in as ${bob.email}.`);
    await screenshot(page, "accept-page-email-mismatch");
    expect(await membership(bob, orgs.mismatch.id)).toBeNull();

    // Switching account signs Bob out; Ada signs in and accepts the same invite.
    await page.getByRole("button", { name: "Switch account" }).click();
    await devSignIn(page, ada);
    await page.locator("#accept").click();
    await expect
      .poll(() => page.locator("#message").textContent())
      .toContain(`You are now a member of ${orgs.mismatch.name}.`);
    expect(await membership(ada, orgs.mismatch.id)).toBe("member");
    await page.close();
  });

  it("works with the keyboard alone: Tab to the token box, type, Enter, Tab to Accept, Enter", async () => {
    const { page } = await openInvite("keyboard");
    const focusedId = () => page.evaluate("document.activeElement && document.activeElement.id") as Promise<string>;
    async function tabTo(id: string) {
      for (let i = 0; i < 12 && (await focusedId()) !== id; i++) await page.keyboard.press("Tab");
      expect(await focusedId()).toBe(id);
    }
    await tabTo("dev-token");
    await page.keyboard.type(await sessionToken(ada.id));
    await page.keyboard.press("Enter");
    await page.locator("#accept").waitFor({ state: "visible" });
    await tabTo("accept");
    // The focused button shows a visible focus ring.
    expect(await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")).toBe("solid");
    await screenshot(page, "accept-page-keyboard-focus");
    await page.keyboard.press("Enter");
    await expect
      .poll(() => page.locator("#message").textContent())
      .toContain(`You are now a member of ${orgs.keyboard.name}.`);
    expect(await membership(ada, orgs.keyboard.id)).toBe("member");
    await page.close();
  });

  it("declines: the invite is declined and its link is then spent", async () => {
    const { page } = await openInvite("decline");
    await devSignIn(page, ada);
    await page.locator("#decline").click();
    await expect
      .poll(() => page.locator("#message").textContent())
      .toContain(`You declined the invitation to ${orgs.decline.name}.`);
    await screenshot(page, "accept-page-declined");
    expect(await membership(ada, orgs.decline.id)).toBeNull();
    const declined = await api("GET", `/v1/organizations/${orgs.decline.id}/invites?status=declined`, { as: owner.id });
    expect(declined.body.data.map((i: { id: string }) => i.id)).toEqual([invites.decline?.id]);
    const again = await openInvite("decline");
    await expect.poll(() => again.page.locator("#message").textContent()).toContain("This invite was declined");
    await page.close();
    await again.page.close();
  });

  it("a full organization says there is no free seat, and keeps the invite open", async () => {
    const limit = await api("PATCH", `/v1/organizations/${orgs.seats.id}`, { as: owner.id, body: { maxMembers: 1 } });
    expect(limit.status).toBe(200);
    const { page } = await openInvite("seats");
    await devSignIn(page, ada);
    await page.locator("#accept").click();
    await expect
      .poll(() => page.locator("#message").textContent())
      .toContain(`${orgs.seats.name} has no free seats right now. Ask Olivia Owner to free a seat or raise the limit`);
    expect(await page.locator("#accept").isVisible()).toBe(true);
    expect(await membership(ada, orgs.seats.id)).toBeNull();
    await page.close();
  });

  it("an address that is not verified yet is asked to verify it first", async () => {
    const { page } = await openInvite("unverified");
    await devSignIn(page, una);
    await page.locator("#accept").click();
    await expect
      .poll(() => page.locator("#message").textContent())
      .toMatch(/^Your address u•+@example\.com is not verified yet/);
    expect(await membership(una, orgs.unverified.id)).toBeNull();
    await page.close();
  });

  it("an unknown token is not found, without sign-in", async () => {
    const page = await browser.newPage();
    await page.goto(`${API}/invite#token=${"x".repeat(43)}`);
    await expect.poll(() => page.locator("#message").textContent()).toContain("This invite link is no longer valid.");
    expect(page.url()).toBe(`${API}/invite`);
    await page.close();
  });
});
