//! Statistics and the interleaved timing loops every benchmark shares.

use std::time::Instant;

fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

pub fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

pub fn verdict(met: bool) -> &'static str {
    if met {
        "MET"
    } else {
        "NOT MET"
    }
}

/// Runs `a` and `b` alternately (A B, then B A, …) `rounds` times; returns the seconds each run
/// took.
pub fn interleave(rounds: usize, mut a: impl FnMut() -> f64, mut b: impl FnMut() -> f64) -> (Vec<f64>, Vec<f64>) {
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        if round % 2 == 0 {
            ta.push(a());
            tb.push(b());
        } else {
            tb.push(b());
            ta.push(a());
        }
    }
    (ta, tb)
}

/// Runs every variant once per round, starting each round one variant later (A B C, B C A,
/// C A B, …); returns the seconds of each run, per variant.
pub fn rotate(rounds: usize, variants: &mut [&mut dyn FnMut() -> f64]) -> Vec<Vec<f64>> {
    let n = variants.len();
    let mut times = vec![Vec::new(); n];
    for round in 0..rounds {
        for k in 0..n {
            let v = (round + k) % n;
            times[v].push(variants[v]());
        }
    }
    times
}

pub fn time(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64()
}

/// Paired ratios a/b (each pair measured back to back), as median and quartiles.
pub fn paired(a: &[f64], b: &[f64]) -> (f64, f64, f64) {
    let ratios: Vec<f64> = a.iter().zip(b).map(|(a, b)| a / b).collect();
    (median(&ratios), quantile(&ratios, 0.25), quantile(&ratios, 0.75))
}
