import { z } from "zod";
import { pageQuerySchema } from "../../core/pagination";
import { admitUser } from "../../core/platform/admission";
import { listWaitlist, platformFigures } from "../../core/platform/figures";
import { assignOwner, listOwnerless } from "../../core/platform/ownerless";
import { defineRoute, json } from "../route";
import { idSchema, memberSchema, organizationSchema, pageOf, timestamp } from "../schemas";

/** Operators' view of the sign-up gate (API.md "Platform"): 404 to everyone else. */
export const platformRoutes = [
  defineRoute({
    method: "get",
    path: "/v1/platform",
    summary: "The sign-up gate's figures (operators only)",
    tag: "Platform",
    auth: true,
    operatorOnly: true,
    responses: {
      200: {
        description: "The mode, the cap and the counts.",
        schema: z.object({
          signupMode: z.enum(["open", "invite_only"]),
          cap: z.number().int().nullable(),
          active: z.number().int(),
          waitlisted: z.number().int(),
          pendingInvitations: z.number().int(),
        }),
      },
    },
    errors: ["NOT_FOUND"],
    handler: async ({ db, config, user, now }) => json(200, await platformFigures(db, config, user.id, now)),
  }),
  defineRoute({
    method: "get",
    path: "/v1/platform/waitlist",
    summary: "Waitlisted users, longest-waiting first (operators only)",
    tag: "Platform",
    auth: true,
    operatorOnly: true,
    query: pageQuerySchema,
    responses: {
      200: {
        description: "A page of waitlisted users.",
        schema: pageOf(
          z.object({
            userId: z.string(),
            email: z.string().nullable(),
            name: z.string().nullable(),
            createdAt: timestamp,
          }),
        ),
      },
    },
    errors: ["NOT_FOUND"],
    handler: async ({ db, config, user, query }) => json(200, await listWaitlist(db, config, user.id, query)),
  }),
  defineRoute({
    method: "post",
    path: "/v1/platform/waitlist/:userId/admit",
    summary: "Admit a waitlisted user, within the cap (operators only)",
    tag: "Platform",
    auth: true,
    operatorOnly: true,
    params: z.strictObject({ userId: idSchema }),
    responses: {
      200: { description: "Admitted.", schema: z.object({ userId: z.string(), access: z.literal("active") }) },
    },
    errors: ["NOT_FOUND", "SIGNUP_CAP_REACHED"],
    handler: async ({ db, config, user, params, now }) =>
      json(200, await admitUser(db, config, { operatorId: user.id, userId: params.userId, now })),
  }),
  defineRoute({
    method: "get",
    path: "/v1/platform/organizations",
    summary: "Organizations without an owner (operators only)",
    tag: "Platform",
    auth: true,
    operatorOnly: true,
    // Ownerless is the one listing operators need; the parameter names it (and may grow a false later).
    query: pageQuerySchema.extend({ ownerless: z.literal("true").default("true") }),
    responses: {
      200: {
        description: "A page of ownerless organizations, oldest first.",
        schema: pageOf(organizationSchema.extend({ role: z.null() })),
      },
    },
    errors: ["NOT_FOUND"],
    handler: async ({ db, config, user, query }) => json(200, await listOwnerless(db, config, user.id, query)),
  }),
  defineRoute({
    method: "post",
    path: "/v1/platform/organizations/:orgId/owner",
    summary: "Give an ownerless organization its owner (operators only)",
    tag: "Platform",
    auth: true,
    operatorOnly: true,
    params: z.strictObject({ orgId: idSchema }),
    body: z.strictObject({ userId: idSchema }),
    responses: { 200: { description: "The new owner.", schema: memberSchema } },
    errors: ["NOT_FOUND", "CONFLICT"],
    handler: async ({ db, config, user, params, body, now }) =>
      json(200, await assignOwner(db, config, { operatorId: user.id, orgId: params.orgId, userId: body.userId, now })),
  }),
];
