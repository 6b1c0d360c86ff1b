//! Serves the built widget (trunk's `dist/`): every file but `index.html` straight from disk
//! with tower-http's `ServeDir`, precompressed at build time (the trunk hook
//! `tools/post-build.mjs` writes a `.br` and a `.gz` next to each), hashed names cached for a
//! year; `index.html` rewritten with this deployment's settings, never cached, and sent with
//! the CSP computed from the page actually served.

use crate::csp;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// What the served page learns about this deployment.
#[derive(Clone, Debug)]
pub struct PageSettings {
    /// Portal origins (CSP `frame-ancestors`, `<meta name="b24pay-allowed-origins">`).
    pub allowed_origins: Vec<String>,
    /// API base (`<meta name="b24pay-api">`).
    pub api_base: String,
    /// The standalone preview's sample portal message (`<meta name="b24pay-preview">`); `None`
    /// leaves the preview off.
    pub preview_sample: Option<String>,
    /// What a configured acquirer's script needs in the page's CSP (nothing without one).
    pub acquirer_sources: csp::AcquirerSources,
}

/// `index.html` as served: rewritten, hashed, compressed.
struct Index {
    /// The file's modification time when it was prepared: a new build (`trunk watch`) is
    /// picked up at the next request.
    modified: Option<SystemTime>,
    identity: Bytes,
    br: Bytes,
    gzip: Bytes,
    etag: String,
    csp: HeaderValue,
}

/// The widget's files, ready to send.
pub struct Widget {
    dist: PathBuf,
    settings: PageSettings,
    files: ServeDir,
    index: Mutex<Option<Arc<Index>>>,
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
    /// Prepares the widget under `dist`. A missing `dist` is not fatal: the API still works,
    /// and the page explains how to build the widget.
    pub fn load(dist: &Path, settings: &PageSettings) -> std::io::Result<Widget> {
        let index_path = dist.join("index.html");
        let missing = (!index_path.is_file()).then(|| {
            format!(
                "The widget is not built: no index.html in {}. Run `trunk build --release` in the repository, or set dist_dir.",
                dist.display()
            )
        });
        let widget = Widget {
            dist: dist.to_path_buf(),
            settings: settings.clone(),
            files: ServeDir::new(dist)
                .precompressed_br()
                .precompressed_gzip()
                .append_index_html_on_directories(false),
            index: Mutex::new(None),
            missing,
        };
        if widget.is_built() {
            widget.current_index()?;
        }
        Ok(widget)
    }

    pub fn is_built(&self) -> bool {
        self.missing.is_none()
    }

    /// The index page as served (for tests and the preview's sanity check).
    pub fn index_html(&self) -> Option<Bytes> {
        self.current_index().ok().map(|i| i.identity.clone())
    }

    /// `index.html` prepared from the file as it is now (again only when the file changed).
    fn current_index(&self) -> std::io::Result<Arc<Index>> {
        let path = self.dist.join("index.html");
        let modified = std::fs::metadata(&path)?.modified().ok();
        let mut cached = self.index.lock().expect("index lock");
        if let Some(index) = cached.as_ref().filter(|i| i.modified == modified) {
            return Ok(index.clone());
        }
        let html = std::fs::read_to_string(&path)?;
        let index = Arc::new(prepare_index(&html, modified, &self.settings));
        *cached = Some(index.clone());
        Ok(index)
    }
}

fn prepare_index(html: &str, modified: Option<SystemTime>, settings: &PageSettings) -> Index {
    let html = set_meta(
        html,
        "b24pay-allowed-origins",
        &settings.allowed_origins.join(" "),
    );
    let html = set_meta(&html, "b24pay-api", &settings.api_base);
    let html = set_meta(
        &html,
        "b24pay-preview",
        settings.preview_sample.as_deref().unwrap_or_default(),
    );
    let api_origin = api_origin(&settings.api_base);
    let policy = csp::Policy {
        frame_ancestors: &settings.allowed_origins,
        api_origin: api_origin.as_deref(),
        script_hashes: &csp::inline_hashes(&html, "script"),
        style_hashes: &csp::inline_hashes(&html, "style"),
        acquirer: &settings.acquirer_sources,
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

/// Whether `If-None-Match` names `etag` (or `*`).
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

fn plain(status: StatusCode, text: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, NO_CACHE),
        ],
        text,
    )
        .into_response()
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
        return plain(StatusCode::SERVICE_UNAVAILABLE, why.clone());
    }
    let path = uri.path();
    if path == "/" || path == "/index.html" {
        return match widget.current_index() {
            Ok(index) => index_response(&index, &method, &headers),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the widget's index.html");
                plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "index.html unreadable".into(),
                )
            }
        };
    }
    let mut request = Request::new(Body::empty());
    *request.method_mut() = method;
    *request.uri_mut() = uri.clone();
    *request.headers_mut() = headers.clone();
    let Ok(response) = widget.files.clone().oneshot(request).await;
    let response = response.map(Body::new);
    let name = path.rsplit('/').next().unwrap_or(path);
    file_response(response, name, &headers)
}

fn index_response(index: &Index, method: &Method, headers: &HeaderMap) -> Response {
    let (body, encoding, tag) = if accepts(headers, "br") {
        (index.br.clone(), Some("br"), "-br")
    } else if accepts(headers, "gzip") {
        (index.gzip.clone(), Some("gzip"), "-gz")
    } else {
        (index.identity.clone(), None, "")
    };
    let etag = format!("\"{}{tag}\"", index.etag);
    let mut response = if not_modified(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let len = body.len();
        let body = if method == Method::HEAD {
            Body::empty()
        } else {
            Body::from(body)
        };
        let mut r = Response::new(body);
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        r
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Some(e) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(e));
    }
    h.insert(header::CONTENT_SECURITY_POLICY, index.csp.clone());
    response
}

/// `ServeDir`'s answer with our headers: the content type with its charset, the cache policy
/// by name, `Vary`, and an ETag (from the file's size, time and coding) that `If-None-Match`
/// revalidates against.
fn file_response(mut response: Response, name: &str, request: &HeaderMap) -> Response {
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
    let etag = format!("\"{}\"", hex(&Sha256::digest(tag.as_bytes())[..12]));
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
