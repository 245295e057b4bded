fn main() -> std::process::ExitCode {
    trendpipe_core::cli::main("alerts", trendpipe_alerts::run)
}
