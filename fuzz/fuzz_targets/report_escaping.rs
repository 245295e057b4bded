#![no_main]
//! Fuzz target `report_escaping`: the body is [`trendpipe_fuzz::report_escaping`], which the stable test
//! `tests/fuzz_regressions.rs` replays over the seeds and the regressions.

libfuzzer_sys::fuzz_target!(|data: &[u8]| trendpipe_fuzz::report_escaping(data));
