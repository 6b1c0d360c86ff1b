//! Widget weight: every file of the build, raw, gzip (level 9) and brotli (quality 11, as the
//! companion precompresses), and the total against the budget.

use std::io::Write;
use std::path::Path;

/// 100 KB of brotli for the whole widget (wasm + JS + CSS + HTML + one language catalogue).
pub const BUDGET_BROTLI: u64 = 100 * 1000;

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
