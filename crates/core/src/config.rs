//! Configuration: flags, then environment, then an optional TOML file.
//!
//! The file is the one given by `--config`, else `$TRENDPIPE_CONFIG`, else
//! `$XDG_CONFIG_HOME/trendpipe/config.toml` (or `~/.config/trendpipe/config.toml`) when
//! it exists. Keys are the environment names in lower case:
//!
//! ```toml
//! mongodb_uri = "mongodb://app:secret@db1:27017/?replicaSet=rs0"
//! mongodb_database = "trendpipe"
//! database_url = "postgres://etl:secret@pg/trends"
//! x_bearer_token = "AAAA…"
//! ```
//!
//! Secrets never come from the command line (it is visible in `ps` and in shell
//! history): a connection string with a password given as a flag is refused, and every
//! secret read here is registered for redaction.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::error::Error;
use crate::redact::{register_secret, uri_has_password};

/// The settings read from the configuration file, if any.
#[derive(Debug, Default, Clone)]
pub struct Config {
    path: Option<PathBuf>,
    values: BTreeMap<String, String>,
}

impl Config {
    /// Loads the configuration file: `explicit` (from `--config`), else
    /// `$TRENDPIPE_CONFIG`, else the per-user default when it exists. An explicit file
    /// that does not exist is an error; a missing default is not.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<Self> {
        let from_env = std::env::var_os("TRENDPIPE_CONFIG").map(PathBuf::from);
        let path = match explicit.map(Path::to_path_buf).or(from_env) {
            Some(path) => Some(path),
            None => default_path().filter(|p| p.is_file()),
        };
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::Config(format!("cannot read configuration file {}: {e}", path.display())))?;
        Self::parse(&text, Some(path))
    }

    /// Parses TOML text (a flat table of strings, numbers or booleans).
    pub fn parse(text: &str, path: Option<PathBuf>) -> anyhow::Result<Self> {
        let shown = path.as_deref().map(|p| p.display().to_string()).unwrap_or_else(|| "configuration".into());
        let table: toml::Table =
            text.parse().map_err(|e: toml::de::Error| Error::Config(format!("{shown}: {}", e.message())))?;
        let mut values = BTreeMap::new();
        for (key, value) in table {
            let value = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(Error::Config(format!(
                        "{shown}: {key}: expected a string, a number or a boolean, found {}",
                        other.type_str()
                    ))
                    .into());
                }
            };
            if key.contains("token") || key.contains("password") || key.ends_with("_uri") || key.ends_with("_url") {
                register_secret_parts(&value);
            }
            values.insert(key, value);
        }
        Ok(Self { path, values })
    }

    /// The file the settings came from.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// A value of the file by its key (`database_url`).
    pub fn file_value(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// Resolves a connection string: the flag, then the environment variable `env`,
    /// then the file key (`env` in lower case). A password in the flag is refused.
    pub fn connection(&self, flag: Option<&str>, env: &str) -> anyhow::Result<Option<String>> {
        if let Some(value) = flag {
            if uri_has_password(value) {
                return Err(Error::Usage(format!(
                    "a password on the command line is visible to every user of this machine; \
                     put the connection string in {env} or in the configuration file"
                ))
                .into());
            }
            return Ok(Some(value.to_owned()));
        }
        Ok(self.secret(env))
    }

    /// Resolves a secret (a token, a URI with a password): the environment, then the
    /// file. The value is registered for redaction.
    pub fn secret(&self, env: &str) -> Option<String> {
        let value = std::env::var(env)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .or_else(|| self.file_value(&env.to_ascii_lowercase()).map(str::to_owned))?;
        register_secret_parts(&value);
        Some(value)
    }

    /// Resolves a plain setting: the flag, then the environment, then the file.
    pub fn setting(&self, flag: Option<&str>, env: &str) -> Option<String> {
        flag.map(str::to_owned)
            .or_else(|| std::env::var(env).ok().filter(|v| !v.trim().is_empty()))
            .or_else(|| self.file_value(&env.to_ascii_lowercase()).map(str::to_owned))
    }

    /// A provider's base URL: the `--base-url` flag, then `{SOURCE}_BASE_URL` in the
    /// environment or the file (`X_BASE_URL`, `BLUESKY_BASE_URL`…: for proxies, and for
    /// tests that point a scheduled command line at a local server), then `default`.
    /// Any trailing `/` is removed.
    pub fn base_url(&self, flag: Option<&str>, source: &str, default: &str) -> String {
        let env = format!("{}_BASE_URL", source.to_ascii_uppercase().replace('-', "_"));
        self.setting(flag, &env).unwrap_or_else(|| default.to_owned()).trim_end_matches('/').to_owned()
    }

    /// Connects to MongoDB: the URI from MONGODB_URI or `mongodb_uri` in the file, the
    /// database from `--mongo-database`, MONGODB_DATABASE or the file.
    pub async fn mongo(&self, args: &crate::args::MongoArgs, tool: &str) -> anyhow::Result<crate::mongo::Mongo> {
        let uri = self.secret("MONGODB_URI").ok_or_else(|| {
            Error::Config("MongoDB needs MONGODB_URI (or mongodb_uri in the configuration file)".into())
        })?;
        let database = self.setting(args.mongo_database.as_deref(), "MONGODB_DATABASE");
        crate::mongo::Mongo::connect(&uri, database.as_deref(), tool).await
    }

    /// Reads a setting as a number, naming the key in the error.
    pub fn number<T: std::str::FromStr>(&self, flag: Option<T>, env: &str) -> anyhow::Result<Option<T>>
    where
        T::Err: std::fmt::Display,
    {
        if flag.is_some() {
            return Ok(flag);
        }
        match self.setting(None, env) {
            None => Ok(None),
            Some(text) => text
                .trim()
                .parse()
                .map(Some)
                .map_err(|e| Error::Config(format!("{env}: {text:?}: {e}")))
                .context("reading configuration"),
        }
    }
}

/// Registers a secret and, for a URI, its password alone (drivers sometimes echo the
/// password decoded or without the rest of the URI).
fn register_secret_parts(value: &str) {
    if let Some(password) = uri_password(value) {
        register_secret(password);
    } else if !value.contains("://") && !value.starts_with("sqlite:") {
        register_secret(value);
    }
}

fn uri_password(uri: &str) -> Option<&str> {
    let rest = &uri[uri.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    Some(&userinfo[userinfo.find(':')? + 1..])
}

fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("trendpipe").join("config.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::redact;

    #[test]
    fn file_values_and_precedence() {
        let cfg = Config::parse("database_url = \"sqlite:from-file.db\"\nbatch_size = 500\n", None).unwrap();
        assert_eq!(cfg.file_value("database_url"), Some("sqlite:from-file.db"));
        // The flag wins over the file.
        assert_eq!(cfg.setting(Some("sqlite:flag.db"), "TRENDPIPE_TEST_UNSET_VAR").as_deref(), Some("sqlite:flag.db"));
        // The file fills in when flag and environment are silent.
        assert_eq!(cfg.number::<usize>(None, "BATCH_SIZE").unwrap(), Some(500));
    }

    #[test]
    fn password_on_the_command_line_is_refused() {
        let cfg = Config::default();
        let err = cfg.connection(Some("postgres://etl:hunter22@pg/db"), "DATABASE_URL").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("DATABASE_URL"), "{msg}");
        assert!(!msg.contains("hunter22"), "{msg}");
        assert!(cfg.connection(Some("sqlite:x.db"), "DATABASE_URL").unwrap().is_some());
    }

    #[test]
    fn secrets_from_the_file_are_redacted() {
        let cfg = Config::parse(
            "x_bearer_token = \"tok-abcdef-123456\"\nmongodb_uri = \"mongodb://u:pa55word-xyz@h\"\n",
            None,
        )
        .unwrap();
        assert_eq!(cfg.file_value("x_bearer_token"), Some("tok-abcdef-123456"));
        assert_eq!(redact("sent tok-abcdef-123456"), "sent ***");
        assert_eq!(redact("auth failed for pa55word-xyz"), "auth failed for ***");
    }

    #[test]
    fn bad_file_is_a_config_error() {
        let err = Config::parse("x = [1, 2]", None).unwrap_err();
        assert!(err.to_string().contains("expected a string"), "{err}");
        let err = Config::parse("x = ", None).unwrap_err();
        assert!(err.downcast_ref::<Error>().is_some());
    }
}
