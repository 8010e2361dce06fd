/** Invite tokens: 32 random bytes, base64url. Only their SHA-256 hash is ever stored. */
export function generateToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const encoder = new TextEncoder();

/**
 * SHA-256 as 64 lower-case hex digits, by the platform's WebCrypto. (A plain-JS SHA-256 profiled
 * faster on a 50-address invite, but moved none of the benchmark targets; hashing stays with the
 * platform's audited implementation. The hex conversion is a table lookup.)
 */
export async function sha256Hex(value: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(value)));
  let out = "";
  for (const byte of digest) out += HEX[byte];
  return out;
}

/** A raw token as issued: exactly 43 base64url characters (32 bytes, unpadded). */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
