//! Keeping secrets out of every message.
//!
//! Two kinds of secrets reach the tools: passwords inside connection URIs
//! (`postgres://user:pw@host/db`) and bare tokens (`X_BEARER_TOKEN`). The first are
//! found by shape; the second are registered when they are read, so that any message
//! that quotes them by accident (an HTTP error echoing a header, say) is masked too.

use std::sync::{LazyLock, RwLock};

static SECRETS: LazyLock<RwLock<Vec<String>>> = LazyLock::new(|| RwLock::new(Vec::new()));

/// Remembers a secret value so that [`redact`] masks it wherever it appears.
/// Very short values are ignored: masking every "a" would make messages unreadable,
/// and a 3-character token is no secret anyway.
pub fn register_secret(value: &str) {
    if value.len() < 6 {
        return;
    }
    if let Ok(mut secrets) = SECRETS.write() {
        if !secrets.iter().any(|s| s == value) {
            secrets.push(value.to_owned());
        }
    }
}

/// Masks registered secrets and the password of every `scheme://user:password@`
/// found in `text`.
pub fn redact(text: &str) -> String {
    let mut out = redact_uri_passwords(text);
    if let Ok(secrets) = SECRETS.read() {
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
    }
    out
}

/// Replaces the password part of any `scheme://user:password@host` with `***`.
fn redact_uri_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        // The authority ends at the first '/', '?', '#' or whitespace; userinfo is what
        // precedes its last '@'.
        let end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..colon]);
                        out.push_str(":***");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// True when a connection URI carries a password, which must then come from the
/// environment or the configuration file, not from the command line.
pub fn uri_has_password(uri: &str) -> bool {
    redact_uri_passwords(uri) != uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_uri_passwords() {
        assert_eq!(
            redact("cannot connect to mongodb://app:s3cret@db1:27017,db2/x?authSource=admin"),
            "cannot connect to mongodb://app:***@db1:27017,db2/x?authSource=admin"
        );
        assert_eq!(
            redact("postgres://u:p%40ss@h/db and postgresql://h2/db"),
            "postgres://u:***@h/db and postgresql://h2/db"
        );
        assert_eq!(redact("sqlite:trends.db"), "sqlite:trends.db");
        assert_eq!(redact("mongodb://user@host"), "mongodb://user@host");
    }

    #[test]
    fn masks_registered_tokens() {
        register_secret("AAAA-bearer-token-1234");
        assert_eq!(redact("401 for Bearer AAAA-bearer-token-1234."), "401 for Bearer ***.");
    }

    #[test]
    fn detects_passwords() {
        assert!(uri_has_password("postgres://u:p@h/db"));
        assert!(!uri_has_password("postgres://u@h/db"));
        assert!(!uri_has_password("sqlite:x.db"));
    }
}
