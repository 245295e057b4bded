//! The composite score, its weights, and the percentile and rank it gives.
//!
//! score = w_r·ln(1+reposts) + w_l·ln(1+likes) + w_f·ln(1+followers) + w_d·ln(1+cascade_depth)
//! with the weights 0.35, 0.25, 0.15 and 0.25 by default. Logarithms keep one viral
//! post from outweighing everything else; followers weigh least because a follower
//! count says little about influence (Cha et al., ICWSM 2010). An unknown follower
//! count counts as 0.
//!
//! Within one (trend, window) of n authors, an author's `percentile` is
//! ceil(100 × m / n), m being the number of authors whose score is at most theirs:
//! 100 for the best, the same for equal scores, at least 1. `rank` is 1 for the best
//! score; equal scores are ordered by reposts received (more first), then author id,
//! then source.

use std::cmp::Ordering;
use std::str::FromStr;

use serde::Serialize;

use crate::graph::AuthorCascades;
use crate::window::Counts;

/// Every number behind a score, as written in each output row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Components {
    pub posts: i64,
    pub reposts_made: i64,
    pub reposts: i64,
    pub likes: i64,
    pub replies: i64,
    pub quotes: i64,
    pub followers: Option<i64>,
    pub h_index: i64,
    pub cascade_depth: i64,
    pub cascade_size: i64,
    pub structural_virality: f64,
    pub pagerank: f64,
}

impl Components {
    pub fn new(c: Counts, cascades: AuthorCascades, pagerank: f64) -> Self {
        Self {
            posts: c.posts,
            reposts_made: c.reposts_made,
            reposts: c.reposts,
            likes: c.likes,
            replies: c.replies,
            quotes: c.quotes,
            followers: c.followers,
            h_index: c.h_index,
            cascade_depth: cascades.depth,
            cascade_size: cascades.size,
            structural_virality: cascades.virality,
            pagerank,
        }
    }
}

/// The weights of the score's four terms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    pub reposts: f64,
    pub likes: f64,
    pub followers: f64,
    pub depth: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self { reposts: 0.35, likes: 0.25, followers: 0.15, depth: 0.25 }
    }
}

fn ln1p(n: i64) -> f64 {
    (n.max(0) as f64).ln_1p()
}

impl Weights {
    /// The score of an author's components.
    pub fn score(&self, c: &Components) -> f64 {
        self.reposts * ln1p(c.reposts)
            + self.likes * ln1p(c.likes)
            + self.followers * ln1p(c.followers.unwrap_or(0))
            + self.depth * ln1p(c.cascade_depth)
    }

    /// The model name written in each row: the method and its weights.
    pub fn model(&self) -> String {
        format!(
            "influence-v1 weights=reposts:{},likes:{},followers:{},depth:{}",
            self.reposts, self.likes, self.followers, self.depth
        )
    }
}

impl FromStr for Weights {
    type Err = String;

    /// `reposts=0.4,likes=0.3,followers=0.1,depth=0.2`; a term left out keeps its
    /// default weight.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut w = Self::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) =
                part.split_once('=').ok_or_else(|| format!("{part:?}: expected NAME=WEIGHT, like reposts=0.35"))?;
            let value: f64 = value
                .trim()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| format!("{part:?}: a weight is a number, zero or more"))?;
            let slot = match name.trim() {
                "reposts" => &mut w.reposts,
                "likes" => &mut w.likes,
                "followers" => &mut w.followers,
                "depth" => &mut w.depth,
                other => return Err(format!("{other:?}: the weights are reposts, likes, followers and depth")),
            };
            *slot = value;
        }
        Ok(w)
    }
}

/// What ranks an author.
#[derive(Debug, Clone, Copy)]
pub struct RankKey<'a> {
    pub score: f64,
    pub reposts: i64,
    pub id: &'a str,
    pub source: &'a str,
}

/// An author's place: `index` into the keys given to [`rank`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub index: usize,
    pub rank: u64,
    pub percentile: u32,
}

fn better(a: &RankKey<'_>, b: &RankKey<'_>) -> Ordering {
    b.score
        .total_cmp(&a.score)
        .then(b.reposts.cmp(&a.reposts))
        .then_with(|| a.id.cmp(b.id))
        .then_with(|| a.source.cmp(b.source))
}

/// Ranks and percentiles, best first.
pub fn rank(keys: &[RankKey<'_>]) -> Vec<Place> {
    let n = keys.len() as u64;
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| better(&keys[a], &keys[b]));
    // Scores ascending, to count for each score how many are at most it.
    let mut ascending: Vec<f64> = keys.iter().map(|k| k.score).collect();
    ascending.sort_by(f64::total_cmp);
    order
        .iter()
        .enumerate()
        .map(|(i, &index)| {
            let score = keys[index].score;
            let at_most = ascending.partition_point(|s| s.total_cmp(&score) != Ordering::Greater) as u64;
            Place { index, rank: i as u64 + 1, percentile: (100 * at_most).div_ceil(n) as u32 }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn weights_parse_partially_and_refuse_unknown_terms() {
        let w: Weights = "reposts=0.5, depth=0".parse().unwrap();
        assert_eq!(w, Weights { reposts: 0.5, depth: 0.0, ..Weights::default() });
        assert!("reach=1".parse::<Weights>().unwrap_err().contains("reposts, likes"));
        assert!("likes=-1".parse::<Weights>().is_err());
        assert!("likes".parse::<Weights>().is_err());
        assert!("likes=NaN".parse::<Weights>().is_err());
        assert_eq!(
            Weights::default().model(),
            "influence-v1 weights=reposts:0.35,likes:0.25,followers:0.15,depth:0.25"
        );
    }

    #[test]
    fn the_default_score_is_the_documented_sum() {
        let c = Components {
            posts: 3,
            reposts_made: 1,
            reposts: 10,
            likes: 100,
            replies: 0,
            quotes: 0,
            followers: Some(1000),
            h_index: 2,
            cascade_depth: 3,
            cascade_size: 5,
            structural_virality: 1.5,
            pagerank: 0.2,
        };
        let expected = 0.35 * 11f64.ln() + 0.25 * 101f64.ln() + 0.15 * 1001f64.ln() + 0.25 * 4f64.ln();
        assert!((Weights::default().score(&c) - expected).abs() < 1e-12);
        let unknown = Components { followers: None, ..c };
        assert!((Weights::default().score(&unknown) - (expected - 0.15 * 1001f64.ln())).abs() < 1e-12);
    }

    #[test]
    fn ties_go_to_reposts_then_author_id_and_share_a_percentile() {
        let k = |score, reposts, id| RankKey { score, reposts, id, source: "x" };
        let keys = [k(1.0, 5, "b"), k(2.0, 0, "z"), k(1.0, 5, "a"), k(1.0, 9, "c"), k(0.5, 0, "d")];
        let places = rank(&keys);
        let order: Vec<(&str, u64, u32)> = places.iter().map(|p| (keys[p.index].id, p.rank, p.percentile)).collect();
        // n = 5: the best has all 5 at most its score (100); the three at 1.0 have 4 (80); d has 1 (20).
        assert_eq!(order, [("z", 1, 100), ("c", 2, 80), ("a", 3, 80), ("b", 4, 80), ("d", 5, 20)]);
        let one = rank(&[k(0.0, 0, "x")]);
        assert_eq!(one, [Place { index: 0, rank: 1, percentile: 100 }]);
        // 1 of 300 at the bottom still gets percentile 1.
        let many: Vec<RankKey<'_>> = (0..300).map(|i| k(f64::from(i), 0, "a")).collect();
        assert_eq!(rank(&many).last().unwrap().percentile, 1);
    }
}
