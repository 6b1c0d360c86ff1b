//! Serves the built widget (trunk's `dist/`): every file but `index.html` straight from disk
//! with tower-http's `ServeDir`, precompressed at build time (the trunk hook
//! `tools/post-build.mjs` writes a `.br` and a `.gz` next to each), hashed names cached for a
//! year; `index.html` rewritten with this deployment's settings, never cached, and sent with
//! the CSP computed from the page actually served. Everything is served under `public_url`'s
//! path (`/`, or e.g. `/pay/`); an installed portal's page (`{prefix}p/{id}/`) is the same
//! `index.html` naming only that portal's origin and API.

mod files;
mod page;

pub use files::is_hashed_name;
pub use page::set_meta;

use crate::csp;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use files::{file_response, NO_CACHE};
use page::{prepare_index, read_under_prefix, Index, PageView};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
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

/// The widget's files, ready to send.
pub struct Widget {
    dist: PathBuf,
    settings: PageSettings,
    files: ServeDir,
    index: Mutex<Option<Arc<Index>>>,
    /// Installed portals' pages by public id (made again when the build or the portal's origin
    /// changes).
    portal_pages: Mutex<HashMap<String, (String, Arc<Index>)>>,
    /// Why there is no widget to serve, when there is none.
    missing: Option<String>,
    /// `public_url`'s path, `/`-terminated: every file is served under it.
    prefix: String,
}

pub type SharedWidget = Arc<Widget>;

impl Widget {
    /// Prepares the widget under `dist`. A missing `dist` is not fatal: the API still works,
    /// and the page explains how to build the widget.
    pub fn load(dist: &Path, settings: &PageSettings) -> std::io::Result<Widget> {
        Widget::load_at(dist, settings, "/")
    }

    /// As [`Widget::load`], served under `prefix` (`public_url`'s path, e.g. `/pay/`).
    pub fn load_at(dist: &Path, settings: &PageSettings, prefix: &str) -> std::io::Result<Widget> {
        let prefix = match prefix.trim_matches('/') {
            "" => "/".to_string(),
            inner => format!("/{inner}/"),
        };
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
            portal_pages: Mutex::new(HashMap::new()),
            missing,
            prefix,
        };
        if widget.is_built() {
            widget.current_index()?;
        }
        Ok(widget)
    }

    /// `public_url`'s path (`/` or e.g. `/pay/`).
    pub fn prefix(&self) -> &str {
        &self.prefix
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
        let modified = self.modified()?;
        let mut cached = self.index.lock().expect("index lock");
        if let Some(index) = cached.as_ref().filter(|i| i.modified == modified) {
            return Ok(index.clone());
        }
        let html = read_under_prefix(&self.dist, &self.prefix)?;
        let view = PageView {
            allowed_origins: &self.settings.allowed_origins,
            api_base: &self.settings.api_base,
            preview_sample: self.settings.preview_sample.as_deref(),
            acquirer: &self.settings.acquirer_sources,
        };
        let index = Arc::new(prepare_index(&html, modified, &view));
        *cached = Some(index.clone());
        Ok(index)
    }

    fn modified(&self) -> std::io::Result<Option<std::time::SystemTime>> {
        Ok(std::fs::metadata(self.dist.join("index.html"))?
            .modified()
            .ok())
    }

    /// An installed portal's page (`{prefix}p/{public_id}/`): messages from `origin` only,
    /// framed by `origin` only, its API at `{prefix}p/{public_id}/api/v1`.
    fn portal_index(&self, public_id: &str, origin: &str) -> std::io::Result<Arc<Index>> {
        let modified = self.modified()?;
        let mut pages = self.portal_pages.lock().expect("pages lock");
        if let Some((o, index)) = pages.get(public_id) {
            if o == origin && index.modified == modified {
                return Ok(index.clone());
            }
        }
        let html = read_under_prefix(&self.dist, &self.prefix)?;
        let origins = [origin.to_string()];
        let view = PageView {
            allowed_origins: &origins,
            api_base: &format!(
                "{}p/{public_id}{}",
                self.prefix,
                b24pay_protocol::api::API_PREFIX
            ),
            preview_sample: None,
            acquirer: &self.settings.acquirer_sources,
        };
        let index = Arc::new(prepare_index(&html, modified, &view));
        pages.insert(public_id.to_string(), (origin.to_string(), index.clone()));
        Ok(index)
    }

    /// Answers a GET/HEAD of an installed portal's page.
    pub fn portal_page(
        &self,
        public_id: &str,
        origin: &str,
        method: &Method,
        headers: &HeaderMap,
    ) -> Response {
        if let Some(why) = &self.missing {
            return plain(StatusCode::SERVICE_UNAVAILABLE, why.clone());
        }
        match self.portal_index(public_id, origin) {
            Ok(index) => index_response(&index, method, headers),
            Err(e) => unreadable(&e),
        }
    }

    /// Forgets an installed portal's page (uninstalled).
    pub fn forget_portal_page(&self, public_id: &str) {
        self.portal_pages
            .lock()
            .expect("pages lock")
            .remove(public_id);
    }
}

fn unreadable(e: &std::io::Error) -> Response {
    tracing::error!(error = %e, "cannot read the widget's index.html");
    plain(
        StatusCode::SERVICE_UNAVAILABLE,
        "index.html unreadable".into(),
    )
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
    let Some(path) = uri.path().strip_prefix(widget.prefix.as_str()).or_else(|| {
        // `/pay` for `/pay/`.
        (uri.path() == widget.prefix.trim_end_matches('/')).then_some("")
    }) else {
        return plain(StatusCode::NOT_FOUND, "not found".into());
    };
    if path.is_empty() || path == "index.html" {
        return match widget.current_index() {
            Ok(index) => index_response(&index, &method, &headers),
            Err(e) => unreadable(&e),
        };
    }
    // The file under the prefix, as `ServeDir` (which serves `dist` from `/`) names it.
    let Ok(inner) = Uri::builder().path_and_query(format!("/{path}")).build() else {
        return plain(StatusCode::NOT_FOUND, "not found".into());
    };
    let mut request = Request::new(Body::empty());
    *request.method_mut() = method;
    *request.uri_mut() = inner;
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

#[cfg(test)]
mod tests {
    use super::*;

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
