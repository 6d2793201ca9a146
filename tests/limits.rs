//! Sizes a file or a caller asks for are checked against `Limits` before
//! anything is allocated: a huge tile, a huge read, a file claiming 65,535
//! bands. Each case once aborted the process (`memory allocation of
//! 4611686018427387904 bytes failed`) or panicked with a capacity overflow.

mod support;

use async_cog::{CogReader, Error, Limits, Options, ReadRequest, Window};
use bytes::Bytes;
use support::fixtures_dir;

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(rel)).unwrap()
}

fn le16(b: &[u8], p: usize) -> usize {
    usize::from(u16::from_le_bytes([b[p], b[p + 1]]))
}

/// Byte position of the entry for `tag` in the first IFD of a classic
/// little-endian TIFF.
fn entry_pos(b: &[u8], tag: u16) -> usize {
    let ifd = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize;
    (0..le16(b, ifd))
        .map(|i| ifd + 2 + 12 * i)
        .find(|&p| le16(b, p) == usize::from(tag))
        .unwrap_or_else(|| panic!("tag {tag} not in IFD 0"))
}

/// Rewrites the entry for `tag` of IFD 0 as one LONG holding `value`.
fn set_long(b: &mut [u8], tag: u16, value: u32) {
    let p = entry_pos(b, tag);
    b[p + 2..p + 4].copy_from_slice(&4u16.to_le_bytes());
    b[p + 4..p + 8].copy_from_slice(&1u32.to_le_bytes());
    b[p + 8..p + 12].copy_from_slice(&value.to_le_bytes());
}

fn limit_name(e: &Error) -> Option<&'static str> {
    match e {
        Error::LimitExceeded { what, .. } => Some(what),
        _ => None,
    }
}

/// A 2^31 x 2^31 tile (the 5-byte corruption that asked for 2^62 bytes) is
/// refused by `max_block_bytes` when a tile is read, naming IFD 0.
#[tokio::test]
async fn a_huge_tile_is_refused_not_allocated() {
    let mut b = read("u8_packbits.tif");
    set_long(&mut b, 322, 0x8000_0000);
    set_long(&mut b, 323, 0x8000_0000);
    let cog = CogReader::from_bytes(Bytes::from(b), Options::default()).await.unwrap();
    let e = cog.get_tile(0, 0, 0).await.unwrap_err();
    assert_eq!(limit_name(&e), Some("max_block_bytes"), "{e}");
    assert!(e.to_string().contains("IFD 0"), "{e}");
    // A window read goes through the same check.
    let e = cog.read_window(Window::new(0, 0, 4, 4), 0).await.unwrap_err();
    assert_eq!(limit_name(&e), Some("max_block_bytes"), "{e}");
}

/// A 1024x1024 tile of 3 bytes is 3 MiB: a 1 MiB `max_block_bytes` refuses
/// it, the default allows it (the limit is the rule, not a constant).
#[tokio::test]
async fn the_block_limit_is_configurable() {
    let b = read("u8_packbits.tif");
    let small = Limits::default().with_max_block_bytes(100);
    let cog = CogReader::from_bytes(Bytes::from(b.clone()), Options::default().with_limits(small))
        .await
        .unwrap();
    let e = cog.get_tile(0, 0, 0).await.unwrap_err();
    assert_eq!(limit_name(&e), Some("max_block_bytes"), "{e}");
    let cog = CogReader::from_bytes(Bytes::from(b), Options::default()).await.unwrap();
    cog.get_tile(0, 0, 0).await.unwrap();
}

/// Output shapes of 100000x100000 and usize::MAX are refused by
/// `max_read_bytes` (no capacity-overflow panic), before any request.
#[tokio::test]
async fn huge_read_shapes_are_refused() {
    let cog = CogReader::from_bytes(Bytes::from(read("u8_packbits.tif")), Options::default())
        .await
        .unwrap();
    let b = cog.profile().bounds;
    for (rows, cols) in [
        (100_000, 100_000),
        (usize::MAX, usize::MAX),
        (1, usize::MAX),
        (usize::MAX / 2, 3),
    ] {
        let e = cog.read(b, (rows, cols)).await.unwrap_err();
        assert_eq!(limit_name(&e), Some("max_read_bytes"), "{rows}x{cols}: {e}");
    }
    let req = ReadRequest::bounds(b)
        .shape(usize::MAX, usize::MAX)
        .resampling(async_cog::Resampling::Cubic);
    let e = cog.read_with(req).await.unwrap_err();
    assert_eq!(limit_name(&e), Some("max_read_bytes"), "{e}");
}

/// `read_blocks` with more tiles than `max_read_tiles` is refused.
#[tokio::test]
async fn too_many_tiles_in_one_read_are_refused() {
    let limits = Limits::default().with_max_read_tiles(2);
    let cog = CogReader::from_bytes(
        Bytes::from(read("u8_packbits.tif")),
        Options::default().with_limits(limits),
    )
    .await
    .unwrap();
    let e = cog.read_blocks(0, &[(0, 0), (1, 0), (0, 1)]).await.unwrap_err();
    assert_eq!(limit_name(&e), Some("max_read_tiles"), "{e}");
    assert_eq!(cog.read_blocks(0, &[(0, 0), (1, 0)]).await.unwrap().len(), 2);
}

/// A file claiming 65,535 samples per pixel: `preview` and `get_tile` give
/// a typed error instead of allocating gigabytes.
#[tokio::test]
async fn a_file_claiming_65535_bands_is_refused() {
    let mut b = read("u8_packbits.tif");
    let p = entry_pos(&b, 277);
    b[p + 8..p + 10].copy_from_slice(&0xffffu16.to_le_bytes());
    let cog = CogReader::from_bytes(Bytes::from(b), Options::default()).await.unwrap();
    let e = cog.preview(64).await.unwrap_err();
    assert!(limit_name(&e).is_some(), "{e}");
    let e = cog.get_tile(0, 0, 0).await.unwrap_err();
    assert!(limit_name(&e).is_some(), "{e}");
}

/// An empty band list is refused (it once made the output size 0, so any
/// shape passed the limit and the index vectors overflowed).
#[tokio::test]
async fn an_empty_band_list_is_refused() {
    let cog = CogReader::from_bytes(Bytes::from(read("u8_packbits.tif")), Options::default())
        .await
        .unwrap();
    let req = ReadRequest::bounds(cog.profile().bounds)
        .shape(1, usize::MAX)
        .bands(vec![]);
    let e = cog.read_with(req).await.unwrap_err();
    assert!(matches!(e, Error::InvalidRequest { .. }), "{e}");
}

/// A resampled read's intermediate buffers count too: a 10-pixel-wide
/// window stretched to 10 million columns with cubic would hold source
/// rows x output columns in its horizontal pass (tens of GB).
#[tokio::test]
async fn intermediate_buffers_of_a_resampled_read_are_limited() {
    let cog = CogReader::from_bytes(Bytes::from(read("u8_packbits.tif")), Options::default())
        .await
        .unwrap();
    let req = ReadRequest::window(Window::new(0, 0, 10, 200), 0)
        .shape(1, 10_000_000)
        .resampling(async_cog::Resampling::Cubic);
    let e = cog.read_with(req).await.unwrap_err();
    assert_eq!(limit_name(&e), Some("max_read_bytes"), "{e}");
}

/// Boundless windows far beyond any image (offsets near 1e18 pixels) are
/// refused, not turned into overflowing integer windows.
#[tokio::test]
async fn windows_beyond_two_to_the_53_pixels_are_refused() {
    let cog = CogReader::from_bytes(Bytes::from(read("u8_packbits.tif")), Options::default())
        .await
        .unwrap();
    for w in [
        Window::from_f64(1e18, 0.0, 4.0, 4.0),
        Window::from_f64(0.0, 0.0, 1e18, 4.0),
    ] {
        for r in [async_cog::Resampling::Nearest, async_cog::Resampling::Cubic] {
            let req = ReadRequest::window(w, 0).shape(2, 2).boundless(true).resampling(r);
            let e = cog.read_with(req).await.unwrap_err();
            assert!(matches!(e, Error::InvalidRequest { .. }), "{w:?} {r:?}: {e}");
        }
    }
}
