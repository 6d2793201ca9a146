//! From a source string to an object store and a path.
//!
//! Local paths and `file://` URLs read the file system; `http(s)://` reads
//! any server that answers ranged GETs; `s3://`, `gs://` and `az://`,
//! `azure://`, `abfs(s)://` read cloud stores with credentials from the
//! environment exactly as object_store's `from_env()` builders read them
//! (`AWS_*`, `GOOGLE_*`, `AZURE_*`). object_store's `parse_url_opts` is not
//! used because it ignores the environment.
//!
//! For S3-compatible servers, `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT`) sets the
//! endpoint; an `http://` endpoint is allowed automatically, or by
//! `AWS_ALLOW_HTTP=true`. `AWS_NO_SIGN_REQUEST=YES` reads public buckets
//! without credentials, as in the AWS CLI and GDAL.

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::path::Path;

use super::Transport;
use super::clients::shared_store;
use crate::error::{Error, Result};

/// The kind of store a source string names, from its scheme: the one
/// table of schemes, used to resolve sources and to name the service in
/// errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    /// A path or `file://`.
    File,
    /// `http(s)://`.
    Http,
    /// `s3://`, `s3a://`.
    S3,
    /// `gs://`.
    Gcs,
    /// `az://`, `azure://`, `abfs(s)://`.
    Azure,
}

impl Service {
    /// The service `src` names; `None` for an unknown scheme.
    pub(crate) fn of(src: &str) -> Option<Service> {
        let Some((scheme, _)) = src.split_once("://") else {
            return Some(Service::File);
        };
        match scheme.to_ascii_lowercase().as_str() {
            "file" => Some(Service::File),
            "http" | "https" => Some(Service::Http),
            "s3" | "s3a" => Some(Service::S3),
            "gs" => Some(Service::Gcs),
            "az" | "azure" | "abfs" | "abfss" => Some(Service::Azure),
            _ => None,
        }
    }

    /// The service as a user would name it in an error.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Service::File => "the file system",
            Service::Http => "the HTTP server",
            Service::S3 => "S3",
            Service::Gcs => "Google Cloud Storage",
            Service::Azure => "Azure Blob Storage",
        }
    }
}

/// Resolves `src` to a store, a path in it, and the display name used in
/// errors. Cloud schemes need their Cargo feature.
pub fn resolve(src: &str, transport: &Transport) -> Result<(Arc<dyn ObjectStore>, Path, String)> {
    let invalid = |message: String| Error::InvalidSource {
        url: src.to_string(),
        message,
    };
    let Some(service) = Service::of(src) else {
        let scheme = src.split_once("://").map_or("", |(s, _)| s);
        return Err(invalid(format!(
            "unknown scheme {scheme:?}; expected a path, file://, http(s)://, s3://, gs://, az://, azure:// or abfs(s)://"
        )));
    };
    if !src.contains("://") {
        return local(src, std::path::Path::new(src));
    }
    let url = url::Url::parse(src).map_err(|e| invalid(e.to_string()))?;
    // A bucket or container alone names no file: refused before any request.
    let key = || {
        let p = url.path().trim_start_matches('/');
        if p.is_empty() || p.ends_with('/') {
            return Err(invalid(
                "no object key: the URL names a bucket or folder, not a file".into(),
            ));
        }
        Path::from_url_path(p).map_err(|e| invalid(e.to_string()))
    };
    let bucket = || url.host_str().ok_or_else(|| invalid("no bucket".into()));
    let (store, key) = match service {
        Service::File => {
            let p = url
                .to_file_path()
                .map_err(|_| invalid("not a local file path".into()))?;
            return local(src, &p);
        }
        Service::Http => return http(src, &url, transport),
        Service::S3 => {
            let (bucket, key) = (bucket()?, key()?);
            (
                shared_store("s3", &authority(&url), transport, || s3(src, bucket, transport))?,
                key,
            )
        }
        Service::Gcs => {
            let (bucket, key) = (bucket()?, key()?);
            (
                shared_store("gcs", &authority(&url), transport, || gcs(src, bucket, transport))?,
                key,
            )
        }
        Service::Azure => {
            let key = key()?;
            (
                shared_store("azure", &authority(&url), transport, || azure(src, transport))?,
                key,
            )
        }
    };
    Ok((store, key, src.to_string()))
}

/// Scheme, user, host and port: what a store is built for.
fn authority(url: &url::Url) -> String {
    url[..url::Position::BeforePath].to_string()
}

/// The name that identifies the object `src` resolved to for every reader
/// (a block cache shared between readers keys by it): the URL as given, or
/// for local files the absolute, canonical path.
pub(crate) fn identity(src: &str, path: &Path) -> String {
    match src.split_once("://") {
        Some((scheme, _)) if !scheme.eq_ignore_ascii_case("file") => src.to_string(),
        _ => format!("file:///{path}"),
    }
}

fn local(src: &str, p: &std::path::Path) -> Result<(Arc<dyn ObjectStore>, Path, String)> {
    let abs = std::fs::canonicalize(p).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::NotFound {
            url: src.to_string(),
            what: "no such file".into(),
        },
        std::io::ErrorKind::PermissionDenied => Error::PermissionDenied {
            url: src.to_string(),
            message: e.to_string(),
        },
        _ => Error::InvalidSource {
            url: src.to_string(),
            message: e.to_string(),
        },
    })?;
    let path = Path::from_absolute_path(&abs).map_err(|e| Error::InvalidSource {
        url: src.to_string(),
        message: e.to_string(),
    })?;
    Ok((
        Arc::new(object_store::local::LocalFileSystem::new()),
        path,
        src.to_string(),
    ))
}

#[cfg(any(feature = "http", feature = "s3", feature = "gcs", feature = "azure"))]
fn builder_error(src: &str, e: object_store::Error) -> Error {
    Error::InvalidSource {
        url: src.to_string(),
        message: e.to_string(),
    }
}

#[cfg(not(all(feature = "http", feature = "s3", feature = "gcs", feature = "azure")))]
fn not_compiled(src: &str, feature: &str) -> Error {
    Error::InvalidSource {
        url: src.to_string(),
        message: format!("support for this scheme is not compiled in (enable the `{feature}` feature)"),
    }
}

/// object_store's retry policy from our transport settings.
#[cfg(any(feature = "http", feature = "s3", feature = "gcs", feature = "azure"))]
fn retry(transport: &Transport) -> object_store::RetryConfig {
    object_store::RetryConfig {
        max_retries: transport.max_retries,
        retry_timeout: transport.timeout.saturating_mul(
            u32::try_from(transport.max_retries)
                .unwrap_or(u32::MAX)
                .saturating_add(1),
        ),
        ..Default::default()
    }
}

/// Client settings as `(key, value)` config pairs, so that they add to what
/// `from_env()` read instead of replacing it.
#[cfg(any(feature = "s3", feature = "gcs", feature = "azure"))]
fn client_config(transport: &Transport) -> [(object_store::ClientConfigKey, String); 2] {
    use object_store::ClientConfigKey as K;
    [
        (K::Timeout, format!("{}ms", transport.timeout.as_millis())),
        (
            K::ConnectTimeout,
            format!("{}ms", transport.connect_timeout.as_millis()),
        ),
    ]
}

#[cfg(feature = "http")]
fn http(src: &str, url: &url::Url, transport: &Transport) -> Result<(Arc<dyn ObjectStore>, Path, String)> {
    let host = url.host_str().ok_or_else(|| Error::InvalidSource {
        url: src.to_string(),
        message: "no host".into(),
    })?;
    let base = match url.port() {
        Some(p) => format!("{}://{host}:{p}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    };
    let store = shared_store("http", &base, transport, || {
        let store = object_store::http::HttpBuilder::new()
            .with_url(&base)
            .with_client_options(
                object_store::ClientOptions::new()
                    .with_allow_http(true)
                    .with_timeout(transport.timeout)
                    .with_connect_timeout(transport.connect_timeout),
            )
            .with_retry(retry(transport))
            .build()
            .map_err(|e| builder_error(src, e))?;
        Ok(Arc::new(store) as Arc<dyn ObjectStore>)
    })?;
    let path = Path::from_url_path(url.path().trim_start_matches('/')).map_err(|e| Error::InvalidSource {
        url: src.to_string(),
        message: e.to_string(),
    })?;
    Ok((store, path, src.to_string()))
}

#[cfg(not(feature = "http"))]
fn http(src: &str, _: &url::Url, _: &Transport) -> Result<(Arc<dyn ObjectStore>, Path, String)> {
    Err(not_compiled(src, "http"))
}

/// The first of the endpoint variables `names` that is set, checked: an
/// `http://` or `https://` URL with a host. object_store panics on an empty
/// or scheme-less endpoint (`localhost:9000`), so a bad one is an
/// [`Error::Config`] naming the variable before any store is built.
#[cfg(any(feature = "s3", feature = "gcs", feature = "azure"))]
fn endpoint_env(names: &[&str]) -> Result<Option<String>> {
    let mut first = None;
    for &name in names {
        let Ok(value) = std::env::var(name) else { continue };
        let ok = url::Url::parse(&value)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()));
        if !ok {
            return Err(Error::Config {
                key: name.to_string(),
                value,
                message: "an http:// or https:// URL with a host, e.g. http://localhost:9000".into(),
            });
        }
        first.get_or_insert(value);
    }
    Ok(first)
}

/// Whether an endpoint [`endpoint_env`] accepted is `http://` (any case).
#[cfg(any(feature = "s3", feature = "gcs", feature = "azure"))]
fn is_plain_http(endpoint: &str) -> bool {
    url::Url::parse(endpoint).is_ok_and(|u| u.scheme() == "http")
}

/// A boolean environment variable, GDAL-style (TRUE/FALSE, YES/NO, ON/OFF,
/// 1/0, Y/N, any case); a value that is none of these is an
/// [`Error::Config`] naming the variable, instead of being read as false.
#[cfg(any(feature = "s3", feature = "gcs", feature = "azure"))]
fn env_bool(name: &str) -> Result<Option<bool>> {
    let Ok(value) = std::env::var(name) else {
        return Ok(None);
    };
    match value.trim().to_ascii_uppercase().as_str() {
        "TRUE" | "YES" | "ON" | "1" | "Y" => Ok(Some(true)),
        "FALSE" | "NO" | "OFF" | "0" | "N" | "" => Ok(Some(false)),
        _ => Err(Error::Config {
            key: name.to_string(),
            value,
            message: "TRUE or FALSE (also YES/NO, ON/OFF, 1/0)".into(),
        }),
    }
}

/// Checks every boolean variable in `names` (see [`env_bool`]); true when
/// any of `yes` is set to a true value.
#[cfg(any(feature = "s3", feature = "gcs", feature = "azure"))]
fn env_bools(names: &[&str], yes: &[&str]) -> Result<bool> {
    let mut any = false;
    for &n in names {
        any |= env_bool(n)? == Some(true) && yes.contains(&n);
    }
    Ok(any)
}

/// Refuses to build a cloud store with no credentials at all, because
/// object_store then asks the cloud's metadata service and waits for it (up
/// to 120 s where a port accepts and never answers). Credentials are any of
/// `found` set; `anonymous` says the user wants unsigned requests;
/// `ASYNC_COG_USE_METADATA=YES` asks for the metadata service.
#[cfg(any(feature = "s3", feature = "gcs", feature = "azure"))]
fn require_credentials(src: &str, found: &[&str], anonymous: bool, also: &str) -> Result<()> {
    if anonymous
        || found.iter().any(|k| std::env::var_os(k).is_some())
        || env_bool("ASYNC_COG_USE_METADATA")? == Some(true)
    {
        return Ok(());
    }
    Err(Error::Config {
        key: found.first().copied().unwrap_or("credentials").to_string(),
        value: String::new(),
        message: format!(
            "no credentials for {src}: looked for {}{also}; set ASYNC_COG_USE_METADATA=YES to use the \
             cloud's metadata service instead",
            found.join(", ")
        ),
    })
}

#[cfg(feature = "s3")]
fn s3(src: &str, bucket: &str, transport: &Transport) -> Result<Arc<dyn ObjectStore>> {
    use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
    let mut b = AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .with_retry(retry(transport));
    for (k, v) in client_config(transport) {
        b = b.with_config(AmazonS3ConfigKey::Client(k), v);
    }
    // The service-specific variable wins, as in the AWS CLI.
    let endpoint = endpoint_env(&["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"])?;
    endpoint_env(&["AWS_ENDPOINT_URL_STS"])?;
    if let Some(ep) = &endpoint {
        b = b.with_endpoint(ep);
        if is_plain_http(ep) {
            b = b.with_allow_http(true);
        }
        // S3-compatible servers rarely do virtual-hosted buckets.
        if std::env::var("AWS_VIRTUAL_HOSTED_STYLE_REQUEST").is_err() {
            b = b.with_virtual_hosted_style_request(false);
        }
    }
    let anonymous = env_bools(
        &[
            "AWS_NO_SIGN_REQUEST",
            "AWS_SKIP_SIGNATURE",
            "AWS_ALLOW_HTTP",
            "AWS_VIRTUAL_HOSTED_STYLE_REQUEST",
            "AWS_UNSIGNED_PAYLOAD",
            "AWS_S3_EXPRESS",
            "AWS_REQUEST_PAYER",
            "AWS_EC2_METADATA_DISABLED",
        ],
        &["AWS_NO_SIGN_REQUEST", "AWS_SKIP_SIGNATURE"],
    )?;
    if anonymous {
        b = b.with_skip_signature(true);
    }
    let profile = std::env::var("AWS_PROFILE")
        .map(|p| format!(" (AWS_PROFILE={p} is not read: export the profile's keys)"))
        .unwrap_or_default();
    require_credentials(
        src,
        &[
            "AWS_ACCESS_KEY_ID",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        ],
        anonymous,
        &format!("; AWS_NO_SIGN_REQUEST=YES reads public buckets{profile}"),
    )?;
    Ok(Arc::new(b.build().map_err(|e| builder_error(src, e))?))
}

#[cfg(not(feature = "s3"))]
fn s3(src: &str, _: &str, _: &Transport) -> Result<Arc<dyn ObjectStore>> {
    Err(not_compiled(src, "s3"))
}

#[cfg(feature = "gcs")]
fn gcs(src: &str, bucket: &str, transport: &Transport) -> Result<Arc<dyn ObjectStore>> {
    use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
    let endpoint = endpoint_env(&["GOOGLE_BASE_URL"])?;
    let anonymous = env_bools(&["GOOGLE_SKIP_SIGNATURE"], &["GOOGLE_SKIP_SIGNATURE"])?;
    let adc = std::env::var_os("HOME")
        .map(|h| std::path::Path::new(&h).join(".config/gcloud/application_default_credentials.json"))
        .is_some_and(|p| p.exists());
    require_credentials(
        src,
        &[
            "GOOGLE_SERVICE_ACCOUNT",
            "GOOGLE_SERVICE_ACCOUNT_PATH",
            "GOOGLE_SERVICE_ACCOUNT_KEY",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "SERVICE_ACCOUNT",
        ],
        anonymous || adc,
        ", gcloud's application default credentials; GOOGLE_SKIP_SIGNATURE=true reads public buckets",
    )?;
    let mut b = GoogleCloudStorageBuilder::from_env()
        .with_bucket_name(bucket)
        .with_retry(retry(transport));
    for (k, v) in client_config(transport) {
        b = b.with_config(GoogleConfigKey::Client(k), v);
    }
    // An http:// endpoint (an emulator) is allowed, as for S3 and Azure.
    if endpoint.as_deref().is_some_and(is_plain_http) {
        b = b.with_config(
            GoogleConfigKey::Client(object_store::ClientConfigKey::AllowHttp),
            "true",
        );
    }
    Ok(Arc::new(b.build().map_err(|e| builder_error(src, e))?))
}

#[cfg(not(feature = "gcs"))]
fn gcs(src: &str, _: &str, _: &Transport) -> Result<Arc<dyn ObjectStore>> {
    Err(not_compiled(src, "gcs"))
}

#[cfg(feature = "azure")]
fn azure(src: &str, transport: &Transport) -> Result<Arc<dyn ObjectStore>> {
    use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
    let endpoint = endpoint_env(&["AZURE_STORAGE_ENDPOINT", "AZURE_ENDPOINT"])?;
    let anonymous = env_bools(
        &[
            "AZURE_SKIP_SIGNATURE",
            "AZURE_STORAGE_USE_EMULATOR",
            "AZURE_USE_AZURE_CLI",
            "AZURE_USE_FABRIC_ENDPOINT",
            "AZURE_ALLOW_HTTP",
        ],
        &[
            "AZURE_SKIP_SIGNATURE",
            "AZURE_STORAGE_USE_EMULATOR",
            "AZURE_USE_AZURE_CLI",
        ],
    )?;
    require_credentials(
        src,
        &[
            "AZURE_STORAGE_ACCOUNT_KEY",
            "AZURE_STORAGE_ACCESS_KEY",
            "AZURE_STORAGE_MASTER_KEY",
            "AZURE_STORAGE_SAS_KEY",
            "AZURE_STORAGE_SAS_TOKEN",
            "AZURE_STORAGE_TOKEN",
            "AZURE_CLIENT_SECRET",
            "AZURE_FEDERATED_TOKEN_FILE",
        ],
        anonymous,
        "; AZURE_SKIP_SIGNATURE=true reads public containers",
    )?;
    let mut b = MicrosoftAzureBuilder::from_env()
        .with_url(src)
        .with_retry(retry(transport));
    // An http:// endpoint (Azurite, a local gateway) is allowed, as for S3.
    if endpoint.as_deref().is_some_and(is_plain_http) {
        b = b.with_allow_http(true);
    }
    for (k, v) in client_config(transport) {
        b = b.with_config(AzureConfigKey::Client(k), v);
    }
    Ok(Arc::new(b.build().map_err(|e| builder_error(src, e))?))
}

#[cfg(not(feature = "azure"))]
fn azure(src: &str, _: &Transport) -> Result<Arc<dyn ObjectStore>> {
    Err(not_compiled(src, "azure"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_local_file_is_not_found() {
        let e = resolve("/definitely/not/here.tif", &Transport::default()).unwrap_err();
        assert!(matches!(e, Error::NotFound { .. }), "{e}");
    }

    #[test]
    fn unknown_scheme_is_invalid_source() {
        let e = resolve("ftp://example.com/a.tif", &Transport::default()).unwrap_err();
        assert!(matches!(e, Error::InvalidSource { .. }), "{e}");
        assert!(e.to_string().contains("ftp"), "{e}");
    }

    #[test]
    #[cfg(any(feature = "s3", feature = "gcs", feature = "azure"))]
    fn an_http_endpoint_is_plain_http_in_any_case() {
        assert!(is_plain_http("HTTP://localhost:9000"));
        assert!(is_plain_http("http://127.0.0.1:10000/devstoreaccount1"));
        assert!(!is_plain_http("https://s3.example.com"));
    }

    #[test]
    fn a_bucket_alone_is_refused_before_any_request() {
        for src in ["s3://bucket", "s3://bucket/", "gs://bucket/dir/", "az://container"] {
            let e = resolve(src, &Transport::default()).unwrap_err();
            assert!(e.to_string().contains("no object key"), "{src}: {e}");
        }
    }
}
