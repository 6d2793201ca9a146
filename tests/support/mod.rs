//! Test support: a real HTTP range server on loopback, and fixture helpers.
//!
//! The server serves files from a directory with `Range`, `ETag` and
//! `If-Match` as object stores do, logs every request it answers (method,
//! path, range, status, bytes), and can add latency. Request-count tests
//! assert on this log: what the server saw, not what our code believes it
//! sent. Paths under `/forbidden/` answer 403.
#![allow(dead_code)]

/// The CLI's `.npy` reader and writer, shared with the tests.
#[allow(dead_code)]
#[path = "../../src/bin/cog/npy.rs"]
pub mod npy;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri, header};

/// One request the server answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    /// GET, HEAD, ...
    pub method: String,
    /// URL path.
    pub path: String,
    /// Served byte range (end exclusive), for 206 answers.
    pub range: Option<(u64, u64)>,
    /// HTTP status.
    pub status: u16,
    /// Body bytes sent.
    pub bytes: u64,
    /// When the request arrived.
    pub started: std::time::Instant,
    /// When the answer was ready.
    pub finished: std::time::Instant,
}

/// What the server tells clients to tell versions of a file apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Validators {
    /// A strong ETag and Last-Modified (the default, as S3 does).
    #[default]
    Strong,
    /// A weak ETag (`W/"..."`) and Last-Modified; `If-Match` with a weak
    /// tag fails (412), as RFC 9110's strong comparison requires.
    Weak,
    /// Last-Modified only (the file's modification time).
    LastModifiedOnly,
    /// Neither ETag nor Last-Modified.
    None,
}

/// Faults a server injects into ranged GETs, drawn from a seeded
/// generator: a 503, a connection cut after half the body, and a delay.
#[derive(Debug, Clone, Copy)]
pub struct Chaos {
    /// Seed of the generator (the same seed, the same faults in order).
    pub seed: u64,
    /// Share of answers that are 503 Service Unavailable.
    pub unavailable: f64,
    /// Share of answers whose connection is cut after half the body.
    pub reset: f64,
    /// Longest delay added before an answer (uniform from zero).
    pub max_delay: Duration,
}

/// The next number in 0..1 of a xorshift generator.
fn next_unit(state: &mut u64) -> f64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    (*state >> 11) as f64 / (1u64 << 53) as f64
}

/// A fault drawn for one answer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    None,
    Unavailable,
    Reset,
}

fn draw_fault(state: &State) -> (Fault, Duration) {
    let mut g = state.chaos.lock().unwrap();
    let Some((c, rng)) = g.as_mut() else {
        return (Fault::None, Duration::ZERO);
    };
    let delay = c.max_delay.mul_f64(next_unit(rng));
    let r = next_unit(rng);
    let fault = if r < c.unavailable {
        Fault::Unavailable
    } else if r < c.unavailable + c.reset {
        Fault::Reset
    } else {
        Fault::None
    };
    (fault, delay)
}

fn take_one(counter: &Mutex<u32>) -> bool {
    let mut n = counter.lock().unwrap();
    if *n > 0 {
        *n -= 1;
        true
    } else {
        false
    }
}

#[derive(Default)]
struct State {
    log: Mutex<Vec<Logged>>,
    latency: Mutex<Duration>,
    validators: Mutex<Validators>,
    /// GETs still to answer 503 before serving normally again.
    fail_next: Mutex<u32>,
    /// Ranged GETs still to answer with only the first half of the range.
    short_next: Mutex<u32>,
    /// Ranged GETs starting at or after this offset wait this much more.
    slow_from: Mutex<Option<(u64, Duration)>>,
    /// Faults injected at random into ranged GETs, with the generator's state.
    chaos: Mutex<Option<(Chaos, u64)>>,
    /// Ranged GETs still to answer 200 with the whole object.
    ignore_range_next: Mutex<u32>,
    /// Ranged GETs still to answer with a Content-Range one byte off.
    wrong_range_next: Mutex<u32>,
    /// File contents by path, with the modification time they were read at,
    /// so that answers are slices, not a fresh read of the whole file.
    files: Mutex<std::collections::HashMap<PathBuf, (std::time::SystemTime, bytes::Bytes, String)>>,
}

/// A running range server; it stops when the test's runtime ends.
pub struct RangeServer {
    pub addr: SocketAddr,
    root: PathBuf,
    state: Arc<State>,
}

impl RangeServer {
    /// Serves `root` on an ephemeral loopback port.
    pub async fn start(root: impl AsRef<Path>) -> RangeServer {
        let root = root.as_ref().to_path_buf();
        let state = Arc::new(State::default());
        let (r, s) = (root.clone(), state.clone());
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
            let (r, s) = (r.clone(), s.clone());
            async move { serve(&r, &s, method, uri, headers).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        RangeServer { addr, root, state }
    }

    /// `http://127.0.0.1:PORT/rel`.
    pub fn url(&self, rel: &str) -> String {
        format!("http://{}/{}", self.addr, rel.trim_start_matches('/'))
    }

    /// The directory served.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Everything answered so far.
    pub fn log(&self) -> Vec<Logged> {
        self.state.log.lock().unwrap().clone()
    }

    /// Forgets the log.
    pub fn clear(&self) {
        self.state.log.lock().unwrap().clear();
    }

    /// Delay added before each answer.
    pub fn set_latency(&self, d: Duration) {
        *self.state.latency.lock().unwrap() = d;
    }

    /// Chooses the validators sent with every answer.
    pub fn set_validators(&self, v: Validators) {
        *self.state.validators.lock().unwrap() = v;
    }

    /// Answers the next `n` requests with 503 Service Unavailable.
    pub fn fail_next(&self, n: u32) {
        *self.state.fail_next.lock().unwrap() = n;
    }

    /// Answers the next `n` ranged GETs with the first half of the range
    /// only (a consistent 206 whose body is shorter than asked for).
    pub fn short_next(&self, n: u32) {
        *self.state.short_next.lock().unwrap() = n;
    }

    /// Holds back ranged GETs that start at or after `offset` by `d` more
    /// than the others.
    pub fn slow_from(&self, offset: u64, d: Duration) {
        *self.state.slow_from.lock().unwrap() = Some((offset, d));
    }

    /// Injects `c`'s faults into ranged GETs from now on (`None`: none).
    pub fn set_chaos(&self, c: Option<Chaos>) {
        *self.state.chaos.lock().unwrap() = c.map(|c| (c, c.seed | 1));
    }

    /// Answers the next `n` ranged GETs with 200 and the whole object.
    pub fn ignore_range_next(&self, n: u32) {
        *self.state.ignore_range_next.lock().unwrap() = n;
    }

    /// Answers the next `n` ranged GETs with the right bytes under a
    /// Content-Range one byte off.
    pub fn wrong_range_next(&self, n: u32) {
        *self.state.wrong_range_next.lock().unwrap() = n;
    }

    /// Requests with `method` in the log.
    pub fn count(&self, method: &str) -> usize {
        self.log().iter().filter(|l| l.method == method).count()
    }
}

fn etag_of(data: &[u8]) -> String {
    // FNV-1a: enough to tell versions of a test file apart.
    let mut h: u64 = 0xcbf29ce484222325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("\"{:x}-{:x}\"", data.len(), h)
}

fn parse_range(v: &str, len: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = v.strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
        (Some(a), Some(b)) => (a, b.saturating_add(1).min(len)),
        (Some(a), None) => (a, len),
        (None, Some(n)) => (len.saturating_sub(n), len),
        _ => return Some(Err(())),
    };
    if start >= len || start >= end {
        Some(Err(()))
    } else {
        Some(Ok((start, end)))
    }
}

async fn serve(root: &Path, state: &State, method: Method, uri: Uri, headers: HeaderMap) -> Response<Body> {
    let started = std::time::Instant::now();
    let latency = *state.latency.lock().unwrap();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    // `/signed/...` wants `sig=ok` in the query (a presigned URL) and
    // `/auth/...` wants user `reader`, password `p@ss` (basic auth); both
    // then serve the rest of the path.
    let mut path = uri.path().to_string();
    let mut refused = false;
    if let Some(rest) = path.strip_prefix("/signed/") {
        refused = !uri.query().unwrap_or("").split('&').any(|kv| kv == "sig=ok");
        path = format!("/{rest}");
    } else if let Some(rest) = path.strip_prefix("/auth/") {
        // "reader:p@ss" in base64.
        let want = "Basic cmVhZGVyOnBAc3M=";
        refused = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some(want);
        path = format!("/{rest}");
    }
    let mut logged = Logged {
        method: method.to_string(),
        path: path.clone(),
        range: None,
        status: 200,
        bytes: 0,
        started,
        finished: started,
    };
    let resp = if refused {
        Response::builder()
            .status(StatusCode::FORBIDDEN)
            .body(Body::empty())
            .unwrap()
    } else {
        answer(root, state, &method, &path, &headers, &mut logged).await
    };
    logged.status = resp.status().as_u16();
    logged.finished = std::time::Instant::now();
    state.log.lock().unwrap().push(logged);
    resp
}

async fn answer(
    root: &Path,
    state: &State,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    logged: &mut Logged,
) -> Response<Body> {
    let status = |s: StatusCode| Response::builder().status(s).body(Body::empty()).unwrap();
    if path.starts_with("/forbidden/") {
        return status(StatusCode::FORBIDDEN);
    }
    // A held-back request waits before it looks at the file, so that a file
    // replaced meanwhile is what it answers from.
    let start = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes="))
        .and_then(|v| v.split('-').next())
        .and_then(|a| a.parse::<u64>().ok());
    let slow = *state.slow_from.lock().unwrap();
    if let (Some((from, d)), Some(a)) = (slow, start)
        && a >= from
    {
        tokio::time::sleep(d).await;
    }
    let rel = path.trim_start_matches('/');
    if rel.split('/').any(|c| c == "..") {
        return status(StatusCode::BAD_REQUEST);
    }
    let full = root.join(rel);
    let Ok(modified) = std::fs::metadata(&full).and_then(|m| m.modified()) else {
        return status(StatusCode::NOT_FOUND);
    };
    let cached = state
        .files
        .lock()
        .unwrap()
        .get(&full)
        .filter(|(t, _, _)| *t == modified)
        .map(|(_, b, e)| (b.clone(), e.clone()));
    let (data, etag) = match cached {
        Some(c) => c,
        None => {
            let Ok(v) = tokio::fs::read(&full).await else {
                return status(StatusCode::NOT_FOUND);
            };
            let etag = etag_of(&v);
            let b = bytes::Bytes::from(v);
            state
                .files
                .lock()
                .unwrap()
                .insert(full.clone(), (modified, b.clone(), etag.clone()));
            (b, etag)
        }
    };
    let len = data.len() as u64;
    {
        let mut fail = state.fail_next.lock().unwrap();
        if *fail > 0 {
            *fail -= 1;
            return status(StatusCode::SERVICE_UNAVAILABLE);
        }
    }
    let validators = *state.validators.lock().unwrap();
    let etag = match validators {
        Validators::Weak => format!("W/{etag}"),
        _ => etag,
    };
    if let Some(m) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok())
        && (m != etag || m.starts_with("W/"))
        && m != "*"
    {
        return status(StatusCode::PRECONDITION_FAILED);
    }
    if let Some(since) = headers
        .get(header::IF_UNMODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        && unix_secs(modified) > unix_secs(since)
    {
        return status(StatusCode::PRECONDITION_FAILED);
    }
    let mut builder = Response::builder().header(header::ACCEPT_RANGES, "bytes");
    if matches!(validators, Validators::Strong | Validators::Weak) {
        builder = builder.header(header::ETAG, &etag);
    }
    if validators != Validators::None {
        builder = builder.header(header::LAST_MODIFIED, httpdate::fmt_http_date(modified));
    }
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_range(v, len));
    let (builder, body) = match range {
        Some(Err(())) => {
            return Response::builder()
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{len}"))
                .body(Body::empty())
                .unwrap();
        }
        Some(Ok(_)) if take_one(&state.ignore_range_next) => {
            logged.range = None;
            (builder.status(StatusCode::OK), data)
        }
        Some(Ok((a, b))) => {
            let (fault, delay) = draw_fault(state);
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if fault == Fault::Unavailable {
                return status(StatusCode::SERVICE_UNAVAILABLE);
            }
            if fault == Fault::Reset && b - a > 1 {
                // The full length announced, half of it sent, then the
                // connection dies.
                logged.range = Some((a, b));
                let half = data.slice(a as usize..(a + (b - a) / 2) as usize);
                logged.bytes = half.len() as u64;
                let body = futures::stream::iter([Ok(half), Err(std::io::Error::other("connection reset"))]);
                return builder
                    .status(StatusCode::PARTIAL_CONTENT)
                    .header(header::CONTENT_RANGE, format!("bytes {}-{}/{len}", a, b - 1))
                    .header(header::CONTENT_LENGTH, b - a)
                    .body(Body::from_stream(body))
                    .unwrap();
            }
            let shift = u64::from(take_one(&state.wrong_range_next));
            let b = {
                let mut short = state.short_next.lock().unwrap();
                if *short > 0 && b - a > 1 {
                    *short -= 1;
                    a + (b - a) / 2
                } else {
                    b
                }
            };
            logged.range = Some((a, b));
            (
                builder.status(StatusCode::PARTIAL_CONTENT).header(
                    header::CONTENT_RANGE,
                    format!("bytes {}-{}/{len}", a + shift, b - 1 + shift),
                ),
                data.slice(a as usize..b as usize),
            )
        }
        None => (builder.status(StatusCode::OK), data),
    };
    let builder = builder.header(header::CONTENT_LENGTH, body.len());
    if method == Method::HEAD {
        return builder.body(Body::empty()).unwrap();
    }
    logged.bytes = body.len() as u64;
    builder.body(Body::from(body)).unwrap()
}

/// Whole seconds since 1970 (HTTP dates carry no fraction).
fn unix_secs(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The crate's fixtures directory.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every fixture with GDAL expectations: (path relative to fixtures/, expected JSON).
pub fn fixtures() -> Vec<(String, serde_json::Value)> {
    let dir = fixtures_dir();
    let mut out = Vec::new();
    for sub in ["", "real"] {
        let d = dir.join(sub);
        let mut names: Vec<_> = std::fs::read_dir(&d)
            .expect("fixtures dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".expected.json"))
            .collect();
        names.sort();
        for n in names {
            let text = std::fs::read_to_string(d.join(&n)).expect("read expected");
            let tif = n.trim_end_matches(".expected.json").to_string() + ".tif";
            let rel = if sub.is_empty() { tif } else { format!("{sub}/{tif}") };
            out.push((rel, serde_json::from_str(&text).expect("expected json")));
        }
    }
    assert!(out.len() >= 40, "fixtures missing: run fixtures/generate.sh");
    out
}

/// SHA-256 as lowercase hex (how fixtures/*.json record GDAL's arrays).
/// A JSON array of numbers as integers (expectation files write windows
/// and shapes this way).
pub fn ints(v: &serde_json::Value) -> Vec<i64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().expect("a number") as i64)
        .collect()
}

/// The most requests the server was answering at one time, from the
/// arrival and answer times in its log.
pub fn peak_in_flight(log: &[Logged]) -> usize {
    let mut events: Vec<(std::time::Instant, i32)> =
        log.iter().flat_map(|l| [(l.started, 1), (l.finished, -1)]).collect();
    // An answer before an arrival at the same instant: touching is not overlapping.
    events.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut peak) = (0i32, 0i32);
    for (_, d) in events {
        now += d;
        peak = peak.max(now);
    }
    peak as usize
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// GDAL's SHA-256 of every tile of fixture `rel`, by (z, x, y): (data,
/// mask), from fixtures/NAME.tiles.json.
pub fn gdal_tiles(rel: &str) -> std::collections::HashMap<(u64, u64, u64), (String, String)> {
    let text = std::fs::read_to_string(fixtures_dir().join(rel.replace(".tif", ".tiles.json"))).unwrap();
    let tiles: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut out = std::collections::HashMap::new();
    for level in tiles["levels"].as_array().unwrap() {
        let z = level["z"].as_u64().unwrap();
        for t in level["tiles"].as_array().unwrap() {
            let (x, y) = (t["x"].as_u64().unwrap(), t["y"].as_u64().unwrap());
            let hashes = (t["data"].as_str().unwrap().into(), t["mask"].as_str().unwrap().into());
            out.insert((z, x, y), hashes);
        }
    }
    out
}

/// GDAL's (data, mask) SHA-256 of tile (x, y) of level z of fixture `rel`.
pub fn gdal_tile_hashes(rel: &str, z: u64, x: u64, y: u64) -> (String, String) {
    gdal_tiles(rel).remove(&(z, x, y)).unwrap()
}

/// Our tile's (data, mask) SHA-256, hashed as GDAL's are in tiles.json.
pub fn tile_hashes(t: &async_cog::MaskedArray) -> (String, String) {
    let mask: Vec<u8> = t.mask.iter().map(|&m| u8::from(m)).collect();
    (sha256_hex(&t.data.to_le_bytes()), sha256_hex(&mask))
}

/// A gzipped file written by the fixture generators, decompressed.
pub fn read_gz(path: impl AsRef<Path>) -> Vec<u8> {
    use std::io::Read;
    let gz = std::fs::read(path.as_ref()).expect("gzipped fixture");
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

/// The read a case of fixtures/NAME.reads.json or NAME.random_reads.json
/// asks for: a window at a level or bounds, with its shape, bands,
/// resampling and boundlessness.
pub fn read_request(c: &serde_json::Value) -> async_cog::ReadRequest {
    use async_cog::{Bounds, ReadRequest, Resampling, Window};
    let f = |v: &serde_json::Value| v.as_f64().unwrap();
    let mut req = if c["kind"] == "window" {
        let w = &c["window"];
        ReadRequest::window(
            Window::from_f64(f(&w[0]), f(&w[1]), f(&w[2]), f(&w[3])),
            c["level"].as_u64().unwrap() as usize,
        )
    } else {
        let b = &c["bounds"];
        ReadRequest::bounds(Bounds {
            minx: f(&b[0]),
            miny: f(&b[1]),
            maxx: f(&b[2]),
            maxy: f(&b[3]),
        })
    };
    if let Some(s) = c["shape"].as_array() {
        req = req.shape(s[0].as_u64().unwrap() as usize, s[1].as_u64().unwrap() as usize);
    }
    if let Some(b) = c["bands"].as_array() {
        req = req.bands(b.iter().map(|v| v.as_u64().unwrap() as usize).collect());
    }
    let r: Resampling = c["resampling"].as_str().unwrap().parse().unwrap();
    req.resampling(r).boundless(c["boundless"].as_bool().unwrap())
}

/// A gzipped `.npy` written by the fixture generators, as f64s.
pub fn read_npy_gz(path: impl AsRef<Path>) -> Vec<f64> {
    npy::from_npy(&read_gz(path)).expect("npy").to_f64_vec()
}
