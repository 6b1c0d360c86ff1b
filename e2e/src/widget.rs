//! The widget's build (trunk's `dist/`), and where it sits on the sandbox's store page.

use std::path::PathBuf;

/// The store page's iframe (the portal's template gives it this id).
pub const FRAME_ID: &str = "rest-payment-frame";

/// `B24PAY_E2E_DIST`, else the repository's `dist/`. Panics with what to run when the widget is
/// not built: the browser tests must fail, not skip, without it.
pub fn dist_dir() -> PathBuf {
    let dir = std::env::var_os("B24PAY_E2E_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::repo_root().join("dist"));
    assert!(
        dir.join("index.html").is_file(),
        "the widget is not built: no index.html in {}. Run `trunk build --release` at the \
         repository root (scripts/test.sh does), or set B24PAY_E2E_DIST to a build.",
        dir.display()
    );
    dir
}
