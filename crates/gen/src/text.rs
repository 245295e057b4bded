//! Post texts in Portuguese and English, tweet-sized: an opener, the trend, a phrase
//! whose tone follows the trend's mood (positive, negative or neutral words that VADER
//! and LeIA score), an ending. Some carry `&` and `<`, which X's v1.1 API escapes.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::names::pick;

const EN_OPEN: &[&str] = &["", "Honestly", "Wow,", "Ok so", "Just saw this:", "Breaking:", "Can't believe it,", "lol"];
const EN_POS: &[&str] = &[
    "this is amazing",
    "love it so much",
    "best news all week",
    "great job everyone",
    "so happy right now",
    "what a beautiful moment",
    "brilliant, absolutely brilliant",
    "proud of this team",
];
const EN_NEG: &[&str] = &[
    "this is terrible",
    "I hate how this went",
    "worst day ever",
    "so disappointed and angry",
    "what a disaster",
    "awful, just awful",
    "this is a scandal and a shame",
    "sad and frustrated tonight",
];
const EN_NEU: &[&str] = &[
    "anyone watching?",
    "thread below",
    "more details later today",
    "here is the link",
    "people are talking about it",
    "let's see what happens",
    "news & updates in the replies",
    "score <2> at the break",
];
const PT_OPEN: &[&str] = &["", "Gente,", "Sério,", "Olha só", "Acabei de ver:", "Urgente:", "Não acredito,", "kkkk"];
const PT_POS: &[&str] = &[
    "que maravilha",
    "amei demais",
    "melhor notícia da semana",
    "parabéns a todos",
    "estou muito feliz",
    "que momento lindo",
    "sensacional, ótimo trabalho",
    "orgulho desse time",
];
const PT_NEG: &[&str] = &[
    "que horror",
    "odeio isso",
    "pior dia da minha vida",
    "que decepção, estou triste",
    "um desastre total",
    "péssimo, uma vergonha",
    "que raiva disso",
    "fracasso absurdo, estou revoltado",
];
const PT_NEU: &[&str] = &[
    "alguém assistindo?",
    "segue o fio",
    "mais detalhes à tarde",
    "o link está aqui",
    "todo mundo falando disso",
    "vamos ver no que dá",
    "notícias & bastidores nas respostas",
    "placar <1> no intervalo",
];
const ENDINGS: &[&str] = &["", "!", "!!", " 😂", " 🔥", " 👏", "...", " #agora"];

/// A text about `trend` in `lang` ("pt" or "en"), positive more often when `mood` is
/// near 1, negative when near -1.
pub fn compose(rng: &mut ChaCha8Rng, lang: &str, trend: &str, mood: f64) -> String {
    let (open, pos, neg, neu) =
        if lang == "pt" { (PT_OPEN, PT_POS, PT_NEG, PT_NEU) } else { (EN_OPEN, EN_POS, EN_NEG, EN_NEU) };
    let p_pos = (0.35 + 0.3 * mood).clamp(0.03, 0.9);
    let p_neg = (0.25 - 0.35 * mood).clamp(0.03, 0.9);
    let r: f64 = rng.random();
    let phrase = if r < p_pos {
        pick(rng, pos)
    } else if r < p_pos + p_neg {
        pick(rng, neg)
    } else {
        pick(rng, neu)
    };
    let opener = pick(rng, open);
    let ending = pick(rng, ENDINGS);
    let mut s = String::with_capacity(opener.len() + trend.len() + phrase.len() + ending.len() + 2);
    if !opener.is_empty() {
        s.push_str(opener);
        s.push(' ');
    }
    s.push_str(trend);
    s.push(' ');
    s.push_str(phrase);
    s.push_str(ending);
    s
}
