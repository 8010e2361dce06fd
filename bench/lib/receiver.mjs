// The bench's stand-in for a product's webhook receiver: answers 204 to every POST on 127.0.0.1
// and counts them, so the event path of `invite_1_events` ends in a real HTTP delivery.
import { createServer } from "node:http";

export async function startReceiver() {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received++;
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/events`,
    received: () => received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
