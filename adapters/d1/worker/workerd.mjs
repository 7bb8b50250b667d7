// Starts a Worker built by `cargo xtask` in workerd through miniflare's API: every module in
// the build directory (the entry shim first), an in-memory D1 bound as DB, 127.0.0.1 only.
import { readdirSync } from "node:fs";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";

export async function startWorker(dir, name) {
  const modules = [{ type: "ESModule", path: `${dir}/shim.js` }];
  for (const file of readdirSync(dir, { recursive: true }).sort()) {
    if (file.endsWith(".js") && file !== "shim.js") modules.push({ type: "ESModule", path: `${dir}/${file}` });
    if (file.endsWith(".wasm")) modules.push({ type: "CompiledWasm", path: `${dir}/${file}` });
  }
  const mf = new Miniflare(convertV4MiniflareOptions({
    workers: [{
      name,
      modulesRoot: dir,
      modules,
      compatibilityDate: "2026-11-01",
      d1Databases: { DB: "00000000-0000-0000-0000-000000000000" },
    }],
    host: "127.0.0.1",
    port: 0,
    cf: false,
  }));
  return { mf, url: await mf.ready };
}
