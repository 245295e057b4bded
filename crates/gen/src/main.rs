fn main() -> std::process::ExitCode {
    trendpipe_core::cli::main("gen-data", trendpipe_gen::run)
}
