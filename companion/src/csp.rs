//! The widget page's Content-Security-Policy. Nothing runs but our own files, wasm, and the inline
//! module loader trunk writes into index.html — allowed by its sha256 hash, computed from the
//! exact page served, so a changed build can never run an unlisted inline script.

use base64::Engine;
use sha2::{Digest, Sha256};

/// `'sha256-…'` of every inline element `tag` (`script` or `style`) in `html`: elements without a
/// `src` attribute, hashed over their exact text content as the browser does.
pub fn inline_hashes(html: &str, tag: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let open = format!("<{tag}");
    let close = format!("</{tag}");
    let mut hashes = Vec::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find(&open) {
        let start = at + found;
        let after_name = start + open.len();
        // `<scripts>` or `<script-x>` is another element.
        if !lower[after_name..]
            .starts_with(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
        {
            at = after_name;
            continue;
        }
        let Some(tag_end) = lower[after_name..].find('>') else {
            break;
        };
        let attrs = &lower[after_name..after_name + tag_end];
        let body_start = after_name + tag_end + 1;
        let Some(body_len) = lower[body_start..].find(&close) else {
            break;
        };
        if !has_attribute(attrs, "src") {
            let body = &html[body_start..body_start + body_len];
            hashes.push(sha256_source(body));
        }
        at = body_start + body_len + close.len();
    }
    hashes
}

/// `'sha256-BASE64'` for a CSP source list.
pub fn sha256_source(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

fn has_attribute(attrs: &str, name: &str) -> bool {
    attrs
        .split(|c: char| c.is_ascii_whitespace())
        .any(|part| part == name || part.starts_with(&format!("{name}=")))
}

/// Origins a configured acquirer's own script needs on the widget page (Stripe.js for 3-D
/// Secure): empty unless one is configured, so a page that charges only through the test
/// acquirer can load nothing from anywhere else.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AcquirerSources {
    /// `script-src`: where the acquirer's script is loaded from.
    pub script: Vec<String>,
    /// `frame-src`: the frames that script opens (3-D Secure challenges).
    pub frame: Vec<String>,
    /// `connect-src`: the API that script calls.
    pub connect: Vec<String>,
}

/// Everything the policy depends on.
pub struct Policy<'a> {
    /// Portal origins allowed to frame the widget; empty means none may.
    pub frame_ancestors: &'a [String],
    /// The API's origin when it is not this server's.
    pub api_origin: Option<&'a str>,
    pub script_hashes: &'a [String],
    pub style_hashes: &'a [String],
    pub acquirer: &'a AcquirerSources,
}

impl Policy<'_> {
    pub fn header_value(&self) -> String {
        let join = |extra: &[String]| extra.iter().map(|s| format!(" {s}")).collect::<String>();
        let frame_ancestors = if self.frame_ancestors.is_empty() {
            "'none'".to_string()
        } else {
            self.frame_ancestors.join(" ")
        };
        let connect = match self.api_origin {
            Some(o) => format!("'self' {o}{}", join(&self.acquirer.connect)),
            None => format!("'self'{}", join(&self.acquirer.connect)),
        };
        // Without a frame source `default-src 'none'` refuses every frame.
        let frames = if self.acquirer.frame.is_empty() {
            String::new()
        } else {
            format!(" frame-src{};", join(&self.acquirer.frame))
        };
        format!(
            "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'{}{}; style-src 'self'{}; \
             connect-src {connect};{frames} img-src 'self' data:; font-src 'self'; \
             frame-ancestors {frame_ancestors}; base-uri 'none'; form-action 'none'",
            join(self.script_hashes),
            join(&self.acquirer.script),
            join(self.style_hashes),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_only_inline_scripts() {
        let html = r#"<head><script src="/loader-1.js"></script>
<script type="module">import init from '/w.js';init('/w.wasm');</script>
<SCRIPT>x()</SCRIPT><scripts>no</scripts></head>"#;
        let hashes = inline_hashes(html, "script");
        assert_eq!(
            hashes,
            vec![
                sha256_source("import init from '/w.js';init('/w.wasm');"),
                sha256_source("x()")
            ]
        );
        // A well-known vector: sha256("alert('Hello, world.');").
        assert_eq!(
            sha256_source("alert('Hello, world.');"),
            "'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='"
        );
    }

    #[test]
    fn policy_text() {
        let origins = vec!["https://a.bitrix24.ru".to_string()];
        let p = Policy {
            frame_ancestors: &origins,
            api_origin: None,
            script_hashes: &["'sha256-abc'".to_string()],
            style_hashes: &[],
            acquirer: &AcquirerSources::default(),
        };
        let v = p.header_value();
        assert!(v.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-abc';"));
        assert!(v.contains("frame-ancestors https://a.bitrix24.ru;"));
        assert!(v.contains("base-uri 'none'; form-action 'none'"));
        let none = Policy {
            frame_ancestors: &[],
            api_origin: Some("https://api.example"),
            script_hashes: &[],
            style_hashes: &[],
            acquirer: &AcquirerSources::default(),
        };
        let v = none.header_value();
        assert!(v.contains("frame-ancestors 'none'"));
        assert!(v.contains("connect-src 'self' https://api.example;"));
        assert!(!v.contains("frame-src"), "no acquirer: no frames at all");
    }

    #[test]
    fn acquirer_sources_only_where_they_belong() {
        let stripe = AcquirerSources {
            script: vec!["https://js.stripe.com".into()],
            frame: vec![
                "https://js.stripe.com".into(),
                "https://hooks.stripe.com".into(),
            ],
            connect: vec!["https://api.stripe.com".into()],
        };
        let p = Policy {
            frame_ancestors: &[],
            api_origin: None,
            script_hashes: &["'sha256-abc'".to_string()],
            style_hashes: &[],
            acquirer: &stripe,
        };
        let v = p.header_value();
        assert!(
            v.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-abc' https://js.stripe.com;"),
            "{v}"
        );
        assert!(
            v.contains("frame-src https://js.stripe.com https://hooks.stripe.com;"),
            "{v}"
        );
        assert!(
            v.contains("connect-src 'self' https://api.stripe.com;"),
            "{v}"
        );
        assert!(v.contains("style-src 'self';"), "{v}");
    }
}
