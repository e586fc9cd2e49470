//! Query strings as typed parameters. [`Query<T>`] is axum's `Query` with this server's
//! rejection: a bad parameter is a 400 in the crate's error shape (JSON under `/api/`,
//! a page elsewhere), naming the parameter, where axum's own answers in plain text.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

use crate::error::{Error, Result};

/// The query string deserialised as `T`. Take it as `Result<Query<T>, Error>` where the
/// handler must check something else first, or answer a page rather than JSON.
#[derive(Debug)]
pub(crate) struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self> {
        parse(parts.uri.query().unwrap_or("")).map(Query)
    }
}

/// Percent-decoded (a bad escape stays as it is, bytes that are not UTF-8 become
/// U+FFFD); a parameter given twice counts once, with its last value, so a link that
/// appends `&page=2` to one that has a page still works.
pub(crate) fn parse<T: DeserializeOwned>(raw: &str) -> Result<T> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    let mut last: Vec<&(String, String)> = Vec::with_capacity(pairs.len());
    for pair in pairs.iter().rev() {
        if !last.iter().any(|p| p.0 == pair.0) {
            last.push(pair);
        }
    }
    let mut once = form_urlencoded::Serializer::new(String::new());
    for (k, v) in last.into_iter().rev() {
        once.append_pair(k, v);
    }
    let once = once.finish();
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(once.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let name = e.path().to_string();
        Error::BadRequest(format!("{name}: {}", e.into_inner()))
    })
}

/// A non-negative whole number (`limit=abc` is refused, saying what was given).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Whole(pub usize);

impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v = String::deserialize(d)?;
        v.parse()
            .map(Whole)
            .map_err(|_| D::Error::custom(format!("expected a whole number, got {v:?}")))
    }
}

/// A number parameter's value: `default` when absent, at most `max`.
pub(crate) fn whole(given: Option<Whole>, default: usize, max: usize) -> usize {
    given.map_or(default, |w| w.0.min(max))
}

/// `?limit=&offset=` of an API listing.
#[derive(Debug, Deserialize)]
pub(crate) struct Paging {
    pub limit: Option<Whole>,
    pub offset: Option<Whole>,
}

/// `?page=` of a page's listing.
#[derive(Debug, Deserialize)]
pub(crate) struct PageNo {
    pub page: Option<Whole>,
}

/// `?t=` (a time to open a session at) and `?hit=` (a command to show) are links'
/// hints: a bad one is ignored, the page still opens.
pub(crate) fn lenient<'de, D: Deserializer<'de>, T: std::str::FromStr>(
    d: D,
) -> std::result::Result<Option<T>, D::Error> {
    Ok(String::deserialize(d)?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct P {
        q: Option<String>,
        n: Option<Whole>,
    }

    #[test]
    fn values_are_decoded_and_the_last_of_a_name_wins() {
        let p: P = parse("q=a+b%2Fc&n=1&q=%zz%4").unwrap();
        assert_eq!(p.q.as_deref(), Some("%zz%4"));
        assert_eq!(whole(p.n, 5, 10), 1);
        let p: P = parse("&&q=x%2By+z").unwrap();
        assert_eq!(p.q.as_deref(), Some("x+y z"));
        assert_eq!(whole(p.n, 5, 10), 5);
    }

    #[test]
    fn a_bad_number_names_its_parameter() {
        let e = parse::<P>("n=-1").unwrap_err();
        assert_eq!(e.to_string(), r#"n: expected a whole number, got "-1""#);
        assert_eq!(e.status(), axum::http::StatusCode::BAD_REQUEST);
        assert_eq!(whole(parse::<P>("n=99").unwrap().n, 5, 10), 10);
    }
}
