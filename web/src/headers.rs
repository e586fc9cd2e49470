//! Security headers on every answer: pages, assets, the API and its errors, refusals of
//! the token guard, and the 404s. Pages get a policy that runs only this server's
//! scripts (recordings never are scripts); everything else may run nothing at all.

use axum::http::{header, HeaderValue};
use axum::response::Response;

/// The player is a script from this server; recordings never are. `wasm-unsafe-eval`:
/// the player's terminal emulator is WebAssembly.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// For what is not a page (JSON, event streams, assets): nothing runs or loads from it.
const DATA_CSP: &str =
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub async fn secure(mut res: Response) -> Response {
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        let csp = if html { PAGE_CSP } else { DATA_CSP };
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Addresses may carry a one-time `?token=`; other sites never see them.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // For browsers that predate `frame-ancestors`.
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}
