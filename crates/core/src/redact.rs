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

/// Remembers a URL that is a secret as a whole (a webhook's), and the parts of it a
/// server may quote back on their own: its path, and each path segment or query value
/// that looks like a token (not a plain lower-case word such as `hooks` or
/// `services`), so that "no hook at /hooks/TOKEN" is masked too.
pub fn register_secret_url(url: &str) {
    register_secret(url);
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let Some(slash) = after_scheme.find('/') else { return };
    let (authority, rest) = after_scheme.split_at(slash);
    if let Some((userinfo, _)) = authority.rsplit_once('@') {
        if let Some((_, password)) = userinfo.split_once(':') {
            register_secret(password);
        }
    }
    let rest = rest.split('#').next().unwrap_or_default();
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    register_secret(path);
    let tokenish = |s: &str| s.len() >= 8 && !s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'_');
    for segment in path.split('/').filter(|s| tokenish(s)) {
        register_secret(segment);
    }
    for value in query.split('&').filter_map(|kv| kv.split_once('=').map(|(_, v)| v)).filter(|v| tokenish(v)) {
        register_secret(value);
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
    fn masks_the_token_parts_of_a_secret_url() {
        register_secret_url("https://hooks.example.com/services/T00ABC/B00XYZ/Zk9pQr7sTuVw?sig=Qx81-abcdef&v=ok");
        assert_eq!(redact("no hook at /services/T00ABC/B00XYZ/Zk9pQr7sTuVw"), "no hook at ***");
        assert_eq!(redact("token Zk9pQr7sTuVw refused"), "token *** refused");
        assert_eq!(redact("bad sig Qx81-abcdef"), "bad sig ***");
        assert_eq!(redact("the services are down"), "the services are down");
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
