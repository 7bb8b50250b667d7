// The Worker's entry module: hands fetch events to the Rust Worker compiled by wasm-bindgen.
import { WorkerEntrypoint } from "cloudflare:workers";
import * as exports from "./index.js";

export default class Entrypoint extends WorkerEntrypoint {
  async fetch(request) {
    return exports.fetch.call(this, request, this.env, this.ctx);
  }
}
