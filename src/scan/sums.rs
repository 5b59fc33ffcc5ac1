//! Checksum lists as `sha256sum` writes them (`<hex>  <name>`, `<hex> *<name>`, escaped
//! names, and the `--tag` form `SHA256 (<name>) = <hex>`), and the comparison of a file's
//! digest against one.

use super::{Finding, Rule, ScanError, Severity};
use std::path::{Path, PathBuf};

/// A checksum list larger than this is refused: real ones list a few files per line.
const MAX_LIST_BYTES: u64 = 64 << 20;

/// One line of a checksum list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SumEntry {
    /// The file name as written in the list (possibly with directories).
    pub name: String,
    /// The expected digest.
    pub sha256: [u8; 32],
    /// 1-based line number, for messages.
    pub line: usize,
}

/// A parsed checksum list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChecksumList {
    /// Where the list was read from.
    pub source: PathBuf,
    /// Its entries in order.
    pub entries: Vec<SumEntry>,
}

impl ChecksumList {
    /// Reads and parses the list at `path`.
    pub fn load(path: &Path) -> Result<ChecksumList, ScanError> {
        use std::io::Read;
        let io = |err| ScanError::Io { path: path.to_path_buf(), offset: 0, err };
        let mut text = String::new();
        let file = std::fs::File::open(path).map_err(io)?;
        file.take(MAX_LIST_BYTES + 1).read_to_string(&mut text).map_err(io)?;
        if text.len() as u64 > MAX_LIST_BYTES {
            return Err(ScanError::Sums { path: path.to_path_buf(), line: 0, found: format!("a list over {MAX_LIST_BYTES} bytes") });
        }
        ChecksumList::parse(path, &text)
    }

    /// Parses `text`, read from `source`. Blank lines and `#` comments are skipped.
    pub fn parse(source: &Path, text: &str) -> Result<ChecksumList, ScanError> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || ScanError::Sums { path: source.to_path_buf(), line: i + 1, found: shorten(line) };
            let (hex, name) = parse_line(line).ok_or_else(bad)?;
            let sha256 = parse_hex(hex).ok_or_else(bad)?;
            entries.push(SumEntry { name, sha256, line: i + 1 });
        }
        Ok(ChecksumList { source: source.to_path_buf(), entries })
    }

    /// The entries for `file`: those naming it exactly as given, otherwise those whose last
    /// path component equals its file name.
    pub fn entries_for(&self, file: &Path) -> Vec<&SumEntry> {
        let exact: Vec<&SumEntry> = self.entries.iter().filter(|e| Path::new(&e.name) == file).collect();
        if !exact.is_empty() {
            return exact;
        }
        let Some(base) = file.file_name() else { return exact };
        self.entries.iter().filter(|e| Path::new(&e.name).file_name() == Some(base)).collect()
    }

    /// Compares `digest` of `file` with the list: `None` when an entry matches.
    pub fn verify(&self, file: &Path, digest: &[u8; 32]) -> Option<Finding> {
        let entries = self.entries_for(file);
        let list = self.source.display();
        let message = match entries.first() {
            None => format!("{} is not in the checksum list {list}", display_name(file)),
            Some(_) if entries.iter().any(|e| &e.sha256 == digest) => return None,
            Some(e) => format!("sha256 {} differs from {} expected by {list} line {}", to_hex(digest), to_hex(&e.sha256), e.line),
        };
        let rule = if entries.is_empty() { Rule::Sha256Unlisted } else { Rule::Sha256Mismatch };
        Some(Finding { rule, severity: Severity::Error, tensor: None, offset: None, count: 1, message })
    }
}

fn display_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| p.display().to_string())
}

/// `(hex, name)` of one line in either of sha256sum's formats.
fn parse_line(line: &str) -> Option<(&str, String)> {
    if let Some(rest) = line.strip_prefix("SHA256 (") {
        let (name, hex) = rest.rsplit_once(") = ")?;
        return Some((hex.trim(), name.to_string()));
    }
    // A leading backslash marks a name with `\\`, `\n` or `\r` escaped.
    let (escaped, line) = match line.strip_prefix('\\') {
        Some(l) => (true, l),
        None => (false, line),
    };
    let (hex, rest) = (line.get(..64)?, line.get(64..)?);
    let name = rest.strip_prefix("  ").or_else(|| rest.strip_prefix(" *")).or_else(|| rest.strip_prefix(' '))?;
    if name.is_empty() {
        return None;
    }
    Some((hex, if escaped { unescape(name)? } else { name.to_string() }))
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            '\\' => '\\',
            'n' => '\n',
            'r' => '\r',
            _ => return None,
        });
    }
    Some(out)
}

fn parse_hex(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        let &[hi, lo] = pair else { return None };
        *o = ((hi as char).to_digit(16)? * 16 + (lo as char).to_digit(16)?) as u8;
    }
    Some(out)
}

/// Lower-case hex, as `sha256sum` prints.
pub fn to_hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn shorten(line: &str) -> String {
    let mut s: String = line.chars().take(80).collect();
    if s.len() < line.len() {
        s.push_str("...");
    }
    format!("{s:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818";

    #[test]
    fn both_sha256sum_formats_and_escapes() {
        let text = format!("# comment\n{H}  models/gemma.gguf\n{H} *bin.gguf\r\n\n\\{H}  a\\\\b\\nc.gguf\nSHA256 (tag (1).gguf) = {}\n", H.to_uppercase());
        let l = ChecksumList::parse(Path::new("SUMS"), &text).unwrap();
        let names: Vec<&str> = l.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["models/gemma.gguf", "bin.gguf", "a\\b\nc.gguf", "tag (1).gguf"]);
        assert_eq!(l.entries[3].sha256, l.entries[0].sha256);
        assert_eq!((l.entries[0].line, l.entries[3].line), (2, 6));
        assert_eq!(to_hex(&l.entries[0].sha256), H);
    }

    #[test]
    fn malformed_lines_name_the_line() {
        for bad in [format!("{}  x", &H[..63]), H.to_string(), format!("{}g  x", &H[..63]), format!("\\{H}  a\\q")] {
            let e = ChecksumList::parse(Path::new("SUMS"), &format!("{H}  ok\n{bad}\n")).unwrap_err();
            assert!(e.to_string().starts_with("SUMS: line 2: "), "{e}");
        }
    }

    #[test]
    fn verify_by_path_then_file_name() {
        let other = "00".repeat(32);
        let l = ChecksumList::parse(Path::new("S"), &format!("{other}  a/m.gguf\n{H}  b/m.gguf\n{H}  x.gguf\n")).unwrap();
        let d = parse_hex(H).unwrap();
        assert!(l.verify(Path::new("/data/m.gguf"), &d).is_none());
        assert_eq!(l.verify(Path::new("a/m.gguf"), &d).unwrap().rule, Rule::Sha256Mismatch);
        assert!(l.verify(Path::new("x.gguf"), &d).is_none());
        let f = l.verify(Path::new("y.gguf"), &d).unwrap();
        assert_eq!((f.rule, f.severity), (Rule::Sha256Unlisted, Severity::Error));
    }
}
