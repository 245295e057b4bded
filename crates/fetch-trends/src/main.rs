fn main() -> std::process::ExitCode {
    trendpipe_core::cli::main("fetch-trends", trendpipe_fetch_trends::run)
}
