//! Peak RSS growth of `switchboard serve` while it streams a `file_url` resume to the fake
//! Lever, for a 1 MB and a 25 MB file: flat memory means both grow by about the same, far
//! less than the file. Run with `cargo bench -p switchboard-cli --bench attachment_rss`
//! (the release binary); each size gets a fresh server, warmed up with a 1 KB file.

#[path = "../tests/support/attachment_rss.rs"]
mod attachment_rss;

use attachment_rss::{Measured, Setup};

/// The file sizes compared.
const SIZES: [u64; 2] = [1_000_000, 25_000_000];

/// Runs per size; the largest growth is reported.
const RUNS: usize = 3;

fn main() {
    println!("peak RSS growth of `switchboard serve` while it streams a file_url upload");
    println!(
        "{:>12} {:>14} {:>14} {:>12}",
        "file", "baseline", "peak", "growth"
    );
    let mut worst = Vec::new();
    for file_bytes in SIZES {
        let mut setup = Setup::start("attachment-rss-bench");
        let runs: Vec<Measured> = (0..RUNS).map(|_| setup.measure(file_bytes)).collect();
        for measured in &runs {
            println!(
                "{:>12} {:>14} {:>14} {:>12}{}",
                measured.file_bytes,
                measured.baseline,
                measured.peak,
                measured.growth(),
                if measured.reset {
                    ""
                } else {
                    " (peak not reset: warm-up peak as baseline)"
                }
            );
        }
        worst.push(runs.iter().map(Measured::growth).max().unwrap_or_default());
    }
    println!(
        "largest growth: {} bytes for 1 MB, {} bytes for 25 MB (25 MB / 1 MB: {:.2})",
        worst[0],
        worst[1],
        worst[1] as f64 / worst[0].max(1) as f64
    );
}
