#![no_main]
//! Fuzz target `sentiment_scorer`: the body is [`trendpipe_fuzz::sentiment_scorer`], which the stable test
//! `tests/fuzz_regressions.rs` replays over the seeds and the regressions.

libfuzzer_sys::fuzz_target!(|data: &[u8]| trendpipe_fuzz::sentiment_scorer(data));
