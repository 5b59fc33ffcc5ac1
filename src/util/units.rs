//! Byte formatting: binary (GiB) and decimal (GB) units, always labelled.

/// Scales `bytes` by `base` until below it, labelling with `units` (first unit = one `base`).
fn scaled(bytes: u64, base: f64, units: [&str; 5]) -> String {
    if (bytes as f64) < base {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / base;
    let mut u = 0;
    while v >= base && u < units.len() - 1 {
        v /= base;
        u += 1;
    }
    format!("{v:.2} {}", units[u])
}

/// `20.61 GiB` for large values, `512 B` for small ones.
pub fn gib(bytes: u64) -> String {
    scaled(bytes, 1024.0, ["KiB", "MiB", "GiB", "TiB", "PiB"])
}

/// `22.13 GB` (decimal, as model hubs and disk vendors count).
pub fn gb(bytes: u64) -> String {
    scaled(bytes, 1000.0, ["kB", "MB", "GB", "TB", "PB"])
}

/// Both: `20.61 GiB (22.13 GB)`.
pub fn both(bytes: u64) -> String {
    format!("{} ({})", gib(bytes), gb(bytes))
}

/// `1,234,567` for raw byte counts in human output.
pub fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Parses `24GiB`, `24 GB`, `16g`, `1.5TiB`, `8589934592` into bytes.
pub fn parse_bytes(s: &str) -> Option<u64> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "kb" => 1e3,
        "m" | "mib" => 1024f64.powi(2),
        "mb" => 1e6,
        "g" | "gib" => 1024f64.powi(3),
        "gb" => 1e9,
        "t" | "tib" => 1024f64.powi(4),
        "tb" => 1e12,
        _ => return None,
    };
    let b = v * mult;
    (b.is_finite() && (0.0..1.8e19).contains(&b)).then(|| b.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses() {
        assert_eq!(gib(6 * 1024 * 1024 * 1024), "6.00 GiB");
        assert_eq!(gb(22_130_000_000), "22.13 GB");
        assert_eq!(gib(100), "100 B");
        assert_eq!(grouped(1234567), "1,234,567");
        assert_eq!(parse_bytes("24GiB"), Some(24 << 30));
        assert_eq!(parse_bytes("24 GB"), Some(24_000_000_000));
        assert_eq!(parse_bytes("1.5g"), Some(3 << 29));
        assert_eq!(parse_bytes("lots"), None);
    }
}
