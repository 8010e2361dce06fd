// One HTTP request on a fresh connection (node:http, no keep-alive). fetch's pooled connections
// sometimes reuse a socket workerd has just closed ("other side closed"), which would turn a
// sequential probe or a job run into a spurious failure.
import http from "node:http";

export function request(url, { method = "GET", headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const length = body === undefined ? {} : { "Content-Length": Buffer.byteLength(body) };
    const req = http.request(url, { method, headers: { ...headers, ...length }, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode, headers: res.headers, text });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

export function json(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
