//! `s3://` against a real S3-compatible server (moto) started on loopback:
//! `AWS_ENDPOINT_URL` with plain http, signed requests, and
//! `AWS_NO_SIGN_REQUEST=YES` for anonymous reads. The `cog` binary runs in a
//! child process so that each case gets its own environment.
//!
//! Needs Python's `moto[server]` (`python3 -m pip install 'moto[server]'`),
//! hence `#[ignore]`: `.ci/run` installs it and runs
//! `cargo test --test s3 -- --include-ignored`.

mod support;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{fixtures, fixtures_dir};

struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_moto() -> Moto {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("python3")
        .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 with moto[server] installed (python3 -m pip install 'moto[server]')");
    let endpoint = format!("http://127.0.0.1:{port}");
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "moto did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Moto { child, endpoint }
}

/// Creates bucket `cogs`, uploads `files` (relative to fixtures/) readable by
/// anyone, and a copy of the first as `private.tif` readable only when signed.
fn upload(endpoint: &str, files: &[&str]) {
    let script = format!(
        "import boto3,sys\n\
         s3=boto3.client('s3',endpoint_url='{endpoint}',aws_access_key_id='test',aws_secret_access_key='test',region_name='us-east-1')\n\
         s3.create_bucket(Bucket='cogs')\n\
         for f in sys.argv[1:]: s3.upload_file('{d}/'+f,'cogs',f,ExtraArgs={{'ACL':'public-read'}})\n\
         s3.upload_file('{d}/'+sys.argv[1],'cogs','private.tif')\n",
        d = fixtures_dir().display()
    );
    let ok = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(files)
        .status()
        .unwrap();
    assert!(ok.success(), "upload to moto failed");
}

fn cog_info(src: &str, env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cog"));
    c.args(["info", "--json", src]);
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ENDPOINT",
        "AWS_NO_SIGN_REQUEST",
    ] {
        c.env_remove(k);
    }
    c.env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    c.envs(env.iter().copied());
    c.output().unwrap()
}

#[test]
#[ignore = "needs python3 -m pip install 'moto[server]'; run by .ci/run"]
fn s3_with_endpoint_url_signed_and_anonymous() {
    let moto = start_moto();
    let files = ["u8_jpeg_mask.tif", "real/hot-oam_drone_jpeg_mask.tif"];
    upload(&moto.endpoint, &files);
    let expected = fixtures();
    for f in files {
        let exp = &expected.iter().find(|(r, _)| r == f).unwrap().1;
        let url = format!("s3://cogs/{f}");
        let signed = [
            ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ];
        let anonymous = [
            ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
            ("AWS_NO_SIGN_REQUEST", "YES"),
        ];
        for env in [&signed[..], &anonymous[..]] {
            let out = cog_info(&url, env);
            assert!(
                out.status.success(),
                "{url} {env:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            for k in ["width", "height", "count", "dtype", "epsg", "mask"] {
                assert_eq!(j[k], exp[k], "{url} {k}");
            }
            assert_eq!(j["requests"]["open_count"], 1, "{url}: opening costs one GET");
        }
    }
    // Anonymous access to a private object is refused, and says so; signed works.
    let anonymous = [
        ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
        ("AWS_NO_SIGN_REQUEST", "YES"),
    ];
    let out = cog_info("s3://cogs/private.tif", &anonymous);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("permission denied: s3://cogs/private.tif"));
    let signed = [
        ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ];
    assert!(cog_info("s3://cogs/private.tif", &signed).status.success());
    let out = cog_info(
        "s3://cogs/missing.tif",
        &[("AWS_ENDPOINT_URL", &moto.endpoint), ("AWS_NO_SIGN_REQUEST", "YES")],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not found: s3://cogs/missing.tif (no such object)"),
        "{err}"
    );
    // A missing bucket says so, not just "not found".
    let out = cog_info(
        "s3://no-such-bucket/a.tif",
        &[("AWS_ENDPOINT_URL", &moto.endpoint), ("AWS_NO_SIGN_REQUEST", "YES")],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("(no such bucket)"), "{err}");
}

/// The S3 leg of `tests/pinning.rs`: an object replaced (a new PUT, a new
/// ETag) after open, or between two tiles of one read, is `Changed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs python3 -m pip install 'moto[server]'; run by .ci/run"]
async fn s3_object_replaced_is_changed_not_mixed() {
    use std::sync::Arc;

    use async_cog::{CogReader, Error, Options};
    use object_store::{ObjectStore, ObjectStoreExt, PutPayload, path::Path};

    let moto = start_moto();
    upload(&moto.endpoint, &["u8_big_header.tif"]);
    let store: Arc<dyn ObjectStore> = Arc::new(
        object_store::aws::AmazonS3Builder::new()
            .with_endpoint(&moto.endpoint)
            .with_allow_http(true)
            .with_bucket_name("cogs")
            .with_region("us-east-1")
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .build()
            .unwrap(),
    );
    let read = |rel: &str| std::fs::read(fixtures_dir().join(rel)).unwrap();
    let put = async |rel: &str| {
        store
            .put(&Path::from("pin.tif"), PutPayload::from(read(rel)))
            .await
            .unwrap();
    };
    let open = async || {
        CogReader::from_store(store.clone(), Path::from("pin.tif"), Options::default())
            .await
            .unwrap()
    };
    // After open.
    put("u8_big_header.tif").await;
    let cog = open().await;
    put("u8_none_1b.tif").await;
    let e = cog.get_tile(1, 1, 0).await.unwrap_err();
    assert!(matches!(e, Error::Changed { .. }), "after open: {e:?}");
    // Between two tiles of one read.
    put("u8_big_header.tif").await;
    let cog = open().await;
    let ifd = cog.levels()[0].image.ifd;
    cog.block_offsets(ifd).await.unwrap();
    cog.block_byte_counts(ifd).await.unwrap();
    cog.get_tile(0, 0, 0).await.unwrap();
    put("u8_none_1b.tif").await;
    let e = cog.read_blocks(0, &[(0, 0), (1, 0)]).await.unwrap_err();
    assert!(matches!(e, Error::Changed { .. }), "between two tiles: {e:?}");
}
