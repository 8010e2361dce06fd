import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for a product's webhook receiver (Node, 127.0.0.1), for the outbound events tests.
 * `POST /hook/<name>` records the delivery (headers and the exact body bytes) and answers by the
 * hook's script: `?fail=N` answers 500 to the first N deliveries then 200, `?fail=always` always
 * 500, no `fail` always 200. `GET /received?name=<name>` lists what a hook received, in arrival
 * order, with the status it answered.
 */
export interface ReceivedDelivery {
  headers: Record<string, string>;
  body: string;
  status: number;
}

export async function startEventsReceiver(): Promise<{ url: string; close: () => Promise<void> }> {
  const received = new Map<string, ReceivedDelivery[]>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method === "GET" && url.pathname === "/received") {
      const list = received.get(url.searchParams.get("name") ?? "") ?? [];
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(list));
      return;
    }
    const hook = /^\/hook\/([A-Za-z0-9_-]+)$/.exec(url.pathname)?.[1];
    if (req.method !== "POST" || hook === undefined) {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const list = received.get(hook) ?? [];
      const fail = url.searchParams.get("fail");
      const failing = fail === "always" || (fail !== null && list.length < Number(fail));
      const status = failing ? 500 : 200;
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers[name] = value;
      list.push({ headers, body: Buffer.concat(chunks).toString("utf8"), status });
      received.set(hook, list);
      res.writeHead(status, { "Content-Type": "text/plain" }).end(failing ? "receiver says no" : "ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
