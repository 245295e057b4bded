//! Trend categories: sports, entertainment, music, politics, news, tech, brands or
//! other.
//!
//! The provider's own category wins where it gives one (Bluesky's trending topics
//! do); else keyword rules are tried on the trend's name, then its news titles
//! (Google Trends items), then its posts' words. The keywords come from a TOML file
//! (`categories.toml` in this crate is the built-in default, English and
//! Portuguese) that `--categories FILE` extends or replaces.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

/// The categories in the order ties are broken.
pub const CATEGORIES: [&str; 8] = ["sports", "entertainment", "music", "politics", "news", "tech", "brands", "other"];

const DEFAULTS: &str = include_str!("../categories.toml");

/// A posts rule needs this many keyword hits, so that one stray word does not
/// decide a trend's category.
const MIN_POST_HITS: usize = 3;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    mode: Mode,
    #[serde(default)]
    categories: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Default, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Mode {
    #[default]
    Extend,
    Replace,
}

/// The keyword rules, normalised (lower case, no accents).
#[derive(Debug, Clone)]
pub struct Rules {
    /// `(category, keywords)` in [`CATEGORIES`] order.
    keywords: Vec<(&'static str, Vec<Keyword>)>,
}

/// A keyword in the forms the matching needs, made once.
#[derive(Debug, Clone)]
struct Keyword {
    /// Normalised: `big brother`.
    text: String,
    /// ` big brother `, matched against a padded normalised text.
    phrase: String,
    /// `bigbrother`, matched inside run-together words when four letters or more.
    compact: Option<String>,
}

impl Keyword {
    fn new(raw: &str) -> Option<Self> {
        let text = normalise(raw);
        if text.is_empty() {
            return None;
        }
        let compact = (text.chars().count() >= 4).then(|| text.replace(' ', ""));
        Some(Self { phrase: format!(" {text} "), compact, text })
    }
}

/// A trend's category and the rule that gave it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Category {
    pub category: String,
    pub rule: String,
}

impl Rules {
    /// The built-in rules, extended or replaced by `file`.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let defaults: File = toml::from_str(DEFAULTS).context("reading the built-in category keywords")?;
        let mut map = defaults.categories;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let own: File =
                toml::from_str(&text).with_context(|| format!("{}: not a category file", path.display()))?;
            for name in own.categories.keys() {
                if !CATEGORIES.contains(&name.as_str()) {
                    anyhow::bail!(
                        "{}: unknown category {name:?} (use one of {})",
                        path.display(),
                        CATEGORIES.join(", ")
                    );
                }
            }
            if own.mode == Mode::Replace {
                map.clear();
            }
            for (name, words) in own.categories {
                map.entry(name).or_default().extend(words);
            }
        }
        let keywords = CATEGORIES
            .iter()
            .map(|c| {
                (*c, map.get(*c).map(|ws| ws.iter().filter_map(|w| Keyword::new(w)).collect()).unwrap_or_default())
            })
            .collect();
        Ok(Self { keywords })
    }

    /// The category of a trend from what is known of it.
    pub fn classify(
        &self,
        name: &str,
        provider: Option<&str>,
        news: &[String],
        post_words: &[(String, usize)],
    ) -> Category {
        if let Some(c) = provider.and_then(map_provider) {
            return Category { category: c.to_owned(), rule: "provider".to_owned() };
        }
        if let Some((c, kw)) = self.best(&[name.to_owned()], true) {
            return Category { category: c.to_owned(), rule: format!("name:{kw}") };
        }
        if let Some((c, kw)) = self.best(news, false) {
            return Category { category: c.to_owned(), rule: format!("news:{kw}") };
        }
        // Post words normalised once, then looked up.
        let mut words: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for (w, c) in post_words {
            *words.entry(normalise(w)).or_default() += c;
        }
        let mut hits: Vec<(usize, usize, &str, &str)> = Vec::new();
        for (i, (cat, kws)) in self.keywords.iter().enumerate() {
            let mut n = 0;
            let mut first = "";
            for kw in kws {
                let c = words.get(&kw.text).copied().unwrap_or(0);
                if c > 0 && first.is_empty() {
                    first = &kw.text;
                }
                n += c;
            }
            if n >= MIN_POST_HITS {
                hits.push((n, usize::MAX - i, cat, first));
            }
        }
        if let Some((_, _, cat, kw)) = hits.into_iter().max() {
            return Category { category: cat.to_owned(), rule: format!("posts:{kw}") };
        }
        Category { category: "other".to_owned(), rule: "default".to_owned() }
    }

    /// The category whose keywords match `texts` most often (ties: [`CATEGORIES`]
    /// order) and its first matching keyword. With `inside`, keywords of four
    /// letters or more also match inside a word (hashtags run words together).
    fn best(&self, texts: &[String], inside: bool) -> Option<(&'static str, String)> {
        let padded: Vec<String> = texts.iter().map(|t| format!(" {} ", normalise(t))).collect();
        let compact: Vec<String> = padded.iter().map(|t| t.replace(' ', "")).collect();
        let mut best: Option<(usize, &'static str, String)> = None;
        for (cat, kws) in &self.keywords {
            let mut n = 0;
            let mut first: Option<&String> = None;
            for kw in kws {
                let whole = padded.iter().filter(|t| t.contains(&kw.phrase)).count();
                let within = match (&kw.compact, inside && whole == 0) {
                    (Some(k), true) => compact.iter().filter(|t| t.contains(k.as_str())).count(),
                    _ => 0,
                };
                if whole + within > 0 {
                    n += whole + within;
                    first.get_or_insert(&kw.text);
                }
            }
            if n > 0 && best.as_ref().is_none_or(|(b, _, _)| n > *b) {
                best = Some((n, cat, first.cloned().unwrap_or_default()));
            }
        }
        best.map(|(_, c, k)| (c, k))
    }
}

/// A provider's category name in ours, when it has an equivalent.
fn map_provider(p: &str) -> Option<&'static str> {
    let p = p.to_lowercase();
    let has = |w: &str| p.contains(w);
    Some(if has("sport") {
        "sports"
    } else if has("music") {
        "music"
    } else if has("politic") || has("election") {
        "politics"
    } else if has("news") || has("event") {
        "news"
    } else if has("tech") || has("science") || has("gam") {
        "tech"
    } else if has("entertain") || has("pop") || has("tv") || has("movie") || has("film") || has("celebr") {
        "entertainment"
    } else if has("business") || has("brand") || has("shop") || has("commerce") {
        "brands"
    } else {
        return None;
    })
}

/// Lower case, accents removed, every run of other characters than letters and
/// digits one space.
pub fn normalise(s: &str) -> String {
    let folded: String =
        s.nfd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)).collect::<String>().to_lowercase();
    folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labelled_trends_get_their_categories() {
        let rules = Rules::load(None).unwrap();
        let cases = [
            ("#FlamengoXPalmeiras", "sports"),
            ("Corinthians", "sports"),
            ("#BBB26", "entertainment"),
            ("A Fazenda", "entertainment"),
            ("Rock in Rio", "music"),
            ("Taylor Swift", "music"),
            ("Lula", "politics"),
            ("Eleições 2026", "politics"),
            ("Terremoto no Chile", "news"),
            ("iPhone 18", "tech"),
            ("#BlackFriday", "brands"),
            ("Quinta-feira", "other"),
        ];
        for (name, want) in cases {
            assert_eq!(rules.classify(name, None, &[], &[]).category, want, "{name}");
        }
    }

    #[test]
    fn provider_category_wins_and_posts_decide_last() {
        let rules = Rules::load(None).unwrap();
        let c = rules.classify("Lula", Some("Sports"), &[], &[]);
        assert_eq!(c, Category { category: "sports".into(), rule: "provider".into() });
        let c = rules.classify("Quinta", None, &["Apple lança novo iPhone".into()], &[]);
        assert_eq!(c, Category { category: "tech".into(), rule: "news:apple".into() });
        let words = vec![("gol".to_owned(), 2), ("futebol".to_owned(), 1), ("hoje".to_owned(), 9)];
        assert_eq!(rules.classify("Quinta", None, &[], &words).category, "sports");
        let words = vec![("gol".to_owned(), 2)];
        assert_eq!(rules.classify("Quinta", None, &[], &words).category, "other");
    }

    #[test]
    fn a_file_extends_or_replaces_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "mode = \"extend\"\n[categories]\ntech = [\"rustconf\"]\n").unwrap();
        let rules = Rules::load(Some(&path)).unwrap();
        assert_eq!(rules.classify("RustConf", None, &[], &[]).category, "tech");
        assert_eq!(rules.classify("Flamengo", None, &[], &[]).category, "sports");
        std::fs::write(&path, "mode = \"replace\"\n[categories]\ntech = [\"rustconf\"]\n").unwrap();
        let rules = Rules::load(Some(&path)).unwrap();
        assert_eq!(rules.classify("Flamengo", None, &[], &[]).category, "other");
        std::fs::write(&path, "[categories]\nfood = [\"pizza\"]\n").unwrap();
        assert!(Rules::load(Some(&path)).unwrap_err().to_string().contains("unknown category"));
    }
}
