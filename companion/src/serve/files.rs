//! Files other than `index.html`, as `ServeDir` answers them, with our headers: the content
//! type with its charset, the cache policy by name, `Vary`, and an ETag.

use super::{not_modified, plain};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub(super) const NO_CACHE: &str = "no-cache";

fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.starts_with("application/wasm")
        || content_type.starts_with("application/json")
        || content_type.starts_with("image/svg")
}

/// Trunk names built assets `name-<hex>.ext` (and `name-<hex>_bg.wasm`), the hex a 64-bit hash
/// without leading zeros (so usually 16 digits, sometimes fewer): their content never changes
/// under that name, so browsers may keep them forever.
pub fn is_hashed_name(file_name: &str) -> bool {
    let stem = file_name.split('.').next().unwrap_or("");
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    match stem.rsplit_once('-') {
        Some((_, hash)) => hash.len() >= 10 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        None => false,
    }
}

/// `ServeDir`'s answer with our headers: the content type with its charset, the cache policy
/// by name, `Vary`, and an ETag (from the file's size, time and coding) that `If-None-Match`
/// revalidates against.
pub(super) fn file_response(mut response: Response, name: &str, request: &HeaderMap) -> Response {
    if response.status() == StatusCode::NOT_FOUND {
        return plain(StatusCode::NOT_FOUND, "not found".into());
    }
    if !response.status().is_success() {
        return response;
    }
    let content_type = content_type(name);
    let h = response.headers();
    let tag = [
        header::CONTENT_LENGTH,
        header::LAST_MODIFIED,
        header::CONTENT_ENCODING,
    ]
    .map(|k| {
        h.get(&k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    })
    .join("|");
    let etag = format!(
        "\"{}\"",
        super::page::hex(&Sha256::digest(tag.as_bytes())[..12])
    );
    if not_modified(request, &etag) {
        let mut not = StatusCode::NOT_MODIFIED.into_response();
        for k in [header::LAST_MODIFIED, header::CONTENT_ENCODING] {
            if let Some(v) = response.headers().get(&k) {
                not.headers_mut().insert(k, v.clone());
            }
        }
        response = not;
    }
    let cache = if is_hashed_name(name) {
        IMMUTABLE
    } else {
        NO_CACHE
    };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if compressible(content_type) {
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names() {
        assert!(is_hashed_name("b24pay-widget-1a2b3c4d5e6f7a8b.js"));
        assert!(is_hashed_name("b24pay-widget-1a2b3c4d5e6f7a8b_bg.wasm"));
        assert!(is_hashed_name("widget-0123456789abcdef0123.css"));
        assert!(is_hashed_name("loader-74a1c86b9d09306.js"));
        assert!(!is_hashed_name("index.html"));
        assert!(!is_hashed_name("b24pay-widget.js"));
        assert!(!is_hashed_name("favicon-12.ico"));
    }
}
