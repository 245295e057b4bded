fn main() -> std::process::ExitCode {
    trendpipe_core::cli::main("fetch-posts", trendpipe_fetch_posts::run)
}
