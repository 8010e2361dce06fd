import { z } from "zod";
import { addExistingUser } from "../../core/invites/add-member";
import { changeMemberRole, listMembers, removeMember } from "../../core/memberships";
import { pageQuerySchema } from "../../core/pagination";
import { DEFAULT_ORG_ROLE } from "../../core/roles";
import { defineRoute, json, noContent } from "../route";
import { idSchema, memberSchema, orgRoleSchema, pageOf } from "../schemas";
import { inviteSchema } from "./invite-schemas";

const orgParams = z.strictObject({ orgId: idSchema });
const memberParams = z.strictObject({ orgId: idSchema, userId: idSchema });

export const memberRoutes = [
  defineRoute({
    method: "get",
    path: "/v1/organizations/:orgId/members",
    summary: "The organization's members (not for guests)",
    tag: "Organization members",
    auth: true,
    params: orgParams,
    query: pageQuerySchema,
    responses: { 200: { description: "A page of members, by join time.", schema: pageOf(memberSchema) } },
    errors: ["NOT_FOUND", "FORBIDDEN"],
    handler: async ({ db, user, params, query }) => json(200, await listMembers(db, params.orgId, user.id, query)),
  }),
  defineRoute({
    method: "post",
    path: "/v1/organizations/:orgId/members",
    summary: "Add an existing user by id, pending their consent (an invite with source owner_add)",
    tag: "Organization members",
    auth: true,
    params: orgParams,
    body: z.strictObject({ userId: idSchema, role: orgRoleSchema.default(DEFAULT_ORG_ROLE) }),
    responses: {
      201: {
        description: "The offer: a new invite, or the pending invite the user already had.",
        schema: z.object({ outcome: z.enum(["invited", "already_invited"]), invite: inviteSchema }),
      },
    },
    errors: [
      "NOT_FOUND",
      "FORBIDDEN",
      "ROLE_ABOVE_OWN",
      "ALREADY_MEMBER",
      "NO_VERIFIED_EMAIL",
      "RATE_LIMITED",
      "CONFLICT",
    ],
    handler: async ({ db, config, user, params, body, now }) =>
      json(
        201,
        await addExistingUser(db, {
          orgId: params.orgId,
          actorId: user.id,
          userId: body.userId,
          role: body.role,
          now,
          ttlDays: config.INVITE_TTL_DAYS,
          ratePerHour: config.RATE_LIMIT_INVITES_PER_HOUR,
        }),
      ),
  }),
  defineRoute({
    method: "patch",
    path: "/v1/organizations/:orgId/members/:userId",
    summary: "Change a member's role",
    tag: "Organization members",
    auth: true,
    params: memberParams,
    body: z.strictObject({ role: orgRoleSchema }),
    responses: { 200: { description: "The member.", schema: memberSchema } },
    errors: ["NOT_FOUND", "FORBIDDEN", "ROLE_ABOVE_OWN", "LAST_OWNER", "CONFLICT"],
    handler: async ({ db, user, params, body, now }) =>
      json(
        200,
        await changeMemberRole(db, {
          orgId: params.orgId,
          actorId: user.id,
          targetId: params.userId,
          role: body.role,
          now,
        }),
      ),
  }),
  defineRoute({
    method: "delete",
    path: "/v1/organizations/:orgId/members/:userId",
    summary: "Remove a member, or leave when userId is the caller (with the organization's projects)",
    tag: "Organization members",
    auth: true,
    params: memberParams,
    responses: { 204: { description: "Removed." } },
    errors: ["NOT_FOUND", "FORBIDDEN", "LAST_OWNER", "CONFLICT"],
    handler: async ({ db, user, params, now }) => {
      await removeMember(db, { orgId: params.orgId, actorId: user.id, targetId: params.userId, now });
      return noContent();
    },
  }),
];
