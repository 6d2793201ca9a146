//! The cases, read with async-cog.

use std::sync::Arc;

use async_cog::{BlockCaching, CogReader, Options, TileCaching, Window};
use serde_json::{Value, json};

use crate::measure::{Span, decoded, rate};

fn arg(nums: &[u64], i: usize, what: &str) -> Result<u64, String> {
    nums.get(i).copied().ok_or_else(|| format!("missing argument {what}"))
}

/// Runs `case` on `src` (a URL or a local path).
pub async fn run(case: &str, src: &str, nums: &[u64]) -> Result<Value, String> {
    let e = |e: async_cog::Error| e.to_string();
    match case {
        "window" => {
            let (x, y, w, h) = (
                arg(nums, 0, "X")?,
                arg(nums, 1, "Y")?,
                arg(nums, 2, "W")?,
                arg(nums, 3, "H")?,
            );
            let span = Span::start();
            let cog = CogReader::open(src).await.map_err(e)?;
            let r = cog
                .read_window(Window::new(x as i64, y as i64, w, h), 0)
                .await
                .map_err(e)?;
            let mut out = span.stop();
            let (b, rows, cols) = r.array.shape();
            out["pixels"] = json!(rows * cols);
            out["bands"] = json!(b);
            let st = cog.stats();
            out["waiting_ms"] = json!(st.waiting.as_secs_f64() * 1e3);
            out["decoding_cpu_ms"] = json!(st.decoding.as_secs_f64() * 1e3);
            Ok(out)
        }
        "decode" => {
            // Every tile decoded once: no decoded-tile cache.
            let options = Options::default().with_tile_caching(TileCaching::Off);
            let cog = CogReader::open_with(src, options).await.map_err(e)?;
            let p = cog.profile();
            let (w, h) = (p.width, p.height);
            let span = Span::start();
            cog.read_window(Window::new(0, 0, w, h), 0).await.map_err(e)?;
            let mut out = span.stop();
            decoded(&mut out, w, h);
            Ok(out)
        }
        "warm_tile" => {
            let (x, y, n) = (arg(nums, 0, "X")?, arg(nums, 1, "Y")?, arg(nums, 2, "N")?);
            let cog = CogReader::open(src).await.map_err(e)?;
            cog.get_tile(x, y, 0).await.map_err(e)?;
            let span = Span::start();
            let tasks = 64.min(n.max(1));
            let per_task = n.div_ceil(tasks);
            let handles: Vec<_> = (0..tasks)
                .map(|_| {
                    let cog = cog.clone();
                    tokio::spawn(async move {
                        for _ in 0..per_task {
                            cog.get_tile(x, y, 0).await?;
                        }
                        Ok::<_, async_cog::Error>(())
                    })
                })
                .collect();
            for h in handles {
                h.await.map_err(|j| j.to_string())?.map_err(e)?;
            }
            let mut out = span.stop();
            let total = per_task * tasks;
            out["tiles"] = json!(total);
            rate(&mut out, "tiles_per_s", total as f64, "wall_ms");
            Ok(out)
        }
        "opens" => {
            let (n, c) = (arg(nums, 0, "N")?, arg(nums, 1, "C")?);
            let sem = Arc::new(tokio::sync::Semaphore::new(c.max(1) as usize));
            let span = Span::start();
            let handles: Vec<_> = (0..n)
                .map(|_| {
                    let (sem, src) = (sem.clone(), src.to_string());
                    tokio::spawn(async move {
                        let _permit = sem.acquire().await.map_err(|e| e.to_string())?;
                        let options = Options::default().with_block_caching(BlockCaching::Off);
                        CogReader::open_with(&src, options).await.map_err(|e| e.to_string())?;
                        Ok::<_, String>(())
                    })
                })
                .collect();
            for h in handles {
                h.await.map_err(|j| j.to_string())??;
            }
            let mut out = span.stop();
            out["opens"] = json!(n);
            rate(&mut out, "opens_per_s", n as f64, "wall_ms");
            Ok(out)
        }
        "one_tile" => {
            let (x, y) = (arg(nums, 0, "X")?, arg(nums, 1, "Y")?);
            let span = Span::start();
            let cog = CogReader::open(src).await.map_err(e)?;
            cog.get_tile(x, y, 0).await.map_err(e)?;
            Ok(span.stop())
        }
        other => Err(format!("unknown case {other}")),
    }
}
