#!/usr/bin/env node
/**
 * `npm run mail`: a local mail catcher. Listens for SMTP on 127.0.0.1:2525 (MAIL_PORT to change)
 * and prints each message's recipient, subject and link, so you can watch invitations arrive
 * while `npm run dev` runs with, in .dev.vars:
 *
 *   EMAIL_PROVIDER="smtp"
 *   SMTP_HOST="127.0.0.1"
 *   SMTP_PORT="2525"
 *
 * `--verbose` also prints the plain-text body. Nothing is stored; Ctrl-C stops it.
 */
import { startMailSink } from "./mail-sink.mjs";

const port = Number(process.env.MAIL_PORT ?? 2525);
const verbose = process.argv.includes("--verbose");

let count = 0;
let sink;
try {
  sink = await startMailSink({
    host: "127.0.0.1",
    port,
    onMessage(message) {
      count += 1;
      const lines = [
        `\n✉  #${count}  ${message.receivedAt}`,
        `   To:      ${message.envelope.to.join(", ")}`,
        `   From:    ${message.from}`,
        `   Subject: ${message.subject}`,
        `   Link:    ${message.link ?? "(none)"}`,
      ];
      if (verbose && message.text) lines.push("", ...message.text.split(/\r?\n/).map((l) => `   | ${l}`));
      console.log(lines.join("\n"));
    },
  });
} catch (error) {
  console.error(`Could not listen on 127.0.0.1:${port}: ${error.message}. Set MAIL_PORT to use another port.`);
  process.exit(1);
}

console.log(`Mail catcher listening on smtp://127.0.0.1:${sink.port} — Ctrl-C to stop.`);
console.log(`In .dev.vars: EMAIL_PROVIDER="smtp" SMTP_HOST="127.0.0.1" SMTP_PORT="${sink.port}", then npm run dev.`);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await sink.close();
    process.exit(0);
  });
}
