// Smoke test of the relay Worker over HTTP, against a running `wrangler dev` (`cargo xtask d1`
// starts one on an empty local D1 whose schema `wrangler d1 migrations apply` created):
//   node smoke.mjs URL              send, reply, read, mark read, inboxes; GET /selftest is 404
//   node smoke.mjs URL --selftest   GET /selftest passes (the Worker runs with ENGINEDB_SELFTEST=1)
//   node smoke.mjs URL --webhooks PORT
//                                   a send's webhook is posted to http://127.0.0.1:PORT/hook by a
//                                   scheduled run, once (the Worker runs with WEBHOOK_URL set to
//                                   that URL and --test-scheduled)
// Needs Node >= 18 (fetch). Exits non-zero, saying which expectations failed, unless all hold.

const [base, mode, hookPort] = process.argv.slice(2);
if (!base) {
  console.error("usage: node smoke.mjs URL [--selftest | --webhooks PORT]");
  process.exit(2);
}

async function call(method, path, body) {
  const response = await fetch(new URL(path, base), {
    method,
    body: body && JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  console.log(`${method} ${path} -> ${response.status} ${text}`);
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json };
}

const failed = [];
const expect = (holds, what) => {
  if (!holds) failed.push(what);
};

/// Runs a scheduled event (`wrangler dev --test-scheduled`).
const scheduled = () => call("GET", "/__scheduled?cron=*+*+*+*+*");

if (mode === "--webhooks") {
  const { createServer } = await import("node:http");
  const hooks = [];
  const receiver = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      hooks.push({ key: request.headers["idempotency-key"], body });
      response.end("ok");
    });
  });
  await new Promise((ready) => receiver.listen(Number(hookPort), "127.0.0.1", ready));
  const sent = await call("POST", "/messages", { from: "ada", to: ["bob"], body: "with a webhook" });
  expect(sent.status === 201, "the send is answered 201");
  expect(hooks.length === 0, "no webhook before a scheduled run");
  const first = await scheduled();
  expect(first.status === 200, "the scheduled run succeeds");
  const posted = hooks.filter((h) => h.key === String(sent.json?.id));
  expect(posted.length === 1, `the scheduled run posted the send's webhook once (${JSON.stringify(hooks)})`);
  let webhook;
  try {
    webhook = JSON.parse(posted[0]?.body);
  } catch {
    webhook = undefined;
  }
  expect(
    webhook?.id === sent.json?.id && webhook?.what === "sent" && webhook?.from === "ada" && webhook?.to?.[0] === "bob",
    "the webhook names the message, its sender and its recipient",
  );
  await scheduled();
  expect(hooks.length === 1, "acknowledged: a second run posts nothing");
  receiver.close();
} else if (mode === "--selftest") {
  const selftest = await call("GET", "/selftest");
  expect(selftest.status === 200, "GET /selftest answers 200 when ENGINEDB_SELFTEST is 1");
} else {
  const sent = await call("POST", "/messages", { from: "ada", to: ["bob", "cy"], body: "hello from a Worker" });
  expect(sent.status === 201 && sent.json?.mode === "Batch", "a send is one D1 batch (201, mode Batch)");
  const replied = await call("POST", `/messages/${sent.json?.id}/replies`, { from: "bob", body: "hi ada" });
  expect(replied.status === 201 && replied.json?.mode === "Batch", "a reply is one D1 batch (201, mode Batch)");
  const reply = await call("GET", `/messages/${replied.json?.id}`);
  expect(
    reply.status === 200 && reply.json?.from === "bob" && reply.json?.thread === sent.json?.id &&
      reply.json?.body === "hi ada",
    "the reply reads back, in the sent message's thread",
  );
  const before = await call("GET", "/inbox/ada");
  expect(
    before.status === 200 && before.json?.some?.((d) => d.id === replied.json?.id && d.read === false),
    "the reply is delivered to ada, unread",
  );
  const read = await call("POST", `/messages/${replied.json?.id}/read`, { user: "ada" });
  expect(read.status === 200 && read.json?.mode === "Batch", "mark-read is one D1 batch (200, mode Batch)");
  const after = await call("GET", "/inbox/ada");
  expect(after.json?.some?.((d) => d.id === replied.json?.id && d.read === true), "ada's inbox shows it read");
  const bob = await call("GET", "/inbox/bob");
  expect(bob.json?.some?.((d) => d.id === sent.json?.id && d.read === false), "bob's inbox has the message, unread");
  const selftest = await call("GET", "/selftest");
  expect(
    selftest.status === 404 && selftest.json?.kind === "NotFound",
    "GET /selftest is 404 NotFound unless ENGINEDB_SELFTEST is 1",
  );
}

for (const what of failed) console.log(`FAILED: ${what}`);
console.log(failed.length === 0 ? "relay worker smoke test: passed" : "relay worker smoke test: FAILED");
process.exit(failed.length === 0 ? 0 : 1);
