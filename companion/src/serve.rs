//! Serves the built widget (trunk's `dist/`) from memory: every file is read and compressed once
//! at start (brotli and gzip), hashed assets are cached for a year, `index.html` is rewritten
//! with this deployment's settings, never cached, and sent with the CSP computed from it.

use crate::csp;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// What the served page learns about this deployment.
#[derive(Clone, Debug)]
pub struct PageSettings {
    /// Portal origins (CSP `frame-ancestors`, `<meta name="b24pay-allowed-origins">`).
    pub allowed_origins: Vec<String>,
    /// API base (`<meta name="b24pay-api">`).
    pub api_base: String,
    /// What a configured acquirer's script needs in the page's CSP (nothing without one).
    pub acquirer_sources: csp::AcquirerSources,
}

struct Asset {
    content_type: &'static str,
    cache_control: &'static str,
    etag: String,
    identity: axum::body::Bytes,
    br: Option<axum::body::Bytes>,
    gzip: Option<axum::body::Bytes>,
    csp: Option<HeaderValue>,
}

/// The widget's files, ready to send.
pub struct Widget {
    files: HashMap<String, Asset>,
    /// Why there is no widget to serve, when there is none.
    missing: Option<String>,
}

pub type SharedWidget = Arc<Widget>;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

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

/// Trunk names built assets `name-<16+ hex>.ext` (and `name-<hex>_bg.wasm`): their content
/// never changes under that name, so browsers may keep them forever.
pub fn is_hashed_name(file_name: &str) -> bool {
    let stem = file_name.split('.').next().unwrap_or("");
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    match stem.rsplit_once('-') {
        Some((_, hash)) => hash.len() >= 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        None => false,
    }
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

impl Widget {
    /// Reads and prepares every file under `dist`. A missing `dist` is not fatal: the API still
    /// works, and the page explains how to build the widget.
    pub fn load(dist: &Path, settings: &PageSettings) -> std::io::Result<Widget> {
        if !dist.join("index.html").is_file() {
            return Ok(Widget {
                files: HashMap::new(),
                missing: Some(format!(
                    "The widget is not built: no index.html in {}. Run `trunk build --release` in the repository, or set dist_dir.",
                    dist.display()
                )),
            });
        }
        let mut raw = Vec::new();
        collect(dist, dist, &mut raw)?;
        // Compress on all cores: brotli at its best level takes a moment for the wasm.
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let chunk = raw.len().div_ceil(threads).max(1);
        let mut files = HashMap::new();
        std::thread::scope(|scope| {
            let handles: Vec<_> = raw
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|(path, data)| {
                                (path.clone(), prepare(path, data.clone(), settings))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for h in handles {
                files.extend(h.join().expect("compression thread"));
            }
        });
        Ok(Widget {
            files,
            missing: None,
        })
    }

    pub fn is_built(&self) -> bool {
        self.missing.is_none()
    }

    /// The index page as served (for tests and the preview's sanity check).
    pub fn index_html(&self) -> Option<&[u8]> {
        self.files.get("index.html").map(|a| a.identity.as_ref())
    }
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect(root, &path, out)?;
        } else {
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read(&path)?));
        }
    }
    Ok(())
}

fn prepare(path: &str, mut data: Vec<u8>, settings: &PageSettings) -> Asset {
    let content_type = content_type(path);
    let file_name = path.rsplit('/').next().unwrap_or(path);
    let mut csp = None;
    let cache_control = if path == "index.html" {
        let html = String::from_utf8_lossy(&data).into_owned();
        let html = set_meta(
            &html,
            "b24pay-allowed-origins",
            &settings.allowed_origins.join(" "),
        );
        let html = set_meta(&html, "b24pay-api", &settings.api_base);
        let api_origin = api_origin(&settings.api_base);
        let policy = csp::Policy {
            frame_ancestors: &settings.allowed_origins,
            api_origin: api_origin.as_deref(),
            script_hashes: &csp::inline_hashes(&html, "script"),
            style_hashes: &csp::inline_hashes(&html, "style"),
            acquirer: &settings.acquirer_sources,
        };
        csp = HeaderValue::from_str(&policy.header_value()).ok();
        data = html.into_bytes();
        NO_CACHE
    } else if is_hashed_name(file_name) {
        IMMUTABLE
    } else {
        NO_CACHE
    };
    let digest = Sha256::digest(&data);
    let etag = digest[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let (br, gzip) = if compressible(content_type) && data.len() > 256 {
        let b = brotli(&data);
        let g = gzip(&data);
        (
            (b.len() < data.len()).then(|| b.into()),
            (g.len() < data.len()).then(|| g.into()),
        )
    } else {
        (None, None)
    };
    Asset {
        content_type,
        cache_control,
        etag,
        identity: data.into(),
        br,
        gzip,
        csp,
    }
}

/// Which codings the client accepts (`q=0` means refused).
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                let p = p.trim();
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            name.eq_ignore_ascii_case(coding) && !refused
        })
}

/// GET/HEAD for any path outside the API.
pub async fn serve(
    State(widget): State<SharedWidget>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
        )
            .into_response();
    }
    if let Some(why) = &widget.missing {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, NO_CACHE),
            ],
            why.clone(),
        )
            .into_response();
    }
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    let Some(asset) = widget.files.get(path) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "not found",
        )
            .into_response();
    };
    let (body, encoding, tag) = match (&asset.br, &asset.gzip) {
        (Some(b), _) if accepts(&headers, "br") => (b.clone(), Some("br"), "-br"),
        (_, Some(g)) if accepts(&headers, "gzip") => (g.clone(), Some("gzip"), "-gz"),
        _ => (asset.identity.clone(), None, ""),
    };
    let etag = format!("\"{}{tag}\"", asset.etag);
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let len = body.len();
        let mut r = if method == Method::HEAD {
            Response::new(Body::empty())
        } else {
            Response::new(Body::from(body))
        };
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        r
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(asset.cache_control),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if asset.br.is_some() || asset.gzip.is_some() {
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    if let Some(e) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(e));
    }
    if let Some(csp) = &asset.csp {
        h.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
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
        assert!(!is_hashed_name("index.html"));
        assert!(!is_hashed_name("b24pay-widget.js"));
        assert!(!is_hashed_name("favicon-12.ico"));
    }

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
    fn accept_encoding() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            "gzip, deflate, br;q=0".parse().unwrap(),
        );
        assert!(accepts(&h, "gzip"));
        assert!(!accepts(&h, "br"));
    }
}
