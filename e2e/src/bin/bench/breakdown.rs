//! What the widget's wasm spends its bytes on, by crate and by function: twiggy on a build with
//! the names kept (`--profile wasm-names`, the same code as the shipped `wasm-release`), after
//! the same wasm-bindgen and wasm-opt passes as trunk's release build (read from index.html's
//! `data-wasm-opt-params`, so there is one list of passes). The shipped wasm also has its
//! names stripped and its imports renamed (tools/minify-wasm.mjs), so its code is a little
//! smaller than the total here; the shares are what matter.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Part {
    pub name: String,
    pub bytes: u64,
}

pub struct Breakdown {
    /// Code and data, without the name section twiggy needs.
    pub total: u64,
    pub crates: Vec<Part>,
    pub functions: Vec<Part>,
}

/// The names build `scripts/bench.sh` makes before running the benchmark.
pub fn names_wasm() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| b24pay_e2e::repo_root().join("target"));
    target.join("wasm32-unknown-unknown/wasm-names/b24pay-widget.wasm")
}

fn run(program: &str, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

/// index.html's wasm-opt passes, as trunk runs them on the release build.
fn wasm_opt_params() -> Result<Vec<String>, String> {
    let index = std::fs::read_to_string(b24pay_e2e::repo_root().join("index.html"))
        .map_err(|e| format!("index.html: {e}"))?;
    let params = index
        .split("data-wasm-opt-params=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("index.html has no data-wasm-opt-params")?;
    Ok(params.split_whitespace().map(str::to_owned).collect())
}

/// The crate an item belongs to: the first path segment of its demangled name, through
/// `<impl … for …>` and `drop_in_place<…>` wrappers; data segments and wasm-bindgen's glue
/// are parts of their own.
fn crate_of(item: &str) -> String {
    if item.starts_with("data segment") {
        return "(data: strings, tables)".into();
    }
    let mut name = item.trim_start_matches('<');
    while let Some(rest) = name.strip_prefix("core::ptr::drop_in_place<") {
        name = rest.trim_start_matches('<');
    }
    let end = name
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(name.len());
    match &name[..end] {
        "" => "(other)".into(),
        "import" | "export" | "elem" | "type" | "code" | "table" | "memory" | "custom" => {
            "(wasm sections: imports, exports, tables)".into()
        }
        krate => krate.into(),
    }
}

/// Every item of `wasm` with its own (shallow) size, from twiggy's CSV.
fn items(wasm: &Path) -> Result<Vec<(String, u64)>, String> {
    let csv = run("twiggy", &["top", "-f", "csv", &wasm.display().to_string()])?;
    let csv = String::from_utf8_lossy(&csv).into_owned();
    let mut out = Vec::new();
    for line in csv.lines().skip(1) {
        // Name,ShallowSize,ShallowSizePercent,...: the name may hold commas and is quoted then.
        let (name, rest) = match line.strip_prefix('"') {
            Some(quoted) => match quoted.rsplit_once("\",") {
                Some((name, rest)) => (name.replace("\"\"", "\""), rest),
                None => continue,
            },
            None => match line.split_once(',') {
                Some((name, rest)) => (name.to_owned(), rest),
                None => continue,
            },
        };
        let Some(bytes) = rest.split(',').next().and_then(|b| b.parse().ok()) else {
            continue;
        };
        if name.contains("function names") || name.starts_with("... and ") || name.starts_with('Σ')
        {
            continue;
        }
        out.push((name, bytes));
    }
    Ok(out)
}

fn short(name: &str) -> String {
    // Drop the symbol hash; cut monomorphised type lists that run for kilobytes.
    let name = match name.rfind("::h") {
        Some(i) if name[i + 3..].chars().all(|c| c.is_ascii_hexdigit()) => &name[..i],
        _ => name,
    };
    if name.chars().count() > 110 {
        format!("{}…", name.chars().take(110).collect::<String>())
    } else {
        name.to_owned()
    }
}

pub fn measure(top: usize) -> Result<Breakdown, String> {
    let input = names_wasm();
    if !input.is_file() {
        return Err(format!(
            "no names build at {} (scripts/bench.sh makes it: cargo build -p b24pay-widget \
             --bin b24pay-widget --target wasm32-unknown-unknown --profile wasm-names)",
            input.display()
        ));
    }
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dir = work.path().display().to_string();
    run(
        "wasm-bindgen",
        &[
            "--target",
            "web",
            "--no-typescript",
            "--out-dir",
            &dir,
            &input.display().to_string(),
        ],
    )?;
    let bound = work.path().join("b24pay-widget_bg.wasm");
    let optimized = work.path().join("opt.wasm");
    let mut args = vec!["-g".to_owned()];
    args.extend(wasm_opt_params()?);
    args.extend([
        bound.display().to_string(),
        "-o".into(),
        optimized.display().to_string(),
    ]);
    run(
        "wasm-opt",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    )?;
    let items = items(&optimized)?;
    let mut crates = BTreeMap::<String, u64>::new();
    for (name, bytes) in &items {
        *crates.entry(crate_of(name)).or_default() += bytes;
    }
    let mut crates: Vec<Part> = crates
        .into_iter()
        .map(|(name, bytes)| Part { name, bytes })
        .collect();
    crates.sort_by_key(|p| std::cmp::Reverse(p.bytes));
    let mut functions: Vec<Part> = items
        .iter()
        .filter(|(name, _)| !name.starts_with("data segment"))
        .map(|(name, bytes)| Part {
            name: short(name),
            bytes: *bytes,
        })
        .collect();
    functions.sort_by_key(|p| std::cmp::Reverse(p.bytes));
    functions.truncate(top);
    Ok(Breakdown {
        total: items.iter().map(|(_, b)| b).sum(),
        crates,
        functions,
    })
}
