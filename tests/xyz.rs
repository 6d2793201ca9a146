//! Web-map tiles over HTTP: the cost of one tile counted at the range
//! server (opening is one GET, a tile a few more, the same tile again
//! none), a tile outside the image is `TileOutsideBounds` or fully masked
//! as asked, and bad tile coordinates are typed errors.

mod support;

use std::time::{Duration, Instant};

use async_cog::{CogReader, Error, OutsideTile, XyzRequest, web_mercator_tile_bounds};
use support::{RangeServer, fixtures_dir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tile_costs_few_requests_and_a_repeat_none() {
    let server = RangeServer::start(fixtures_dir()).await;
    server.set_latency(Duration::from_millis(20));
    let started = Instant::now();
    let cog = CogReader::open(&server.url("u8_big_header.tif")).await.unwrap();
    let opened = started.elapsed();
    assert_eq!((server.count("GET"), server.count("HEAD")), (1, 0));
    server.clear();
    // Zoom 12 over the image's centre (rio-tiler's maxzoom is 14 here).
    let started = Instant::now();
    let t = cog.read_xyz(857, 1545, 12, 256).await.unwrap();
    let cold = started.elapsed();
    let gets = server.count("GET");
    assert_eq!(t.shape(), (1, 256, 256));
    assert_eq!(
        t.array.invalid_count(),
        0,
        "a tile inside the image has no masked pixel"
    );
    assert!(t.level > 0, "zoom 12 reads an overview, read level {}", t.level);
    assert!((1..=8).contains(&gets), "{gets} GETs for one tile");
    server.clear();
    let started = Instant::now();
    let again = cog.read_xyz(857, 1545, 12, 256).await.unwrap();
    let warm = started.elapsed();
    assert_eq!(server.count("GET"), 0, "the same tile again fetched");
    assert_eq!(again.array, t.array);
    let b = web_mercator_tile_bounds(857, 1545, 12).unwrap();
    assert_eq!(t.bounds, b);
    eprintln!(
        "XYZ at 20 ms latency: open {opened:?} (1 GET); tile 12/857/1545 cold {cold:?} ({gets} GETs, level {}), warm {warm:?}",
        t.level
    );
}

#[tokio::test]
async fn tiles_outside_the_image() {
    let cog = CogReader::open(&fixtures_dir().join("u8_big_header.tif").to_string_lossy())
        .await
        .unwrap();
    match cog.read_xyz(0, 0, 3, 256).await {
        Err(Error::TileOutsideBounds { x: 0, y: 0, z: 3, .. }) => {}
        other => panic!("{:?}", other.map(|r| r.shape())),
    }
    let t = cog
        .read_xyz_with(0, 0, 3, &XyzRequest::new().outside(OutsideTile::Masked).tile_size(64))
        .await
        .unwrap();
    assert_eq!(t.shape(), (1, 64, 64));
    assert_eq!(t.array.invalid_count(), 64 * 64);
    for (x, y, z) in [(8, 0, 3), (0, 0, 31), (0, 1, 0)] {
        let e = cog.read_xyz(x, y, z, 256).await.unwrap_err();
        assert!(matches!(e, Error::InvalidRequest { .. }), "{z}/{x}/{y}: {e}");
    }
    let e = cog.read_xyz(857, 1545, 12, 0).await.unwrap_err();
    assert!(matches!(e, Error::InvalidRequest { .. }), "{e}");
    let none = CogReader::open(&fixtures_dir().join("u8_no_georef.tif").to_string_lossy())
        .await
        .unwrap();
    assert!(none.read_xyz(0, 0, 0, 256).await.is_err());
}
