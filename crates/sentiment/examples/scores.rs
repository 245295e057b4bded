//! Prints the four scores of every line of a corpus, one line each, so that
//! two builds can be compared with `diff` (scores are printed in Rust's
//! shortest round-trip form, so equal text means equal floats).
//!
//! Usage: `scores ENGINE CORPUS` where ENGINE is `vader-en` or `leia-pt`.
//! Each line is also scored upper-cased and with its first word shouted, to
//! exercise the capitals rules beyond what the corpus writes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a comparison driver, not library code

use std::io::Write;

use trendpipe_sentiment::vader::{self, Scores, leia};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, engine, corpus] = args.as_slice() else {
        panic!("usage: scores ENGINE CORPUS");
    };
    let text = std::fs::read_to_string(corpus).expect("read the corpus");
    let score: Box<dyn Fn(&str) -> Scores> = match engine.as_str() {
        "vader-en" => {
            let a = vader::Analyzer::new();
            Box::new(move |t| a.polarity_scores(t))
        }
        "leia-pt" => {
            let a = leia::Analyzer::new();
            Box::new(move |t| a.polarity_scores(t))
        }
        other => panic!("unknown engine {other}"),
    };
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    for line in text.lines() {
        let upper = line.to_uppercase();
        let first_shouted = match line.split_once(' ') {
            Some((first, rest)) => format!("{} {rest}", first.to_uppercase()),
            None => line.to_uppercase(),
        };
        for variant in [line, &upper, &first_shouted] {
            let s = score(variant);
            write!(out, "{:?} {:?} {:?} {:?}\t", s.neg, s.neu, s.pos, s.compound).unwrap();
        }
        writeln!(out).unwrap();
    }
}
