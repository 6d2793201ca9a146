//! Bad files and bad servers give typed errors that say what and where:
//! never a panic, never a hang, never an allocation the file sizes.

mod support;

use std::time::{Duration, Instant};

use async_cog::{CogReader, Error, Limits, Options};
use bytes::Bytes;
use support::{RangeServer, fixtures, fixtures_dir};

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(rel)).unwrap()
}

async fn open(bytes: Vec<u8>) -> Result<CogReader, Error> {
    CogReader::from_bytes(Bytes::from(bytes), Options::default()).await
}

fn le16(b: &[u8], p: usize) -> usize {
    usize::from(u16::from_le_bytes([b[p], b[p + 1]]))
}
fn le32(b: &[u8], p: usize) -> usize {
    u32::from_le_bytes([b[p], b[p + 1], b[p + 2], b[p + 3]]) as usize
}

/// Offsets of the IFDs of a classic little-endian TIFF, and of each IFD's entries.
fn ifd_offsets(b: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut off = le32(b, 4);
    while off != 0 && out.len() < 100 {
        out.push(off);
        off = le32(b, off + 2 + 12 * le16(b, off));
    }
    out
}

/// Byte position of the entry for `tag` in the IFD at `ifd`.
fn entry_pos(b: &[u8], ifd: usize, tag: u16) -> usize {
    (0..le16(b, ifd))
        .map(|i| ifd + 2 + 12 * i)
        .find(|&p| le16(b, p) == usize::from(tag))
        .unwrap_or_else(|| panic!("tag {tag} not in IFD at {ifd}"))
}

const MASK_COG: &str = "u8_mask_deflate.tif";

#[tokio::test]
async fn every_truncation_of_the_header_is_an_error() {
    // Classic LE with a mask, BigTIFF, and big-endian with overviews.
    for rel in [MASK_COG, "u16_bigtiff.tif", "u16_bigendian_pred2.tif"] {
        let exp = fixtures().into_iter().find(|(r, _)| r == rel).unwrap().1;
        let end = exp["layout"]["arrays_end"].as_u64().unwrap() as usize;
        let full = read(rel);
        assert!(open(full.clone()).await.is_ok(), "{rel} opens whole");
        for len in 0..end {
            let r = open(full[..len].to_vec()).await;
            assert!(r.is_err(), "{rel} cut to {len} of {end} header bytes opened");
        }
    }
}

#[tokio::test]
async fn corrupted_counts_and_offsets_name_ifd_tag_and_range() {
    let good = read(MASK_COG);
    let ifds = ifd_offsets(&good);
    let ifd0 = ifds[0];

    // An IFD entry count far beyond the limit.
    let mut b = good.clone();
    b[ifd0..ifd0 + 2].copy_from_slice(&0xffffu16.to_le_bytes());
    let e = open(b.clone()).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::LimitExceeded {
                what: "max_tags_per_ifd",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("IFD 0"), "{e}");
    // Without limits, the same count runs past the end of the file.
    let e = CogReader::from_bytes(Bytes::from(b), Options::default().with_limits(Limits::unlimited()))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Format { .. }), "{e}");

    // A TileOffsets count of 2^31 - 1.
    let mut b = good.clone();
    let p = entry_pos(&b, ifd0, 324);
    b[p + 4..p + 8].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let e = open(b).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::LimitExceeded {
                what: "max_array_len",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("TileOffsets (324)"), "{e}");

    // TileByteCounts stored past the end of the file.
    let mut b = good.clone();
    let p = entry_pos(&b, ifd0, 325);
    b[p + 8..p + 12].copy_from_slice(&0x7000_0000u32.to_le_bytes());
    let e = open(b).await.unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Format { .. }), "{e}");
    assert!(
        msg.contains("<memory>")
            && msg.contains("IFD 0")
            && msg.contains("TileByteCounts (325)")
            && msg.contains("bytes 1879048192.."),
        "{msg}"
    );

    // The first IFD offset past the end.
    let mut b = good.clone();
    b[4..8].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    let e = open(b).await.unwrap_err();
    assert!(e.to_string().contains("past the end"), "{e}");

    // The last IFD points back to the first: a loop.
    let mut b = good.clone();
    let last = *ifds.last().unwrap();
    let next = last + 2 + 12 * le16(&b, last);
    b[next..next + 4].copy_from_slice(&(ifd0 as u32).to_le_bytes());
    let e = open(b).await.unwrap_err();
    assert!(e.to_string().contains("IFD loop"), "{e}");

    // An IFD that points to itself.
    let mut b = good.clone();
    let next = ifd0 + 2 + 12 * le16(&b, ifd0);
    b[next..next + 4].copy_from_slice(&(ifd0 as u32).to_le_bytes());
    assert!(open(b).await.unwrap_err().to_string().contains("IFD loop"));

    // A zero width.
    let mut b = good.clone();
    let p = entry_pos(&b, ifd0, 256);
    b[p + 8..p + 10].copy_from_slice(&0u16.to_le_bytes());
    let e = open(b).await.unwrap_err();
    assert!(e.to_string().contains("ImageWidth (256)"), "{e}");

    // Fewer offsets than tiles.
    let mut b = good.clone();
    let p = entry_pos(&b, ifd0, 324);
    b[p + 4..p + 8].copy_from_slice(&1u32.to_le_bytes());
    let e = open(b).await.unwrap_err();
    assert!(e.to_string().contains("blocks"), "{e}");

    // Not a TIFF at all.
    let e = open(b"PK\x03\x04 a zip file, not a tiff".to_vec()).await.unwrap_err();
    assert!(e.to_string().contains("not a TIFF"), "{e}");
    assert!(open(Vec::new()).await.is_err(), "empty input");
}

#[tokio::test]
async fn random_corruption_never_panics() {
    // Deterministic xorshift, so a failure can be replayed.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for rel in [
        MASK_COG,
        "u16_bigtiff.tif",
        "u16_bigendian_pred2.tif",
        "real/rasterstats_f32_mask.tif",
    ] {
        let good = read(rel);
        let header = 2400.min(good.len());
        let (mut ok, mut err) = (0, 0);
        for _ in 0..1500 {
            let mut b = good.clone();
            for _ in 0..=(next() % 4) {
                let pos = (next() % header as u64) as usize;
                b[pos] = next() as u8;
            }
            match open(b).await {
                Ok(_) => ok += 1,
                Err(_) => err += 1,
            }
        }
        // Reaching here means no panic; the corruption must also bite.
        assert!(
            err > 100,
            "{rel}: only {err} of {} corrupted headers were rejected",
            ok + err
        );
    }
}

#[tokio::test]
async fn http_404_and_403_are_typed() {
    let server = RangeServer::start(fixtures_dir()).await;
    let e = CogReader::open(&server.url("nope.tif")).await.unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    assert!(e.to_string().contains("nope.tif"), "{e}");
    let e = CogReader::open(&server.url("forbidden/a.tif")).await.unwrap_err();
    assert!(matches!(e, Error::PermissionDenied { .. }), "{e}");
    assert_eq!(server.count("HEAD"), 0);
}

#[tokio::test]
async fn connection_refused_fails_fast() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let t = Instant::now();
    let opts = Options::default().with_max_retries(1);
    let e = CogReader::open_with(&format!("http://127.0.0.1:{port}/a.tif"), opts)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    assert!(e.to_string().contains(&port.to_string()), "{e}");
    // The cause, not just "error sending request".
    assert!(e.to_string().to_lowercase().contains("refused"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(20), "took {:?}", t.elapsed());
}

#[tokio::test]
async fn slow_server_times_out() {
    let server = RangeServer::start(fixtures_dir()).await;
    server.set_latency(Duration::from_secs(5));
    let opts = Options::default()
        .with_timeout(Duration::from_millis(300))
        .with_max_retries(0);
    let t = Instant::now();
    let e = CogReader::open_with(&server.url(MASK_COG), opts).await.unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    assert!(
        e.to_string().to_lowercase().contains("timed out"),
        "the cause is named: {e}"
    );
    assert!(t.elapsed() < Duration::from_secs(4), "took {:?}", t.elapsed());
}

#[tokio::test]
async fn object_replaced_after_open_is_changed_not_mixed() {
    let dir = std::env::temp_dir().join(format!("async-cog-changed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.tif"), read("u8_big_header.tif")).unwrap();
    let server = RangeServer::start(&dir).await;
    let cog = CogReader::open(&server.url("a.tif")).await.unwrap();
    // The level-0 byte counts lie past the opening GET: loading them is a new request.
    std::fs::write(dir.join("a.tif"), read("u8_none_1b.tif")).unwrap();
    let e = cog.block_byte_counts(0).await.unwrap_err();
    assert!(matches!(e, Error::Changed { .. }), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// NaN and infinite coordinates are refused with a typed error: `point(NaN,
/// NaN)` once returned pixel (0, 0), and infinite bounds a NaN transform.
#[tokio::test]
async fn non_finite_coordinates_are_refused() {
    let cog = open(read(MASK_COG)).await.unwrap();
    for (x, y) in [(f64::NAN, f64::NAN), (f64::INFINITY, 0.0), (0.0, f64::NEG_INFINITY)] {
        let e = cog.point(x, y).await.unwrap_err();
        assert!(matches!(e, Error::InvalidRequest { .. }), "point({x}, {y}): {e}");
    }
    let b = cog.profile().bounds;
    for bad in [
        async_cog::Bounds { minx: f64::NAN, ..b },
        async_cog::Bounds {
            maxx: f64::INFINITY,
            ..b
        },
    ] {
        let e = cog.read(bad, (8, 8)).await.unwrap_err();
        assert!(matches!(e, Error::InvalidRequest { .. }), "{bad:?}: {e}");
    }
    let w = async_cog::Window::from_f64(0.0, 0.0, f64::NAN, 4.0);
    let e = cog.read_window(w, 0).await.unwrap_err();
    assert!(matches!(e, Error::InvalidRequest { .. }), "{e}");
}

/// A body shorter than the range asked for (the object being long enough)
/// is a transport problem: asked once more, and reported as `Io`, not as a
/// broken file, when it happens again.
#[tokio::test]
async fn a_short_body_is_retried_then_an_io_error() {
    let server = RangeServer::start(fixtures_dir()).await;
    let cog = CogReader::open(&server.url(MASK_COG)).await.unwrap();
    server.short_next(1);
    let t = cog.get_tile(0, 0, 0).await.unwrap().array;
    assert_eq!(support::tile_hashes(&t), support::gdal_tile_hashes(MASK_COG, 0, 0, 0));
    server.short_next(2);
    let e = cog.get_tile(1, 1, 0).await.unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
}

/// A presigned-style URL is sent with its query string, and `user:pass@`
/// as basic auth (the server refuses both otherwise): the file opens and a
/// tile equals GDAL's. The secrets never appear in messages.
#[tokio::test]
async fn signed_urls_and_credentials_are_sent_as_given() {
    let server = RangeServer::start(fixtures_dir()).await;
    let signed = server.url(&format!("signed/{MASK_COG}?X-Amz-Expires=60&sig=ok"));
    let cog = CogReader::open(&signed).await.unwrap();
    assert_eq!(server.count("GET"), 1, "one GET to open, no HEAD");
    let t = cog.get_tile(0, 0, 0).await.unwrap().array;
    assert_eq!(support::tile_hashes(&t), support::gdal_tile_hashes(MASK_COG, 0, 0, 0));
    assert!(!cog.url().contains("sig=ok"), "the query is redacted: {}", cog.url());

    let wrong = server.url(&format!("signed/{MASK_COG}?sig=token-3fa9"));
    let e = CogReader::open(&wrong).await.unwrap_err();
    assert!(matches!(e, Error::PermissionDenied { .. }), "{e}");
    assert!(
        !e.to_string().contains("token-3fa9"),
        "secrets stay out of messages: {e}"
    );

    let with_user = format!("http://reader:p%40ss@{}/auth/{MASK_COG}", server.addr);
    let cog = CogReader::open(&with_user).await.unwrap();
    cog.get_tile(1, 1, 0).await.unwrap();
    assert!(!cog.url().contains("p%40ss"), "{}", cog.url());
    let bad_user = format!("http://reader:nope@{}/auth/{MASK_COG}", server.addr);
    let e = CogReader::open(&bad_user).await.unwrap_err();
    assert!(matches!(e, Error::PermissionDenied { .. }), "{e}");
    // A transport error (nothing listens) keeps the signature out too.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = format!("http://127.0.0.1:{port}/a.tif?sig=token-3fa9");
    let e = CogReader::open_with(&refused, Options::default().with_max_retries(0))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    assert!(
        !e.to_string().contains("token-3fa9"),
        "secrets stay out of messages: {e}"
    );
    let missing = server.url("signed/none.tif?sig=ok");
    let e = CogReader::open(&missing).await.unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
}

/// The deadline bounds one request with all its retries: a server that
/// never answers holds a read about `deadline`, not (retries + 1) x timeout.
#[tokio::test]
async fn the_deadline_bounds_a_request_with_its_retries() {
    let server = RangeServer::start(fixtures_dir()).await;
    server.set_latency(Duration::from_secs(10));
    let opts = Options::default()
        .with_timeout(Duration::from_millis(800))
        .with_max_retries(5)
        .with_deadline(Duration::from_millis(1200));
    let t = Instant::now();
    let e = CogReader::open_with(&server.url(MASK_COG), opts).await.unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    assert!(e.to_string().contains("deadline"), "{e}");
    assert!(t.elapsed() < Duration::from_millis(2500), "took {:?}", t.elapsed());
}

/// Timeouts and retries that a caller-built store or in-memory bytes cannot
/// apply are refused with a `Config` error instead of being silently
/// ignored; the deadline (our own timer) applies everywhere and is taken.
#[tokio::test]
async fn transport_options_that_cannot_apply_are_refused() {
    let b = Bytes::from(read("u8_packbits.tif"));
    let timeout = Options::new().with_timeout(Duration::from_secs(1));
    let e = CogReader::from_bytes(b.clone(), timeout.clone()).await.unwrap_err();
    assert!(matches!(e, Error::Config { .. }), "{e}");
    let store: std::sync::Arc<dyn object_store::ObjectStore> =
        std::sync::Arc::new(object_store::memory::InMemory::new());
    let path = object_store::path::Path::from("a.tif");
    object_store::ObjectStoreExt::put(store.as_ref(), &path, b.clone().into())
        .await
        .unwrap();
    let retries = Options::new().with_max_retries(0);
    let e = CogReader::from_store(store.clone(), path.clone(), retries)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Config { .. }), "{e}");
    let deadline = Options::new().with_deadline(Duration::from_secs(5));
    assert!(CogReader::from_store(store, path, deadline.clone()).await.is_ok());
    assert!(CogReader::from_bytes(b, deadline).await.is_ok());
}

/// Arguments no read can satisfy are typed errors, never panics or
/// attempts: tile coordinates and levels at their type's maximum, a
/// zero-sized output or window, inverted bounds, band 0 and a band past
/// the count.
#[tokio::test]
async fn bad_arguments_are_typed_errors() {
    let cog = open(read(MASK_COG)).await.unwrap();
    let invalid = |e: &Error| matches!(e, Error::InvalidRequest { .. });
    for (x, y, z) in [(u64::MAX, 0, 0), (0, u64::MAX, 0), (0, 0, usize::MAX)] {
        let e = cog.get_tile(x, y, z).await.unwrap_err();
        assert!(invalid(&e), "tile ({x}, {y}, {z}): {e}");
    }
    let e = cog.read_blocks(0, &[(0, 0), (u64::MAX, u64::MAX)]).await.unwrap_err();
    assert!(invalid(&e), "a batch with one block off the grid: {e}");
    let b = cog.profile().bounds;
    for shape in [(0, 8), (8, 0), (0, 0)] {
        let e = cog.read(b, shape).await.unwrap_err();
        assert!(invalid(&e), "shape {shape:?}: {e}");
    }
    let inverted = async_cog::Bounds {
        minx: b.maxx,
        maxx: b.minx,
        ..b
    };
    let e = cog.read(inverted, (8, 8)).await.unwrap_err();
    assert!(invalid(&e), "inverted bounds: {e}");
    let e = cog
        .read_window(async_cog::Window::new(0, 0, 0, 0), 0)
        .await
        .unwrap_err();
    assert!(invalid(&e), "an empty window: {e}");
    let count = cog.profile().count;
    for band in [0, count + 1, usize::MAX] {
        let req = async_cog::ReadRequest::bounds(b).shape(8, 8).bands(vec![band]);
        let e = cog.read_with(req).await.unwrap_err();
        assert!(invalid(&e), "band {band}: {e}");
    }
}
