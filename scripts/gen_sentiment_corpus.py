#!/usr/bin/env python3
"""Generate fixtures/sentiment/corpus.txt, the parity corpus for the Rust port
of VADER (crates/sentiment) against vaderSentiment 3.3.2.

Deterministic: a fixed seed and only the lexicon files committed in
crates/sentiment/data as inputs, so re-running reproduces the committed file
byte for byte. Every text is one line: no newline, carriage return or tab,
and no line is empty.

Usage: python3 scripts/gen_sentiment_corpus.py [--out PATH] [--seed N]
"""
import argparse
import os
import random

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "crates", "sentiment", "data")
DEFAULT_OUT = os.path.join(ROOT, "fixtures", "sentiment", "corpus.txt")

BOOSTERS = [
    "absolutely", "amazingly", "awfully", "completely", "considerably", "decidedly",
    "deeply", "effing", "enormously", "entirely", "especially", "exceptionally",
    "extremely", "fabulously", "flipping", "frickin", "friggin", "fully", "fucking",
    "greatly", "hella", "highly", "hugely", "incredibly", "intensely", "majorly",
    "more", "most", "particularly", "purely", "quite", "really", "remarkably", "so",
    "substantially", "thoroughly", "totally", "tremendously", "uber", "unbelievably",
    "unusually", "utterly", "very", "incredible", "major", "total", "extreme",
]
DAMPENERS = [
    "almost", "barely", "hardly", "kinda", "kindof", "kind-of", "less", "little",
    "marginally", "occasionally", "partly", "scarcely", "slightly", "somewhat",
    "sorta", "sortof", "sort-of",
]
NEGATIONS = [
    "aint", "arent", "cannot", "cant", "couldnt", "didnt", "doesnt", "ain't", "aren't",
    "can't", "couldn't", "didn't", "doesn't", "dont", "hadnt", "hasnt", "havent", "isnt",
    "neither", "don't", "hadn't", "hasn't", "haven't", "isn't", "mightn't", "mustn't",
    "needn't", "never", "none", "nope", "nor", "not", "nothing", "nowhere", "shant",
    "shouldnt", "uhuh", "wasnt", "werent", "shan't", "shouldn't", "uh-uh", "wasn't",
    "weren't", "without", "wont", "wouldnt", "won't", "wouldn't", "rarely", "seldom",
    "despite",
]
CURLY_NEGATIONS = ["isn’t", "don’t", "can’t", "won’t", "wasn’t", "didn’t", "aren’t", "shouldn’t"]
FILLERS = [
    "the", "movie", "was", "it", "is", "a", "this", "that", "phone", "service", "food",
    "I", "we", "they", "my", "our", "team", "game", "today", "update", "app", "show",
    "an", "of", "to", "and", "in", "on", "for", "with", "at", "new", "look", "really",
    "book", "plot", "characters", "dialog", "weather", "trip", "day", "city", "price",
]
SPECIAL_CASES = ["the shit", "the bomb", "bad ass", "badass", "bus stop", "yeah right",
                 "kiss of death", "to die for", "beating heart"]
LADEN_IDIOMS = ["cut the mustard", "hand to mouth", "back handed", "blow smoke",
                "blowing smoke", "upper hand", "break a leg", "cooking with gas",
                "in the black", "in the red", "on the ball", "under the weather"]
EMOTICONS = [":)", ":-)", ":(", ":-(", ":D", ":-D", ";)", ";-)", ":P", ":p", "<3", "</3",
             ":/", ":-/", "xD", "XD", ":'(", "(:", "):", ":|", "^_^", "-_-", "o.O", "O_o",
             ":-Þ", "=D", "8)", ":*", ";D", ":]", ":["]
URLS = ["https://example.com/a?b=c&d=e", "http://t.co/AbC123", "www.example.org/good",
        "https://news.example.net/2024/05/bad-news.html"]
MENTIONS = ["@user", "@Good_Guy", "@BAD", "@trendpipe", "@joão", "@x"]
HASHTAGS = ["#love", "#fail", "#GOOD", "#bad", "#win", "#ForaTemer", "#happy", "#sad",
            "#TBT", "#ÉTÉ", "#1"]
ENTITIES = ["&amp;", "&lt;3", "&gt;", "&quot;good&quot;", "&#39;", "&nbsp;", "&lt;/3"]
FOREIGN = [
    "Eu amo este filme, é ótimo!", "Que dia horrível, odeio chuva.", "não gostei nada",
    "muito bom mesmo", "PÉSSIMO atendimento!!!", "Ação e coração", "está tudo bem :)",
    "Me encanta, es genial", "Das ist sehr gut", "C'est très bien, j'adore", "Ça va mal",
    "这部电影很好", "我不喜欢这个 bad", "今日は最高の日です！", "良い good 好",
    "هذا رائع جدا", "أنا حزين bad", "यह बहुत अच्छा है", "Это ОЧЕНЬ хорошо", "ПЛОХО good",
    "ΟΔΟΣ ΚΑΛΗ good", "Σ ΣΑΣ great", "İSTANBUL güzel good", "\u212aIND of good",
    "ǅemal GOOD", "ﬁne good", "straße GOOD", "ŉ bad", "한국어 좋아요 love", "שלום good",
    "ไทย happy", "Ελλάδα ΤΕΛΕΙΑ happy", "ÀÉÎÕÜ HAPPY sad", "CAFÉ good", "ÇA VA bien",
]
SPACES = ["\u00a0", "\u2003", "\u3000", "\u202f", "\u205f", "\u1680", "\u2009", "\x1f"]
NOT_SPACES = ["\u200b", "\u200d", "\ufeff", "\u180e"]
SKIN_TONES = ["\U0001F3FB", "\U0001F3FC", "\U0001F3FD", "\U0001F3FE", "\U0001F3FF"]
ZWJ_SEQUENCES = [
    "👨\u200d👩\u200d👧\u200d👦", "🏳\ufe0f\u200d🌈", "👩🏽\u200d💻", "🧑\u200d🚀", "❤\ufe0f\u200d🔥",
    "👁\ufe0f\u200d🗨\ufe0f", "🏴\u200d☠\ufe0f", "🤦🏻\u200d♂\ufe0f", "😶\u200d🌫\ufe0f",
]
VS_EMOJI = ["❤\ufe0f", "☺\ufe0f", "☹\ufe0f", "✔\ufe0f", "⭐\ufe0f", "♥\ufe0f", "#\ufe0f\u20e3",
            "1\ufe0f\u20e3", "🇧🇷", "🇺🇸", "©\ufe0f", "™"]
PUNCT_WRAP = [("", ""), ("(", ")"), ("'", "'"), ('"', '"'), ("--", "--"), ("...", "..."),
              ("", "!!!"), ("", ","), ("", "."), ("*", "*"), ("[", "]"), ("", "?!"),
              ("", "…"), ("«", "»"), ("¡", "!")]


def load_lexicon():
    words = {}
    with open(os.path.join(DATA, "vader_lexicon.txt"), encoding="utf-8") as f:
        for line in f.read().rstrip("\n").split("\n"):
            line = line.strip()
            if not line:
                continue
            parts = line.split("\t")
            words[parts[0]] = float(parts[1])
    return words


def load_emoji():
    single, multi = [], []
    with open(os.path.join(DATA, "emoji_utf8_lexicon.txt"), encoding="utf-8") as f:
        for line in f.read().rstrip("\n").split("\n"):
            key = line.strip().split("\t")[0]
            (single if len(key) == 1 else multi).append(key)
    return single, multi


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        lex = load_lexicon()
        alpha = sorted(w for w in lex if w.isalpha() and w.islower())
        self.lex_all = sorted(lex)
        self.pos = [w for w in alpha if lex[w] >= 1.0]
        self.neg = [w for w in alpha if lex[w] <= -1.0]
        self.mild = [w for w in alpha if -1.0 < lex[w] < 1.0]
        self.lex_punct = sorted(w for w in lex if not w.isalpha())
        self.emoji_single, self.emoji_multi = load_emoji()

    def c(self, seq):
        return self.r.choice(seq)

    def senti(self):
        roll = self.r.random()
        if roll < 0.45:
            return self.c(self.pos)
        if roll < 0.9:
            return self.c(self.neg)
        return self.c(self.mild)

    def filler(self, n):
        return [self.c(FILLERS) for _ in range(n)]

    def caps(self, word):
        roll = self.r.random()
        if roll < 0.15:
            return word.upper()
        if roll < 0.22:
            return word.capitalize()
        return word

    def bang(self):
        return self.c(["!", "?"]) * self.r.randint(0, 6)

    # --- one generator per rule family -------------------------------------

    def booster_distance(self):
        b = self.c(BOOSTERS + DAMPENERS)
        d = self.r.randint(1, 3)
        gap = self.filler(d - 1)
        words = self.filler(self.r.randint(0, 3)) + [b] + gap + [self.senti()]
        words += self.filler(self.r.randint(0, 2))
        return " ".join(self.caps(w) for w in words) + self.bang()

    def caps_mix(self):
        words = self.filler(self.r.randint(1, 4))
        words.insert(self.r.randint(0, len(words)), self.senti().upper())
        if self.r.random() < 0.5:
            words.insert(self.r.randint(0, len(words)), self.c(BOOSTERS).upper())
        if self.r.random() < 0.2:
            words = [w.upper() for w in words]
        return " ".join(words) + self.bang()

    def punctuation_counts(self):
        words = self.filler(self.r.randint(0, 3)) + [self.senti()]
        ep = self.r.randint(0, 6)
        qm = self.r.randint(0, 6)
        tail = ["!"] * ep + ["?"] * qm
        self.r.shuffle(tail)
        if self.r.random() < 0.3:
            return " ".join(words) + " " + " ".join(tail)
        return " ".join(words) + "".join(tail)

    def negation(self):
        neg = self.c(NEGATIONS + CURLY_NEGATIONS)
        d = self.r.randint(1, 3)
        words = self.filler(self.r.randint(0, 2)) + [neg] + self.filler(d - 1) + [self.senti()]
        if self.r.random() < 0.3:
            words.insert(len(words) - 1, self.c(BOOSTERS))
        return " ".join(self.caps(w) for w in words) + self.bang()

    def special_negation(self):
        s = self.senti()
        f = self.filler(self.r.randint(0, 2))
        forms = [
            f + ["never", "so", s], f + ["never", "this", s], ["never", "so", "very", s],
            f + ["never", "this", "is", s], ["it", "is", "so", s], ["this", "is", "this", s],
            f + ["without", "doubt", s], f + ["without", "a", "doubt", s],
            ["without", "doubt", "a", s], ["without", "any", "doubt", s],
            f + ["at", "least", s], f + ["the", "least", s], f + ["very", "least", s],
            ["least", s], f + ["least", "of", s], ["at", "least", "it", "isn't", "a", s],
            f + ["no", s], ["no", s, "movie"], ["no", "movie", s], f + ["no", "or", s],
            ["no", "good", "or", s], ["no", "nor", "the", s], ["NO", s], ["no", "no", s],
            ["no"], ["no", "way"], ["no", "!", s], ["not", "at", "all", s],
            ["uh-uh", s], ["nope", "not", s], ["never", "ever", s],
        ]
        words = self.c(forms)
        return " ".join(self.caps(w) if self.r.random() < 0.3 else w for w in words) + self.bang()

    def contractions(self):
        base = self.c(["isn", "don", "can", "won", "wasn", "didn", "shouldn", "couldn",
                       "hasn", "weren", "ain", "aren", "doesn", "wouldn"])
        apo = self.c(["'", "’", "'", "ʼ", "`"])
        neg = base + apo + "t"
        words = self.filler(self.r.randint(0, 2)) + [neg] + self.filler(self.r.randint(0, 2)) + [self.senti()]
        return " ".join(self.caps(w) for w in words) + self.bang()

    def but(self):
        left = self.filler(self.r.randint(0, 3)) + [self.senti()]
        right = self.filler(self.r.randint(0, 3)) + [self.senti()]
        if self.r.random() < 0.4:
            w = self.senti()
            right += [w] * self.r.randint(1, 3)
            left += [w] * self.r.randint(0, 2)
        conj = self.c(["but", "BUT", "But", "but,", "but...", "butter"])
        words = left + [conj] + right
        if self.r.random() < 0.2:
            words += ["but"] + [self.senti()]
        return " ".join(words) + self.bang()

    def kind_of(self):
        s = self.senti()
        forms = [
            ["kind", "of", s], ["it", "was", "kind", "of", s], ["the", "book", "was", "only", "kind", "of", s],
            ["sort", "of", s], ["it", "is", "sort", "of", s], ["this", "is", "just", "enough", s],
            ["kind", "of"], ["kind"], ["KIND", "OF", s], ["a", "kind", "of", "x", s],
            ["kinda", s], ["sorta", s], ["kind-of", s], ["it", "just", "enough", s],
            ["kind", "of", "a", s], ["so", "kind", "of", "you"], ["kind", "people", s],
            ["sort", "of", "really", s], ["a", "kind", "of", s, "but", s],
        ]
        return " ".join(self.c(forms)) + self.bang()

    def idioms(self):
        idiom = self.c(SPECIAL_CASES + LADEN_IDIOMS)
        pre = self.filler(self.r.randint(0, 4))
        post = self.filler(self.r.randint(0, 2))
        if self.r.random() < 0.3:
            pre += [self.senti()]
        if self.r.random() < 0.3:
            idiom = self.caps(idiom)
        text = " ".join(pre + [idiom] + post)
        extra = self.c(["", "", " lol", " " + self.senti(), " yeah right", " :)"])
        return (text + extra).strip() + self.bang()

    def emoji(self):
        parts = []
        for _ in range(self.r.randint(1, 4)):
            roll = self.r.random()
            if roll < 0.35:
                e = self.c(self.emoji_single)
            elif roll < 0.5:
                e = self.c(self.emoji_single) + self.c(SKIN_TONES)
            elif roll < 0.65:
                e = self.c(ZWJ_SEQUENCES)
            elif roll < 0.8:
                e = self.c(VS_EMOJI)
            else:
                e = self.c(self.emoji_multi)
            parts.append(e)
        words = self.filler(self.r.randint(0, 4))
        if self.r.random() < 0.5:
            words.append(self.senti())
        out = []
        for w in words:
            out.append(w)
        for e in parts:
            sep = self.c(["", " ", " ", "!"])
            out.insert(self.r.randint(0, len(out)), e + sep if sep != " " else e)
        joiner = self.c([" ", " ", ""])
        return joiner.join(out).strip() or self.c(self.emoji_single)

    def emoticons(self):
        words = self.filler(self.r.randint(0, 4))
        for _ in range(self.r.randint(1, 3)):
            words.insert(self.r.randint(0, len(words)), self.c(EMOTICONS + self.lex_punct))
        if self.r.random() < 0.4:
            words.append(self.senti())
        return " ".join(words) + self.bang()

    def social(self):
        words = self.filler(self.r.randint(1, 4)) + [self.senti()]
        for pool in (URLS, MENTIONS, HASHTAGS, ENTITIES):
            if self.r.random() < 0.5:
                words.insert(self.r.randint(0, len(words)), self.c(pool))
        if self.r.random() < 0.3:
            words.insert(0, "RT")
        return " ".join(words) + self.bang()

    def foreign(self):
        text = self.c(FOREIGN)
        if self.r.random() < 0.4:
            text += " " + " ".join(self.filler(self.r.randint(1, 3)) + [self.senti()])
        return text + self.bang()

    def shouted_foreign(self):
        # Whole texts in capitals: whether a non-ASCII word counts as
        # "all caps" decides if the English capitals are emphasis at all.
        words = self.c(FOREIGN).split() + [self.senti(), self.c(BOOSTERS + [""]), self.senti()]
        self.r.shuffle(words)
        text = " ".join(w for w in words if w)
        return (text.upper() if self.r.random() < 0.7 else text) + self.bang()

    def unicode_spaces(self):
        words = self.filler(self.r.randint(1, 4)) + [self.senti(), self.c(BOOSTERS), self.senti()]
        self.r.shuffle(words)
        out = words[0]
        for w in words[1:]:
            out += self.c(SPACES + [" ", " "] + NOT_SPACES) + w
        return out + self.bang()

    def wrapped(self):
        words = []
        for w in self.filler(self.r.randint(0, 3)) + [self.senti(), self.senti()]:
            a, b = self.c(PUNCT_WRAP)
            words.append(a + w + b)
        return " ".join(words)

    def emptyish(self):
        return self.c([" ", "  ", ".", "...", "!", "!!!", "?", "??", "???!!!", "a", "I",
                       ":", " ! ", "-", "—", "\u00a0", "\u3000", "\x1f", "\u200b", "x y z",
                       "!?!?!?", "#", "@", "&amp;", "ok", "OK", "Ok!", "no", "NO", "but",
                       "kind of", "least", "never", "so", "the", "0", "123", "1 2 3"])

    def salad(self):
        pools = [self.pos, self.neg, self.mild, BOOSTERS, DAMPENERS, NEGATIONS, FILLERS,
                 ["but", "kind", "of", "so", "this", "never", "without", "doubt", "least",
                  "at", "very", "no", "or", "nor", "sort", "just", "enough", "the", "shit",
                  "bomb", "bad", "ass", "yeah", "right", "kiss", "death", "to", "die", "for",
                  "beating", "heart", "bus", "stop"],
                 EMOTICONS]
        words = []
        for _ in range(self.r.randint(2, 14)):
            w = self.c(self.c(pools))
            roll = self.r.random()
            if roll < 0.15:
                w = w.upper()
            elif roll < 0.2:
                w = w.capitalize()
            elif roll < 0.3:
                a, b = self.c(PUNCT_WRAP)
                w = a + w + b
            words.append(w)
        return " ".join(words) + self.bang()

    def long_text(self):
        makers = [self.booster_distance, self.negation, self.but, self.kind_of, self.idioms,
                  self.emoji, self.emoticons, self.social, self.salad, self.special_negation,
                  self.caps_mix, self.contractions]
        n = self.r.randint(15, 80) if self.r.random() < 0.85 else self.r.randint(200, 600)
        text = " ".join(self.c(makers)() for _ in range(n))
        return text

    def repeated_but(self):
        # Repeated equal valences around "but" exercise the reference's
        # lookup-by-value rescaling.
        w1, w2 = self.senti(), self.senti()
        forms = [
            [w1, "but", w1, w1], [w1, w1, "but", w1], [w1, "but", w2, w1, w2],
            ["very", w1, "but", w1], [w1, "and", w1, "but", "not", w1],
            [w1] * self.r.randint(1, 5) + ["but"] + [w2] * self.r.randint(1, 5),
        ]
        return " ".join(self.c(forms)) + self.bang()


def fixed_texts():
    return [
        "VADER is smart, handsome, and funny.",
        "VADER is smart, handsome, and funny!",
        "VADER is very smart, handsome, and funny.",
        "VADER is VERY SMART, handsome, and FUNNY.",
        "VADER is VERY SMART, handsome, and FUNNY!!!",
        "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
        "VADER is not smart, handsome, nor funny.",
        "The book was good.",
        "At least it isn't a horrible book.",
        "The book was only kind of good.",
        "The plot was good, but the characters are uncompelling and the dialog is not great.",
        "Today SUX!",
        "Today only kinda sux! But I'll get by, lol",
        "Make sure you :) or :D today!",
        "Catch utf-8 emoji such as 💘 and 💋 and 😁",
        "Not bad at all",
        "Sentiment analysis has never been good.",
        "Sentiment analysis has never been this good!",
        "Most automated sentiment analysis tools are shit.",
        "With VADER, sentiment analysis is the shit!",
        "Other sentiment analysis tools can be quite bad.",
        "On the other hand, VADER is quite bad ass",
        "VADER is such a badass!",
        "Without a doubt, excellent idea.",
        "Roger Dodger is one of the most compelling variations on this theme.",
        "Roger Dodger is at least compelling as a variation on the theme.",
        "Roger Dodger is one of the least compelling variations on this theme.",
        "Not such a badass after all.",
        "Without a doubt, an excellent idea.",
        "It was one of the worst movies I've seen, despite good reviews. Unbelievably bad "
        "acting!! Poor direction. VERY poor production. The movie was bad. Very bad movie. "
        "VERY BAD movie!",
        "the shit", "it is the shit", "this movie is the shit", "man this is the bomb",
        "he cannot cut the mustard", "living hand to mouth", "that was a kiss of death",
        "food to die for", "a beating heart", "waiting at the bus stop", "yeah right",
        "oh yeah right sure", "you are a bad ass", "the party was the bomb!!!",
        "never so good", "it was never so good", "never this bad", "it is never this bad",
        "without doubt good", "it is without doubt good", "not so good", "not this good",
        "no good", "no no good", "no or good", "not good or bad", "NO GOOD idea", "I have no idea",
        "the least good", "at least good", "very least good", "least good", "least",
        "😀a", "a😀", "a 😀 b", "😀😀😀", "😀 😀", "😀\u00a0good", "good😀bad", "🙂🏽", "❤️❤️",
        "I love it", "love it", "i", "I", ":)", ":-(", ":D", ":d", "o.O", "O.o", "<3 &lt;3",
        "!!!!!!", "??????", "good!!!!!!", "bad??????", "good?", "good??", "good???", "good????",
        "GOOD", "GOOD bad", "good BAD", "VERY good", "very GOOD", "VERY GOOD", "VERY GOOD idea",
        "isn't good", "isn’t good", "isnt good", "is not good", "don't like it", "don’t like it",
        "ΟΔΟΣ good", "ΟΔΟΣ GOOD", "ÉTÉ GREAT", "ÉTÉ GREAT fun", "ПЛОХО GOOD", "İyi GOOD", "straße GOOD", "日本 GOOD", "ǅ GOOD",
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--seed", type=int, default=20240917)
    args = ap.parse_args()
    g = Gen(args.seed)
    plan = [
        (g.booster_distance, 450), (g.caps_mix, 300), (g.punctuation_counts, 300),
        (g.negation, 400), (g.special_negation, 350), (g.contractions, 200), (g.but, 350),
        (g.repeated_but, 200), (g.kind_of, 200), (g.idioms, 350), (g.emoji, 400),
        (g.emoticons, 250), (g.social, 250), (g.foreign, 150), (g.shouted_foreign, 120), (g.unicode_spaces, 150),
        (g.wrapped, 200), (g.emptyish, 60), (g.salad, 600), (g.long_text, 60),
    ]
    texts = fixed_texts()
    for maker, count in plan:
        texts.extend(maker() for _ in range(count))
    seen = set()
    lines = []
    for t in texts:
        for bad in ("\n", "\r", "\t"):
            t = t.replace(bad, " ")
        if t == "" or t in seen:
            continue
        seen.add(t)
        lines.append(t)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        for t in lines:
            f.write(t + "\n")
    print(f"wrote {len(lines)} texts to {args.out}")


if __name__ == "__main__":
    main()
