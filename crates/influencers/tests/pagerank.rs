//! PageRank parity with the real NetworkX (`scripts/pagerank_reference.py` run by
//! `TRENDPIPE_PYTHON`) on graphs with dangling nodes, a cycle, a star, disconnected
//! parts and a random graph of a few thousand edges.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use trendpipe_influencers::pagerank::{ALPHA, MAX_ITER, TOLERANCE, pagerank};

type Graph = (usize, Vec<(u32, u32, f64)>);

fn graphs() -> Vec<(&'static str, Graph)> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let mut random = Vec::new();
    for _ in 0..4000 {
        let (a, b) = (next(1500) as u32, next(1500) as u32);
        if a != b {
            random.push((a, b, (1 + next(4)) as f64));
        }
    }
    random.sort_by_key(|x| (x.0, x.1));
    random.dedup_by(|x, y| (x.0, x.1) == (y.0, y.1));
    vec![
        ("dangling nodes", (5, vec![(0, 1, 1.0), (1, 2, 2.0), (0, 3, 1.0)])),
        ("a cycle", (4, vec![(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 0, 1.0)])),
        ("a star", (7, (1..7).map(|i| (i, 0, i as f64)).collect())),
        ("disconnected parts", (9, vec![(0, 1, 1.0), (1, 0, 3.0), (2, 3, 1.0), (3, 4, 1.0), (4, 2, 1.0), (5, 6, 2.0)])),
        ("a random graph", (1500, random)),
    ]
}

#[test]
#[ignore = "needs the Python references: run by scripts/test.sh"]
fn pagerank_equals_networkx_on_dangling_nodes_a_cycle_a_star_disconnected_parts_and_a_random_graph() {
    let python = std::env::var("TRENDPIPE_PYTHON")
        .ok()
        .filter(|p| !p.trim().is_empty())
        .expect("TRENDPIPE_PYTHON must name a python with networkx and scipy");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pagerank_reference.py");
    let graphs = graphs();
    let input: String = graphs
        .iter()
        .map(|(_, (n, edges))| {
            let edges: Vec<Value> = edges.iter().map(|&(a, b, w)| json!([a, b, w])).collect();
            json!({"nodes": n, "edges": edges}).to_string() + "\n"
        })
        .collect();
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {python} {}: {e}", script.display()));
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "reference failed: {}", String::from_utf8_lossy(&out.stderr));
    writer.join().unwrap().unwrap();
    let refs: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(refs.len(), graphs.len());
    for ((name, (n, edges)), reference) in graphs.iter().zip(&refs) {
        let ours = pagerank(*n, edges, ALPHA, TOLERANCE, MAX_ITER);
        assert!(ours.converged, "{name}");
        let floats = |key: &str| -> Vec<f64> {
            reference[key].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()
        };
        let (tight, default) = (floats("tight"), floats("default"));
        assert_eq!(tight.len(), *n);
        let max_diff = |other: &[f64]| ours.ranks.iter().zip(other).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        // NetworkX iterated to the same stopping rule: equal within 1e-6 (in fact ~1e-10).
        let d_tight = max_diff(&tight);
        assert!(d_tight < 1e-6, "{name}: {d_tight} from NetworkX at tol=1e-10/N");
        // NetworkX's default stops when an iteration changes the ranks by less than
        // N * 1e-6 in L1, which leaves it up to alpha/(1-alpha) times that from the
        // fixed point: our ranks must lie within that bound of its answer.
        let l1: f64 = ours.ranks.iter().zip(&default).map(|(a, b)| (a - b).abs()).sum();
        let bound = ALPHA / (1.0 - ALPHA) * reference["default_stop"].as_f64().unwrap() + 1e-9;
        assert!(l1 <= bound, "{name}: L1 {l1} from NetworkX's default answer, beyond its own error bound {bound}");
        eprintln!(
            "{name}: {n} nodes, {} edges, {} iterations; max |ours - networkx(tol=1e-10/N)| = {d_tight:.2e}, \
             max |ours - networkx(default)| = {:.2e}",
            edges.len(),
            ours.iterations,
            max_diff(&default)
        );
    }
}
