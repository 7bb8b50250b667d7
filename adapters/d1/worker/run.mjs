// Runs the test Worker in workerd through miniflare's API (an in-memory D1, requests on
// 127.0.0.1 only), asks it for the conformance report in each mode, prints the reports, and
// exits non-zero unless every case that ran passed and every case skipped was skipped for a
// capability the mode lacks. Usage: node run.mjs BUILD_DIR
import { readdirSync } from "node:fs";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";

const dir = process.argv[2];
// The entry shim first, then every other module wasm-bindgen wrote (its glue and snippets).
const modules = [{ type: "ESModule", path: `${dir}/shim.js` }];
for (const file of readdirSync(dir, { recursive: true }).sort()) {
  if (file.endsWith(".js") && file !== "shim.js") modules.push({ type: "ESModule", path: `${dir}/${file}` });
  if (file.endsWith(".wasm")) modules.push({ type: "CompiledWasm", path: `${dir}/${file}` });
}
const allowed = {
  batch: ["interactive transactions"],
  sequential: [
    "interactive transactions",
    "atomic units (transactions or batches)",
    "optimistic transact (batches without transactions)",
  ],
};
const mf = new Miniflare(convertV4MiniflareOptions({
  workers: [{
    name: "enginedb-d1-conformance",
    modulesRoot: dir,
    modules,
    compatibilityDate: "2026-11-01",
    d1Databases: { DB: "00000000-0000-0000-0000-000000000000" },
  }],
  host: "127.0.0.1",
  port: 0,
  cf: false,
}));
const url = await mf.ready;
let ok = true;
for (const mode of Object.keys(allowed)) {
  const response = await mf.dispatchFetch(new URL(`/conformance?mode=${mode}`, url));
  const body = await response.text();
  if (!response.ok) {
    console.log(`conformance suite on d1 (${mode}): the Worker answered ${response.status}: ${body}`);
    ok = false;
    continue;
  }
  const report = JSON.parse(body);
  console.log(`\nconformance suite on ${report.adapter}`);
  for (const c of report.cases) {
    if (c.outcome === "failed") console.log(`FAILED ${c.name}: ${c.detail}`);
    if (c.outcome === "not_applicable") {
      console.log(`not applicable: ${c.name} (needs ${c.detail})`);
      if (!allowed[mode].includes(c.detail)) {
        console.log(`  ... but a ${mode} store must run it`);
        ok = false;
      }
    }
  }
  console.log(report.summary);
  ok = ok && report.failed === 0 && report.passed > 0;
}
await mf.dispose();
process.exit(ok ? 0 : 1);
