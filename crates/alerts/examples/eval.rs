//! Evaluates the detector on seeded synthetic histories, scored the way anomaly
//! benchmarks (NAB) score: credit for the earliest detection inside each labelled
//! anomaly window, a penalty for each detection outside any window.
//!
//! ```text
//! cargo run -p trendpipe-alerts --example eval -- [--seed N] [--trends N] [--grid] [--set param=value]
//! ```
//!
//! `EVAL_VOLUME_STEP_MINUTES` changes the volume sampling (15 by default; 5 is the
//! spacing of the public benchmark's tweet series).
//!
//! Each trend gets five weeks: a level that drifts (a random walk), a daily and a
//! weekly rhythm, heavy-tailed noise (Student-t-like: a normal scaled by a random
//! factor), isolated unlabelled outliers, missing points and gaps. Two trends in
//! three get one or two labelled anomalies after the second week: a step, a slow
//! slide, a single-point spike or a burst of outliers. Volume series are sampled every
//! 15 minutes; sentiment series are hourly windows whose post counts follow the daily
//! rhythm (windows under 30 posts are dropped, as `alerts` drops them) and whose means
//! carry the sampling noise of their post count.
//!
//! The figures: detection rate (windows with a detection), median delay from the
//! anomaly's onset to the first detection, false alarms per trend per week, and the
//! NAB-style normalised score (100 perfect, 0 a detector that never fires; standard
//! profile: −0.11 per false alarm, −1 per missed window, earliest detection ≈ +1).

// An example fails loudly, as tests do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use trendpipe_alerts::detect::{Detection, Params, Point, detect};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Step,
    Slide,
    Spike,
    Burst,
}

#[derive(Debug, Clone)]
struct Label {
    kind: Kind,
    onset: DateTime<Utc>,
    end: DateTime<Utc>,
}

struct Case {
    volume: bool,
    points: Vec<Point>,
    labels: Vec<Label>,
    weeks: f64,
}

fn normal(rng: &mut StdRng) -> f64 {
    // Box–Muller.
    let u: f64 = rng.random_range(1e-12..1.0);
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Heavy-tailed noise: a normal whose scale is itself random (a scale mixture, like
/// a Student t with 5 degrees of freedom).
fn heavy(rng: &mut StdRng) -> f64 {
    let chi: f64 = (0..5).map(|_| normal(rng).powi(2)).sum::<f64>() / 5.0;
    normal(rng) / chi.max(0.2).sqrt()
}

fn poisson(rng: &mut StdRng, lambda: f64) -> f64 {
    if lambda > 30.0 {
        return (lambda + lambda.sqrt() * normal(rng)).round().max(0.0);
    }
    let l = (-lambda).exp();
    let mut k = 0.0;
    let mut p = 1.0;
    loop {
        p *= rng.random::<f64>();
        if p <= l {
            return k;
        }
        k += 1.0;
    }
}

fn case(rng: &mut StdRng, volume: bool) -> Case {
    let t0 = trendpipe_core::record::parse_time("2026-10-05T00:00:00Z").unwrap();
    let days = 35;
    let minutes = std::env::var("EVAL_VOLUME_STEP_MINUTES").ok().and_then(|s| s.parse().ok()).unwrap_or(15);
    let step = if volume { Duration::minutes(minutes) } else { Duration::hours(1) };
    let n = (Duration::days(days).num_seconds() / step.num_seconds()) as usize;
    let mut labels = Vec::new();
    if rng.random_bool(2.0 / 3.0) {
        let count = if rng.random_bool(0.3) { 2 } else { 1 };
        for k in 0..count {
            // After two weeks of history; a second anomaly a week later at least.
            let day = 15.0 + 9.0 * k as f64 + rng.random_range(0.0..8.0);
            let onset = t0 + Duration::minutes((day * 1440.0) as i64);
            let kind = match rng.random_range(0..4) {
                0 => Kind::Step,
                1 => Kind::Slide,
                2 => Kind::Spike,
                _ => Kind::Burst,
            };
            let len = match kind {
                Kind::Step => Duration::hours(rng.random_range(6..48)),
                Kind::Slide => Duration::hours(rng.random_range(12..48)),
                Kind::Spike => step,
                Kind::Burst => Duration::hours(rng.random_range(2..6)),
            };
            labels.push(Label { kind, onset, end: onset + len });
        }
    }
    // Sizes of each anomaly, drawn once.
    let sizes: Vec<f64> = labels.iter().map(|_| rng.random_range(0.0..1.0)).collect();
    let base = if volume { rng.random_range(3.0f64..10.0) } else { rng.random_range(-0.1..0.3) };
    let daily = if volume { rng.random_range(0.2..0.9) } else { rng.random_range(0.0..0.05) };
    let weekend = if volume { rng.random_range(-0.5..0.1) } else { rng.random_range(-0.03..0.03) };
    let noise = if volume { rng.random_range(0.05..0.25) } else { rng.random_range(0.01..0.03) };
    let phase = rng.random_range(0.0..std::f64::consts::TAU);
    let drift_sd = if volume { 0.01 } else { 0.002 } * (step.num_minutes() as f64 / 15.0).sqrt();
    let posts_level = rng.random_range(25.0f64..300.0);
    let mut drift = 0.0;
    let mut points = Vec::with_capacity(n);
    let mut gap_left = 0;
    for i in 0..n {
        let at = t0 + step * i as i32;
        drift += drift_sd * normal(rng);
        drift *= 0.999;
        let hours = at.timestamp() as f64 / 3600.0;
        let season = (std::f64::consts::TAU * hours / 24.0 + phase).sin();
        let dow = (at.timestamp() / 86_400 + 3) % 7; // 0 = Monday
        let weekly = if dow >= 5 { weekend } else { 0.0 };
        let mut y = base + drift + daily * season + weekly + noise * heavy(rng);
        // Unlabelled isolated outliers: real series have them, an alert on one is false.
        if rng.random_bool(0.003) {
            y += if volume { rng.random_range(-0.6..0.6) } else { rng.random_range(-0.08..0.08) };
        }
        for (label, size) in labels.iter().zip(&sizes) {
            if at < label.onset
                || at >= label.end + if label.kind == Kind::Slide { Duration::hours(12) } else { Duration::zero() }
            {
                continue;
            }
            let full = if volume { 0.5 + 1.5 * size } else { -(0.12 + 0.3 * size) };
            y += match label.kind {
                Kind::Step => full,
                Kind::Slide => {
                    let ramp = (at - label.onset).num_minutes() as f64 / (label.end - label.onset).num_minutes() as f64;
                    full * ramp.min(1.0)
                }
                Kind::Spike => full * 2.0,
                Kind::Burst => {
                    if rng.random_bool(0.6) {
                        full * 1.3
                    } else {
                        0.0
                    }
                }
            };
        }
        if gap_left > 0 {
            gap_left -= 1;
            continue;
        }
        if rng.random_bool(0.004) {
            gap_left = rng.random_range(1..16);
            continue;
        }
        if rng.random_bool(0.02) {
            continue;
        }
        if volume {
            let v = poisson(rng, y.exp());
            points.push(Point { at, value: v, weight: None });
        } else {
            let posts = poisson(rng, posts_level * (1.0 + 0.6 * season)).max(0.0) as i64;
            if posts < 30 {
                continue;
            }
            let mean = (y + 0.45 * normal(rng) / (posts as f64).sqrt()).clamp(-1.0, 1.0);
            points.push(Point { at, value: mean, weight: Some(posts) });
        }
    }
    // Labelled windows as NAB draws them: from the onset, long enough to credit an
    // early detection of a slow anomaly, never shorter than six hours.
    for l in labels.iter_mut() {
        l.end = (l.end + Duration::hours(6)).max(l.onset + Duration::hours(6));
        l.onset -= Duration::hours(1);
    }
    Case { volume, points, labels, weeks: days as f64 / 7.0 }
}

#[derive(Debug, Default, Clone)]
struct Score {
    windows: usize,
    found: usize,
    delays: Vec<f64>,
    false_alarms: usize,
    trend_weeks: f64,
    raw: f64,
    perfect: f64,
    by_kind: [(usize, usize); 4],
    false_by_rule: [usize; 3],
}

impl Score {
    fn add(&mut self, case: &Case, found: &[Detection]) {
        let hits: Vec<DateTime<Utc>> = found.iter().map(|d| d.at).collect();
        for d in found {
            if !case.labels.iter().any(|l| d.at >= l.onset && d.at <= l.end) {
                self.false_by_rule[d.rule as usize] += 1;
                if std::env::var_os("EVAL_DUMP").is_some() && case.volume {
                    let day = (d.at - case.points[0].at).num_minutes() as f64 / 1440.0;
                    println!(
                        "FA {:?} day {day:.2} value {} baseline {:.1} score {:.1} {:?}",
                        d.rule, d.value, d.baseline, d.score, d.against
                    );
                }
            }
        }
        self.trend_weeks += case.weeks;
        for l in &case.labels {
            self.windows += 1;
            self.perfect += 0.987;
            let k = l.kind as usize;
            self.by_kind[k].0 += 1;
            match hits.iter().find(|t| **t >= l.onset && **t <= l.end) {
                Some(t) => {
                    self.found += 1;
                    self.by_kind[k].1 += 1;
                    self.delays.push((*t - (l.onset + Duration::hours(1))).num_minutes() as f64 / 60.0);
                    let len = (l.end - l.onset).num_seconds() as f64;
                    let y = (*t - l.end).num_seconds() as f64 / len; // −1 at the start, 0 at the end
                    self.raw += 2.0 / (1.0 + (5.0 * y).exp()) - 1.0;
                }
                None => self.raw -= 1.0,
            }
        }
        let fa = hits.iter().filter(|t| !case.labels.iter().any(|l| **t >= l.onset && **t <= l.end)).count();
        self.false_alarms += fa;
        self.raw -= 0.11 * fa as f64;
    }

    fn line(&self) -> String {
        let mut d = self.delays.clone();
        d.sort_by(f64::total_cmp);
        let median = if d.is_empty() { f64::NAN } else { d[d.len() / 2] };
        let null = -(self.windows as f64);
        let nab = 100.0 * (self.raw - null) / (self.perfect - null);
        let kinds: Vec<String> = ["step", "slide", "spike", "burst"]
            .iter()
            .zip(self.by_kind)
            .map(|(name, (n, f))| format!("{name} {f}/{n}"))
            .collect();
        format!(
            "detected {}/{} ({:.0}%), median delay {:.2}h, false alarms {:.3}/trend/week, NAB {:.1} [{}] false spike/burst/cusum {:?}",
            self.found,
            self.windows,
            100.0 * self.found as f64 / self.windows.max(1) as f64,
            median,
            self.false_alarms as f64 / self.trend_weeks,
            nab,
            kinds.join(", "),
            self.false_by_rule
        )
    }
}

fn evaluate(cases: &[Case], tune: &dyn Fn(&mut Params)) -> (Score, Score) {
    let (mut vol, mut sen) = (Score::default(), Score::default());
    for c in cases {
        let mut p = if c.volume { Params::volume() } else { Params::sentiment() };
        tune(&mut p);
        let hits = detect(&c.points, &p, None, None);
        if c.volume { vol.add(c, &hits) } else { sen.add(c, &hits) }
    }
    (vol, sen)
}

fn main() {
    let mut seed = 1u64;
    let mut trends = 200usize;
    let mut grid = false;
    let mut sets: Vec<(String, f64)> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seed" => seed = args.next().and_then(|s| s.parse().ok()).expect("--seed N"),
            "--trends" => trends = args.next().and_then(|s| s.parse().ok()).expect("--trends N"),
            "--grid" => grid = true,
            "--set" => {
                let kv = args.next().expect("--set key=value");
                let (k, v) = kv.split_once('=').expect("--set key=value");
                sets.push((k.to_owned(), v.parse().expect("a number")));
            }
            other => panic!("unknown argument {other}"),
        }
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let cases: Vec<Case> = (0..trends).map(|i| case(&mut rng, i % 2 == 0)).collect();
    println!("seed {seed}: {trends} trends (half volume every 15 min, half hourly sentiment), 5 weeks each");
    let (v, s) = evaluate(&cases, &|p| {
        for (k, v) in &sets {
            match k.as_str() {
                "z_spike" => p.z_spike = *v,
                "z_burst" => p.z_burst = *v,
                "cusum_h" => p.cusum_h = *v,
                "cusum_k" => p.cusum_k = *v,
                "cusum_clip" => p.cusum_clip = *v,
                "min_effect" => p.min_effect = *v,
                "spike_effect" => p.spike_effect = *v,
                "recent_points" => p.recent_points = *v as usize,
                "tail_quantile" => p.tail_quantile = *v,
                "tail_factor" => p.tail_factor = *v,
                "burst_m" => p.burst_m = *v as usize,
                "burst_n" => p.burst_n = *v as usize,
                other => panic!("unknown parameter {other}"),
            }
        }
    });
    println!("defaults  volume:    {}", v.line());
    println!("defaults  sentiment: {}", s.line());
    if !grid {
        return;
    }
    for z_spike in [4.0, 5.0, 6.0] {
        for z_burst in [2.5, 3.0, 3.5] {
            for cusum_h in [5.0, 8.0, 12.0] {
                for cusum_k in [0.5, 1.0] {
                    let (v, s) = evaluate(&cases, &|p| {
                        p.z_spike = z_spike;
                        p.z_burst = z_burst;
                        p.cusum_h = cusum_h;
                        p.cusum_k = cusum_k;
                    });
                    println!(
                        "spike {z_spike} burst {z_burst} h {cusum_h} k {cusum_k}\n  volume:    {}\n  sentiment: {}",
                        v.line(),
                        s.line()
                    );
                }
            }
        }
    }
}
