import { z } from "zod";

/**
 * Email addresses are canonical before they are compared or stored: trimmed, Unicode NFC,
 * lower-cased. Every comparison in Roster goes through `canonicalEmail`.
 */
export function canonicalEmail(raw: string): string {
  return raw.trim().normalize("NFC").toLowerCase();
}

// One address, no display name, no lists: local@domain with a dotted domain. Deliberately
// stricter than RFC 5322 (no quoted local parts, no comments, no whitespace or control chars).
const ADDRESS =
  /^[^\s@",;<>()[\]\\\u0000-\u001f\u007f]{1,64}@[^\s@",;<>()[\]\\\u0000-\u001f\u007f]+\.[^\s@",;<>()[\]\\\u0000-\u001f\u007f.]{2,}$/u;

/** Validates one address and yields its canonical form. */
export const emailSchema = z
  .string()
  .max(320, "Email address longer than 254 characters")
  // Control characters (CR, LF, NUL, ...) are refused anywhere, before trimming could hide them.
  .refine((s) => !/[\u0000-\u001f\u007f]/u.test(s), "Email address contains control characters")
  .transform(canonicalEmail)
  .pipe(
    z
      .string()
      .max(254, "Email address longer than 254 characters")
      .regex(ADDRESS, "Invalid email address")
      .refine((s) => !s.includes(".."), "Invalid email address"),
  );

/** "jane@example.com" -> "j•••@example.com": enough to recognise, not to harvest. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  if (at <= 0) return "•••";
  return `${email.slice(0, 1)}•••${email.slice(at)}`;
}
