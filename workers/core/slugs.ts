/**
 * Organization slugs: lower-case ASCII letters, digits and inner hyphens, 1–48 characters. A slug
 * is unique (the `organizations_slug` index enforces it); one derived from a name that is already
 * taken gets a random suffix.
 */
export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;

/** Derived slugs stop here, leaving room for the `-xxxxxx` suffix within the 48-character limit. */
const DERIVED_MAX = 40;
const SUFFIX_LENGTH = 6;
const FALLBACK = "org";

// Crockford base32, lower-case (as ids use): no ambiguous characters.
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/**
 * "Café Crème, Ltd." -> "cafe-creme-ltd": compatibility-decomposed so accents come off as
 * combining marks, which are dropped; every other run of non-alphanumerics becomes one hyphen.
 */
export function deriveSlug(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, DERIVED_MAX)
    .replace(/-+$/, "");
  return slug === "" ? FALLBACK : slug;
}

/** The slug with `-` and six random base32 characters appended (still a valid slug). */
export function withRandomSuffix(slug: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SUFFIX_LENGTH));
  let suffix = "";
  for (const byte of bytes) suffix += ALPHABET[byte & 31];
  return `${slug.slice(0, DERIVED_MAX).replace(/-+$/, "")}-${suffix}`;
}
