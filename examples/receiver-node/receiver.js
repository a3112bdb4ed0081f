// A webhook receiver for herald in Node: it verifies each request's
// Standard Webhooks signature with the official library (the standardwebhooks
// npm package) and handles each webhook-id once, however often herald
// delivers it (at least once: retries and redeliveries carry the same
// webhook-id).
//
//   npm ci && HERALD_WEBHOOK_SECRET=whsec_... PORT=9000 node receiver.js
//
// It prints one JSON line per request: {"event": "received" | "duplicate" |
// "rejected", ...}, and first {"event": "listening", "port": N}.
"use strict";

const http = require("node:http");
const { Webhook } = require("standardwebhooks");

const secret = process.env.HERALD_WEBHOOK_SECRET;
if (!secret) {
  console.error("set HERALD_WEBHOOK_SECRET to the job's signing secret (whsec_...)");
  process.exit(1);
}
const webhook = new Webhook(secret);

// webhook-id -> when it was handled. A real receiver records the id in its
// database, in the transaction that does the work.
const seen = new Map();
const keepIDs = 24 * 60 * 60 * 1000;
let pruned = 0;

function firstTime(id) {
  const now = Date.now();
  if (now - pruned > 60 * 1000) {
    for (const [old, at] of seen) {
      if (now - at > keepIDs) seen.delete(old);
    }
    pruned = now;
  }
  if (seen.has(id)) return false;
  seen.set(id, now);
  return true;
}

function log(event) {
  process.stdout.write(JSON.stringify(event) + "\n");
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    const id = req.headers["webhook-id"];
    try {
      // Checks the signature over webhook-id, webhook-timestamp and the body
      // exactly as received, and that the timestamp is recent (so a captured
      // request cannot be replayed later).
      webhook.verify(body, req.headers, { jsonParse: false });
    } catch (err) {
      log({ event: "rejected", webhook_id: id, reason: err.message });
      res.writeHead(401).end("invalid signature");
      return;
    }
    if (!firstTime(id)) {
      // Handled already: answer success so that herald stops retrying.
      log({ event: "duplicate", webhook_id: id });
      res.writeHead(200).end();
      return;
    }
    let parsed;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      parsed = undefined; // herald sends a JSON string body as plain text
    }
    log({
      event: "received",
      webhook_id: id,
      task: req.headers["herald-task"],
      attempt: req.headers["herald-attempt"],
      body: parsed,
    });
    res.writeHead(200).end();
  });
});

server.listen(Number(process.env.PORT ?? 9000), process.env.HOST ?? "127.0.0.1", () => {
  log({ event: "listening", port: server.address().port });
});
