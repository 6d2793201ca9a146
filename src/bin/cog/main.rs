//! `cog`: the command-line face of async-cog, for people.
//!
//! `cog info SRC [--json]` prints a COG's profile, georeferencing, IFDs,
//! masks, GDAL's ghost area and what opening cost in requests;
//! `cog tile SRC X Y Z -o OUT.npy|OUT.png [--mask MASK.npy]` writes one tile;
//! `cog read SRC (--bounds .. --shape .. | --window ..) -o OUT` reads an area;
//! `cog xyz SRC Z X Y -o OUT` writes a web-map tile; `cog create-tms SRC
//! [--id ID]` prints the TileMatrixSet of its grid; `cog point SRC X Y
//! [--crs EPSG:N]` prints the values at a point; `cog preview SRC
//! [--max-size N] -o OUT` writes a small picture of the whole image;
//! `cog serve SRC...` serves web-map tiles with a map page. Options come
//! from the environment (`INGESTED_BYTES_AT_OPEN`, `LOG_LEVEL`, ...; see
//! README.md). Logs go to stderr through `tracing`.

mod info;
mod npy;
mod output;
mod picture;
mod point;
mod read;
mod serve;
mod validate;

use std::process::ExitCode;

use async_cog::Options;
use clap::{Parser, Subcommand};

/// Read Cloud-Optimized GeoTIFFs from files, HTTP, S3, GCS or Azure.
#[derive(Parser)]
#[command(name = "cog", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a COG's profile, georeferencing, IFDs and masks.
    Info {
        /// Local path, or file://, http(s)://, s3://, gs://, az:// URL.
        src: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check the COG layout as rio-cogeo's validate does (exit 1 if invalid).
    Validate {
        /// Local path, or file://, http(s)://, s3://, gs://, az:// URL.
        src: String,
        /// Warnings make the file invalid too.
        #[arg(long)]
        strict: bool,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write tile (X, Y) of level Z (0 = full resolution) as .npy or .png.
    Tile {
        /// Local path, or file://, http(s)://, s3://, gs://, az:// URL.
        src: String,
        /// Tile column.
        x: u64,
        /// Tile row.
        y: u64,
        /// Level: 0 is full resolution, higher is coarser.
        z: usize,
        /// Output: OUT.npy (data in the file's type) or OUT.png (8-bit picture).
        #[arg(short, long)]
        output: std::path::PathBuf,
        /// Also write the mask (true = invalid) as a bool .npy.
        #[arg(long)]
        mask: Option<std::path::PathBuf>,
    },
    /// Read bounds (resampled to --shape) or a pixel window, as .npy or .png.
    Read(read::ReadArgs),
    /// Write the web-map tile Z/X/Y (Web Mercator, GoogleMapsCompatible),
    /// reprojected from the file, as .npy or .png.
    Xyz {
        /// Local path, or file://, http(s)://, s3://, gs://, az:// URL.
        src: String,
        /// Zoom.
        z: u8,
        /// Tile column.
        x: u64,
        /// Tile row.
        y: u64,
        /// Output: OUT.npy (data in the file's type) or OUT.png (8-bit picture).
        #[arg(short, long)]
        output: std::path::PathBuf,
        /// Tile side in pixels.
        #[arg(long, default_value_t = 256)]
        size: usize,
        /// nearest or bilinear.
        #[arg(long, default_value = "nearest")]
        resampling: String,
        /// A tile outside the image is written fully masked instead of failing.
        #[arg(long)]
        masked_outside: bool,
    },
    /// Print every band's value at a point (the full-resolution pixel under it).
    Point {
        /// Local path, or file://, http(s)://, s3://, gs://, az:// URL.
        src: String,
        /// x (longitude with --crs EPSG:4326).
        #[arg(allow_hyphen_values = true)]
        x: f64,
        /// y (latitude with --crs EPSG:4326).
        #[arg(allow_hyphen_values = true)]
        y: f64,
        /// The point's CRS as EPSG:CODE (default: the file's own).
        #[arg(long)]
        crs: Option<String>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write the whole image at most --max-size pixels on its long side.
    Preview {
        /// Local path, or file://, http(s)://, s3://, gs://, az:// URL.
        src: String,
        /// Longest side of the output, in pixels (rio-tiler's max_size).
        #[arg(long, default_value_t = 1024)]
        max_size: usize,
        /// Output: OUT.png (8-bit picture) or OUT.npy (data in the file's type).
        #[arg(short, long)]
        output: std::path::PathBuf,
    },
    /// Serve web-map tiles of one or more COGs, with a map page, over HTTP.
    Serve(serve::ServeArgs),
    /// Print an OGC TileMatrixSet (2.0 JSON) of the COG's own grid: one
    /// matrix per level, as aiocogeo's create-tms and morecantile lay it out.
    CreateTms {
        /// Local path, or file://, http(s)://, s3://, gs://, az:// URL.
        src: String,
        /// The set's id (default: the file name without extension).
        #[arg(long)]
        id: Option<String>,
    },
}

/// Writes `text` to stdout. A reader that went away (`cog info … | head`)
/// ends the command quietly, as it does for `cat`; other failures are errors.
pub(crate) fn print_stdout(text: &str) -> async_cog::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(async_cog::Error::Internal(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let options = match Options::from_env() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // RUST_LOG wins; then LOG_LEVEL (any name logging users write); then
    // aiocogeo's VERBOSE_LOGS=TRUE for debug; else warnings only.
    let verbose = std::env::var("VERBOSE_LOGS")
        .ok()
        .is_some_and(|v| matches!(v.trim().to_ascii_uppercase().as_str(), "TRUE" | "YES" | "ON" | "1"));
    let level = match options.log_level() {
        Some(name) => async_cog::log_level(name).unwrap_or_else(|| {
            eprintln!(
                "warning: LOG_LEVEL={name:?} is not a level (CRITICAL, ERROR, WARNING, NOTICE, INFO, DEBUG, TRACE, OFF); using WARNING"
            );
            "warn"
        }),
        None if verbose => "debug",
        None => "warn",
    };
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| level.to_string());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into a file or pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // `cog validate` on a file that is not a valid COG exits 1.
    let mut invalid = false;
    let result = runtime.block_on(async {
        match cli.command {
            Command::Info { src, json } => info::run(&src, options, json).await,
            Command::Validate { src, strict, json } => {
                invalid = !validate::run(&src, options, strict, json).await?;
                Ok(())
            }
            Command::Read(args) => read::run(args, options).await,
            Command::Serve(args) => serve::run(args, options).await,
            Command::Point { src, x, y, crs, json } => point::run(&src, (x, y), crs.as_deref(), json, options).await,
            Command::Preview { src, max_size, output } => {
                let cog = async_cog::CogReader::open_with(&src, options).await?;
                let r = cog.preview(max_size).await?;
                output::write(&r.array, &output, None)?;
                let (b, rows, cols) = r.array.shape();
                let s = cog.stats();
                eprintln!(
                    "wrote {} ({b}x{rows}x{cols} {} from level {}, {} invalid); {} GET, {} bytes",
                    output.display(),
                    r.array.data.dtype(),
                    r.level,
                    r.array.invalid_count(),
                    s.requests,
                    s.bytes
                );
                Ok(())
            }
            Command::Xyz {
                src,
                z,
                x,
                y,
                output,
                size,
                resampling,
                masked_outside,
            } => {
                let cog = async_cog::CogReader::open_with(&src, options).await?;
                let r: async_cog::Resampling = resampling
                    .parse()
                    .map_err(|message| async_cog::Error::InvalidRequest { message })?;
                let outside = if masked_outside {
                    async_cog::OutsideTile::Masked
                } else {
                    async_cog::OutsideTile::Error
                };
                let req = async_cog::XyzRequest::new()
                    .tile_size(size)
                    .resampling(r)
                    .outside(outside);
                let tile = cog.read_xyz_with(x, y, z, &req).await?;
                output::write(&tile.array, &output, None)?;
                let s = cog.stats();
                eprintln!(
                    "wrote {} ({}x{}x{} {} from level {}, {} invalid); {} GET, {} bytes",
                    output.display(),
                    tile.shape().0,
                    tile.shape().1,
                    tile.shape().2,
                    tile.dtype(),
                    tile.level,
                    tile.array.invalid_count(),
                    s.requests,
                    s.bytes
                );
                Ok(())
            }
            Command::CreateTms { src, id } => {
                let cog = async_cog::CogReader::open_with(&src, options).await?;
                let stem = src.rsplit(['/', '\\']).next().unwrap_or(&src);
                let stem = stem.rsplit_once('.').map_or(stem, |(s, _)| s);
                let tms = cog.tile_matrix_set(id.as_deref().unwrap_or(stem))?;
                let text = serde_json::to_string_pretty(&tms)
                    .map_err(|e| async_cog::Error::Internal(format!("cannot write JSON: {e}")))?;
                print_stdout(&format!("{text}\n"))
            }
            Command::Tile {
                src,
                x,
                y,
                z,
                output,
                mask,
            } => {
                let cog = async_cog::CogReader::open_with(&src, options).await?;
                let tile = cog.read_block(z, x, y).await?.array;
                output::write(&tile, &output, mask.as_deref())?;
                let (b, r, c) = tile.shape();
                let s = cog.stats();
                eprintln!(
                    "wrote {} ({b}x{r}x{c} {}, {} invalid); {} GET, {} bytes",
                    output.display(),
                    tile.data.dtype(),
                    tile.invalid_count(),
                    s.requests,
                    s.bytes
                );
                Ok(())
            }
        }
    });
    match result {
        Ok(()) if invalid => ExitCode::FAILURE,
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
