#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    // Exit codes are 0..=130 (README, Exit codes); anything else would be a bug, reported as 2.
    std::process::ExitCode::from(u8::try_from(gguf_meter::cli::run()).unwrap_or(2))
}
