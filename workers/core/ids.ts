/** Prefixed, random, opaque ids from a closed map of types. */
const PREFIXES = {
  organization: "org",
  project: "prj",
  invite: "inv",
  joinRequest: "jrq",
  auditEvent: "evt",
} as const;

export type IdKind = keyof typeof PREFIXES;

// Crockford base32, lower-case: no ambiguous characters, URL-safe.
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** 16 random bytes (128 bits) as 26 base32 characters behind the type prefix. */
export function newId(kind: IdKind): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return `${PREFIXES[kind]}_${out}`;
}
