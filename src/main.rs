#![forbid(unsafe_code)]

fn main() {
    std::process::exit(gguf_meter::cli::run());
}
