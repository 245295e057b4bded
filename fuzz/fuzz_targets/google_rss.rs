#![no_main]
//! Fuzz target `google_rss`: the body is [`trendpipe_fuzz::google_rss`], which the stable test
//! `tests/fuzz_regressions.rs` replays over the seeds and the regressions.

libfuzzer_sys::fuzz_target!(|data: &[u8]| trendpipe_fuzz::google_rss(data));
