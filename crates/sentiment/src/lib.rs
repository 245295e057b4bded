//! Sentiment scoring for trendpipe. The [`vader`] module is a faithful port of
//! the VADER 3.3.2 rule-based analyser (C.J. Hutto, MIT licensed lexicons in
//! `data/`), tuned so that its scores agree with the Python reference package
//! `vaderSentiment==3.3.2` on every input, quirks included.

pub mod vader;
