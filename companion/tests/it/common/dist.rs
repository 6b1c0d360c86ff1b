//! A stand-in for the widget's trunk build, for the companion to serve.

use std::path::{Path, PathBuf};

/// A tiny stand-in for trunk's `dist/`: an index with the meta tags and one inline module
/// loader, and hashed assets.
pub fn fake_dist(dir: &Path) -> PathBuf {
    let dist = dir.join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="b24pay-allowed-origins" content="">
  <meta name="b24pay-api" content="/api/v1">
  <title>Payment</title>
  <script src="/loader-0123456789abcdef.js"></script>
  <link rel="stylesheet" href="/widget-fedcba9876543210.css">
<script type="module">import init, * as bindings from '/b24pay-widget-1a2b3c4d5e6f7a8b.js';
const wasm = await init({ module_or_path: '/b24pay-widget-1a2b3c4d5e6f7a8b_bg.wasm' });
window.wasmBindings = bindings;</script>
</head>
<body></body>
</html>
"#,
    )
    .unwrap();
    let js = "export default async function init() { return {}; }\n".repeat(40);
    std::fs::write(dist.join("b24pay-widget-1a2b3c4d5e6f7a8b.js"), js).unwrap();
    let mut wasm = b"\0asm\x01\0\0\0".to_vec();
    wasm.extend(std::iter::repeat_n(0u8, 4096));
    std::fs::write(dist.join("b24pay-widget-1a2b3c4d5e6f7a8b_bg.wasm"), wasm).unwrap();
    std::fs::write(
        dist.join("widget-fedcba9876543210.css"),
        ":root { color-scheme: light dark; }\n".repeat(30),
    )
    .unwrap();
    std::fs::write(
        dist.join("loader-0123456789abcdef.js"),
        "window.b24payTakeMessages = function () {};\n".repeat(10),
    )
    .unwrap();
    precompress(&dist);
    dist
}

/// What the widget build's post_build hook (`tools/post-build.mjs`) does: a `.br` and a `.gz`
/// next to every file but `index.html` (which the companion rewrites and compresses itself).
fn precompress(dist: &Path) {
    use std::io::Write;
    for entry in std::fs::read_dir(dist).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == "index.html") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        let mut br = Vec::new();
        brotli::CompressorWriter::new(&mut br, 4096, 11, 22)
            .write_all(&data)
            .unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&data).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        std::fs::write(dist.join(format!("{name}.br")), br).unwrap();
        std::fs::write(dist.join(format!("{name}.gz")), gz.finish().unwrap()).unwrap();
    }
}
