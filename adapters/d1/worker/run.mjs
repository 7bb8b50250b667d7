// Runs the test Worker in workerd through miniflare's API (an in-memory D1, requests on
// 127.0.0.1 only), asks it for the conformance report in each mode, prints the reports, and
// exits non-zero unless every case that ran passed and every case skipped was skipped for a
// capability the mode lacks. Usage: node run.mjs BUILD_DIR
import { startWorker } from "./workerd.mjs";

const dir = process.argv[2];
const allowed = {
  batch: ["interactive transactions"],
  sequential: [
    "interactive transactions",
    "atomic units (transactions or batches)",
    "optimistic transact (batches without transactions)",
  ],
};
const { mf, url } = await startWorker(dir, "enginedb-d1-conformance");
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
