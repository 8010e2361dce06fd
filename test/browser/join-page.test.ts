import { readFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  API,
  api,
  createOrg,
  createUser,
  devSignIn,
  invite,
  launchBrowser,
  screenshot,
  sql,
  type TestUser,
  watch,
} from "./support";

/**
 * The /join page (platform invitations) in Chromium against the real Worker: invitations are sent
 * through the API, tokens come from the emails the console provider printed, sign-in is the
 * development sign-in. The server runs with SIGNUP_CAP=3000 and PRODUCT_NAME="Acme Beta".
 */
let browser: Browser;
let grace: TestUser;
let ada: TestUser;
let bob: TestUser;

beforeAll(async () => {
  browser = await launchBrowser();
  [grace, ada, bob] = await Promise.all([
    createUser("Grace Hopper"),
    createUser("Ada Lovelace"),
    createUser("Bob Builder"),
  ]);
});

afterAll(async () => {
  await browser?.close();
});

/** Sends a platform invitation as Grace; returns its id and the raw token from the printed email. */
async function invitation(email: string): Promise<{ id: string; token: string }> {
  const res = await api("POST", "/v1/platform/invitations", { as: grace.id, body: { emails: [email] } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const id = res.body.results[0].invitation.id as string;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const log = readFileSync(inject("logFile"), "utf8");
    for (const match of log.matchAll(/\/join#token=([A-Za-z0-9_-]{43})/g)) {
      const preview = await api("POST", "/v1/platform/invitations/preview", { body: { token: match[1] } });
      if (preview.body?.id === id) return { id, token: match[1] as string };
    }
    if (Date.now() > deadline) throw new Error(`no platform invitation email for ${id}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function waitlist(user: TestUser): Promise<void> {
  await sql(`UPDATE admins SET access = 'waitlisted' WHERE id = '${user.id}'`);
}

async function openJoin(token: string): Promise<{ page: Page; seen: ReturnType<typeof watch> }> {
  const page = await browser.newPage();
  const seen = watch(page);
  await page.goto(`${API}/join#token=${token}`);
  await page.locator("#details").waitFor({ state: "visible" });
  return { page, seen };
}

async function access(user: TestUser): Promise<string> {
  return (await api("GET", "/v1/me", { as: user.id })).body.user.access;
}

describe("the /join page", () => {
  it("previews, signs in, accepts: a waitlisted user is admitted and referred by the inviter", async () => {
    await waitlist(ada);
    const { token } = await invitation(ada.email);
    const { page, seen } = await openJoin(token);
    expect(page.url()).toBe(`${API}/join`);
    await expect.poll(() => page.locator("#headline").textContent()).toBe("Join Acme Beta");
    expect(await page.locator("#d-inviter").textContent()).toBe("Grace Hopper");
    expect(await page.locator("#d-email").textContent()).toMatch(/^a•+@example\.com$/);
    await screenshot(page, "join-page-signed-out");
    await devSignIn(page, ada);
    await page.locator("#accept").waitFor({ state: "visible" });
    await page.locator("#accept").click();
    await expect.poll(() => page.locator("#message").textContent()).toContain("Welcome to Acme Beta!");
    await screenshot(page, "join-page-accepted");
    expect(await access(ada)).toBe("active");
    expect((await api("GET", "/v1/me", { as: ada.id })).body.user.referredBy).toBe(grace.id);
    expect(seen.urls.filter((url) => url.includes(token))).toEqual([]);
    expect(seen.errors).toEqual([]);
    await page.close();
  });

  it("an expired invitation says when it expired and offers no button", async () => {
    const email = `late.${Date.now()}@example.com`;
    const { id, token } = await invitation(email);
    await sql(`UPDATE platform_invitations SET expires_at = 1000 WHERE id = '${id}'`);
    const { page } = await openJoin(token);
    await expect.poll(() => page.locator("#message").textContent()).toContain("This invitation expired on");
    expect(await page.locator("#actions").isVisible()).toBe(false);
    await page.close();
  });

  it("the wrong account is told which address the invitation is for", async () => {
    const { token } = await invitation(`someone.${Date.now()}@example.com`);
    const { page } = await openJoin(token);
    await devSignIn(page, bob);
    await page.locator("#accept").click();
    await expect.poll(() => page.locator("#message").textContent()).toContain("This invitation was sent to s");
    expect(await page.locator("#switch-account").isVisible()).toBe(true);
    await page.close();
  });

  it("a full beta says so, and the user stays on the waitlist", async () => {
    const carol = await createUser("Carol Waiting");
    await waitlist(carol);
    const { token } = await invitation(carol.email);
    // Fill the cap (3000) with placeholder active users, removed afterwards.
    await sql(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
       INSERT INTO admins (id, email, role, created_at, updated_at, access)
       SELECT 'filler_' || i, 'filler_' || i || '@users.invalid', 'member', 0, 0, 'active' FROM n WHERE true
       ON CONFLICT DO NOTHING`,
    );
    try {
      const { page } = await openJoin(token);
      await devSignIn(page, carol);
      await page.locator("#accept").click();
      await expect.poll(() => page.locator("#message").textContent()).toContain("Acme Beta is full for now");
      await screenshot(page, "join-page-full");
      expect(await access(carol)).toBe("waitlisted");
      await page.close();
    } finally {
      await sql("DELETE FROM admins WHERE id LIKE 'filler\\_%' ESCAPE '\\'");
    }
  });

  it("<roster-invites> tells a waitlisted user they are on the waitlist; accepting an invite lets them in", async () => {
    const dana = await createUser("Dana Waiting");
    await waitlist(dana);
    const org = await createOrg(grace, `Waitlist Co ${Date.now()}`);
    await invite(grace, { orgId: org.id }, dana.email);
    const page = await browser.newPage();
    await page.goto(`${API}/demo`);
    const loaded = page.waitForResponse((r) => r.url() === `${API}/v1/me/invites` && r.status() === 200);
    await devSignIn(page, dana);
    await loaded;
    const line = page.locator("roster-invites .waitlist");
    await expect.poll(() => line.textContent()).toContain("You are on the waitlist");
    await screenshot(page, "banner-waitlisted");
    await page.locator("roster-invites button.accept").click();
    await expect.poll(() => line.count()).toBe(0);
    expect(await access(dana)).toBe("active");
    await page.close();
  });
});
