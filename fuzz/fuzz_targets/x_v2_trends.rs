#![no_main]
//! Fuzz target `x_v2_trends`: the body is [`trendpipe_fuzz::x_v2_trends`], which the stable test
//! `tests/fuzz_regressions.rs` replays over the seeds and the regressions.

libfuzzer_sys::fuzz_target!(|data: &[u8]| trendpipe_fuzz::x_v2_trends(data));
