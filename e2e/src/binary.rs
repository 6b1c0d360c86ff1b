//! The real `b24pay` binary. Cargo gives `CARGO_BIN_EXE_*` only to a package's own tests, so
//! this crate asks cargo for the companion's binary and reads its path from cargo's JSON
//! messages. `B24PAY_BIN` names a prebuilt binary instead.
//!
//! Under `cargo test …` (the parent process), the same command is repeated with `--no-run`:
//! same packages, features, profile and target directory, so when that run already built the
//! companion (`cargo test --workspace`, as `scripts/test.sh` does) this is a no-op instead of a
//! second build with differently unified features. Otherwise the binary is built with
//! `cargo build -p b24pay-companion --bin b24pay --features preview,crash-points` in the same
//! target directory and profile.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Path of the `b24pay` binary, built once per process.
pub fn b24pay() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(path) = std::env::var_os("B24PAY_BIN") {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "B24PAY_BIN={} is not a file",
                path.display()
            );
            return path;
        }
        from_parent_cargo_test("b24pay").unwrap_or_else(|| build("b24pay-companion", "b24pay"))
    })
}

/// The parent process's arguments when it is `cargo test`, without what follows `--`.
fn parent_cargo_test_args() -> Option<Vec<String>> {
    let ppid = std::fs::read_to_string("/proc/self/stat")
        .ok()?
        .rsplit(')')
        .next()?
        .split_whitespace()
        .nth(1)?
        .to_string();
    let raw = std::fs::read(format!("/proc/{ppid}/cmdline")).ok()?;
    let argv: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let program = Path::new(argv.first()?)
        .file_name()?
        .to_string_lossy()
        .into_owned();
    if !program.starts_with("cargo") {
        return None;
    }
    let mut rest = argv.into_iter().skip(1).skip_while(|a| a.starts_with('+'));
    if rest.next()? != "test" {
        return None;
    }
    Some(
        rest.take_while(|a| a != "--")
            .filter(|a| a != "--no-run" && !a.starts_with("--message-format"))
            .collect(),
    )
}

fn from_parent_cargo_test(bin: &str) -> Option<PathBuf> {
    let args = parent_cargo_test_args()?;
    let mut cmd = cargo();
    cmd.arg("test")
        .args(&args)
        .args(["--no-run", "--message-format", "json-render-diagnostics"]);
    crate::say(format!(
        "e2e: finding the companion binary (cargo test {} --no-run)",
        args.join(" ")
    ));
    let found = executable(cmd, bin);
    if found.is_none() {
        crate::say("e2e: that run does not build it; building it separately");
    }
    found
}

/// A cargo command in the workspace, without the variables cargo set for this test process:
/// build scripts track some of them (ring's tracks `CARGO_MANIFEST_DIR`), so passing them on
/// would make this build and the next outer one rebuild half the tree, each undoing the other.
fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(crate::repo_root());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let set_for_tests = matches!(
            key.as_ref(),
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "CARGO_RUSTC_CURRENT_DIR"
                | "OUT_DIR"
        ) || key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_BIN_EXE_");
        if set_for_tests {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd
}

/// Runs a cargo command with JSON messages; the executable it reports for `bin`.
fn executable(mut cmd: Command, bin: &str) -> Option<PathBuf> {
    let output = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "{cmd:?} failed (see its errors above)"
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| {
            m["reason"] == "compiler-artifact"
                && m["target"]["name"] == bin
                && m["target"]["kind"][0] == "bin"
                // Under `cargo test` the bin is also built as its own unit-test harness (same
                // target name); running that with `serve` runs zero tests and exits 0.
                && m["profile"]["test"] == false
        })
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
}

/// `(target dir, release?)` of the running executable: `<target>/<profile>/deps/<test>` for
/// tests, `<target>/<profile>/<bin>` for binaries.
fn own_target() -> (PathBuf, bool) {
    let exe = std::env::current_exe().expect("the running executable's path");
    let mut dir = exe
        .parent()
        .expect("an executable has a directory")
        .to_path_buf();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    let release = dir.file_name().is_some_and(|n| n == "release");
    let target = dir
        .parent()
        .expect("a profile directory has a parent")
        .to_path_buf();
    (target, release)
}

fn build(package: &str, bin: &str) -> PathBuf {
    let (target, release) = own_target();
    let mut cmd = cargo();
    // The features this crate's own dependency on the companion turns on: a build of the
    // binary alone would otherwise lack the preview and the crash points the drills use.
    cmd.args(["build", "-p", package, "--bin", bin])
        .args(["--features", "preview,crash-points"])
        .args(["--message-format", "json-render-diagnostics"])
        .arg("--target-dir")
        .arg(&target);
    if release {
        cmd.arg("--release");
    }
    crate::say(format!(
        "e2e: building the companion binary ({package}/{bin}, {} profile; a no-op when up to date)",
        if release { "release" } else { "dev" }
    ));
    executable(cmd, bin).unwrap_or_else(|| panic!("cargo built no executable named {bin}"))
}
