// Each record becomes a tree of small strings and maps that lives for one batch;
// mimalloc allocates and frees them markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    trendpipe_core::cli::main("etl-to-sql", trendpipe_etl_to_sql::run)
}
