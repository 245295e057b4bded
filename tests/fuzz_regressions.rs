//! The fuzz targets' bodies (`fuzz/src/lib.rs`) on stable: every seed from
//! `fixtures/` and every input the fuzzer once crashed on (`fuzz/regressions/<target>/`)
//! goes through the same functions, so `scripts/test.sh` keeps the findings fixed
//! without nightly or cargo-fuzz. New findings are added with `scripts/fuzz.sh`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../fuzz/src/lib.rs"]
mod bodies;

use std::path::{Path, PathBuf};

use trendpipe_pipeline_tests::repo_root;

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    out.sort();
    out
}

fn body(target: &str) -> fn(&[u8]) {
    bodies::TARGETS.iter().find(|(name, _)| *name == target).map(|(_, f)| *f).unwrap()
}

/// Runs `target` on `path`, naming the file when it panics.
fn replay(target: &str, path: &Path) {
    let data = std::fs::read(path).unwrap();
    let run = std::panic::catch_unwind(|| body(target)(&data));
    assert!(run.is_ok(), "fuzz target {target} panicked on {}", path.display());
}

#[test]
fn every_fixture_seed_goes_through_its_fuzz_target() {
    let root = repo_root();
    let mut fed = 0;
    for (target, dir) in bodies::SEEDS {
        let seeds = files(&root.join(dir));
        assert!(!seeds.is_empty(), "{dir}: no seed files for {target}");
        for seed in seeds {
            replay(target, &seed);
            fed += 1;
        }
    }
    assert!(fed >= bodies::SEEDS.len());
}

#[test]
fn every_fuzz_regression_is_fixed() {
    let dir = repo_root().join("fuzz/regressions");
    let mut fed = 0;
    for sub in std::fs::read_dir(&dir).unwrap() {
        let sub = sub.unwrap().path();
        if !sub.is_dir() {
            continue;
        }
        let target = sub.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            bodies::TARGETS.iter().any(|(name, _)| *name == target),
            "{}: no fuzz target of that name",
            sub.display()
        );
        for file in files(&sub) {
            replay(&target, &file);
            fed += 1;
        }
    }
    eprintln!("{fed} regression inputs replayed");
}

#[test]
fn every_fuzz_target_has_a_binary_and_seeds() {
    let root = repo_root();
    let manifest = std::fs::read_to_string(root.join("fuzz/Cargo.toml")).unwrap();
    for (name, _) in bodies::TARGETS {
        assert!(root.join(format!("fuzz/fuzz_targets/{name}.rs")).is_file(), "{name}: no fuzz_targets/{name}.rs");
        assert!(manifest.contains(&format!("name = \"{name}\"")), "{name}: not a [[bin]] of fuzz/Cargo.toml");
        assert!(bodies::SEEDS.iter().any(|(t, _)| t == name), "{name}: no seed directory in SEEDS");
    }
}
