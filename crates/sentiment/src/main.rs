fn main() -> std::process::ExitCode {
    trendpipe_core::cli::main("sentiment", trendpipe_sentiment::run)
}
