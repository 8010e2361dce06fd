import { z } from "zod";
import { canonicalDomain } from "../../core/domain-names";
import { addDomain, ENROLLMENTS, listDomains, removeDomain, updateDomain } from "../../core/domains";
import { defineRoute, json, noContent } from "../route";
import { idSchema, timestamp } from "../schemas";

/** An organization's email domains: claim, list, change enrollment, remove. */
const enrollmentSchema = z.enum(ENROLLMENTS);

/** A domain in its canonical form (trimmed, lower-case, IDNA ASCII), or a 400. */
const domainSchema = z
  .string()
  .max(300)
  .transform((raw, ctx) => {
    const domain = canonicalDomain(raw);
    if (domain === null) {
      ctx.addIssue({ code: "custom", message: "Not a domain name (e.g. acme.com)" });
      return z.NEVER;
    }
    return domain;
  });

export const domainViewSchema = z.object({
  domain: z.string().describe("canonical: lower-case, IDNA ASCII"),
  enrollment: enrollmentSchema,
  verifiedBy: z.string().nullable().describe("the user who claimed it; null once deleted"),
  createdAt: timestamp,
});

const orgParams = z.strictObject({ orgId: idSchema });
const domainParams = z.strictObject({ orgId: idSchema, domain: domainSchema });

export const domainRoutes = [
  defineRoute({
    method: "post",
    path: "/v1/organizations/:orgId/domains",
    summary: "Claim an email domain (proven by a verified address of the caller at it)",
    tag: "Domains and join requests",
    auth: true,
    params: orgParams,
    body: z.strictObject({ domain: domainSchema, enrollment: enrollmentSchema.default("request") }),
    responses: {
      201: { description: "The domain, claimed.", schema: domainViewSchema },
      200: { description: "The organization already had it: unchanged.", schema: domainViewSchema },
    },
    errors: ["NOT_FOUND", "FORBIDDEN", "DOMAIN_NOT_ALLOWED", "DOMAIN_NOT_VERIFIED", "CONFLICT"],
    handler: async ({ db, user, params, body, now }) => {
      const { domain, created } = await addDomain(db, {
        orgId: params.orgId,
        userId: user.id,
        domain: body.domain,
        enrollment: body.enrollment,
        now,
      });
      return json(created ? 201 : 200, domain);
    },
  }),
  defineRoute({
    method: "get",
    path: "/v1/organizations/:orgId/domains",
    summary: "The organization's domains (not for guests)",
    tag: "Domains and join requests",
    auth: true,
    params: orgParams,
    responses: {
      200: { description: "Every domain, by name.", schema: z.object({ data: z.array(domainViewSchema) }) },
    },
    errors: ["NOT_FOUND", "FORBIDDEN"],
    handler: async ({ db, user, params }) =>
      json(200, { data: await listDomains(db, { orgId: params.orgId, userId: user.id }) }),
  }),
  defineRoute({
    method: "patch",
    path: "/v1/organizations/:orgId/domains/:domain",
    summary: "Change a domain's enrollment (request or auto)",
    tag: "Domains and join requests",
    auth: true,
    params: domainParams,
    body: z.strictObject({ enrollment: enrollmentSchema }),
    responses: { 200: { description: "The domain.", schema: domainViewSchema } },
    errors: ["NOT_FOUND", "FORBIDDEN"],
    handler: async ({ db, user, params, body, now }) =>
      json(
        200,
        await updateDomain(db, {
          orgId: params.orgId,
          userId: user.id,
          domain: params.domain,
          enrollment: body.enrollment,
          now,
        }),
      ),
  }),
  defineRoute({
    method: "delete",
    path: "/v1/organizations/:orgId/domains/:domain",
    summary: "Remove a domain",
    tag: "Domains and join requests",
    auth: true,
    params: domainParams,
    responses: { 204: { description: "Removed." } },
    errors: ["NOT_FOUND", "FORBIDDEN"],
    handler: async ({ db, user, params, now }) => {
      await removeDomain(db, { orgId: params.orgId, userId: user.id, domain: params.domain, now });
      return noContent();
    },
  }),
];
