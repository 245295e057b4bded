#![no_main]
//! Fuzz target `clean_rules`: the body is [`trendpipe_fuzz::clean_rules`], which the stable test
//! `tests/fuzz_regressions.rs` replays over the seeds and the regressions.

libfuzzer_sys::fuzz_target!(|data: &[u8]| trendpipe_fuzz::clean_rules(data));
