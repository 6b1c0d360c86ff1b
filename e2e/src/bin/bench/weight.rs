//! Widget weight: every file of the build, raw, gzip (level 9) and brotli (quality 11, as the
//! companion precompresses), and the total against the target and the hard limit. The build's own
//! `.br`/`.gz` files are the same files precompressed: measured here from the originals.

use crate::breakdown::Breakdown;
use crate::kb;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

/// The target: 64 KB of brotli for the whole widget (wasm + JS + HTML with its inline CSS and
/// loader + one language catalogue).
pub const TARGET_BROTLI: u64 = 64 * 1000;
/// Above this the benchmark command fails (after printing and writing its figures).
pub const HARD_LIMIT_BROTLI: u64 = 90 * 1000;

pub struct FileWeight {
    pub name: String,
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

pub struct Weight {
    /// Every file but the language catalogues: what every customer downloads.
    pub files: Vec<FileWeight>,
    /// `locales/*.json`: a customer downloads at most one (none in English).
    pub catalogues: Vec<FileWeight>,
}

impl Weight {
    /// The heaviest catalogue, which is what a customer in that language adds.
    pub fn largest_catalogue(&self) -> Option<&FileWeight> {
        self.catalogues.iter().max_by_key(|f| f.brotli)
    }

    /// What one customer downloads at most: every file and the heaviest catalogue.
    pub fn total(&self) -> FileWeight {
        let all = || self.files.iter().chain(self.largest_catalogue());
        FileWeight {
            name: "total".into(),
            raw: all().map(|f| f.raw).sum(),
            gzip: all().map(|f| f.gzip).sum(),
            brotli: all().map(|f| f.brotli).sum(),
        }
    }
}

fn gzip(data: &[u8]) -> u64 {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).expect("in memory");
    enc.finish().expect("in memory").len() as u64
}

fn brotli(data: &[u8]) -> u64 {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut std::io::Cursor::new(data), &mut out, &params).expect("in memory");
    out.len() as u64
}

pub fn measure(dist: &Path) -> Weight {
    let mut files = Vec::new();
    let mut stack = vec![dist.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("dist readable") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_some_and(|e| e == "br" || e == "gz") {
                continue;
            }
            let data = std::fs::read(&path).expect("file readable");
            files.push(FileWeight {
                name: path
                    .strip_prefix(dist)
                    .expect("under dist")
                    .display()
                    .to_string(),
                raw: data.len() as u64,
                gzip: gzip(&data),
                brotli: brotli(&data),
            });
        }
    }
    files.sort_by_key(|f| std::cmp::Reverse(f.brotli));
    let (catalogues, files) = files
        .into_iter()
        .partition(|f| f.name.starts_with("locales/"));
    Weight { files, catalogues }
}

/// The weight table, the verdict against the target and the hard limit, the catalogues, and
/// what the wasm's bytes go to.
pub fn section(w: &Weight, parts: Result<Breakdown, String>) -> String {
    let mut s =
        String::from("## Widget weight\n\n| file | raw | gzip | brotli |\n|---|---:|---:|---:|\n");
    for f in &w.files {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} |",
            f.name,
            kb(f.raw),
            kb(f.gzip),
            kb(f.brotli)
        );
    }
    if let Some(c) = w.largest_catalogue() {
        let _ = writeln!(
            s,
            "| `{}` (the heaviest language catalogue) | {} | {} | {} |",
            c.name,
            kb(c.raw),
            kb(c.gzip),
            kb(c.brotli)
        );
    }
    let t = w.total();
    let verdict = match t.brotli {
        b if b <= TARGET_BROTLI => "target met",
        b if b <= HARD_LIMIT_BROTLI => "target MISSED, under the hard limit",
        _ => "OVER THE HARD LIMIT (the benchmark command fails)",
    };
    let _ = writeln!(
        s,
        "| **total** (what one customer downloads at most) | **{}** | **{}** | **{}** |\n\n\
         Target: {} brotli for the whole widget; hard limit {}: **{}** ({:.0} % of the target). \
         `index.html` carries the CSS and `loader.js` inline.\n",
        kb(t.raw),
        kb(t.gzip),
        kb(t.brotli),
        kb(TARGET_BROTLI),
        kb(HARD_LIMIT_BROTLI),
        verdict,
        t.brotli as f64 * 100.0 / TARGET_BROTLI as f64
    );
    let catalogues: Vec<String> = w
        .catalogues
        .iter()
        .map(|c| format!("`{}` {}", c.name, kb(c.brotli)))
        .collect();
    let _ = writeln!(
        s,
        "English is compiled into the wasm; each other language is a catalogue fetched only by \
         customers who read it (brotli): {}.\n",
        catalogues.join(", ")
    );
    s.push_str(&parts_section(parts));
    s
}

fn parts_section(parts: Result<Breakdown, String>) -> String {
    let b = match parts {
        Ok(b) => b,
        Err(why) => return format!("### What the wasm is made of\n\nNot measured: {why}.\n\n"),
    };
    let mut s = format!(
        "### What the wasm is made of\n\nBy twiggy, of the same code with its names kept \
         ({} of code and data, uncompressed; the shipped file also has its imports renamed). \
         By crate:\n\n| crate | bytes | share |\n|---|---:|---:|\n",
        kb(b.total)
    );
    let share = |bytes: u64| bytes as f64 * 100.0 / b.total.max(1) as f64;
    for p in b.crates.iter().take(16) {
        let _ = writeln!(
            s,
            "| `{}` | {} | {:.1} % |",
            p.name,
            kb(p.bytes),
            share(p.bytes)
        );
    }
    let rest: u64 = b.crates.iter().skip(16).map(|p| p.bytes).sum();
    let _ = writeln!(
        s,
        "| the other {} | {} | {:.1} % |\n\nThe biggest functions:\n\n| function | bytes |\n|---|---:|",
        b.crates.len().saturating_sub(16),
        kb(rest),
        share(rest)
    );
    for f in &b.functions {
        let _ = writeln!(s, "| `{}` | {} |", f.name.replace('|', "\\|"), kb(f.bytes));
    }
    s.push('\n');
    s
}
