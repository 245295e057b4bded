// Parsing and writing records allocates many small objects; mimalloc serves
// them markedly faster than the system allocator (see benches/vader.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    trendpipe_core::cli::main("sentiment", trendpipe_sentiment::run)
}
