fn main() -> std::process::ExitCode {
    trendpipe_core::cli::main("clean", trendpipe_clean::run)
}
