//! `cog read`: a window or bounds read to `.npy` or `.png`, with a progress
//! bar on a terminal and `--stats` for requests, bytes and time.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::str::FromStr;

use async_cog::{Bounds, CogReader, Error, Options, ReadRequest, Resampling, Result, Window};

use crate::output;

/// `cog read` arguments.
#[derive(clap::Args)]
pub struct ReadArgs {
    /// Local path, or file://, http(s)://, s3://, gs://, az:// URL.
    pub src: String,
    /// MINX,MINY,MAXX,MAXY in the file's CRS.
    #[arg(long, allow_hyphen_values = true)]
    pub bounds: Option<String>,
    /// ROWS,COLS of the output (default: the area's size at the level read).
    #[arg(long)]
    pub shape: Option<String>,
    /// COL,ROW,WIDTH,HEIGHT in pixels of --level.
    #[arg(long, allow_hyphen_values = true)]
    pub window: Option<String>,
    /// Level: the window's, or forced for --bounds (0 = full resolution).
    #[arg(long)]
    pub level: Option<usize>,
    /// nearest, bilinear, cubic or average.
    #[arg(long, default_value = "nearest")]
    pub resampling: String,
    /// 1-based bands, e.g. 1,2,3 (default: all).
    #[arg(long)]
    pub bands: Option<String>,
    /// Allow areas outside the image (filled and masked).
    #[arg(long)]
    pub boundless: bool,
    /// Output: OUT.npy or OUT.png.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Also write the mask (true = invalid) as a bool .npy.
    #[arg(long)]
    pub mask: Option<PathBuf>,
    /// Print requests, bytes, cache use and time.
    #[arg(long)]
    pub stats: bool,
}

fn numbers<T: FromStr>(what: &str, s: &str, n: usize) -> Result<Vec<T>> {
    let v: Vec<T> = s
        .split(',')
        .map(|p| p.trim().parse::<T>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| Error::InvalidRequest {
            message: format!("--{what} {s:?}: expected {n} comma-separated numbers"),
        })?;
    if v.len() != n {
        return Err(Error::InvalidRequest {
            message: format!("--{what} {s:?}: expected {n} numbers, got {}", v.len()),
        });
    }
    Ok(v)
}

pub async fn run(args: ReadArgs, options: Options) -> Result<()> {
    let resampling: Resampling = args
        .resampling
        .parse()
        .map_err(|m| Error::InvalidRequest { message: m })?;
    let mut req = match (&args.bounds, &args.window) {
        (Some(b), None) => {
            let b = numbers::<f64>("bounds", b, 4)?;
            let mut r = ReadRequest::bounds(Bounds {
                minx: b[0],
                miny: b[1],
                maxx: b[2],
                maxy: b[3],
            });
            if let Some(s) = &args.shape {
                let s = numbers::<usize>("shape", s, 2)?;
                r = r.shape(s[0], s[1]);
            }
            if let Some(z) = args.level {
                r = r.level(z);
            }
            r
        }
        (None, Some(w)) => {
            let w = numbers::<f64>("window", w, 4)?;
            let mut r = ReadRequest::window(Window::from_f64(w[0], w[1], w[2], w[3]), args.level.unwrap_or(0));
            if let Some(s) = &args.shape {
                let s = numbers::<usize>("shape", s, 2)?;
                r = r.shape(s[0], s[1]);
            }
            r
        }
        _ => {
            return Err(Error::InvalidRequest {
                message: "give either --bounds (with --shape) or --window".into(),
            });
        }
    };
    req = req.resampling(resampling).boundless(args.boundless);
    if let Some(b) = &args.bands {
        req = req.bands(
            b.split(',')
                .map(|p| p.trim().parse::<usize>())
                .collect::<std::result::Result<_, _>>()
                .map_err(|_| Error::InvalidRequest {
                    message: format!("--bands {b:?}: expected 1-based band numbers like 1,2,3"),
                })?,
        );
    }
    let cog = CogReader::open_with(&args.src, options).await?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} tiles {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    if let Some(bar) = bar.clone() {
        req = req.progress(move |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        });
    }
    let started = std::time::Instant::now();
    let raster = cog.read_with(req).await?;
    let elapsed = started.elapsed();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    output::write(&raster.array, &args.output, args.mask.as_deref())?;
    let (b, r, c) = raster.array.shape();
    eprintln!(
        "wrote {} ({b}x{r}x{c} {}, level {}, {} invalid)",
        args.output.display(),
        raster.array.data.dtype(),
        raster.level,
        raster.array.invalid_count()
    );
    if args.stats {
        let s = cog.stats();
        let t = raster.transform;
        eprintln!("transform: [{}, {}, {}, {}, {}, {}]", t.a, t.b, t.c, t.d, t.e, t.f);
        eprintln!(
            "requests: {} GET, {} bytes (open: {} GET); cache {} hits, {} misses; {:.1} ms in all, {:.1} ms waiting for bytes, {:.1} ms decoding (CPU)",
            s.requests,
            s.bytes,
            cog.open_stats().requests,
            s.cache_hits,
            s.cache_misses,
            elapsed.as_secs_f64() * 1e3,
            s.waiting.as_secs_f64() * 1e3,
            s.decoding.as_secs_f64() * 1e3
        );
    }
    Ok(())
}
