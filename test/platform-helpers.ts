import { env } from "cloudflare:workers";
import { seedUser } from "./helpers";

/** A seeded, synced user with the given access. */
export async function seedUserWith(access: "active" | "waitlisted"): Promise<{ id: string; email: string }> {
  const user = await seedUser();
  await env.DB.prepare("UPDATE admins SET access = ? WHERE id = ?").bind(access, user.id).run();
  return user;
}

export async function accessOf(userId: string): Promise<string | null> {
  return await env.DB.prepare("SELECT access FROM admins WHERE id = ?").bind(userId).first<string>("access");
}

export async function activeCount(): Promise<number> {
  return Number(await env.DB.prepare("SELECT count(*) AS n FROM admins WHERE access = 'active'").first("n"));
}
