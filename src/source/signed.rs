//! Ranged GETs of an `http(s)://` URL sent exactly as given: presigned S3
//! URLs, Azure SAS URLs, token query strings and `user:pass@` credentials.
//!
//! object_store's HttpStore joins a path to a base URL, so it drops the
//! query string, and with it the signature. Rather than lose it, URLs that
//! carry a query or credentials go through this small client on reqwest
//! (the same reqwest object_store uses). It speaks only what a reader
//! needs: one ranged GET with `If-Match`/`If-Unmodified-Since`, a timeout
//! per attempt, retries with backoff on transport errors, 429 and 5xx, and
//! errors mapped onto object_store's so that [`super::ByteSource`] treats
//! both alike. Credentials go in an `Authorization: Basic` header, never in
//! a message: the display name of such a URL has its query and password
//! redacted.

use std::ops::Range;
use std::time::Duration;

use bytes::Bytes;
use object_store::ObjectMeta;
use object_store::path::Path;

use super::Transport;
use crate::error::{Error, Result};

/// A URL read with ranged GETs, as given.
pub(crate) struct SignedUrl {
    client: reqwest::Client,
    /// The URL without its user and password.
    url: url::Url,
    credentials: Option<(String, String)>,
    retries: usize,
}

impl std::fmt::Debug for SignedUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedUrl")
            .field("url", &redacted(&self.url))
            .field("credentials", &self.credentials.as_ref().map(|_| "***"))
            .finish()
    }
}

/// What a GET may be conditioned on.
#[derive(Debug, Default)]
pub(crate) struct Conditions {
    pub(crate) if_match: Option<String>,
    pub(crate) if_unmodified_since: Option<chrono::DateTime<chrono::Utc>>,
}

impl SignedUrl {
    /// A client for `url` with the timeouts and retries of `transport`.
    pub(crate) fn new(src: &str, url: &url::Url, transport: &Transport) -> Result<SignedUrl> {
        let client = super::clients::shared_client(transport).map_err(|e| Error::InvalidSource {
            url: redacted(url),
            message: format!("cannot build an HTTP client: {}", e.without_url()),
        })?;
        let mut bare = url.clone();
        let credentials = (!url.username().is_empty()).then(|| {
            let decode = |s: &str| percent_decode(s);
            (decode(url.username()), decode(url.password().unwrap_or("")))
        });
        let _ = src;
        if bare.set_username("").and(bare.set_password(None)).is_err() {
            return Err(Error::InvalidSource {
                url: redacted(url),
                message: "cannot remove the credentials from the URL".into(),
            });
        }
        Ok(SignedUrl {
            client,
            url: bare,
            credentials,
            retries: transport.max_retries,
        })
    }

    /// One ranged GET (retried as object_store retries): the object's
    /// metadata from the answer's headers, and the body.
    pub(crate) async fn get(
        &self,
        range: &Range<u64>,
        when: &Conditions,
    ) -> std::result::Result<(ObjectMeta, Bytes), object_store::Error> {
        let mut attempt = 0;
        loop {
            match self.get_once(range, when).await {
                Err(Attempt::Retry(e)) if attempt < self.retries => {
                    attempt += 1;
                    let backoff = Duration::from_millis(100u64.saturating_mul(1 << attempt.min(5)));
                    tracing::debug!(url = %redacted(&self.url), attempt, error = %e, "retrying");
                    tokio::time::sleep(backoff).await;
                }
                Err(Attempt::Retry(e) | Attempt::Final(e)) => return Err(e),
                Ok(done) => return Ok(done),
            }
        }
    }

    async fn get_once(
        &self,
        range: &Range<u64>,
        when: &Conditions,
    ) -> std::result::Result<(ObjectMeta, Bytes), Attempt> {
        let last = range.end.saturating_sub(1).max(range.start);
        let mut req = self
            .client
            .get(self.url.clone())
            .header(reqwest::header::RANGE, format!("bytes={}-{last}", range.start));
        if let Some((user, pass)) = &self.credentials {
            req = req.basic_auth(user, Some(pass));
        }
        if let Some(tag) = &when.if_match {
            req = req.header(reqwest::header::IF_MATCH, tag);
        }
        if let Some(t) = when.if_unmodified_since {
            req = req.header(
                reqwest::header::IF_UNMODIFIED_SINCE,
                t.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
            );
        }
        let res = req.send().await.map_err(|e| Attempt::Retry(self.generic(e)))?;
        let status = res.status();
        let path = Path::from(self.url.path().trim_start_matches('/'));
        let fail = |e: object_store::Error| Err(Attempt::Final(e));
        match status.as_u16() {
            206 => {}
            404 => {
                return fail(object_store::Error::NotFound {
                    path: path.to_string(),
                    source: format!("HTTP {status}").into(),
                });
            }
            412 => {
                return fail(object_store::Error::Precondition {
                    path: path.to_string(),
                    source: format!("HTTP {status}").into(),
                });
            }
            401 => {
                return fail(object_store::Error::Unauthenticated {
                    path: path.to_string(),
                    source: format!("HTTP {status}: the credentials were refused").into(),
                });
            }
            403 => {
                return fail(object_store::Error::PermissionDenied {
                    path: path.to_string(),
                    source: format!("HTTP {status}: access refused (expired or wrong signature?)").into(),
                });
            }
            429 | 500..=599 => return Err(Attempt::Retry(self.message(format!("HTTP {status}")))),
            200 => {
                return fail(self.message(format!(
                    "HTTP {status}: the server ignored the Range header (it must answer 206)"
                )));
            }
            _ => return fail(self.message(format!("HTTP {status}"))),
        }
        let headers = res.headers();
        let text = |h: reqwest::header::HeaderName| headers.get(h).and_then(|v| v.to_str().ok()).map(str::to_string);
        // "bytes a-b/size": the bytes asked for, or fewer at the object's end.
        let content_range = text(reqwest::header::CONTENT_RANGE).and_then(|v| {
            let (span, total) = v.trim().strip_prefix("bytes ")?.split_once('/')?;
            let (a, b) = span.split_once('-')?;
            Some((
                a.trim().parse::<u64>().ok()?,
                b.trim().parse::<u64>().ok()?,
                total.trim().parse::<u64>().ok()?,
            ))
        });
        let size = match content_range {
            Some((a, b, size)) if a == range.start && b < range.end && b >= a => size,
            _ => {
                return fail(self.message(format!(
                    "a 206 answer for other bytes than {}..{} (Content-Range {:?})",
                    range.start,
                    range.end,
                    text(reqwest::header::CONTENT_RANGE)
                )));
            }
        };
        let last_modified = text(reqwest::header::LAST_MODIFIED)
            .and_then(|v| chrono::DateTime::parse_from_rfc2822(&v).ok())
            .map_or_else(chrono::DateTime::<chrono::Utc>::default, |t| {
                t.with_timezone(&chrono::Utc)
            });
        let meta = ObjectMeta {
            location: path,
            last_modified,
            size,
            e_tag: text(reqwest::header::ETAG),
            version: None,
        };
        // The body, read no further than the range asked for.
        let want = usize::try_from(range.end - range.start).unwrap_or(usize::MAX);
        let mut body = Vec::with_capacity(want.min(64 << 20));
        let mut res = res;
        while let Some(chunk) = res.chunk().await.map_err(|e| Attempt::Retry(self.generic(e)))? {
            if body.len() + chunk.len() > want {
                return fail(self.message(format!("the body runs past the {want} bytes asked for")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((meta, Bytes::from(body)))
    }

    /// reqwest's error without the URL it would print (with its secrets).
    fn generic(&self, e: reqwest::Error) -> object_store::Error {
        object_store::Error::Generic {
            store: "HTTP",
            source: Box::new(e.without_url()),
        }
    }

    fn message(&self, m: String) -> object_store::Error {
        object_store::Error::Generic {
            store: "HTTP",
            source: format!("{} {m}", redacted(&self.url)).into(),
        }
    }
}

/// A failed attempt: worth retrying or not.
enum Attempt {
    Retry(object_store::Error),
    Final(object_store::Error),
}

/// The name that identifies the object in caches: the redacted URL plus a
/// hash of the whole URL, so that URLs differing only in their query
/// (`versionId=`, `snapshot=`, another signature) never share an entry,
/// while no secret is kept in the name.
pub(crate) fn identity(url: &url::Url) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    url.as_str().hash(&mut h);
    format!("{} #{:016x}", redacted(url), h.finish())
}

/// Whether `url` must be sent as given (it carries a query or credentials).
pub(crate) fn needs_exact_url(url: &url::Url) -> bool {
    url.query().is_some() || !url.username().is_empty() || url.password().is_some()
}

/// `url` with its query, user and password replaced, for messages, logs
/// and cache names.
pub(crate) fn redacted(url: &url::Url) -> String {
    let mut u = url.clone();
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    if !u.username().is_empty() {
        let _ = u.set_username("***");
    }
    if u.query().is_some() {
        u.set_query(Some("(redacted)"));
    }
    u.to_string()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (b, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_reach_the_display_name() {
        let u = url::Url::parse("https://user:p%40ss@host/a.tif?X-Amz-Signature=abc&sig=def").unwrap();
        assert!(needs_exact_url(&u));
        let shown = redacted(&u);
        assert!(
            !shown.contains("abc") && !shown.contains("p%40ss") && !shown.contains("user"),
            "{shown}"
        );
        let other = url::Url::parse("https://user:p%40ss@host/a.tif?X-Amz-Signature=abc&versionId=2").unwrap();
        assert_ne!(identity(&u), identity(&other), "queries never share a cache entry");
        assert!(!identity(&u).contains("abc"));
        assert_eq!(percent_decode("p%40ss"), "p@ss");
        assert!(!needs_exact_url(&url::Url::parse("https://host/a.tif").unwrap()));
    }
}
