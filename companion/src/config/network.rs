//! The top-level keys: where the companion listens, where the widget is, who may embed it and
//! call it, and the URL and origin parsing every section uses.

use super::FileConfig;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use url::Url;

/// Addresses and origins, validated.
pub(super) struct Network {
    pub listen: SocketAddr,
    pub admin_listen: Option<SocketAddr>,
    pub public_url: Url,
    pub cors_origins: Vec<String>,
    pub api_base: String,
}

impl FileConfig {
    pub(super) fn network(&self, problems: &mut Vec<String>) -> Network {
        let listen = self.listen(problems);
        let public_url = match &self.public_url {
            Some(text) => parse_http_url("public_url", text).unwrap_or_else(|p| {
                problems.push(p);
                default_public_url(listen)
            }),
            None => default_public_url(listen),
        };
        Network {
            listen,
            admin_listen: self.admin_listen(listen, problems),
            public_url,
            cors_origins: origins("cors_origins", self.cors_origins.as_deref(), problems),
            api_base: self.api_base(problems),
        }
    }

    fn listen(&self, problems: &mut Vec<String>) -> SocketAddr {
        let text = self.listen.as_deref().unwrap_or("127.0.0.1:8080");
        text.trim().parse().unwrap_or_else(|_| {
            problems.push(format!(
                "listen: {text:?} is not an address:port such as 127.0.0.1:8080 or 0.0.0.0:8080"
            ));
            "127.0.0.1:8080".parse().expect("literal address")
        })
    }

    fn admin_listen(&self, listen: SocketAddr, problems: &mut Vec<String>) -> Option<SocketAddr> {
        let text = self.admin_listen.as_deref()?.trim();
        match text.parse::<SocketAddr>() {
            Ok(a) if a == listen && a.port() != 0 => {
                problems.push(format!(
                    "admin_listen: {a} is the public listen address; give the admin listener its own"
                ));
                None
            }
            Ok(a) => Some(a),
            Err(_) => {
                problems.push(format!(
                    "admin_listen: {text:?} is not an address:port such as 127.0.0.1:9090"
                ));
                None
            }
        }
    }

    fn api_base(&self, problems: &mut Vec<String>) -> String {
        let api_base = self
            .api_base
            .clone()
            .unwrap_or_else(|| b24pay_protocol::api::API_PREFIX.into());
        let is_path = api_base.starts_with('/') && !api_base.starts_with("//");
        if !is_path && parse_http_url("api_base", &api_base).is_err() {
            problems.push(format!(
                "api_base: {api_base:?} must be a path such as /api/v1 or an absolute http(s) URL"
            ));
        }
        if api_base
            .chars()
            .any(|c| c == '"' || c == '<' || c == '>' || c.is_whitespace())
        {
            problems.push(format!(
                "api_base: {api_base:?} contains characters a URL cannot"
            ));
        }
        api_base
    }

    /// The origins allowed to embed the widget; by default the portal it talks to.
    pub(super) fn allowed_origins(
        &self,
        portal_origin: Option<&str>,
        problems: &mut Vec<String>,
    ) -> Vec<String> {
        match self.allowed_origins.as_deref() {
            Some(list) if !list.is_empty() => origins("allowed_origins", Some(list), problems),
            _ => portal_origin.map(str::to_string).into_iter().collect(),
        }
    }
}

/// Each entry parsed as an exact origin; the bad ones listed.
fn origins(key: &str, list: Option<&[String]>, problems: &mut Vec<String>) -> Vec<String> {
    list.unwrap_or_default()
        .iter()
        .filter_map(|o| parse_origin(key, o).map_err(|p| problems.push(p)).ok())
        .collect()
}

fn default_public_url(listen: SocketAddr) -> Url {
    let host = if listen.ip().is_loopback() || listen.ip().is_unspecified() {
        "localhost".to_string()
    } else {
        listen.ip().to_string()
    };
    Url::parse(&format!("http://{host}:{}/", listen.port())).expect("valid URL")
}

/// `dist/` next to the binary, else the repository's `dist/` (for `cargo run`), else `./dist`.
pub fn default_dist_dir() -> PathBuf {
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            candidates.push(dir.join("dist"));
        }
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist"));
    candidates.push(PathBuf::from("dist"));
    candidates
        .iter()
        .find(|c| c.join("index.html").is_file())
        .cloned()
        .unwrap_or_else(|| PathBuf::from("dist"))
}

pub(super) fn parse_http_url(key: &str, text: &str) -> Result<Url, String> {
    match Url::parse(text.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(u),
        Ok(_) => Err(format!(
            "{key}: {text:?} must be an http(s) URL with a host"
        )),
        Err(e) => Err(format!("{key}: {text:?} is not a valid URL ({e})")),
    }
}

/// `scheme://host[:port]` as the browser serialises an origin.
pub fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Parses an exact origin; refuses paths, queries, wildcards and non-http schemes with a message
/// that says what is wrong.
pub fn parse_origin(key: &str, text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.contains('*') {
        return Err(format!(
            "{key}: {text:?}: wildcards are not allowed; list exact origins"
        ));
    }
    let url = match Url::parse(text) {
        Ok(u) => u,
        Err(_) => {
            return Err(format!(
                "{key}: {text:?} is not an origin; write scheme://host[:port], e.g. https://shop.bitrix24.ru"
            ))
        }
    };
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("{key}: {text:?} must be an http(s) origin"));
    }
    if url.path() != "/" {
        return Err(format!(
            "{key}: {text:?} is not an origin (it has a path); write scheme://host[:port]"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(format!(
            "{key}: {text:?} is not an origin (it has a query, fragment or user); write scheme://host[:port]"
        ));
    }
    Ok(origin_of(&url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(
            parse_origin("k", "https://A.bitrix24.ru").unwrap(),
            "https://a.bitrix24.ru"
        );
        assert_eq!(
            parse_origin("k", "https://a.bitrix24.ru/").unwrap(),
            "https://a.bitrix24.ru"
        );
        assert_eq!(
            parse_origin("k", "http://127.0.0.1:8081").unwrap(),
            "http://127.0.0.1:8081"
        );
        assert!(parse_origin("k", "https://a.ru/shop")
            .unwrap_err()
            .contains("has a path"));
        assert!(parse_origin("k", "https://*.bitrix24.ru")
            .unwrap_err()
            .contains("wildcard"));
        assert!(parse_origin("k", "a.bitrix24.ru").is_err());
        assert!(parse_origin("k", "ftp://a.ru").is_err());
    }
}
