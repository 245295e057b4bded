//! `--source x-v1`: saved v1.1 `search/tweets` responses imported from files (`-` is
//! stdin). Each file is one page of one trend (`--trend`, else the file's
//! `search_metadata.query`); nothing is fetched, so there is no checkpoint, and trend
//! records are not read: the files say what they were searched for.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{SubsecRound, Utc};
use trendpipe_core::args::is_stdin;
use trendpipe_core::key::trend_key;
use trendpipe_core::record::Post;

use crate::sink::Sink;
use crate::source::{self, PageContext, Source};
use crate::{Args, Tally};

/// Imports saved v1.1 search responses: each file is one page of its trend.
pub(crate) async fn x_v1<W: std::io::Write>(
    args: &Args,
    sink: &mut Sink<'_, W>,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    let source = source::x_v1::XV1;
    let mut per_trend: HashMap<String, u64> = HashMap::new();
    for path in expand(&args.files, tally) {
        let path = &path;
        let shown = path.display().to_string();
        let body = if is_stdin(path) {
            let mut buf = Vec::new();
            std::io::stdin().lock().read_to_end(&mut buf).map(|_| buf)
        } else {
            std::fs::read(path)
        };
        let body = match body {
            Ok(b) => b,
            Err(e) => {
                tally.failed.push(format!("x-v1 file {shown}: cannot read: {e}"));
                continue;
            }
        };
        let name = args.trend.clone().or_else(|| source::x_v1::saved_query(&body));
        let Some(key) = name.as_deref().map(trend_key).filter(|k| !k.is_empty()) else {
            tally.failed.push(format!("x-v1 file {shown}: no --trend given and no search_metadata.query in the file"));
            continue;
        };
        let mut page = match source
            .parse_page(&body, &PageContext { observed_at: Utc::now().trunc_subsecs(0), ..PageContext::now() })
        {
            Ok(p) => p,
            Err(e) => {
                tally.failed.push(format!("x-v1 file {shown}: unexpected payload: {e}"));
                continue;
            }
        };
        tally.trends += usize::from(!per_trend.contains_key(&key));
        let taken = per_trend.entry(key.clone()).or_default();
        let mut hits: Vec<Post> = std::mem::take(&mut page.posts)
            .into_iter()
            .filter(|p| p.created_at.is_none_or(|t| args.window.contains(t)))
            .collect();
        hits.truncate(usize::try_from(u64::from(args.limit).saturating_sub(*taken)).unwrap_or(usize::MAX));
        *taken += hits.len() as u64;
        for post in hits.iter_mut().chain(page.referenced.iter_mut()) {
            post.trend = Some(key.clone());
        }
        crate::keep_referenced(&hits, &mut page.referenced, &mut tally.referenced_seen, &key);
        tally.count(&hits, &page.referenced);
        tally.pages += 1;
        hits.append(&mut page.referenced);
        sink.put(hits).await.with_context(|| format!("x-v1 file {shown}"))?;
    }
    Ok(())
}

/// The files to import: each `--file` as given, a directory as its `*.json` files in
/// name order (an archive of a hundred thousand pages passes the OS limit on the
/// length of a command line as separate arguments). A directory that cannot be
/// listed is a failure of the run, named, and the other files are still read.
fn expand(given: &[PathBuf], tally: &mut Tally) -> Vec<PathBuf> {
    let mut files = Vec::with_capacity(given.len());
    for path in given {
        if is_stdin(path) || !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        match json_files(path) {
            Ok(mut found) => {
                if found.is_empty() {
                    log::warn!("x-v1 directory {}: no *.json file in it", path.display());
                }
                files.append(&mut found);
            }
            Err(e) => tally.failed.push(format!("x-v1 directory {}: cannot list it: {e}", path.display())),
        }
    }
    files
}

/// The `*.json` files of `dir` (not its subdirectories), sorted by name.
fn json_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if json && path.is_file() {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}
