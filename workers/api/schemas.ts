import { z } from "zod";
import { ORG_ROLES, PROJECT_ROLES } from "../core/roles";

/**
 * Shared request pieces and response shapes (API.md's Shapes), declared once with zod. Routes
 * validate with them and /openapi.json is generated from them.
 */
export const orgRoleSchema = z.enum(ORG_ROLES);
export const projectRoleSchema = z.enum(PROJECT_ROLES);

/** An opaque id in a path: bounded, printable, no separators. Legacy ids keep their values. */
export const idSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, "Invalid id");

/** Names (organization, project): one line, 1–100 characters, no control characters. */
export const nameSchema = z
  .string()
  .refine((s) => !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u.test(s), "Names are one line without control characters")
  .transform((s) => s.trim().normalize("NFC"))
  .pipe(z.string().min(1, "Name is required").max(100, "Names are at most 100 characters"));

export const timestamp = z.string().describe("ISO 8601, UTC");

export const organizationSchema = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  createdAt: timestamp,
  role: orgRoleSchema,
  maxMembers: z.number().int().nullable(),
});

export const projectSchema = z.object({
  id: z.string(),
  organizationId: z.string(),
  name: z.string(),
  createdAt: timestamp,
  role: projectRoleSchema.nullable(),
});

export const memberSchema = z.object({
  userId: z.string(),
  email: z.string(),
  name: z.string().nullable(),
  role: orgRoleSchema,
  joinedAt: timestamp,
});

export const projectMemberSchema = z.object({
  userId: z.string(),
  email: z.string(),
  name: z.string().nullable(),
  role: projectRoleSchema,
  joinedAt: timestamp,
});

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), nextCursor: z.string().nullable() });
}
