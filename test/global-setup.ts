import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";
import { startMailSink } from "../scripts/mail-sink.mjs";
import { startClerkBackend } from "./clerk-backend-stand-in";
import { startEventsReceiver } from "./events-receiver";

/**
 * Runs in Node before the workerd tests: a real SMTP server (the same sink as `npm run mail`, with
 * scripted faults) that the Worker reaches over `cloudflare:sockets`, a tiny HTTP endpoint on
 * which the tests read what it received (`GET /messages?to=<address>`), and the stand-in Clerk
 * Backend API (test/clerk-backend-stand-in.ts).
 */
export default async function setup(project: TestProject) {
  const sink = await startMailSink({ host: "127.0.0.1", port: 0, faults: true });
  const control = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method !== "GET" || url.pathname !== "/messages") {
      res.writeHead(404).end();
      return;
    }
    const to = url.searchParams.get("to")?.toLowerCase();
    const found = sink.messages.filter((m) => to === undefined || m.envelope.to.some((a) => a.toLowerCase() === to));
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(found));
  });
  await new Promise<void>((resolve) => control.listen(0, "127.0.0.1", resolve));

  // Clerk's Backend API, played by a stand-in that checks the secret key and the bodies it receives.
  const clerkSecretKey = `sk_test_${randomBytes(18).toString("hex")}`;
  const clerk = await startClerkBackend(clerkSecretKey);

  project.provide("clerkApiUrl", clerk.url);
  project.provide("clerkSecretKey", clerkSecretKey);
  // A product's webhook receiver for the outbound events (test/events-receiver.ts).
  const receiver = await startEventsReceiver();
  project.provide("eventsReceiverUrl", receiver.url);

  project.provide("smtpPort", sink.port);
  project.provide("mailSinkUrl", `http://127.0.0.1:${(control.address() as AddressInfo).port}`);

  return async () => {
    await receiver.close();
    await new Promise<void>((resolve) => control.close(() => resolve()));
    await sink.close();
    await clerk.close();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    /** Port of the SMTP sink on 127.0.0.1. */
    smtpPort: number;
    /** Base URL of the sink's HTTP endpoint: GET /messages?to=<address>. */
    mailSinkUrl: string;
    /** Base URL of the stand-in Clerk Backend API (test/clerk-backend-stand-in.ts). */
    clerkApiUrl: string;
    /** The secret key it accepts. */
    clerkSecretKey: string;
    /** Base URL of the events receiver: POST /hook/<name>[?fail=N|always], GET /received?name=<name>. */
    eventsReceiverUrl: string;
  }
}
