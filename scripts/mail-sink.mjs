/**
 * A local SMTP sink: accepts every message on 127.0.0.1 and keeps it, parsed (subject, text and
 * HTML parts, the first link). Shared by `npm run mail` (scripts/mail.mjs) and the email tests
 * (test/global-setup.ts), so the tests exercise the same catcher a newcomer watches.
 *
 * With `faults: true` the recipient's local part scripts a failure, for the fault tests:
 *   reject-…    550 at RCPT TO, every time (a permanent failure)
 *   tempfail-…  451 at RCPT TO, every time (a transient failure)
 *   flaky-…     451 at RCPT TO the first time this exact address is tried, accepted afterwards
 */
import { SMTPServer } from "smtp-server";

export async function startMailSink({ host = "127.0.0.1", port = 0, faults = false, onMessage } = {}) {
  const messages = [];
  const tries = new Map();
  const server = new SMTPServer({
    // A catcher on the loopback interface: no authentication, no TLS (worker-mailer upgrades
    // opportunistically when STARTTLS is offered, and the sink has no certificate worth trusting).
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    logger: false,
    size: 5 * 1024 * 1024,
    onRcptTo(address, _session, callback) {
      const fault = faults ? scriptedFault(address.address, tries) : null;
      callback(fault);
    },
    onData(stream, session, callback) {
      const chunks = [];
      stream.on("data", (chunk) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("latin1");
        const message = {
          envelope: {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
            to: session.envelope.rcptTo.map((r) => r.address),
          },
          receivedAt: new Date().toISOString(),
          ...parseMessage(raw),
          raw,
        };
        messages.push(message);
        onMessage?.(message);
        callback(null);
      });
    },
  });
  await new Promise((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(port, host, () => resolve(undefined));
  });
  return {
    port: server.server.address().port,
    messages,
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}

function scriptedFault(address, tries) {
  const local = address.slice(0, address.lastIndexOf("@")).toLowerCase();
  const seen = tries.get(address) ?? 0;
  tries.set(address, seen + 1);
  if (local.startsWith("drop-")) return smtpError(421, "4.4.2 Closing connection");
  if (local.startsWith("reject-")) return smtpError(550, "5.1.1 Mailbox unavailable");
  if (local.startsWith("tempfail-")) return smtpError(451, "4.3.0 Try again later");
  if (local.startsWith("flaky-") && seen === 0) return smtpError(451, "4.3.0 Try again later");
  return null;
}

function smtpError(code, text) {
  const error = new Error(text);
  error.responseCode = code;
  return error;
}

/** Parses a MIME message far enough for a catcher: headers, the text and HTML parts, the link. */
export function parseMessage(raw) {
  const top = parseEntity(raw);
  const parts = flatten(top);
  const text = parts.find((p) => p.type === "text/plain")?.body ?? null;
  const html = parts.find((p) => p.type === "text/html")?.body ?? null;
  const link = (text ?? html ?? "").match(/https?:\/\/[^\s<>"']+/)?.[0] ?? null;
  return {
    headers: top.headers,
    subject: decodeWords(header(top.headers, "subject") ?? ""),
    from: decodeWords(header(top.headers, "from") ?? ""),
    to: decodeWords(header(top.headers, "to") ?? ""),
    messageId: header(top.headers, "message-id"),
    text,
    html,
    link,
  };
}

function header(headers, name) {
  return headers.find(([n]) => n.toLowerCase() === name)?.[1] ?? null;
}

function parseEntity(raw) {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split === -1 ? raw : raw.slice(0, split);
  const body = split === -1 ? "" : raw.slice(split).replace(/^\r?\n\r?\n/, "");
  const headers = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length > 0) headers[headers.length - 1][1] += ` ${line.trim()}`;
    else if (line.includes(":"))
      headers.push([line.slice(0, line.indexOf(":")).trim(), line.slice(line.indexOf(":") + 1).trim()]);
  }
  const contentType = header(headers, "content-type") ?? "text/plain";
  const type = contentType.split(";")[0].trim().toLowerCase();
  if (type.startsWith("multipart/")) {
    const boundary = contentType.match(/boundary="?([^";]+)"?/i)?.[1];
    const children = boundary
      ? body
          .split(`--${boundary}`)
          .slice(1)
          .filter((chunk) => !chunk.startsWith("--"))
          .map((chunk) => parseEntity(chunk.replace(/^\r?\n/, "")))
      : [];
    return { headers, type, children };
  }
  const encoding = (header(headers, "content-transfer-encoding") ?? "7bit").toLowerCase();
  return { headers, type, body: decodeBody(body, encoding).replace(/(\r?\n)+$/, "") };
}

function flatten(entity) {
  return entity.children ? entity.children.flatMap(flatten) : [entity];
}

function decodeBody(body, encoding) {
  if (encoding === "quoted-printable") return decodeQuotedPrintable(body);
  if (encoding === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  return Buffer.from(body, "latin1").toString("utf8");
}

function decodeQuotedPrintable(body) {
  const unfolded = body.replace(/=\r?\n/g, "");
  const bytes = [];
  for (let i = 0; i < unfolded.length; i++) {
    const hex = unfolded.slice(i + 1, i + 3);
    if (unfolded[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else bytes.push(unfolded.charCodeAt(i) & 0xff);
  }
  return Buffer.from(bytes).toString("utf8");
}

/** RFC 2047 encoded words (=?UTF-8?Q?…?= and =?UTF-8?B?…?=). */
function decodeWords(value) {
  return value.replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_match, _charset, kind, data) =>
    kind.toUpperCase() === "B"
      ? Buffer.from(data, "base64").toString("utf8")
      : decodeQuotedPrintable(data.replaceAll("_", " ")),
  );
}
