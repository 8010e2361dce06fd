// Session tokens shaped like Clerk's, RS256-signed with a key pair made for this run: the Worker
// verifies them with the public PEM as CLERK_JWT_KEY, exactly as it verifies Clerk's.
import { generateKeyPairSync } from "node:crypto";
import { importPKCS8, SignJWT } from "jose";

export async function createSigner() {
  const keys = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const privateKey = await importPKCS8(keys.privateKey, "RS256");
  const cache = new Map();
  const issuedAt = Math.floor(Date.now() / 1000) - 5;

  /** Signs (once) the token of every user in `userIds`. */
  async function sign(userIds) {
    for (const userId of userIds) {
      if (cache.has(userId)) continue;
      const token = await new SignJWT({ sid: `sess_${userId}` })
        .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: "ins_bench" })
        .setSubject(userId)
        .setIssuer("https://clerk.roster.bench")
        .setIssuedAt(issuedAt)
        .setNotBefore(issuedAt)
        // Long enough for the longest run: a token expiring mid-run would turn into 401s.
        .setExpirationTime(issuedAt + 3 * 3600)
        .sign(privateKey);
      cache.set(userId, `Bearer ${token}`);
    }
  }

  function authorization(userId) {
    const value = cache.get(userId);
    if (value === undefined) throw new Error(`no token signed for ${userId}`);
    return value;
  }

  return { publicKeyPem: keys.publicKey, sign, authorization, count: () => cache.size };
}
