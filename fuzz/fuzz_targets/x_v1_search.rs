#![no_main]
//! Fuzz target `x_v1_search`: the body is [`trendpipe_fuzz::x_v1_search`], which the stable test
//! `tests/fuzz_regressions.rs` replays over the seeds and the regressions.

libfuzzer_sys::fuzz_target!(|data: &[u8]| trendpipe_fuzz::x_v1_search(data));
