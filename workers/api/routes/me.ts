import { z } from "zod";
import { receivedInvites } from "../../core/invites/received";
import type { OrgRole, ProjectRole } from "../../core/roles";
import type { UserEmailRow } from "../../core/users";
import { type OrganizationRow, type ProjectRow, toOrganization, toProject } from "../../core/views";
import { defineRoute, json } from "../route";
import { organizationSchema, projectSchema } from "../schemas";
import { receivedInviteSchema } from "./invite-schemas";

const meSchema = z.object({
  user: z.object({
    id: z.string(),
    email: z.string().nullable(),
    name: z.string().nullable(),
    emails: z.array(z.object({ email: z.string(), verified: z.boolean() })),
  }),
  organizations: z.array(organizationSchema),
  projects: z.array(projectSchema),
});

export const meRoutes = [
  defineRoute({
    method: "get",
    path: "/v1/me",
    summary: "The caller, their addresses, organizations and projects",
    tag: "Me",
    auth: true,
    responses: { 200: { description: "The caller.", schema: meSchema } },
    // One round trip: the four reads go in one batch.
    handler: async ({ db, user }) => {
      const [userResult, emailResult, orgResult, projectResult] = await db.batch([
        db.prepare("SELECT name FROM admins WHERE id = ?").bind(user.id),
        db
          .prepare(
            "SELECT email, verified, is_primary FROM user_emails WHERE user_id = ? ORDER BY is_primary DESC, email",
          )
          .bind(user.id),
        db
          .prepare(
            `SELECT o.id, o.name, o.slug, o.created_at, o.max_members, ou.role
             FROM organization_users ou JOIN organizations o ON o.id = ou.organization_id
             WHERE ou.user_id = ? ORDER BY ou.created_at, o.id`,
          )
          .bind(user.id),
        db
          .prepare(
            `SELECT p.id, p.organization_id, p.name, p.created_at, pa.role
             FROM project_admins pa JOIN projects p ON p.id = pa.project_id
             WHERE pa.admin_id = ? ORDER BY pa.created_at, p.id`,
          )
          .bind(user.id),
      ]);
      const row = (userResult?.results[0] ?? null) as { name: string | null } | null;
      const emails = (emailResult?.results ?? []) as UserEmailRow[];
      const primary = emails.find((e) => e.is_primary === 1) ?? emails[0];
      return json(200, {
        user: {
          id: user.id,
          // The caller's own primary address, verified or not (`emails` says which): for a legacy
          // user Clerk has not synced yet, their legacy address, the only one user_emails has for
          // them; null for a user known only from their token (no addresses yet). Others see
          // only verified addresses (users.ts displayEmailSql).
          email: primary?.email ?? null,
          name: row?.name ?? null,
          emails: emails.map((e) => ({ email: e.email, verified: e.verified === 1 })),
        },
        organizations: ((orgResult?.results ?? []) as (OrganizationRow & { role: OrgRole })[]).map((o) =>
          toOrganization(o, o.role),
        ),
        projects: ((projectResult?.results ?? []) as (ProjectRow & { role: ProjectRole })[]).map((p) =>
          toProject(p, p.role),
        ),
      });
    },
  }),
  defineRoute({
    method: "get",
    path: "/v1/me/invites",
    summary: "Pending invites addressed to any verified address of the caller (the sign-in banner)",
    tag: "Me",
    auth: true,
    responses: {
      200: { description: "The caller's pending invites.", schema: z.object({ data: z.array(receivedInviteSchema) }) },
    },
    handler: async ({ db, now, user }) => json(200, { data: await receivedInvites(db, { userId: user.id, now }) }),
  }),
];
