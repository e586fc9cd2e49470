//! Who may ask. On loopback (the default) only requests for loopback host names are
//! answered, token or not, so a web page elsewhere cannot reach the server through DNS
//! rebinding; a server bound beyond loopback answers any host name and needs a token.
//! With a token, every page, asset and API call needs it: `Authorization: Bearer
//! <token>`, or the cookie set when a one-time link `/?token=<token>` is opened. Tokens
//! are compared in constant time.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::error::{Error, PageError};
use crate::AppState;

pub const COOKIE: &str = "fixcast_token";

pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let refuse = |e: Error| {
        if api {
            e.into_response()
        } else {
            PageError(e).into_response()
        }
    };
    if state.loopback_hosts_only() {
        if let Some(host) = req.headers().get(header::HOST) {
            if !is_loopback_host(host) {
                return refuse(Error::Forbidden(
                    "this server answers only to localhost; to serve other machines, bind another address with a token (--bind, --token)".into(),
                ));
            }
        }
    }
    let Some(token) = state.token() else {
        return next.run(req).await;
    };
    if let Some(given) = query_token(req.uri().query()) {
        if !same(&given, token) {
            return refuse(Error::Unauthorized);
        }
        return login_redirect(req.uri(), token);
    }
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let cookie = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        .next();
    match bearer.or(cookie) {
        Some(given) if same(given, token) => next.run(req).await,
        _ => refuse(Error::Unauthorized),
    }
}

/// Compares in time that does not depend on where the strings differ.
fn same(given: &str, token: &str) -> bool {
    given.as_bytes().ct_eq(token.as_bytes()).into()
}

fn is_loopback_host(host: &HeaderValue) -> bool {
    let Ok(host) = host.to_str() else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The value of the first `token=` in a query string, percent-decoded.
fn query_token(query: Option<&str>) -> Option<String> {
    let pair = query?.split('&').find(|kv| kv.starts_with("token="))?;
    form_urlencoded::parse(pair.as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
}

/// Sets the cookie and sends the browser to the same page without the token in its
/// address (so it is not left in the history or shared by copying the URL).
fn login_redirect(uri: &axum::http::Uri, token: &str) -> Response {
    let rest: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("token="))
        .collect();
    // Always a path on this site: `//evil.example/x` (or `/\evil.example`) would send
    // the browser to another one.
    let mut to = format!("/{}", uri.path().trim_start_matches(['/', '\\']));
    if !rest.is_empty() {
        to.push('?');
        to.push_str(&rest.join("&"));
    }
    let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/");
    let mut res = StatusCode::SEE_OTHER.into_response();
    let h = res.headers_mut();
    if let (Ok(loc), Ok(c)) = (HeaderValue::from_str(&to), HeaderValue::from_str(&cookie)) {
        h.insert(header::LOCATION, loc);
        h.insert(header::SET_COOKIE, c);
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_from_the_query_decoded() {
        assert_eq!(query_token(Some("a=1&token=x%2By+z")), Some("x+y z".into()));
        assert_eq!(query_token(Some("a=1")), None);
        assert_eq!(
            query_token(Some("token=%zz%4&token=b")),
            Some("%zz%4".into())
        );
    }

    #[test]
    fn only_loopback_names_are_local() {
        for ok in ["localhost:7878", "127.0.0.1:1", "[::1]:7878", "LOCALHOST"] {
            assert!(is_loopback_host(&HeaderValue::from_static(ok)), "{ok}");
        }
        for bad in ["evil.example:7878", "127.evil.example", "[::2]:1"] {
            assert!(!is_loopback_host(&HeaderValue::from_static(bad)), "{bad}");
        }
    }
}
