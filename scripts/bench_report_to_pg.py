#!/usr/bin/env python3
"""Copies the year database that gen_report_bench.py made (SQLite) into a migrated
PostgreSQL database, for scripts/bench-report.sh --postgres URL: the same rows, so
that both engines answer the same pages.

Each table's common columns go through `psql`'s COPY (CSV on its stdin). The
observation indexes other than the primary key are dropped for the copy and made
again after it (faster than maintaining them row by row), then VACUUM ANALYZE sets
the statistics and the visibility map that index-only scans need.
Usage: bench_report_to_pg.py SQLITE_DB POSTGRES_URL
"""
import csv
import sqlite3
import subprocess
import sys
import time

src, url = sys.argv[1], sys.argv[2]
TABLES = ["places", "trends", "trend_observations", "authors", "posts", "post_trends", "trend_sentiment",
          "influencer_scores", "alerts", "observation_freshness"]


def psql(sql, stdin=None):
    """Runs one statement (or a \\copy) through psql, failing loudly."""
    return subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", url, "-c", sql], input=stdin,
                          stdout=subprocess.PIPE, check=True, text=stdin is None or isinstance(stdin, str)).stdout


def pg_columns(table):
    out = psql(f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}' "
               "AND table_schema = current_schema() ORDER BY ordinal_position")
    return [c for c in out.split() if c]


con = sqlite3.connect(src)
if psql("SELECT COUNT(*) FROM (SELECT 1 FROM trend_observations LIMIT 1) x").strip() != "0":
    sys.exit("bench_report_to_pg: the PostgreSQL database already holds observations")

indexes = [line.split("|", 1) for line in psql(
    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'trend_observations' "
    "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype = 'p')").splitlines() if line]
for name, _ in indexes:
    psql(f"DROP INDEX {name}")

for table in TABLES:
    have = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
    cols = [c for c in pg_columns(table) if c in have]
    if not cols:
        print(f"bench_report_to_pg: {table}: no common columns, skipped", file=sys.stderr)
        continue
    started = time.monotonic()
    proc = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c",
                             f"\\copy {table} ({', '.join(cols)}) FROM STDIN WITH (FORMAT csv)"],
                            stdin=subprocess.PIPE, text=True)
    w = csv.writer(proc.stdin, lineterminator="\n")
    n = 0
    for row in con.execute(f"SELECT {', '.join(cols)} FROM {table}"):
        # An empty CSV field is NULL to COPY: None is written as empty, text as quoted.
        w.writerow(["" if v is None else v for v in row])
        n += 1
    proc.stdin.close()
    if proc.wait() != 0:
        sys.exit(f"bench_report_to_pg: copying {table} failed")
    print(f"bench_report_to_pg: {table}: {n} rows in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)

for name, definition in indexes:
    started = time.monotonic()
    psql(definition)
    print(f"bench_report_to_pg: {name} made in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
# Identity columns given explicit values: move their sequences past them.
for table in ["places", "trends", "authors", "posts", "alerts"]:
    if "id" in pg_columns(table):
        psql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1)) FROM {table}")
started = time.monotonic()
psql("VACUUM ANALYZE")
print(f"bench_report_to_pg: VACUUM ANALYZE in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
