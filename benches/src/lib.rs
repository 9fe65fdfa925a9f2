//! The benchmark suite's shared pieces: the report table, timing helpers,
//! and (in [`baseline`]) every baseline the figures are compared to, in one
//! reviewed place.

pub mod baseline;
pub mod load;
pub mod nchan;

use std::time::{Duration, Instant};

/// How long the suite runs each row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every row briefly: checks that the suite works.
    Quick,
    /// The figures for the README.
    Full,
}

impl Mode {
    /// `TALK_BENCH_QUICK=1` or a `--quick` argument selects the quick mode.
    pub fn from_env() -> Self {
        let quick_arg = std::env::args().any(|a| a == "--quick");
        let quick_env = std::env::var("TALK_BENCH_QUICK").is_ok_and(|v| v != "0");
        if quick_arg || quick_env { Self::Quick } else { Self::Full }
    }

    /// `full` in full mode, `quick` in quick mode.
    pub fn pick<T>(self, quick: T, full: T) -> T {
        match self {
            Self::Quick => quick,
            Self::Full => full,
        }
    }
}

/// One row of the report: a figure beside its baseline, both measured in
/// this run, and the goal for their ratio.
#[derive(Debug, Clone)]
pub struct Row {
    /// The row's number in the README table.
    pub id: String,
    /// What was measured.
    pub what: String,
    /// The figure, formatted with its unit.
    pub figure: String,
    /// The baseline, formatted with its unit.
    pub baseline: String,
    /// figure ÷ baseline, in the direction the goal states.
    pub ratio: f64,
    /// The goal, e.g. `≥ 0.8×` or `≤ 1.5×`.
    pub goal: String,
    /// Whether the ratio meets the goal.
    pub met: bool,
}

impl Row {
    /// Prints the row as a Markdown table line.
    pub fn print(&self) {
        let verdict = if self.met { "met" } else { "MISSED" };
        // Two decimals, or two significant digits for a ratio far below one.
        let decimals =
            if self.ratio > 0.0 && self.ratio < 0.1 { (1.0 - self.ratio.log10().floor()) as usize } else { 2 };
        let line = format!(
            "| {} | {} | {} | {} | {:.*}× | {} | {} |",
            self.id, self.what, self.figure, self.baseline, decimals, self.ratio, self.goal, verdict
        );
        write_line(&line);
    }
}

/// Prints the table header.
pub fn print_header() {
    write_line("| # | what | figure | baseline | ratio | goal | |");
    write_line("|---|---|---|---|---|---|---|");
}

fn write_line(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

/// The median of some durations.
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// Runs `f` until `budget` is spent or `max` runs are done (at least once),
/// and answers the durations.
pub fn sample(budget: Duration, max: usize, mut f: impl FnMut() -> Duration) -> Vec<Duration> {
    let start = Instant::now();
    let mut samples = Vec::new();
    while samples.is_empty() || (samples.len() < max && start.elapsed() < budget) {
        samples.push(f());
    }
    samples
}

/// A duration in a readable unit.
pub fn show(d: Duration) -> String {
    let micros = d.as_secs_f64() * 1e6;
    if micros < 1000.0 { format!("{micros:.1} µs") } else { format!("{:.2} ms", micros / 1000.0) }
}

/// A rate in operations per second.
pub fn show_rate(per_second: f64) -> String {
    if per_second >= 1000.0 { format!("{:.1} k/s", per_second / 1000.0) } else { format!("{per_second:.0} /s") }
}
