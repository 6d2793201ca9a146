//! A file replaced while a reader holds it is `Changed`, never a mix of
//! versions: between open and read, and between two tiles of one read (one
//! tile already cached from the old version, the other still to fetch),
//! for local files and HTTP, and in the middle of one read at the HTTP
//! server. `tests/s3.rs` runs the same checks on S3 (moto).

mod support;

use std::time::Duration;

use async_cog::{BlockCaching, CogReader, Error, Options, ReadRequest, TileCaching, Window};
use support::{RangeServer, fixtures_dir};

const FILE: &str = "u8_big_header.tif";
const OTHER: &str = "u8_none_1b.tif";

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(rel)).unwrap()
}

/// Reads tile (0, 0) and loads the level's block arrays, lets `replace`
/// swap the object, then reads tiles (0, 0) and (1, 0) in one read: (0, 0)
/// comes from the cache, (1, 0) must be fetched, and the pin refuses it.
pub async fn changed_between_tiles(cog: &CogReader, replace: impl AsyncFnOnce()) {
    let ifd = cog.levels()[0].image.ifd;
    cog.block_offsets(ifd).await.unwrap();
    cog.block_byte_counts(ifd).await.unwrap();
    cog.get_tile(0, 0, 0).await.unwrap();
    replace().await;
    let e = cog.read_blocks(0, &[(0, 0), (1, 0)]).await.unwrap_err();
    assert!(matches!(e, Error::Changed { .. }), "between two tiles: {e:?}");
}

/// Opens, lets `replace` swap the object, then reads: `Changed`.
pub async fn changed_after_open(cog: &CogReader, replace: impl AsyncFnOnce()) {
    replace().await;
    let e = cog.get_tile(1, 1, 0).await.unwrap_err();
    assert!(matches!(e, Error::Changed { .. }), "after open: {e:?}");
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("async-cog-pin-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(FILE), fixture(FILE)).unwrap();
    dir
}

#[tokio::test]
async fn a_replaced_local_file_is_changed_not_mixed() {
    let dir = temp_dir("local");
    let path = dir.join(FILE);
    let replace = async || std::fs::write(dir.join(FILE), fixture(OTHER)).unwrap();
    let cog = CogReader::open(path.to_str().unwrap()).await.unwrap();
    changed_after_open(&cog, replace).await;
    std::fs::write(&path, fixture(FILE)).unwrap();
    let cog = CogReader::open(path.to_str().unwrap()).await.unwrap();
    changed_between_tiles(&cog, replace).await;
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn a_replaced_http_object_is_changed_not_mixed() {
    let dir = temp_dir("http");
    let server = RangeServer::start(&dir).await;
    let replace = async || std::fs::write(dir.join(FILE), fixture(OTHER)).unwrap();
    let cog = CogReader::open(&server.url(FILE)).await.unwrap();
    changed_after_open(&cog, replace).await;
    std::fs::write(dir.join(FILE), fixture(FILE)).unwrap();
    let cog = CogReader::open(&server.url(FILE)).await.unwrap();
    changed_between_tiles(&cog, replace).await;
    std::fs::remove_dir_all(&dir).ok();
}

/// Replaced in the middle of one read: the read's second row of tiles is
/// held back at the server while the file is replaced, so its request meets
/// the new version (412 to our If-Match), and the read is `Changed` instead
/// of half old and half new pixels.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_object_replaced_during_a_read_is_changed() {
    let dir = temp_dir("during");
    let server = RangeServer::start(&dir).await;
    let options = Options::default()
        .with_block_caching(BlockCaching::Off)
        .with_tile_caching(TileCaching::Off);
    let cog = CogReader::open_with(&server.url(FILE), options).await.unwrap();
    let image = cog.levels()[0].image.clone();
    let offsets = cog.block_offsets(image.ifd).await.unwrap();
    cog.block_byte_counts(image.ifd).await.unwrap();
    // Tile rows are stored in order: row 4's request (which starts at its
    // first tile's 4-byte leader) waits 1 s.
    let row4 = offsets[(4 * image.blocks_across()) as usize] - 4;
    server.slow_from(row4, Duration::from_secs(1));
    server.clear();
    let reader = cog.clone();
    let read = tokio::spawn(async move {
        let w = Window::new(0, 3 * 128, 2 * 128, 2 * 128);
        reader.read_with(ReadRequest::window(w, 0)).await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::write(dir.join(FILE), fixture(OTHER)).unwrap();
    let r = read.await.unwrap();
    let log = server.log();
    let e = r.map(|_| log.clone()).unwrap_err();
    assert!(matches!(e, Error::Changed { .. }), "during a read: {e:?}");
    assert!(
        log.iter().any(|l| l.status == 200 || l.status == 206) && log.iter().any(|l| l.status == 412),
        "the first row was served, the held one refused: {log:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
