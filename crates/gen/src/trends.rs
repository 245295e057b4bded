//! Trend snapshots: every 30 minutes, each place's top list, as `fetch-trends` writes
//! them. Each place keeps a pool of live topics, each with a lifetime (two hours to
//! three days: a rise, then a decay), a Pareto-distributed peak and the place's daily
//! and weekly rhythm in its local time; a few worldwide topics trend in many places at
//! once with the same volume, as X reports them. Volumes under 10,000 are null, as X
//! gives them.

use std::io::Write;

use chrono::{Datelike, Duration, Timelike};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use trendpipe_core::key::trend_key;
use trendpipe_core::record::{Place, Record, Trend};

use crate::TrendArgs;
use crate::names::{self, Lang, PLACES};

/// One live topic of a pool.
struct Topic {
    name: String,
    key: String,
    /// The snapshot it appeared in, and how many snapshots it lives.
    born: i64,
    life: i64,
    peak: f64,
}

impl Topic {
    fn new(rng: &mut ChaCha8Rng, lang: Lang, slot: i64) -> Topic {
        let name = names::trend_name(rng, lang);
        let key = trend_key(&name);
        // Lifetimes log-uniform from 4 to 144 half hours; a fresh pool starts mid-life.
        let life = (4.0 * 36f64.powf(rng.random::<f64>())).round() as i64;
        let u: f64 = rng.random_range(1e-6..1.0);
        Topic {
            name,
            key,
            born: slot - rng.random_range(0..life.max(1)) * i64::from(slot == 0),
            life,
            peak: 25_000.0 * u.powf(-1.0 / 1.2),
        }
    }

    fn alive(&self, slot: i64) -> bool {
        slot - self.born < self.life
    }

    /// Share of its peak at a snapshot: a quick rise over a tenth of its life, then decay.
    fn phase(&self, slot: i64) -> f64 {
        let age = (slot - self.born) as f64;
        let rise = (self.life as f64 / 10.0).max(1.0);
        if age < rise { (age + 1.0) / (rise + 1.0) } else { (-(age - rise) / (self.life as f64 * 0.35)).exp() }
    }
}

/// Writes `args.records` trend records; returns how many.
pub fn write(args: &TrendArgs, out: &mut impl Write) -> std::io::Result<u64> {
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let places = &PLACES[..usize::from(args.places).min(PLACES.len())];
    let list = usize::from(args.list);
    let pool_size = list * 2 + 4;
    let mut pools: Vec<Vec<Topic>> =
        places.iter().map(|p| (0..pool_size).map(|_| Topic::new(&mut rng, p.lang, 0)).collect()).collect();
    let mut worldwide: Vec<Topic> = (0..3).map(|_| Topic::new(&mut rng, Lang::En, 0)).collect();
    let mut written = 0u64;
    let mut ranked: Vec<(Option<i64>, f64, usize, bool)> = Vec::with_capacity(pool_size + 3);
    for slot in 0i64.. {
        let at = args.start + Duration::minutes(30 * slot);
        renew(&mut worldwide, &mut rng, Lang::En, slot, 3);
        for (p, place) in places.iter().enumerate() {
            let pool = &mut pools[p];
            renew(pool, &mut rng, place.lang, slot, pool_size);
            let local = at + Duration::hours(i64::from(place.utc_offset));
            let hour = f64::from(local.hour()) + f64::from(local.minute()) / 60.0;
            let rhythm = names::daily(hour) * names::weekly(local.weekday().num_days_from_monday());
            ranked.clear();
            for (i, t) in pool.iter().enumerate() {
                let noise = (rng.random::<f64>() - 0.5) * 0.3;
                let v = t.peak * t.phase(slot) * rhythm * (1.0 + noise);
                ranked.push((Some(v as i64), v, i, false));
            }
            // Worldwide topics trend in most places, with the one worldwide count.
            for (i, t) in worldwide.iter().enumerate() {
                if (names::mix(i as u64 ^ t.born as u64 ^ p as u64) % 3) != 0 {
                    let v = t.peak * 20.0 * t.phase(slot) * names::daily(f64::from(at.hour()));
                    ranked.push((Some(v as i64), v, i, true));
                }
            }
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
            let mut seen: Vec<&str> = Vec::with_capacity(list);
            let mut rank = 0u32;
            for &(volume, _, i, global) in &ranked {
                let t = if global { &worldwide[i] } else { &pool[i] };
                if seen.contains(&t.key.as_str()) {
                    continue;
                }
                seen.push(&t.key);
                rank += 1;
                let record = Record::Trend(Trend {
                    source: "x".into(),
                    place: Place { id: place.id.into(), name: Some(place.name.into()), extra: Default::default() },
                    name: t.name.clone(),
                    key: t.key.clone(),
                    volume: volume.filter(|&v| v >= 10_000),
                    rank: Some(rank),
                    observed_at: at,
                    run_id: None,
                    extra: Default::default(),
                });
                serde_json::to_writer(&mut *out, &record)?;
                out.write_all(b"\n")?;
                written += 1;
                if written == args.records {
                    return Ok(written);
                }
                if seen.len() == list {
                    break;
                }
            }
        }
    }
    Ok(written)
}

/// Replaces the topics that ended by new ones, keeping the pool at `size`.
fn renew(pool: &mut Vec<Topic>, rng: &mut ChaCha8Rng, lang: Lang, slot: i64, size: usize) {
    pool.retain(|t| t.alive(slot));
    while pool.len() < size {
        // A topic already live under the same key is drawn again: a list holds a key once.
        let mut t = Topic::new(rng, lang, slot);
        for _ in 0..4 {
            if !pool.iter().any(|o| o.key == t.key) {
                break;
            }
            t = Topic::new(rng, lang, slot);
        }
        pool.push(t);
    }
}
