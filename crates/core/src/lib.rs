//! Shared ground of the trendpipe tools.
//!
//! Every stage (`fetch-trends`, `fetch-posts`, `clean`, `etl-to-sql`, `sentiment`,
//! `influencers`, `alerts`, `report`) is a small binary whose logic lives in its own
//! library crate. What more than one stage needs lives here: the record contract
//! between stages, the streaming NDJSON reader and writer, the shared flags, the
//! polite HTTP client of the fetchers, MongoDB and SQL access, configuration, errors
//! and exit codes, the `main()` wrapper and terminal-only progress bars. The design is
//! in `docs/ARCHITECTURE.md`.

pub mod args;
pub mod cli;
pub mod config;
pub mod error;
pub mod http;
pub mod key;
pub mod ledger;
pub mod lock;
pub mod mongo;
pub mod ndjson;
pub mod payload;
pub mod progress;
pub mod quarantine;
pub mod record;
pub mod redact;
pub mod shutdown;
pub mod sql;

pub use error::{Error, Status};
