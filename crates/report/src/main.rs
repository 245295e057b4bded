fn main() -> std::process::ExitCode {
    trendpipe_core::cli::main("report", trendpipe_report::run)
}
