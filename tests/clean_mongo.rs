//! `clean --from mongo --to mongo` against the real server (issue 4).
