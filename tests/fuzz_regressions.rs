//! Replays what the fuzz targets do (`fuzz/exercise.rs`) on every input
//! kept under `tests/fuzz_regressions/<kind>/<target>-<name>` (kind: oom,
//! panic, hang, wrong_error; target: open, read, codec, header), each on a
//! thread of its own with a time bound, so a finding stays fixed under
//! plain `cargo test`. Every fixture also goes through the open, read and
//! header targets, so the exercise itself is checked on valid files.

#[path = "../fuzz/exercise.rs"]
mod exercise;

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Runs `target` on `data` on its own thread; `Err` with what went wrong
/// (a panic's message, or a timeout).
fn replay(target: &str, data: Vec<u8>, limit: Duration) -> Result<(), String> {
    let f: fn(&[u8]) = match target {
        "open" => exercise::open,
        "read" => exercise::read,
        "codec" => exercise::codec,
        "header" => exercise::header,
        other => return Err(format!("no fuzz target {other:?}")),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(|| f(&data)).map_err(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into())
        });
        let _ = tx.send(r);
    });
    match rx.recv_timeout(limit) {
        Ok(r) => r.map_err(|m| format!("panicked: {m}")),
        Err(_) => Err(format!("still running after {limit:?}")),
    }
}

fn kept() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut files = Vec::new();
    for kind in ["oom", "panic", "hang", "wrong_error"] {
        if let Ok(dir) = std::fs::read_dir(root.join(kind)) {
            files.extend(dir.flatten().map(|e| e.path()).filter(|p| p.is_file()));
        }
    }
    files.sort();
    files
}

#[test]
fn every_kept_fuzz_finding_now_returns() {
    let mut failed = Vec::new();
    for path in kept() {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let target = name.split('-').next().unwrap_or_default().to_string();
        let data = std::fs::read(&path).unwrap();
        if let Err(e) = replay(&target, data, Duration::from_secs(20)) {
            failed.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(failed.is_empty(), "fuzz findings are back:\n{}", failed.join("\n"));
}

#[test]
fn the_fuzz_exercises_run_every_fixture() {
    let mut failed = Vec::new();
    for (name, _) in support::fixtures() {
        let data = std::fs::read(support::fixtures_dir().join(&name)).unwrap();
        for target in ["open", "read", "header"] {
            if let Err(e) = replay(target, data.clone(), Duration::from_secs(60)) {
                failed.push(format!("{target} on {name}: {e}"));
            }
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
