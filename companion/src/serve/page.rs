//! `index.html` as served: its asset URLs under `public_url`'s path, this deployment's settings
//! in its `<meta>` tags (or one installed portal's), hashed for its CSP, compressed once.

use crate::csp;
use axum::body::Bytes;
use axum::http::HeaderValue;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

/// `index.html` as served: rewritten, hashed, compressed.
pub(super) struct Index {
    /// The file's modification time when it was prepared: a new build (`trunk watch`) is
    /// picked up at the next request.
    pub modified: Option<SystemTime>,
    pub identity: Bytes,
    pub br: Bytes,
    pub gzip: Bytes,
    pub etag: String,
    pub csp: HeaderValue,
}

/// What one page says: which portals may post to it and frame it, where its API is.
pub(super) struct PageView<'a> {
    pub allowed_origins: &'a [String],
    pub api_base: &'a str,
    pub preview_sample: Option<&'a str>,
    pub acquirer: &'a csp::AcquirerSources,
}

/// The page from `html` (already under its prefix) as `view` says.
pub(super) fn prepare_index(html: &str, modified: Option<SystemTime>, view: &PageView) -> Index {
    let html = set_meta(
        html,
        "b24pay-allowed-origins",
        &view.allowed_origins.join(" "),
    );
    let html = set_meta(&html, "b24pay-api", view.api_base);
    let html = set_meta(
        &html,
        "b24pay-preview",
        view.preview_sample.unwrap_or_default(),
    );
    let api_origin = api_origin(view.api_base);
    let policy = csp::Policy {
        frame_ancestors: view.allowed_origins,
        api_origin: api_origin.as_deref(),
        script_hashes: &csp::inline_hashes(&html, "script"),
        style_hashes: &csp::inline_hashes(&html, "style"),
        acquirer: view.acquirer,
    };
    let data = html.into_bytes();
    let digest = Sha256::digest(&data);
    Index {
        modified,
        br: brotli(&data).into(),
        gzip: gzip(&data).into(),
        etag: hex(&digest[..12]),
        csp: HeaderValue::from_str(&policy.header_value()).expect("a CSP is header-safe"),
        identity: data.into(),
    }
}

/// Reads `dist/index.html` with its absolute URLs (`/name-hash.js`, `/locales/…`, as trunk and
/// the loader write them) pointed under `prefix`.
pub(super) fn read_under_prefix(dist: &Path, prefix: &str) -> std::io::Result<String> {
    let html = std::fs::read_to_string(dist.join("index.html"))?;
    if prefix == "/" {
        return Ok(html);
    }
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dist)? {
        if let Some(name) = entry?.file_name().to_str() {
            names.push(name.to_string());
        }
    }
    Ok(under_prefix(&html, &names, prefix))
}

/// Points every `"/NAME`, `'/NAME` and `=/NAME` for a top-level entry NAME of `dist` (a file or
/// a directory) under `prefix`, in one pass (a rewritten URL is never rewritten again).
pub(super) fn under_prefix(html: &str, names: &[String], prefix: &str) -> String {
    let mut out = String::with_capacity(html.len() + 256);
    let mut rest = html;
    while let Some(at) = rest.find('/') {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let quoted = before.ends_with(['"', '\'', '=']);
        let after = &from[1..];
        let names_entry = names.iter().any(|n| {
            n != "index.html"
                && after.starts_with(n.as_str())
                && !after[n.len()..]
                    .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
        if quoted && names_entry {
            out.push_str(prefix);
        } else {
            out.push('/');
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 3);
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        w.write_all(data).expect("writing to memory");
    }
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    w.write_all(data).expect("writing to memory");
    w.finish().expect("writing to memory")
}

/// Replaces the `content` of `<meta name="NAME" …>` (quoted or not, any attribute order).
pub fn set_meta(html: &str, name: &str, content: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(found) = lower[at..].find("<meta") {
        let start = at + found;
        let Some(len) = lower[start..].find('>') else {
            break;
        };
        let end = start + len + 1;
        let tag = &lower[start..end];
        let names = [
            format!("name=\"{name}\""),
            format!("name='{name}'"),
            format!("name={name} "),
            format!("name={name}>"),
            format!("name={name}/"),
        ];
        if names.iter().any(|n| tag.contains(n.as_str())) {
            let replacement = format!(
                "<meta name=\"{name}\" content=\"{}\">",
                escape_attr(content)
            );
            return format!("{}{}{}", &html[..start], replacement, &html[end..]);
        }
        at = end;
    }
    html.to_string()
}

fn escape_attr(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn api_origin(api_base: &str) -> Option<String> {
    url::Url::parse(api_base)
        .ok()
        .map(|u| u.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_meta_tags() {
        let html = r#"<meta name="b24pay-allowed-origins" content=""><meta name=b24pay-api content="/api/v1">"#;
        let out = set_meta(html, "b24pay-allowed-origins", "https://a.ru https://b.ru");
        let out = set_meta(&out, "b24pay-api", "https://x/\"api");
        assert_eq!(
            out,
            r#"<meta name="b24pay-allowed-origins" content="https://a.ru https://b.ru"><meta name="b24pay-api" content="https://x/&quot;api">"#
        );
    }

    #[test]
    fn asset_urls_move_under_the_prefix() {
        let html = r#"<link rel=modulepreload href="/w-1a.js"><script type="module">import i from '/w-1a.js';i('/w-1a_bg.wasm')</script><script>fetch("/locales/" + t)</script><a href="/elsewhere">"#;
        let names = ["w-1a.js", "w-1a_bg.wasm", "locales", "index.html"].map(String::from);
        let out = under_prefix(html, &names, "/pay/");
        assert_eq!(
            out,
            r#"<link rel=modulepreload href="/pay/w-1a.js"><script type="module">import i from '/pay/w-1a.js';i('/pay/w-1a_bg.wasm')</script><script>fetch("/pay/locales/" + t)</script><a href="/elsewhere">"#
        );
    }
}
