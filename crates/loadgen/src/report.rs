//! Figures from a run: requests per second and latency percentiles, and the ratios to `/health`.

use crate::drive::Tally;

/// One route's figures.
pub(crate) struct Figures {
    pub(crate) per_second: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) non_2xx: u64,
    pub(crate) errors: u64,
}

impl Figures {
    /// The figures of `tally` (its latencies get sorted).
    pub(crate) fn of(tally: &mut Tally) -> Figures {
        tally.latencies.sort_unstable();
        let seconds = tally.elapsed.as_secs_f64().max(f64::MIN_POSITIVE);
        Figures {
            per_second: tally.latencies.len() as f64 / seconds,
            p50_ms: percentile(&tally.latencies, 0.50),
            p99_ms: percentile(&tally.latencies, 0.99),
            non_2xx: tally.non_2xx,
            errors: tally.errors,
        }
    }

    /// One line: `name  req/s  p50  p99  non-2xx`.
    pub(crate) fn line(&self, name: &str) -> String {
        let errors = if self.errors > 0 {
            format!("  errors {}", self.errors)
        } else {
            String::new()
        };
        format!(
            "{name:<32}{:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  non-2xx {}{errors}",
            self.per_second, self.p50_ms, self.p99_ms, self.non_2xx
        )
    }
}

/// The `q` quantile (nearest rank) of sorted microseconds, in milliseconds; 0 when empty.
pub(crate) fn percentile(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    f64::from(sorted[index]) / 1000.0
}

/// The process's resident memory in MiB, from `/proc/self/status` (Linux); `None` elsewhere.
pub(crate) fn rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let sorted: Vec<u32> = (1..=100).map(|ms| ms * 1000).collect();
        assert_eq!(percentile(&sorted, 0.50), 50.0);
        assert_eq!(percentile(&sorted, 0.99), 99.0);
        assert_eq!(percentile(&[7000], 0.99), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
