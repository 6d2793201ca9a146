//! One benchmark measurement in a fresh process, printed as one JSON line:
//! `peer_runner READER CASE SRC [ARGS...] [--threads N]`.
//!
//! READER is `async-cog` or `async-tiff` (see `peers.rs`). CASE is one of
//! `window X Y W H`, `decode`, `warm_tile X Y N`, `opens N C`,
//! `one_tile X Y`. Wall time, this process's CPU time (user + system, all
//! threads) and peak RSS growth cover the measured part only; `run.py`
//! reads requests and bytes from the range server's log.

mod measure;
mod ours;
mod peers;

use std::process::ExitCode;

use serde_json::json;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let threads = match args.iter().position(|a| a == "--threads") {
        Some(i) if i + 1 < args.len() => {
            let n = args.remove(i + 1);
            args.remove(i);
            n.parse::<usize>().ok()
        }
        _ => None,
    };
    let (reader, case, src) = match (args.first(), args.get(1), args.get(2)) {
        (Some(r), Some(c), Some(s)) => (r.clone(), c.clone(), s.clone()),
        _ => {
            eprintln!("usage: peer_runner READER CASE SRC [ARGS...] [--threads N]");
            return ExitCode::from(2);
        }
    };
    let nums: Vec<u64> = args.iter().skip(3).filter_map(|a| a.parse().ok()).collect();
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(n) = threads {
        rt.worker_threads(n.max(1)).max_blocking_threads(n.max(1));
    }
    let rt = match rt.build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        match reader.as_str() {
            "async-cog" => ours::run(&case, &src, &nums).await,
            "async-tiff" => peers::run(&case, &src, &nums).await,
            other => Err(format!("unknown reader {other}")),
        }
    });
    match result {
        Ok(mut out) => {
            out["reader"] = json!(reader);
            out["case"] = json!(case);
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{}", json!({"reader": reader, "case": case, "error": e}));
            ExitCode::FAILURE
        }
    }
}
