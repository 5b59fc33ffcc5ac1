//! The flags of `watch`.

use super::super::fit::MachineArgs;
use super::super::runtime::RuntimeArgs;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `watch`.
#[derive(clap::Args)]
pub struct Args {
    /// The file being downloaded (`.part`, `.crdownload`, `.incomplete`, or growing in place).
    pub file: PathBuf,
    /// How often to look at the file: 1s, 500ms, 2.5s.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub interval: Duration,
    /// Give up (exit 3) when the file has not changed for this long: 10m, 90s (default: wait forever).
    #[arg(long, value_parser = parse_duration)]
    pub stall_timeout: Option<Duration>,
    #[command(flatten)]
    pub machine: MachineArgs,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    /// One JSON object per line, each with an `event` field (schema in the README).
    #[arg(long)]
    pub json: bool,
}

/// `500ms`, `1s`, `2.5s`, `10m`, `1h`, or plain seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("{s:?}: expected a duration such as 500ms, 2s or 10m")),
    };
    let v: f64 = num.parse().map_err(|_| format!("{s:?}: expected a duration such as 500ms, 2s or 10m"))?;
    let secs = v * scale;
    if !(0.01..=86_400.0 * 365.0).contains(&secs) {
        return Err(format!("{s:?}: expected between 10ms and a year"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("50ms"), Ok(Duration::from_millis(50)));
        assert_eq!(parse_duration("2.5s"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("0").is_err() && parse_duration("5 parsecs").is_err() && parse_duration("").is_err());
    }
}
