//! Small shared helpers: units and exit codes.

pub mod exit_code;
pub mod units;
