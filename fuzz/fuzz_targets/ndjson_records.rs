#![no_main]
//! Fuzz target `ndjson_records`: the body is [`trendpipe_fuzz::ndjson_records`], which the stable test
//! `tests/fuzz_regressions.rs` replays over the seeds and the regressions.

libfuzzer_sys::fuzz_target!(|data: &[u8]| trendpipe_fuzz::ndjson_records(data));
