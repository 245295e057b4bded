fn main() -> std::process::ExitCode {
    trendpipe_core::cli::main("etl-to-sql", trendpipe_etl_to_sql::run)
}
