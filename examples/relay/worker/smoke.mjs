// Smoke test of the relay Worker in workerd (miniflare's API, in-memory D1, 127.0.0.1 only):
// a send, a read of the inbox, a mark-read. Usage: node smoke.mjs BUILD_DIR
import { startWorker } from "./workerd.mjs";

const dir = process.argv[2];
const { mf, url } = await startWorker(dir, "relay");
const call = async (method, path, body) => {
  const response = await mf.dispatchFetch(new URL(path, url), { method, body: body && JSON.stringify(body) });
  const text = await response.text();
  console.log(`${method} ${path} -> ${response.status} ${text}`);
  return { status: response.status, json: JSON.parse(text) };
};
const sent = await call("POST", "/messages", { from: "ada", to: ["bob", "cy"], body: "hello from a Worker" });
const inbox = await call("GET", "/inbox/bob");
const read = await call("POST", `/messages/${sent.json.id}/read`, { user: "bob" });
const after = await call("GET", "/inbox/bob");
const selftest = await mf.dispatchFetch(new URL("/selftest", url));
const summary = await selftest.text();
console.log(`GET /selftest -> ${selftest.status} ${summary}`);
await mf.dispose();
const ok = sent.status === 201 && sent.json.mode === "Batch" &&
  inbox.status === 200 && inbox.json.length === 1 && inbox.json[0].id === sent.json.id && !inbox.json[0].read &&
  read.status === 200 && after.json[0].read === true && selftest.status === 200;
console.log(ok ? "relay worker smoke test: passed" : "relay worker smoke test: FAILED");
process.exit(ok ? 0 : 1);
