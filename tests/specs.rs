//! Sharing with workers: readers, views and stacks are `Send + Sync +
//! Clone`; a view or stack described with serde (JSON here) and rebuilt in
//! a fresh reader reads the same pixels. With the header in the
//! description, rebuilding costs no request (counted at the range server)
//! and an object replaced since is still refused.

mod support;

use std::time::Duration;

use async_cog::{CogReader, CogStack, CogView, Error, Options, ReaderSpec, StackOptions, StackSpec, ViewSpec, Window};
use support::{RangeServer, fixtures_dir};

fn shareable<T: Send + Sync + Clone + 'static>() {}

#[test]
fn readers_views_and_stacks_can_be_shared() {
    shareable::<CogReader>();
    shareable::<CogView>();
    shareable::<CogStack>();
    shareable::<ViewSpec>();
    shareable::<StackSpec>();
    shareable::<ReaderSpec>();
}

fn served_copy(name: &str, dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(fixtures_dir().join(name), dir.join(name)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_rebuilt_from_json_reads_the_same_pixels_without_opening_again() {
    let dir = std::env::temp_dir().join(format!("async-cog-spec-{}", std::process::id()));
    served_copy("u8_mask_deflate.tif", &dir);
    let server = RangeServer::start(&dir).await;
    let url = server.url("u8_mask_deflate.tif");
    let cog = CogReader::open_with(&url, Options::new().with_max_concurrency(3))
        .await
        .unwrap();
    let view = cog
        .view()
        .overview(1)
        .unwrap()
        .select_bands(&[1])
        .unwrap()
        .window(Window::new(150, 170, 64, 64))
        .unwrap()
        .with_fill_value(3.0);
    let want = view.load().await.unwrap();
    assert!(want.array.invalid_count() > 0, "the window should reach past the image");

    // With the header: no request to rebuild, the same pixels after.
    let json = serde_json::to_string(&view.spec(true).unwrap()).unwrap();
    server.clear();
    let spec: ViewSpec = serde_json::from_str(&json).unwrap();
    let rebuilt = CogView::from_spec(&spec).await.unwrap();
    assert_eq!(
        server.count("GET") + server.count("HEAD"),
        0,
        "rebuilding with the header made requests"
    );
    assert_eq!(rebuilt.shape(), view.shape());
    assert_eq!(rebuilt.transform(), view.transform());
    assert_eq!(
        rebuilt.reader().options().max_concurrency(),
        3,
        "options were not carried"
    );
    let got = rebuilt.load().await.unwrap();
    assert_eq!(got.array, want.array);
    assert_eq!((got.transform, got.fill_value), (want.transform, want.fill_value));
    assert!(server.count("GET") >= 1, "the load was served from somewhere else");

    // Without the header: one GET to open.
    let json = serde_json::to_string(&view.spec(false).unwrap()).unwrap();
    server.clear();
    let rebuilt = CogView::from_spec(&serde_json::from_str(&json).unwrap()).await.unwrap();
    assert_eq!(server.count("GET"), 1);
    assert_eq!(rebuilt.load().await.unwrap().array, want.array);

    // The object replaced after the description: the rebuilt reader refuses it.
    let spec: ViewSpec = serde_json::from_str(&serde_json::to_string(&view.spec(true).unwrap()).unwrap()).unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    std::fs::copy(fixtures_dir().join("u8_jpeg_mask.tif"), dir.join("u8_mask_deflate.tif")).unwrap();
    let stale = CogView::from_spec(&spec).await.unwrap();
    let err = stale.load().await.unwrap_err();
    assert!(matches!(err, Error::Changed { .. }), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stack_rebuilt_from_json_reads_the_same_pixels() {
    let files = [
        fixtures_dir().join("u16_deflate_pred2.tif"),
        fixtures_dir().join("u16_lerc_zstd.tif"),
        fixtures_dir().join("stack_u16_shifted.tif"),
    ];
    let files: Vec<String> = files.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let stack = CogStack::open(&files, StackOptions::new().stack(false).allow_different_shapes(true))
        .await
        .unwrap()
        .isel(async_cog::Axis::Time, 1..3)
        .unwrap()
        .window(Window::new(-3, 250, 40, 70))
        .unwrap();
    let want = stack.load().await.unwrap();
    let json = serde_json::to_string(&stack.spec(true).unwrap()).unwrap();
    let rebuilt = CogStack::from_spec(&serde_json::from_str(&json).unwrap())
        .await
        .unwrap();
    assert_eq!(rebuilt.shape(), vec![2, 70, 40]);
    assert_eq!(rebuilt.transform(), stack.transform());
    let got = rebuilt.load().await.unwrap();
    assert_eq!(got.raster.array, want.raster.array);
    assert_eq!(got.shape(), want.shape());
}

/// A reader of bytes in memory has no URL to reopen from.
#[tokio::test]
async fn in_memory_readers_cannot_be_described() {
    let bytes = bytes::Bytes::from(std::fs::read(fixtures_dir().join("u8_mask_deflate.tif")).unwrap());
    let cog = CogReader::from_bytes(bytes, Options::default()).await.unwrap();
    let e = cog.spec(true).unwrap_err();
    assert!(e.to_string().contains("not opened from a URL or path"), "{e}");
}
