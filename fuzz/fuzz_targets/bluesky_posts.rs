#![no_main]
//! Fuzz target `bluesky_posts`: the body is [`trendpipe_fuzz::bluesky_posts`], which the stable test
//! `tests/fuzz_regressions.rs` replays over the seeds and the regressions.

libfuzzer_sys::fuzz_target!(|data: &[u8]| trendpipe_fuzz::bluesky_posts(data));
