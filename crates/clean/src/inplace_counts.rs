//! The figures of `clean --from mongo --to mongo` per collection, every one from the
//! server's answers: document counts before and after the run, the deletes'
//! `deletedCount` and the updates' `modifiedCount` (see `inplace.rs`).

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// What the in-place run did to one collection, every figure from the server's
/// answers: document counts before and after, and the delete and update results.
#[derive(Debug, Default, Clone)]
pub struct CollectionCounts {
    /// Documents in the collection when the run began: every one is examined, by the
    /// server's queries or on the client.
    pub examined: u64,
    /// Documents the server's queries sent to the client: those some record rule may
    /// change, and the members of duplicate groups.
    pub selected: u64,
    /// Documents in the collection when the run ended.
    pub kept: u64,
    /// Documents rewritten by normalisation (the updates' `modifiedCount`).
    pub rewritten: u64,
    /// Documents quarantined then deleted, by rule (the deletes' `deletedCount`).
    pub removed: BTreeMap<&'static str, u64>,
    /// Trends newly flagged `"volume_scope": "global"`.
    pub global_volume: u64,
}

impl CollectionCounts {
    pub(crate) fn removed_total(&self) -> u64 {
        self.removed.values().sum()
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({"examined": self.examined, "selected": self.selected, "kept": self.kept,
               "removed": self.removed_total(), "removed_by_rule": self.removed,
               "rewritten": self.rewritten, "flagged": self.global_volume})
    }
}

/// `4 (2 duplicate, 2 schema)`, or `0`.
pub(crate) fn describe(removed: &BTreeMap<&'static str, u64>) -> String {
    let total: u64 = removed.values().sum();
    if total == 0 {
        return "0".into();
    }
    let rules = removed.iter().filter(|(_, n)| **n > 0).map(|(rule, n)| format!("{n} {rule}")).collect::<Vec<_>>();
    format!("{total} ({})", rules.join(", "))
}
