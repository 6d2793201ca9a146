//! The HTTP face of `cog serve`: routes, query parameters, responses.
//!
//! `/` and `/{name}/` the map page; `/tilejson.json`, `/info`,
//! `/tiles/{z}/{x}/{y}[.png|.webp]` for the first source and the same under
//! `/{name}/` for each; `/cogs` lists the sources; `/assets/*` the viewer's
//! files. Tile and TileJSON queries take titiler's `bidx` (1-based bands,
//! repeated or comma-separated), `rescale=min,max` (once for every band or
//! once per band), `resampling` (nearest, bilinear) and `tilesize`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum::routing::get;
use serde_json::json;

use super::{AppState, Source};
use crate::picture::{Picture, Scale};
use async_cog::{Error, OutsideTile, Resampling, XyzRequest};

const INDEX_HTML: &str = include_str!("assets/index.html");
const LEAFLET_JS: &str = include_str!("assets/leaflet.js");
const LEAFLET_CSS: &str = include_str!("assets/leaflet.css");
const LEAFLET_LICENSE: &str = include_str!("assets/LICENSE-leaflet.txt");
/// Most bands a request may name (a picture shows at most three).
const MAX_BANDS: usize = 16;
/// How long a tile request waits for a free reading slot.
const QUEUE_WAIT: Duration = Duration::from_secs(30);

type Shared = State<Arc<AppState>>;
type Params = Result<Path<HashMap<String, String>>, PathRejection>;

/// A failed request: a status and a JSON `{"detail": ...}` body.
pub(crate) struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "detail": self.1 }))).into_response()
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let status = match &e {
            Error::TileOutsideBounds { .. } | Error::PointOutsideBounds { .. } => StatusCode::NOT_FOUND,
            Error::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
            Error::LimitExceeded { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::NotFound { .. } | Error::PermissionDenied { .. } | Error::Io { .. } | Error::Changed { .. } => {
                StatusCode::BAD_GATEWAY
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(status, e.to_string())
    }
}

/// A route's parameters; a path axum cannot decode (bad percent-encoding)
/// is a JSON 400 like every other failure.
fn path(p: Params) -> Result<HashMap<String, String>, ApiError> {
    p.map(|Path(m)| m).map_err(|e| bad(format!("bad path: {e}")))
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, message.into())
}

/// Every route; CORS allows any origin (GETs only, no credentials).
pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/cogs", get(cogs))
        .route("/assets/{file}", get(asset))
        .route("/info", get(info))
        .route("/tilejson.json", get(tilejson))
        .route("/tiles/{z}/{x}/{y}", get(tile))
        .route("/{name}", get(slash))
        .route("/{name}/", get(page))
        .route("/{name}/info", get(info))
        .route("/{name}/tilejson.json", get(tilejson))
        .route("/{name}/tiles/{z}/{x}/{y}", get(tile))
        .fallback(|| async { ApiError(StatusCode::NOT_FOUND, "no such route".into()) })
        .method_not_allowed_fallback(|| async { ApiError(StatusCode::METHOD_NOT_ALLOWED, "only GET is served".into()) })
        .layer(axum::middleware::map_response(cors))
        .with_state(state)
}

async fn cors(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    r
}

/// The source a route names, or the first.
fn source<'a>(state: &'a AppState, params: &HashMap<String, String>) -> Result<&'a Source, ApiError> {
    let i = match params.get("name") {
        None => 0,
        Some(n) => *state
            .by_name
            .get(n)
            .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no COG named {n:?} (see /cogs)")))?,
    };
    state
        .sources
        .get(i)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, "no COG is served".into()))
}

async fn page(State(state): Shared, params: Params) -> Result<Response, ApiError> {
    let params = path(params)?;
    source(&state, &params)?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX_HTML).into_response())
}

async fn slash(State(state): Shared, params: Params, RawQuery(raw): RawQuery) -> Result<Redirect, ApiError> {
    let params = path(params)?;
    let s = source(&state, &params)?;
    let query = raw.map_or(String::new(), |r| format!("?{r}"));
    Ok(Redirect::permanent(&format!("/{}/{query}", s.name)))
}

async fn asset(file: Result<Path<String>, PathRejection>) -> Result<Response, ApiError> {
    let Path(file) = file.map_err(|e| bad(format!("bad path: {e}")))?;
    let (kind, body) = match file.as_str() {
        "leaflet.js" => ("text/javascript; charset=utf-8", LEAFLET_JS),
        "leaflet.css" => ("text/css; charset=utf-8", LEAFLET_CSS),
        "LICENSE-leaflet.txt" => ("text/plain; charset=utf-8", LEAFLET_LICENSE),
        _ => return Err(ApiError(StatusCode::NOT_FOUND, format!("no asset {file:?}"))),
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response())
}

async fn cogs(State(state): Shared) -> Json<serde_json::Value> {
    Json(json!(
        state
            .sources
            .iter()
            .map(|s| json!({"name": s.name, "url": s.cog.url(), "page": format!("/{}/", s.name)}))
            .collect::<Vec<_>>()
    ))
}

async fn info(State(state): Shared, params: Params) -> Result<Json<serde_json::Value>, ApiError> {
    let params = path(params)?;
    let s = source(&state, &params)?;
    let p = s.cog.profile();
    Ok(Json(json!({
        "name": s.name,
        "url": s.cog.url(),
        "bounds": p.bounds.to_array(),
        "geographic_bounds": s.lonlat,
        "crs": p.epsg().map(|c| format!("EPSG:{c}")),
        "width": p.width,
        "height": p.height,
        "count": p.count,
        "dtype": p.dtype.name(),
        "nodata": p.nodata.map(|n| n.to_string()),
        "overviews": p.overviews,
        "minzoom": s.zooms.0,
        "maxzoom": s.zooms.1,
        "band_descriptions": p.bands.iter().map(|b| b.description.clone()).collect::<Vec<_>>(),
        "default_rescale": s.auto_rescale,
    })))
}

/// The request's parameters, parsed.
struct TileQuery {
    bands: Option<Vec<usize>>,
    rescale: Vec<(f64, f64)>,
    resampling: Resampling,
    tile_size: usize,
}

fn parse_query(raw: Option<&str>) -> Result<TileQuery, ApiError> {
    let mut q = TileQuery {
        bands: None,
        rescale: Vec::new(),
        resampling: Resampling::Nearest,
        tile_size: 256,
    };
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "bidx" => {
                for b in v.split(',') {
                    let b: usize = b
                        .trim()
                        .parse()
                        .map_err(|_| bad(format!("bidx={v:?}: bands are 1-based integers")))?;
                    let bands = q.bands.get_or_insert_with(Vec::new);
                    if bands.len() >= MAX_BANDS {
                        return Err(bad(format!("bidx: at most {MAX_BANDS} bands")));
                    }
                    bands.push(b);
                }
            }
            "rescale" => {
                let pair: Result<Vec<f64>, _> = v.split(',').map(|x| x.trim().parse::<f64>()).collect();
                match pair.as_deref().unwrap_or(&[]) {
                    &[lo, hi] if lo.is_finite() && hi.is_finite() && lo < hi => q.rescale.push((lo, hi)),
                    _ => return Err(bad(format!("rescale={v:?}: give min,max with min < max"))),
                }
            }
            "resampling" => {
                q.resampling = v.parse().map_err(|e: String| bad(format!("resampling={v:?}: {e}")))?;
            }
            "tilesize" => {
                q.tile_size = v
                    .parse()
                    .ok()
                    .filter(|s| (64..=1024).contains(s))
                    .ok_or_else(|| bad(format!("tilesize={v:?}: give 64 to 1024")))?;
            }
            _ => {}
        }
    }
    Ok(q)
}

async fn tilejson(
    State(state): Shared,
    params: Params,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let params = path(params)?;
    let s = source(&state, &params)?;
    let q = parse_query(raw.as_deref())?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let prefix = if params.contains_key("name") {
        format!("/{}", s.name)
    } else {
        String::new()
    };
    let query = raw.filter(|r| !r.is_empty()).map_or(String::new(), |r| format!("?{r}"));
    let [w, south, e, n] = s.lonlat;
    Ok(Json(json!({
        "tilejson": "3.0.0",
        "name": s.name,
        "scheme": "xyz",
        "tiles": [format!("http://{host}{prefix}/tiles/{{z}}/{{x}}/{{y}}.png{query}")],
        "minzoom": s.zooms.0,
        "maxzoom": s.zooms.1,
        "bounds": [w, south, e, n],
        "center": [(w + e) / 2.0, (south + n) / 2.0, s.zooms.0],
        "tileSize": q.tile_size,
    })))
}

async fn tile(State(state): Shared, params: Params, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    let params = path(params)?;
    let s = source(&state, &params)?;
    let q = parse_query(raw.as_deref())?;
    let number = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    let (y, format) = number("y").split_once('.').unwrap_or((number("y"), "png"));
    let (Ok(z), Ok(x), Ok(y)) = (number("z").parse::<u8>(), number("x").parse::<u64>(), y.parse::<u64>()) else {
        return Err(bad("tiles are /tiles/{z}/{x}/{y}[.png|.webp] with whole numbers"));
    };
    if !matches!(format, "png" | "webp") {
        return Err(bad(format!("tile format {format:?}: png or webp")));
    }
    let count = s.cog.profile().count;
    if let Some(b) = q.bands.iter().flatten().find(|&&b| b == 0 || b > count) {
        return Err(bad(format!("bidx={b}: the file has bands 1 to {count}")));
    }
    // The picture shows three bands (RGB) or one (gray): only those are read.
    let requested = q.bands.clone().unwrap_or_else(|| (1..=count).collect());
    let drawn: Vec<usize> = requested
        .iter()
        .copied()
        .take(if requested.len() >= 3 { 3 } else { 1 })
        .collect();
    // rio-tiler: one range per requested band, or the first for all.
    let range_of = |i: usize, b: usize| match &q.rescale[..] {
        [] => s.auto_rescale.as_ref().and_then(|a| a.get(b.wrapping_sub(1)).copied()),
        r if r.len() == requested.len() => r.get(i).copied(),
        r => r.first().copied(),
    };
    let ranges: Vec<(f64, f64)> = drawn.iter().enumerate().filter_map(|(i, &b)| range_of(i, b)).collect();
    let scale = if ranges.is_empty() {
        Scale::Auto
    } else {
        Scale::Ranges(ranges)
    };
    let req = XyzRequest::new()
        .tile_size(q.tile_size)
        .resampling(q.resampling)
        .outside(OutsideTile::Error)
        .bands(drawn);
    let _permit = tokio::time::timeout(QUEUE_WAIT, state.permits.acquire())
        .await
        .map_err(|_| ApiError(StatusCode::SERVICE_UNAVAILABLE, "too many tiles in flight".into()))?
        .map_err(|_| ApiError(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping".into()))?;
    let raster = s.cog.read_xyz_with(x, y, z, &req).await?;
    let webp = format == "webp";
    let body = tokio::task::spawn_blocking(move || {
        let picture = Picture::of(&raster.array, &scale);
        if webp { picture.webp() } else { picture.png() }
    })
    .await
    .map_err(|e| {
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("drawing the tile failed: {e}"),
        )
    })??;
    let kind = if webp { "image/webp" } else { "image/png" };
    Ok((
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=60"),
        ],
        body,
    )
        .into_response())
}
