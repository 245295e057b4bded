// Reading a million posts allocates as many small strings (ids, handles); mimalloc
// serves them markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    trendpipe_core::cli::main("influencers", trendpipe_influencers::run)
}
