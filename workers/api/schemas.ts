import { z } from "zod";
import { ORG_ROLES, PROJECT_ROLES } from "../core/roles";

/**
 * Shared request pieces and response shapes (API.md's Shapes), declared once with zod. Routes
 * validate with them and /openapi.json is generated from them.
 */
export const orgRoleSchema = z.enum(ORG_ROLES);
export const projectRoleSchema = z.enum(PROJECT_ROLES);

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/u;

/**
 * An opaque id in a path (API.md): any id a row can have, 1–255 characters without control
 * characters, so legacy ids such as `acme corp` stay reachable. The router matches the encoded
 * path, so the segment is percent-decoded here; a malformed escape is a validation failure.
 * Path parameters only: a body id is not encoded.
 */
export const idSchema = z
  .string()
  .min(1)
  .describe("Opaque id, percent-encoded: 1–255 characters, no control characters")
  .transform((segment, ctx) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      ctx.addIssue({ code: "custom", message: "Malformed percent-encoding" });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .string()
      .refine((id) => {
        const length = [...id].length;
        return length >= 1 && length <= 255;
      }, "Ids are 1–255 characters")
      .refine((id) => !CONTROL_CHARACTERS.test(id), "Ids have no control characters"),
  );

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

/** The primary verified address; a legacy user's legacy address until Clerk syncs them; else null. */
const memberEmail = z.string().nullable().describe("The primary verified address, else null");

export const memberSchema = z.object({
  userId: z.string(),
  email: memberEmail,
  name: z.string().nullable(),
  role: orgRoleSchema,
  joinedAt: timestamp,
});

export const projectMemberSchema = z.object({
  userId: z.string(),
  email: memberEmail,
  name: z.string().nullable(),
  role: projectRoleSchema,
  joinedAt: timestamp,
});

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), nextCursor: z.string().nullable() });
}
