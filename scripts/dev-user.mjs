#!/usr/bin/env node
// `npm run dev:user -- alice@example.com [--name "Alice"]`: a signed-in user for local work,
// without a Clerk account. It sends the running service the `user.created` webhook Clerk would
// send (Svix-signed with .dev.vars' secret), then prints a session token signed with the
// development private key (.dev-keys.json) and a few curl lines to try.
import { parseArgs } from "node:util";
import { importPKCS8, SignJWT } from "jose";
import { Webhook } from "svix";
import { canonicalEmail, DevError, devUserId, readDevKeys, readDevVars, samePublicKey } from "./lib/dev-env.mjs";

const USAGE = 'Usage: npm run dev:user -- <email> [--name "Full Name"]';
const TOKEN_HOURS = 24;

function parseCommandLine() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { name: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (positionals.length !== 1) throw new DevError(USAGE);
  const email = canonicalEmail(positionals[0]);
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))
    throw new DevError(`Not an email address: ${positionals[0]}\n${USAGE}`);
  const name = values.name?.trim() || null;
  return { email, name };
}

/** Clerk's user.created payload, with the fields Roster reads. */
function userCreatedEvent(userId, email, name, now) {
  const [firstName, ...rest] = name === null ? [null] : name.split(/\s+/);
  const addressId = `idn_dev_${userId.slice(-20)}`;
  return {
    object: "event",
    type: "user.created",
    timestamp: now,
    data: {
      id: userId,
      object: "user",
      first_name: firstName,
      last_name: rest.length > 0 ? rest.join(" ") : null,
      username: null,
      primary_email_address_id: addressId,
      email_addresses: [
        {
          id: addressId,
          object: "email_address",
          email_address: email,
          verification: { status: "verified", strategy: "email_code" },
          linked_to: [],
        },
      ],
      created_at: now,
      updated_at: now,
    },
  };
}

async function post(url, body, headers) {
  try {
    return await fetch(url, { method: "POST", body, headers: { "Content-Type": "application/json", ...headers } });
  } catch (error) {
    const cause = error.cause?.code ?? error.cause?.message ?? error.message;
    throw new DevError(
      `The service is not reachable at ${url} (${cause}).\n` +
        "Start it in another terminal with `npm start`, or set ROSTER_URL to where it runs.",
    );
  }
}

async function sendUserCreated(baseUrl, secret, event) {
  const payload = JSON.stringify(event);
  const msgId = `msg_dev_${crypto.randomUUID()}`;
  const now = new Date();
  const signature = new Webhook(secret).sign(msgId, now, payload);
  const response = await post(`${baseUrl}/webhooks/clerk`, payload, {
    "svix-id": msgId,
    "svix-timestamp": String(Math.floor(now.getTime() / 1000)),
    "svix-signature": signature,
  });
  const text = await response.text();
  if (response.status === 200) return;
  let problem = {};
  try {
    problem = JSON.parse(text);
  } catch {}
  if (problem.code === "WEBHOOK_SIGNATURE_INVALID") {
    throw new DevError(
      "The service rejected the webhook signature: it runs with another CLERK_WEBHOOK_SIGNING_SECRET than\n" +
        "this .dev.vars (edited since it started?). Restart `npm start` and try again.",
    );
  }
  if (response.status === 404) {
    throw new DevError(`${baseUrl} answered 404 for /webhooks/clerk: is ROSTER_URL pointing at Roster?`);
  }
  throw new DevError(`The webhook failed: HTTP ${response.status} ${text.slice(0, 500)}`);
}

/** A session token shaped like Clerk's: RS256, typ JWT, sub, sid, iat, nbf, exp. */
async function sessionToken(privateKeyPem, userId, authorizedParty) {
  const key = await importPKCS8(privateKeyPem, "RS256");
  const now = Math.floor(Date.now() / 1000);
  return await new SignJWT({
    sid: `sess_dev_${userId.slice(-20)}`,
    ...(authorizedParty ? { azp: authorizedParty } : {}),
  })
    .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: "ins_dev" })
    .setSubject(userId)
    .setIssuer("https://clerk.roster.dev")
    .setIssuedAt(now)
    .setNotBefore(now - 5)
    .setExpirationTime(now + TOKEN_HOURS * 3600)
    .sign(key);
}

async function main() {
  const { email, name } = parseCommandLine();
  const vars = readDevVars();
  const keys = readDevKeys();
  const secret = vars.CLERK_WEBHOOK_SIGNING_SECRET ?? "";
  if (!secret.startsWith("whsec_")) {
    throw new DevError(".dev.vars has no CLERK_WEBHOOK_SIGNING_SECRET (whsec_…): cannot sign the webhook.");
  }
  if (!samePublicKey(vars.CLERK_JWT_KEY ?? "", keys.publicKey)) {
    throw new DevError(
      "CLERK_JWT_KEY in .dev.vars is not the public half of .dev-keys.json (a real Clerk key?),\n" +
        "so a token signed here would be rejected. Restore the generated key, or sign in through Clerk.",
    );
  }
  const baseUrl = (process.env.ROSTER_URL ?? `http://localhost:${process.env.PORT ?? "8787"}`).replace(/\/+$/, "");
  const userId = devUserId(email);

  await sendUserCreated(baseUrl, secret, userCreatedEvent(userId, email, name, Date.now()));
  const authorizedParty = (vars.CLERK_AUTHORIZED_PARTIES ?? "").split(",")[0]?.trim() || null;
  const token = await sessionToken(keys.privateKey, userId, authorizedParty);

  // Prove the token works before handing it over.
  const me = await fetch(`${baseUrl}/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
  if (me.status !== 200) {
    throw new DevError(`The service refused the new token: HTTP ${me.status} ${(await me.text()).slice(0, 300)}`);
  }
  const { user } = await me.json();

  console.log(`User ${user.email} (${user.id}${user.name ? `, ${user.name}` : ""}) is signed in.`);
  console.log(`Session token, valid ${TOKEN_HOURS} h:\n`);
  console.log(`export TOKEN=${token}\n`);
  console.log("Try:");
  console.log(
    `  curl -s -X POST ${baseUrl}/v1/organizations -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"name":"Acme"}'`,
  );
  console.log(`  curl -s ${baseUrl}/v1/organizations -H "Authorization: Bearer $TOKEN"`);
  console.log(`  curl -s ${baseUrl}/v1/me -H "Authorization: Bearer $TOKEN"`);
}

main().catch((error) => {
  if (error instanceof DevError) {
    console.error(error.message);
    process.exit(1);
  }
  console.error(error);
  process.exit(1);
});
