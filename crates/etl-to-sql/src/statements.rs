//! The SQL statements the load paths share (the generic sqlx path in `load.rs`, the
//! SQLite path in `lite.rs`, the PostgreSQL COPY path in `pg.rs`), each column list
//! written once, so that every path stores the same rows.
//!
//! Placeholders are numbered `$1, $2, …` in order: PostgreSQL's syntax, which SQLite
//! reads as parameters bound by position (or `?N`, see [`placeholders_with`]).

use trendpipe_core::sql::POST_SENTIMENT_COLUMNS;

/// The columns of `posts` as the upserts write them, in binding order.
pub const POST_COLUMNS: &str = "source, post_id, author, url, text, lang, created_at, observed_at, \
     reposts, likes, replies, quotes, parent_id, quote_of, repost_of, conversation_id, author_followers";

/// The columns of `authors` as the upserts write them, in binding order.
pub const AUTHOR_COLUMNS: &str = "source, author_id, handle, followers, updated_at";

/// The names of a column list.
pub fn columns(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim)
}

/// Records a stream's watermark, only forward: a backfill of older records never
/// moves it back, and a rerun of the same position changes nothing.
pub const WATERMARK_SQL: &str = "INSERT INTO etl_watermarks (stream, watermark, updated_at) VALUES ($1, $2, $3) \
     ON CONFLICT (stream) DO UPDATE SET \
     updated_at = CASE WHEN excluded.watermark > etl_watermarks.watermark THEN excluded.updated_at ELSE etl_watermarks.updated_at END, \
     watermark = CASE WHEN excluded.watermark > etl_watermarks.watermark THEN excluded.watermark ELSE etl_watermarks.watermark END";

/// A column an upsert may rewrite, and the expression of its new value (which may
/// name the stored row, `table.col`, and the offered one, `excluded.col`).
pub type Update = (String, String);

/// The new values of the posts upsert: each column takes the new value only when the
/// new record is not older than the stored one, so loading an old export after a new
/// one keeps the latest counts; `observed_at` itself only moves forward. Shared by
/// every path so that they store the same rows.
pub fn post_updates() -> Vec<Update> {
    let mut updates: Vec<Update> = columns(POST_COLUMNS)
        .filter(|col| !matches!(*col, "source" | "post_id" | "observed_at"))
        .map(|col| {
            let value =
                format!("CASE WHEN excluded.observed_at >= posts.observed_at THEN excluded.{col} ELSE posts.{col} END");
            (col.to_owned(), value)
        })
        .collect();
    updates.push((
        "observed_at".to_owned(),
        "CASE WHEN excluded.observed_at > posts.observed_at THEN excluded.observed_at ELSE posts.observed_at END"
            .to_owned(),
    ));
    updates
}

/// The new values of the `post_sentiment` upsert: a new score replaces the stored one.
pub fn score_updates() -> Vec<Update> {
    columns(POST_SENTIMENT_COLUMNS)
        .filter(|col| *col != "post")
        .map(|col| (col.to_owned(), format!("excluded.{col}")))
        .collect()
}

/// `DO UPDATE SET … WHERE …` of an upsert into `table`: the row is rewritten only when
/// some column would change. An unchanged row is then neither rewritten (no dead
/// tuple, no WAL) nor returned, which is how the loads tell "unchanged" from "updated":
/// the rows offered minus those the statement inserted or returned.
pub fn on_change(table: &str, updates: &[Update]) -> String {
    let (set, changed) = set_if_changed(table, updates);
    format!("DO UPDATE SET {set} WHERE {changed}")
}

/// The assignments of `updates` and the condition that some of them changes a value
/// of the stored row of `table`, for an upsert or a plain `UPDATE`.
pub fn set_if_changed(table: &str, updates: &[Update]) -> (String, String) {
    let set = updates.iter().map(|(col, value)| format!("{col} = {value}")).collect::<Vec<_>>().join(", ");
    let changed = updates
        .iter()
        .map(|(col, value)| format!("{table}.{col} IS DISTINCT FROM ({value})"))
        .collect::<Vec<_>>()
        .join(" OR ");
    (set, changed)
}

/// The tables the generic and the SQLite paths upsert into, with the same statement
/// for both: they differ only in how many rows one statement carries.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Upsert {
    Places,
    Trends,
    Observations,
    Authors,
    Posts,
    Links,
    Scores,
}

impl Upsert {
    /// Columns per row.
    pub(crate) fn columns(self) -> usize {
        columns(self.column_list()).count()
    }

    /// The table, as `INSERT INTO` names it.
    pub(crate) fn table(self) -> &'static str {
        match self {
            Upsert::Places => "places",
            Upsert::Trends => "trends",
            Upsert::Observations => "trend_observations",
            Upsert::Authors => "authors",
            Upsert::Posts => "posts",
            Upsert::Links => "post_trends",
            Upsert::Scores => "post_sentiment",
        }
    }

    /// The columns each row binds, in order.
    fn column_list(self) -> &'static str {
        match self {
            Upsert::Places => "code, name",
            Upsert::Trends => "source, key, name, first_seen, last_seen",
            Upsert::Observations => "trend_id, place_id, observed_at, volume, rank, run_id",
            Upsert::Authors => AUTHOR_COLUMNS,
            Upsert::Posts => POST_COLUMNS,
            Upsert::Links => "post, trend_key",
            Upsert::Scores => POST_SENTIMENT_COLUMNS,
        }
    }

    /// The table and its columns, as `INSERT INTO` names them.
    fn target(self) -> String {
        format!("{} ({})", self.table(), self.column_list())
    }

    /// The natural key: the unique constraint the upsert resolves conflicts on.
    fn key(self) -> &'static str {
        match self {
            Upsert::Places => "code",
            Upsert::Trends => "source, key",
            Upsert::Authors => "source, author_id",
            Upsert::Posts => "source, post_id",
            Upsert::Observations => "trend_id, place_id, observed_at",
            Upsert::Links => "post, trend_key",
            Upsert::Scores => "post",
        }
    }

    /// The statement for `values` (its `VALUES` rows of placeholders). Statements
    /// that return ids return the natural key too, to map each id to its row.
    pub(crate) fn sql(self, values: &str) -> String {
        let conflict = match self {
            Upsert::Links => "DO NOTHING".to_owned(),
            _ => on_change(self.table(), &self.updates()),
        };
        format!(
            "INSERT INTO {} VALUES {values} ON CONFLICT ({}) {conflict}{}",
            self.target(),
            self.key(),
            self.returning()
        )
    }

    /// What the statements that must give row ids return: the id and the natural key,
    /// to map each id to its row.
    pub(crate) fn returning(self) -> &'static str {
        match self {
            Upsert::Places => " RETURNING id, code",
            Upsert::Trends => " RETURNING id, source, key",
            Upsert::Authors => " RETURNING id, source, author_id",
            Upsert::Posts => " RETURNING id, source, post_id",
            Upsert::Observations | Upsert::Links | Upsert::Scores => "",
        }
    }

    /// The new values of a stored row on conflict (none: links are only added).
    pub(crate) fn updates(self) -> Vec<Update> {
        let excluded = |col: &str| format!("excluded.{col}");
        let own = |pairs: &[(&str, &str)]| -> Vec<Update> {
            pairs.iter().map(|(col, value)| ((*col).to_owned(), (*value).to_owned())).collect()
        };
        match self {
            Upsert::Places => own(&[("name", "COALESCE(excluded.name, places.name)")]),
            Upsert::Trends => own(&[
                ("name", "CASE WHEN excluded.last_seen >= trends.last_seen THEN excluded.name ELSE trends.name END"),
                (
                    "first_seen",
                    "CASE WHEN excluded.first_seen < trends.first_seen THEN excluded.first_seen ELSE trends.first_seen END",
                ),
                (
                    "last_seen",
                    "CASE WHEN excluded.last_seen > trends.last_seen THEN excluded.last_seen ELSE trends.last_seen END",
                ),
            ]),
            Upsert::Observations => {
                ["volume", "rank", "run_id"].iter().map(|col| ((*col).to_owned(), excluded(col))).collect()
            }
            Upsert::Authors => author_updates(excluded),
            Upsert::Posts => post_updates(),
            Upsert::Links => Vec::new(),
            Upsert::Scores => score_updates(),
        }
    }

    /// The columns of the natural key: the first ones of the column list.
    pub(crate) fn key_columns(self) -> usize {
        self.key_names().count()
    }

    /// The names of the natural key's columns.
    pub(crate) fn key_names(self) -> impl Iterator<Item = &'static str> {
        columns(self.key())
    }

    /// The row id of a stored row by its natural key, bound as the first parameters of
    /// a row (`mark` as in [`placeholders_with`]).
    pub(crate) fn select_id(self, mark: char) -> String {
        let condition = columns(self.key())
            .enumerate()
            .map(|(i, col)| format!("{col} = {mark}{}", i + 1))
            .collect::<Vec<_>>()
            .join(" AND ");
        format!("SELECT id FROM {} WHERE {condition}", self.table())
    }

    /// The insert of rows whose natural key is not stored yet, leaving alone those
    /// that are: what the upsert does to a new row, without its `RETURNING` (the
    /// SQLite path takes the new row's id from the connection instead).
    pub(crate) fn insert_new(self, values: &str) -> String {
        format!("INSERT INTO {} VALUES {values} ON CONFLICT ({}) DO NOTHING", self.target(), self.key())
    }
}

/// The new values of the authors upsert, `new` naming the column of the offered values:
/// handle and followers move to those of the latest observation (ties go to the later
/// record), `updated_at` only forward. Shared by the upsert and by the SQLite path's
/// update of an author whose row id it knows.
pub(crate) fn author_updates(new: impl Fn(&str) -> String) -> Vec<Update> {
    let (handle, followers, at) = (new("handle"), new("followers"), new("updated_at"));
    vec![
        (
            "handle".to_owned(),
            format!(
                "CASE WHEN {at} >= authors.updated_at THEN COALESCE({handle}, authors.handle) ELSE authors.handle END"
            ),
        ),
        (
            "followers".to_owned(),
            format!(
                "CASE WHEN {at} >= authors.updated_at THEN COALESCE({followers}, authors.followers) ELSE authors.followers END"
            ),
        ),
        ("updated_at".to_owned(), format!("CASE WHEN {at} > authors.updated_at THEN {at} ELSE authors.updated_at END")),
    ]
}

/// `($1, $2), ($3, $4)` for `rows` rows of `cols` columns, numbered with `mark`.
///
/// PostgreSQL takes `$N`; SQLite takes `?N`, which it reads as a position, whereas it
/// would read `$N` as a name and look each one up among the names seen so far,
/// quadratic in the thousands of parameters of a multi-row insert.
pub(crate) fn placeholders_with(mark: char, rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 6);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push(mark);
            out.push_str(&(r * cols + c + 1).to_string());
        }
        out.push(')');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::placeholders_with;

    #[test]
    fn numbered_placeholders() {
        assert_eq!(placeholders_with('$', 2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(placeholders_with('?', 1, 1), "(?1)");
    }
}
