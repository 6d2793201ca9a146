//! One backend suite over every store a user can name: a local path, a
//! `file://` URL, bytes in memory, nginx over `http://`, S3 (moto), Azure
//! (Azurite) and GCS (gcp-storage-emulator behind a header proxy), each a
//! real server on loopback. Every store must give what the local file
//! gives: the profile, a block, a window and a bounds read of a masked
//! file, equal to the sample and the mask; opening costs one GET where the
//! server logs requests; an object replaced after open is `Changed`; the
//! failures a user meets (refused credentials, missing object or bucket,
//! server down, timeout, no credentials) say what is wrong.
//!
//! The servers come from `tests/backends/run.sh`, which `.ci/run` calls: it
//! installs and starts them, uploads the fixtures, exports their endpoints
//! (`ASYNC_COG_TEST_*`, `AWS_*`, `AZURE_*`, `GOOGLE_*`) and runs this file.
//! A plain `cargo test` lists every case here as ignored, with the reason.

mod support;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_cog::{Bounds, CogReader, Error, Options, Raster, Window};
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, path::Path};
use support::fixtures_dir;

/// A masked file (internal mask, JPEG) and a real third-party one.
const FILES: [&str; 2] = ["u8_jpeg_mask.tif", "real/hot-oam_drone_jpeg_mask.tif"];

/// The harness's variable `name`.
fn env(name: &str) -> String {
    assert!(
        std::env::var_os("ASYNC_COG_TEST_BACKENDS").is_some(),
        "needs the servers: tests/backends/run.sh starts them and runs this suite"
    );
    std::env::var(name).unwrap_or_else(|_| panic!("tests/backends/run.sh did not export {name}"))
}

/// Every remote URL naming fixture `rel`, by store.
fn remote_urls(rel: &str) -> Vec<(&'static str, String)> {
    vec![
        ("nginx", format!("{}/{rel}", env("ASYNC_COG_TEST_NGINX"))),
        ("s3", format!("s3://cogs/{rel}")),
        ("azure", format!("az://cogs/{rel}")),
        ("gcs", format!("gs://cogs/{rel}")),
    ]
}

/// What is compared between stores: a block, a window and a bounds read.
async fn reads(cog: &CogReader) -> Vec<Raster> {
    let p = cog.profile().clone();
    let (w, h) = (p.width as f64, p.height as f64);
    let window = Window::new((p.width / 4) as i64, (p.height / 3) as i64, p.width / 2, p.height / 2);
    let t = p.transform;
    let (x0, y0) = (t.c + t.a * w * 0.1, t.f + t.e * h * 0.2);
    let (x1, y1) = (t.c + t.a * w * 0.7, t.f + t.e * h * 0.9);
    let bounds = Bounds {
        minx: x0.min(x1),
        miny: y0.min(y1),
        maxx: x0.max(x1),
        maxy: y0.max(y1),
    };
    vec![
        cog.get_tile(0, 0, 0).await.unwrap(),
        cog.read_window(window, 0).await.unwrap(),
        cog.read(bounds, (97, 131)).await.unwrap(),
    ]
}

fn same(what: &str, a: &[Raster], b: &[Raster]) {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(x.array == y.array, "{what}: read {i} differs from the local file's");
        assert_eq!(x.transform, y.transform, "{what}: read {i} transform");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the servers: tests/backends/run.sh"]
async fn every_store_reads_what_the_local_file_reads() {
    env("ASYNC_COG_TEST_NGINX");
    for rel in FILES {
        let path = fixtures_dir().join(rel);
        let local = CogReader::open(path.to_str().unwrap()).await.unwrap();
        assert!(
            local.profile().nodata.is_some() || rel.contains("mask"),
            "{rel} is masked"
        );
        let expected = reads(&local).await;
        assert!(
            expected.iter().any(|r| !r.array.mask.is_all_valid()),
            "{rel}: the reads cover masked pixels"
        );
        let mut opened = Vec::new();
        let file_url = format!("file://{}", path.canonicalize().unwrap().display());
        opened.push(("file://", CogReader::open(&file_url).await));
        let bytes = bytes::Bytes::from(std::fs::read(&path).unwrap());
        opened.push(("memory", CogReader::from_bytes(bytes, Options::default()).await));
        for (store, url) in remote_urls(rel) {
            opened.push((store, CogReader::open(&url).await));
        }
        for (store, cog) in opened {
            let what = format!("{store} {rel}");
            let cog = cog.unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(cog.profile(), local.profile(), "{what}: profile");
            assert!(
                cog.open_stats().requests <= 1,
                "{what}: opening costs one request at most"
            );
            same(&what, &expected, &reads(&cog).await);
        }
    }
}

/// Requests counted at the servers that log them: opening is one GET and
/// no HEAD, a block one more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the servers: tests/backends/run.sh"]
async fn opening_is_one_get_at_the_server() {
    let nginx = env("ASYNC_COG_TEST_NGINX");
    let logs = [
        ("nginx", env("ASYNC_COG_TEST_NGINX_LOG"), format!("{nginx}/count.tif")),
        ("gcs", env("ASYNC_COG_TEST_GCS_LOG"), "gs://cogs/count.tif".to_string()),
    ];
    // A file whose first block lies beyond the opening 16 KiB.
    std::fs::copy(
        fixtures_dir().join(FILES[1]),
        std::path::Path::new(&env("ASYNC_COG_TEST_NGINX_ROOT")).join("count.tif"),
    )
    .unwrap();
    put(&gcs(), "count.tif", FILES[1]).await;
    for (store, log, url) in logs {
        // The proxy logs the path as object_store encodes it.
        let seen = || -> Vec<String> {
            std::fs::read_to_string(&log)
                .unwrap()
                .lines()
                .filter(|l| l.contains("/count.tif") || l.contains("/cogs/count%2Etif"))
                // Reads only: the PUT that made the object may be logged late.
                .filter(|l| l.contains("\"GET ") || l.contains("\"HEAD "))
                .map(str::to_string)
                .collect()
        };
        // The servers write a line once the answer is sent: wait for the
        // lines expected, then a little longer for any extra one.
        let settle = async |n: usize| {
            let t = Instant::now();
            while seen().len() < n && t.elapsed() < Duration::from_secs(5) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            seen()
        };
        let before = seen().len();
        let cog = CogReader::open(&url).await.unwrap();
        let open = settle(before + 1).await.split_off(before);
        assert_eq!(open.len(), 1, "{store}: opening asked {open:#?}");
        assert!(open[0].contains("GET"), "{store}: {open:?}");
        cog.get_tile(0, 0, 0).await.unwrap();
        let all = settle(before + 2).await.split_off(before);
        assert_eq!(all.len(), 2, "{store}: a block is one more request: {all:#?}");
    }
}

fn s3() -> Arc<dyn ObjectStore> {
    Arc::new(
        object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name("cogs")
            .with_allow_http(true)
            .build()
            .unwrap(),
    )
}

fn azure() -> Arc<dyn ObjectStore> {
    Arc::new(
        object_store::azure::MicrosoftAzureBuilder::from_env()
            .with_container_name("cogs")
            .with_allow_http(true)
            .build()
            .unwrap(),
    )
}

fn gcs() -> Arc<dyn ObjectStore> {
    Arc::new(
        // object_store's GCS client asks for a token before a PUT even
        // when told to skip signatures; the proxy ignores it.
        object_store::gcp::GoogleCloudStorageBuilder::from_env()
            .with_bucket_name("cogs")
            .with_config(object_store::gcp::GoogleConfigKey::BearerToken, "test")
            .with_config(
                object_store::gcp::GoogleConfigKey::Client(object_store::ClientConfigKey::AllowHttp),
                "true",
            )
            .build()
            .unwrap(),
    )
}

async fn put(store: &Arc<dyn ObjectStore>, key: &str, rel: &str) {
    let bytes = std::fs::read(fixtures_dir().join(rel)).unwrap();
    store.put(&Path::from(key), PutPayload::from(bytes)).await.unwrap();
}

/// An object replaced after open (a new ETag) is `Changed` at the next
/// read, on every remote store, never a mix of two files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the servers: tests/backends/run.sh"]
async fn an_object_replaced_after_open_is_changed() {
    let nginx = env("ASYNC_COG_TEST_NGINX");
    let root = std::path::PathBuf::from(env("ASYNC_COG_TEST_NGINX_ROOT"));
    let (first, second) = ("u8_big_header.tif", "u8_none_1b.tif");
    std::fs::copy(fixtures_dir().join(first), root.join("pin.tif")).unwrap();
    let cog = CogReader::open(&format!("{nginx}/pin.tif")).await.unwrap();
    std::fs::copy(fixtures_dir().join(second), root.join("pin.tif")).unwrap();
    let e = cog.get_tile(1, 1, 0).await.unwrap_err();
    assert!(matches!(e, Error::Changed { .. }), "nginx: {e:?}");
    for (name, store, url) in [
        ("s3", s3(), "s3://cogs/pin.tif"),
        ("azure", azure(), "az://cogs/pin.tif"),
        ("gcs", gcs(), "gs://cogs/pin.tif"),
    ] {
        put(&store, "pin.tif", first).await;
        let cog = CogReader::open(url).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        put(&store, "pin.tif", second).await;
        let e = cog.get_tile(1, 1, 0).await.unwrap_err();
        assert!(matches!(e, Error::Changed { .. }), "{name}: {e:?}");
    }
}

/// A presigned S3 URL and an Azure SAS URL (over http, as the emulators
/// serve them), and https URLs with and without a query string, read like
/// the file itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the servers: tests/backends/run.sh"]
async fn presigned_and_sas_urls_read_like_the_file() {
    let presigned = env("ASYNC_COG_TEST_S3_PRESIGNED_URL");
    let sas = env("ASYNC_COG_TEST_AZURE_SAS_URL");
    let local = CogReader::open(fixtures_dir().join(FILES[0]).to_str().unwrap())
        .await
        .unwrap();
    let expected = reads(&local).await;
    // Over TLS (a CA of the harness's own, trusted through SSL_CERT_FILE):
    // with a query string, as presigned and SAS URLs have, which takes our
    // own client, and without, which takes object_store's.
    let tls = env("ASYNC_COG_TEST_NGINX_TLS");
    let tls_query = format!("{tls}/{}?X-Amz-Signature=abc&sig=def", FILES[0]);
    let tls_plain = format!("{tls}/{}", FILES[0]);
    for (name, url) in [
        ("presigned S3", presigned),
        ("Azure SAS", sas),
        ("https with a query string", tls_query),
        ("https", tls_plain),
    ] {
        let cog = CogReader::open(&url).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(cog.profile(), local.profile(), "{name}: profile");
        same(name, &expected, &reads(&cog).await);
    }
}

/// `cog info --json src` in a child process with exactly `vars` of the
/// cloud variables set (the harness's others are removed), so that each
/// case has its own credentials.
fn cog_info(src: &str, vars: &[(&str, &str)]) -> (bool, String, Duration) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cog"));
    c.args(["info", "--json", src]);
    for (k, _) in std::env::vars() {
        let cloud = ["AWS_", "AZURE_", "AZURITE_", "GOOGLE_"]
            .iter()
            .any(|p| k.starts_with(p));
        if cloud && !k.contains("METADATA") {
            c.env_remove(k);
        }
    }
    // An empty HOME: no gcloud or AWS files of the machine's user count.
    let home = std::env::temp_dir().join("async-cog-backends-home");
    std::fs::create_dir_all(&home).unwrap();
    c.env("HOME", &home);
    c.env("AWS_REGION", "us-east-1").envs(vars.iter().copied());
    let t = Instant::now();
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.success(), err, t.elapsed())
}

/// What a case is, its source, its variables, and the message expected
/// (empty: it succeeds).
type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, &'a str);

/// The failures a user meets, each with a message that says what to fix.
#[test]
#[ignore = "needs the servers: tests/backends/run.sh"]
fn failures_say_what_is_wrong() {
    let s3_auth = env("ASYNC_COG_TEST_S3_AUTH_ENDPOINT");
    let key_id = env("ASYNC_COG_TEST_S3_AUTH_KEY_ID");
    let secret = env("ASYNC_COG_TEST_S3_AUTH_SECRET");
    let s3_open = std::env::var("AWS_ENDPOINT_URL").unwrap();
    let closed = env("ASYNC_COG_TEST_CLOSED_PORT");
    let nginx = env("ASYNC_COG_TEST_NGINX");
    let azurite = std::env::var("AZURITE_BLOB_STORAGE_URL").unwrap();
    let azure = [
        ("AZURE_STORAGE_USE_EMULATOR", "true"),
        ("AZURITE_BLOB_STORAGE_URL", azurite.as_str()),
    ];
    let google = std::env::var("GOOGLE_BASE_URL").unwrap();
    let gcs = [("GOOGLE_BASE_URL", google.as_str()), ("GOOGLE_SKIP_SIGNATURE", "true")];
    let anonymous = [("AWS_ENDPOINT_URL", s3_open.as_str()), ("AWS_NO_SIGN_REQUEST", "YES")];
    let signed = [
        ("AWS_ENDPOINT_URL", s3_open.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ];
    let down = format!("http://127.0.0.1:{closed}");
    let cases: Vec<Case> = vec![
        // Credentials.
        (
            "signed S3 works",
            format!("s3://cogs/{}", FILES[0]),
            signed.to_vec(),
            "",
        ),
        (
            "anonymous S3 of a public object works",
            format!("s3://cogs/{}", FILES[0]),
            anonymous.to_vec(),
            "",
        ),
        (
            "right keys at the server with IAM",
            format!("s3://cogs/{}", FILES[0]),
            vec![
                ("AWS_ENDPOINT_URL", &s3_auth),
                ("AWS_ACCESS_KEY_ID", &key_id),
                ("AWS_SECRET_ACCESS_KEY", &secret),
            ],
            "",
        ),
        (
            "wrong keys",
            format!("s3://cogs/{}", FILES[0]),
            vec![
                ("AWS_ENDPOINT_URL", &s3_auth),
                ("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG0"),
                ("AWS_SECRET_ACCESS_KEY", "wrong"),
            ],
            "permission denied: s3://cogs/u8_jpeg_mask.tif: S3 refused access: the credentials are wrong",
        ),
        (
            "anonymous read of a private object",
            "s3://cogs/private.tif".into(),
            anonymous.to_vec(),
            "permission denied: s3://cogs/private.tif: S3 refused access",
        ),
        (
            "anonymous Azure read of a public container",
            format!("az://public/{}", FILES[0]),
            vec![azure[0], azure[1], ("AZURE_SKIP_SIGNATURE", "true")],
            "",
        ),
        (
            "anonymous Azure read of a private container",
            format!("az://cogs/{}", FILES[0]),
            vec![azure[0], azure[1], ("AZURE_SKIP_SIGNATURE", "true")],
            "permission denied: az://cogs/u8_jpeg_mask.tif: Azure Blob Storage refused access",
        ),
        // Missing things.
        (
            "missing S3 object",
            "s3://cogs/missing.tif".into(),
            signed.to_vec(),
            "not found: s3://cogs/missing.tif (no such object)",
        ),
        (
            "missing S3 bucket",
            "s3://no-such-bucket/a.tif".into(),
            signed.to_vec(),
            "not found: s3://no-such-bucket/a.tif (no such bucket)",
        ),
        (
            "missing Azure blob",
            "az://cogs/missing.tif".into(),
            azure.to_vec(),
            "not found: az://cogs/missing.tif (no such object)",
        ),
        (
            "missing Azure container",
            "az://no-such-container/a.tif".into(),
            azure.to_vec(),
            "not found: az://no-such-container/a.tif (no such bucket)",
        ),
        (
            "missing GCS object",
            "gs://cogs/missing.tif".into(),
            gcs.to_vec(),
            "not found: gs://cogs/missing.tif (no such object)",
        ),
        (
            "missing GCS bucket",
            "gs://no-such-bucket/a.tif".into(),
            gcs.to_vec(),
            "not found: gs://no-such-bucket/a.tif (no such bucket)",
        ),
        (
            "missing file on nginx",
            format!("{nginx}/missing.tif"),
            vec![],
            "not found",
        ),
        // Servers down.
        (
            "http server down",
            format!("{down}/a.tif"),
            vec![],
            "Connection refused",
        ),
        (
            "S3 endpoint down",
            "s3://cogs/a.tif".into(),
            vec![
                ("AWS_ENDPOINT_URL", &down),
                ("AWS_ACCESS_KEY_ID", "test"),
                ("AWS_SECRET_ACCESS_KEY", "test"),
            ],
            "Connection refused",
        ),
        // No credentials at all: refused at once, naming what was looked for.
        (
            "no AWS credentials",
            "s3://cogs/a.tif".into(),
            vec![],
            "no credentials for s3://cogs/a.tif: looked for AWS_ACCESS_KEY_ID",
        ),
        (
            "no Azure credentials",
            "az://cogs/a.tif".into(),
            vec![("AZURE_STORAGE_ACCOUNT_NAME", "acct")],
            "no credentials for az://cogs/a.tif: looked for AZURE_STORAGE_ACCOUNT_KEY",
        ),
        (
            "no GCS credentials",
            "gs://cogs/a.tif".into(),
            vec![],
            "no credentials for gs://cogs/a.tif: looked for GOOGLE_SERVICE_ACCOUNT",
        ),
    ];
    let mut report = Vec::new();
    for (what, src, vars, message) in &cases {
        let (ok, err, took) = cog_info(src, vars);
        if message.is_empty() {
            assert!(ok, "{what}: {err}");
        } else {
            assert!(!ok, "{what}: {src} opened");
            assert!(err.contains(message), "{what}: expected {message:?} in {err:?}");
            assert!(took < Duration::from_secs(10), "{what}: took {took:?}");
        }
        report.push(format!("{what}: {}", err.trim()));
    }
    println!("{}", report.join("\n"));
}

/// A server that accepts and never answers: the read times out within the
/// configured timeout and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the servers: tests/backends/run.sh"]
async fn a_silent_server_times_out_and_says_so() {
    env("ASYNC_COG_TEST_NGINX");
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let options = Options::default()
        .with_timeout(Duration::from_millis(500))
        .with_max_retries(0);
    let t = Instant::now();
    let e = CogReader::open_with(&format!("http://127.0.0.1:{port}/a.tif"), options)
        .await
        .unwrap_err();
    drop(silent);
    assert!(t.elapsed() < Duration::from_secs(5), "took {:?}", t.elapsed());
    let msg = e.to_string();
    println!("silent server: {msg}");
    assert!(msg.contains("timed out") || msg.contains("timeout"), "{msg}");
}
