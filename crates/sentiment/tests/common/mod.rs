//! The parity check shared by the English and Portuguese tests: the same corpus
//! scored by the Rust port and by the Python reference, compared text by text. The
//! interpreter comes from `TRENDPIPE_PYTHON`, which `scripts/test.sh` sets. The tests
//! are marked ignored, so a plain `cargo test` lists them with the reason; run, they
//! fail without the interpreter rather than pass by skipping.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;
use trendpipe_sentiment::vader::Scores;

const TOLERANCE: f64 = 1e-4;
const MAX_REPORTED: usize = 20;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

/// Splits on `\n` only: the corpus deliberately contains other Unicode line
/// and paragraph separators inside texts, and the reference script splits the
/// same way.
fn corpus_lines(corpus: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = corpus.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    lines
}

fn field(obj: &Value, name: &str, line: usize) -> f64 {
    obj.get(name)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("reference output line {line}: no numeric {name:?} in {obj}"))
}

fn python() -> String {
    match std::env::var("TRENDPIPE_PYTHON") {
        Ok(p) if !p.trim().is_empty() => p,
        _ => panic!(
            "TRENDPIPE_PYTHON is not set: this test needs a Python with the reference packages; \
             run it through scripts/test.sh, which provides one"
        ),
    }
}

fn run_reference(python: &str, script: &str, package: &str, corpus: &str) -> Vec<Scores> {
    let script = repo_root().join("scripts").join(script);
    let mut child = Command::new(python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {python} {}: {e}", script.display()));
    let mut stdin = child.stdin.take().expect("child stdin");
    let input = corpus.to_owned();
    // Feed stdin from a thread so a full stdout pipe cannot deadlock us.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("wait for reference scorer");
    // A scorer that died early (say, vaderSentiment missing) also breaks the
    // pipe, so its own exit status and stderr are reported first.
    assert!(
        output.status.success(),
        "reference scorer {} {} failed ({}); is {package} installed?\n{}",
        python,
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    writer.join().expect("stdin writer thread").expect("write corpus to reference scorer");
    let stdout = String::from_utf8(output.stdout).expect("reference output is UTF-8");
    stdout
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let obj: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("reference output line {}: {e}: {line}", i + 1));
            Scores {
                neg: field(&obj, "neg", i + 1),
                neu: field(&obj, "neu", i + 1),
                pos: field(&obj, "pos", i + 1),
                compound: field(&obj, "compound", i + 1),
            }
        })
        .collect()
}

fn differs(a: &Scores, b: &Scores) -> bool {
    [(a.neg, b.neg), (a.neu, b.neu), (a.pos, b.pos), (a.compound, b.compound)]
        .iter()
        .any(|(x, y)| (x - y).abs() > TOLERANCE)
}

/// Scores every line of `corpus` (a path under `fixtures/sentiment/`) with `score` and
/// with the Python `script` of `package`, and fails listing the texts that differ.
pub fn check_parity(corpus: &str, script: &str, package: &str, score: impl Fn(&str) -> Scores) {
    let python = python();
    let path = repo_root().join("fixtures").join("sentiment").join(corpus);
    let corpus = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let texts = corpus_lines(&corpus);
    assert!(texts.iter().all(|t| !t.is_empty()), "corpus has an empty line");

    let expected = run_reference(&python, script, package, &corpus);
    assert_eq!(
        expected.len(),
        texts.len(),
        "reference scored {} lines but the corpus has {}",
        expected.len(),
        texts.len()
    );

    let mut compared = 0usize;
    let mut exact = 0usize;
    let mut mismatches = Vec::new();
    for (text, want) in texts.iter().zip(&expected) {
        let got = score(text);
        compared += 1;
        if got == *want {
            exact += 1;
        }
        if differs(&got, want) {
            mismatches.push((text, got, *want));
        }
    }

    assert_eq!(compared, texts.len(), "not every corpus line was compared");
    assert!(compared > 1000, "only {compared} texts compared; the corpus is too small");
    if !mismatches.is_empty() {
        let mut report =
            format!("{} of {compared} texts differ from {package} by more than {TOLERANCE}:\n", mismatches.len());
        for (text, got, want) in mismatches.iter().take(MAX_REPORTED) {
            report.push_str(&format!("  text:   {text:?}\n  rust:   {got:?}\n  python: {want:?}\n"));
        }
        panic!("{report}");
    }
    eprintln!("parity with {package}: {compared} texts compared, {exact} bit-identical, 0 beyond {TOLERANCE}");
}
