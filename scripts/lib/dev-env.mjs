// The local development environment shared by `npm start` and `npm run dev:user`: where the files
// are, how .dev.vars is read and written, and the development key pair.
import { createHash, createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DEV_VARS = join(ROOT, ".dev.vars");
export const DEV_VARS_EXAMPLE = join(ROOT, ".dev.vars.example");
/** The private half of CLERK_JWT_KEY. Git-ignored; only dev:user reads it, never the Worker. */
export const DEV_KEYS = join(ROOT, ".dev-keys.json");
export const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

/** A message for the person at the terminal: printed without a stack trace. */
export class DevError extends Error {}

// dotenv's line grammar, as wrangler parses .dev.vars: KEY=value, KEY="value", # comments; in
// double quotes \n and \r are escapes. Nothing else is: no $VAR expansion in .dev.vars.
const LINE =
  /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/gm;

export function parseDotenv(text) {
  const out = {};
  const lines = text.replace(/\r\n?/g, "\n");
  for (const match of lines.matchAll(LINE)) {
    let value = (match[2] ?? "").trim();
    const quote = value[0];
    value = value.replace(/^(['"`])([\s\S]*)\1$/gm, "$2");
    if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\r/g, "\r");
    out[match[1]] = value;
  }
  return out;
}

/**
 * A value as one double-quoted dotenv line: newlines become \n, which is how a PEM survives in
 * .dev.vars. Refuses what the grammar cannot carry (a double quote, or a literal "\n" that would
 * be read back as a newline) rather than writing a file that parses differently.
 */
export function dotenvQuote(value) {
  if (value.includes('"') || value.includes("\\")) {
    throw new DevError(`Cannot write ${JSON.stringify(value.slice(0, 20))}… to .dev.vars: it contains " or \\.`);
  }
  return `"${value.replace(/\r?\n/g, "\\n")}"`;
}

/** Replaces (or appends) KEY=… lines in a dotenv text, keeping comments and the other lines. */
export function setDotenvValues(text, values) {
  let out = text;
  for (const [key, value] of Object.entries(values)) {
    const line = `${key}=${dotenvQuote(value)}`;
    const pattern = new RegExp(`^${key}=.*$`, "m");
    out = pattern.test(out) ? out.replace(pattern, () => line) : `${out.replace(/\n?$/, "\n")}${line}\n`;
  }
  return out;
}

export function readDevVars() {
  if (!existsSync(DEV_VARS)) {
    throw new DevError(".dev.vars is missing. Run `npm start` once: it creates it with a development key pair.");
  }
  return parseDotenv(readFileSync(DEV_VARS, "utf8"));
}

export function readDevKeys() {
  if (!existsSync(DEV_KEYS)) {
    throw new DevError(
      ".dev-keys.json is missing, so no session token can be signed for this .dev.vars.\n" +
        "Move .dev.vars aside and run `npm start` again to create a matching pair.",
    );
  }
  const keys = JSON.parse(readFileSync(DEV_KEYS, "utf8"));
  if (typeof keys.privateKey !== "string" || typeof keys.publicKey !== "string") {
    throw new DevError(".dev-keys.json is not one `npm start` wrote (no privateKey/publicKey).");
  }
  return keys;
}

/** Whether two PEM public keys are the same key (whatever their line breaks). */
export function samePublicKey(a, b) {
  try {
    const der = (pem) => createPublicKey(pem).export({ type: "spki", format: "der" }).toString("base64");
    return der(a) === der(b);
  } catch {
    return false;
  }
}

/**
 * A fresh development identity: an RSA key pair (the public PEM is what Clerk's JWT public key
 * would be) and a Svix-style webhook secret, whsec_ + base64 of 24 random bytes.
 */
export function newDevIdentity() {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  return {
    publicKey: publicKey.trim(),
    privateKey: privateKey.trim(),
    webhookSecret: `whsec_${randomBytes(24).toString("base64")}`,
  };
}

/** Writes a file only the owner can read (keys and secrets). */
export function writePrivateFile(path, text, { overwrite }) {
  writeFileSync(path, text, { mode: 0o600, flag: overwrite ? "w" : "wx" });
}

/** A stable development user id for an address: the same email always gets the same user. */
export function devUserId(email) {
  return `user_dev_${createHash("sha256").update(email).digest("hex").slice(0, 20)}`;
}

/** Roster's canonical form (workers/core/email.ts): trimmed, NFC, lower-case. */
export function canonicalEmail(raw) {
  return raw.trim().normalize("NFC").toLowerCase();
}
