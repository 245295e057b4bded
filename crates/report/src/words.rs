//! Word clouds: the words of a trend's posts counted, and laid out without overlaps.
//!
//! Stop words (English and Portuguese, the lists below) are removed, URLs dropped,
//! hashtags and mentions kept as they are written; other words are lower-cased.
//! The layout is deterministic: words are placed largest first along an
//! Archimedean spiral from the centre, each at the first point where its box
//! overlaps no box placed before, so the same counts always give the same picture.

use std::collections::HashMap;

use serde::Serialize;

const STOP_EN: &str = "a about above after again against all also am an and any are aren't as at be because been \
before being below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down \
during each few for from further get got had hadn't has hasn't have haven't having he he'd he'll he's her here \
here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself just let's \
like me more most much mustn't my myself no nor not now of off on once one only or other ought our ours ourselves \
out over own rt same shan't she she'd she'll she's should shouldn't so some such than that that's the their theirs \
them themselves then there there's these they they'd they'll they're they've this those through to too under until \
up us very via was wasn't we we'd we'll we're we've were weren't what what's when when's where where's which while \
who who's whom why why's will with won't would wouldn't yes yet you you'd you'll you're you've your yours yourself \
yourselves amp just really";

const STOP_PT: &str = "a à ao aos aquela aquelas aquele aqueles aquilo as às até com como da das de dela delas \
dele deles depois do dos e é ela elas ele eles em entre era eram essa essas esse esses esta está estão estas \
estava estavam este estes eu foi fomos for foram fosse há isso isto já lhe lhes mais mas me mesmo meu meus minha \
minhas muito muita muitos na não nas nem no nos nós nossa nossas nosso nossos num numa o os ou para pela pelas \
pelo pelos por porque qual quando que quem se sem ser será seu seus só sua suas também te tem têm tinha tu tua \
tuas teu teus um uma umas uns você vocês vai vou tá ta pra pro q vc vcs tb tbm aí ai então agora ainda sobre \
até assim ser ter está estou sim lá cada";

/// How many words a cloud shows at most.
pub const MAX_WORDS: usize = 60;

/// A word and how many times it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WordCount {
    pub word: String,
    pub count: usize,
}

/// Counts the words of `texts`, most frequent first (ties alphabetical).
pub fn count<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<WordCount> {
    let stop: std::collections::HashSet<&str> = STOP_EN.split_whitespace().chain(STOP_PT.split_whitespace()).collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for text in texts {
        for raw in text.split_whitespace() {
            let lower = raw.to_lowercase();
            if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www.") {
                continue;
            }
            let tagged = raw.starts_with('#') || raw.starts_with('@');
            let word: String = if tagged {
                // `#Tag,` → `#Tag`; a mention may carry a domain (`@a@b.social`).
                let body = raw[1..].trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_');
                format!("{}{body}", &raw[..1])
            } else {
                lower.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'').trim_matches('\'').to_owned()
            };
            let len = word.chars().count();
            // Markup and code (`a<b`, `x=1`) are not words.
            let wordlike = word
                .chars()
                .skip(usize::from(tagged))
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '\'' | '_' | '@' | '.'));
            if len < 2 || !wordlike || word.chars().all(|c| c.is_numeric() || !c.is_alphanumeric()) {
                continue;
            }
            if !tagged && stop.contains(word.as_str()) {
                continue;
            }
            *counts.entry(word).or_default() += 1;
        }
    }
    let mut list: Vec<WordCount> = counts.into_iter().map(|(word, count)| WordCount { word, count }).collect();
    list.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.word.cmp(&b.word)));
    list
}

/// A word placed in the cloud: its baseline-left corner is `(x, y)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Placed {
    pub word: String,
    pub count: usize,
    pub size: f64,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Placed {
    /// Whether the boxes of two words intersect.
    pub fn overlaps(&self, o: &Placed) -> bool {
        self.x < o.x + o.width && o.x < self.x + self.width && self.y - self.height < o.y && o.y - o.height < self.y
    }
}

/// Lays out the `MAX_WORDS` most frequent words in a `width` × `height` box.
/// Font sizes run from 12 to 48 px by the square root of the count. The box of a
/// word is estimated from its length (0.6 em a character), which is what the
/// renderer's sans-serif font needs at most for the scripts in these lists.
pub fn layout(words: &[WordCount], width: f64, height: f64) -> Vec<Placed> {
    let Some(max) = words.first().map(|w| w.count as f64) else {
        return Vec::new();
    };
    let mut placed: Vec<Placed> = Vec::new();
    for w in words.iter().take(MAX_WORDS) {
        let chars = w.word.chars().count().max(1) as f64;
        // A long word never gets wider than the box.
        let size = (12.0 + 36.0 * (w.count as f64 / max).sqrt()).min((width - 8.0) / (chars * 0.6)).round();
        let bw = chars * size * 0.6 + 4.0;
        let bh = size * 1.15;
        let mut t = 0.0_f64;
        while t < 200.0 {
            // Spiral centred in the box, flattened to the box's aspect.
            let r = 2.0 * t;
            let cx = width / 2.0 + r * t.cos() * (width / height).min(3.0);
            let cy = height / 2.0 + r * t.sin();
            let candidate = Placed {
                word: w.word.clone(),
                count: w.count,
                size,
                x: (cx - bw / 2.0).round(),
                y: (cy + bh / 2.0).round(),
                width: bw,
                height: bh,
            };
            let inside =
                candidate.x >= 0.0 && candidate.x + bw <= width && candidate.y - bh >= 0.0 && candidate.y <= height;
            if inside && !placed.iter().any(|p| p.overlaps(&candidate)) {
                placed.push(candidate);
                break;
            }
            t += 0.05;
        }
    }
    placed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_and_urls_go_tags_and_mentions_stay_as_written() {
        let texts = [
            "O #BBB26 está demais, the best https://t.co/xyz @Ana_Clara",
            "#BBB26 paredão hoje! Paredão é o melhor",
            "www.example.com the paredão 2026",
        ];
        let counts = count(texts.iter().copied());
        let pairs: Vec<(&str, usize)> = counts.iter().map(|w| (w.word.as_str(), w.count)).collect();
        assert_eq!(
            pairs,
            [("paredão", 3), ("#BBB26", 2), ("@Ana_Clara", 1), ("best", 1), ("demais", 1), ("hoje", 1), ("melhor", 1)]
        );
    }

    #[test]
    fn layout_is_deterministic_inside_the_box_and_without_overlaps() {
        let words: Vec<WordCount> =
            (0..80).map(|i| WordCount { word: format!("palavra{i}"), count: 1000 / (i + 1) }).collect();
        let a = layout(&words, 600.0, 300.0);
        let b = layout(&words, 600.0, 300.0);
        assert_eq!(a, b);
        assert!(a.len() > 10, "placed only {}", a.len());
        for (i, p) in a.iter().enumerate() {
            assert!(p.x >= 0.0 && p.x + p.width <= 600.0 && p.y - p.height >= 0.0 && p.y <= 300.0, "{p:?}");
            for q in &a[i + 1..] {
                assert!(!p.overlaps(q), "{p:?} overlaps {q:?}");
            }
        }
        assert_eq!(a[0].word, "palavra0");
        assert_eq!(a[0].size, 48.0);
    }
}
