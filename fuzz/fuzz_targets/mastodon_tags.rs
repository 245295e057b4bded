#![no_main]
//! Fuzz target `mastodon_tags`: the body is [`trendpipe_fuzz::mastodon_tags`], which the stable test
//! `tests/fuzz_regressions.rs` replays over the seeds and the regressions.

libfuzzer_sys::fuzz_target!(|data: &[u8]| trendpipe_fuzz::mastodon_tags(data));
