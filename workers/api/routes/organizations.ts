import { z } from "zod";
import {
  createOrganization,
  deleteOrganization,
  getOrganization,
  listOrganizations,
  updateOrganization,
} from "../../core/organizations";
import { pageQuerySchema } from "../../core/pagination";
import { createWindow } from "../../core/rate-limit";
import { SLUG_PATTERN } from "../../core/slugs";
import { defineRoute, json, noContent } from "../route";
import { idSchema, nameSchema, organizationSchema, pageOf } from "../schemas";

const orgParams = z.strictObject({ orgId: idSchema });

const slugSchema = z
  .string()
  .regex(SLUG_PATTERN, "Slugs are 1–48 lower-case letters, digits and inner hyphens")
  .describe("Unique; derived from the name when absent");

const createBody = z.strictObject({ name: nameSchema, slug: slugSchema.optional() });

const updateBody = z
  .strictObject({
    name: nameSchema.optional(),
    maxMembers: z.number().int().positive().max(100_000).nullable().optional().describe("Seat limit; null lifts it"),
  })
  .refine((body) => body.name !== undefined || body.maxMembers !== undefined, {
    message: "Send at least one of name, maxMembers",
  });

export const organizationRoutes = [
  defineRoute({
    method: "post",
    path: "/v1/organizations",
    summary: "Create an organization (the caller becomes its owner)",
    tag: "Organizations",
    auth: true,
    body: createBody,
    responses: { 201: { description: "The new organization.", schema: organizationSchema } },
    errors: ["SLUG_TAKEN", "RATE_LIMITED", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"],
    handler: async ({ db, config, user, body, now }) =>
      json(
        201,
        await createOrganization(db, {
          userId: user.id,
          name: body.name,
          slug: body.slug,
          now,
          rate: createWindow(user.id, config.RATE_LIMIT_CREATES_PER_HOUR, now),
        }),
      ),
  }),
  defineRoute({
    method: "get",
    path: "/v1/organizations",
    summary: "The caller's organizations",
    tag: "Organizations",
    auth: true,
    query: pageQuerySchema,
    responses: { 200: { description: "A page of organizations.", schema: pageOf(organizationSchema) } },
    handler: async ({ db, user, query }) => json(200, await listOrganizations(db, user.id, query)),
  }),
  defineRoute({
    method: "get",
    path: "/v1/organizations/:orgId",
    summary: "One organization (members only)",
    tag: "Organizations",
    auth: true,
    params: orgParams,
    responses: { 200: { description: "The organization.", schema: organizationSchema } },
    errors: ["NOT_FOUND"],
    handler: async ({ db, user, params }) => json(200, await getOrganization(db, params.orgId, user.id)),
  }),
  defineRoute({
    method: "patch",
    path: "/v1/organizations/:orgId",
    summary: "Rename an organization or set its seat limit (org:update)",
    tag: "Organizations",
    auth: true,
    params: orgParams,
    body: updateBody,
    responses: { 200: { description: "The organization.", schema: organizationSchema } },
    errors: ["NOT_FOUND", "FORBIDDEN", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"],
    handler: async ({ db, user, params, body, now }) =>
      json(
        200,
        await updateOrganization(db, {
          orgId: params.orgId,
          actorId: user.id,
          name: body.name,
          maxMembers: body.maxMembers,
          now,
        }),
      ),
  }),
  defineRoute({
    method: "delete",
    path: "/v1/organizations/:orgId",
    summary: "Delete an organization, its projects, memberships and invites (owners only)",
    tag: "Organizations",
    auth: true,
    params: orgParams,
    responses: { 204: { description: "Deleted." } },
    errors: ["NOT_FOUND", "FORBIDDEN"],
    handler: async ({ db, user, params, now }) => {
      await deleteOrganization(db, params.orgId, user.id, now);
      return noContent();
    },
  }),
];
