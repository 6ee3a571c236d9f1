#![forbid(unsafe_code)]

// mimalloc: the stores allocate many small strings; this halves parse time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(sopx::cli::run());
}
