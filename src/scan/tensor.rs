//! One tensor's data checked as it streams past in chunks of any size: whole elements or
//! blocks are checked where they lie, and the few bytes of one cut by a chunk boundary are
//! carried over to the next chunk.

use super::blocks::Check;
use super::values::{scan_blocks, scan_floats};
use super::{Finding, Rule, Severity};
use crate::read::GgmlType;

/// Largest unit (element or block) of any known type: `block_q8_K` is 292 bytes.
const MAX_UNIT: usize = 512;

/// The running state of the check of one tensor.
#[derive(Debug)]
pub struct TensorScan {
    name: String,
    ggml_type: GgmlType,
    check: Check,
    big_endian: bool,
    /// Absolute file offset of the tensor's data.
    start: u64,
    /// Data bytes.
    len: u64,
    /// Bytes checked so far: the offset in the tensor of the next unit.
    checked: u64,
    carry: [u8; MAX_UNIT],
    carried: usize,
    /// Bad elements (floats) or bad blocks (quantized).
    bad: u64,
    nan: u64,
    /// Absolute file offset of the first bad element or scale field, and that field's name.
    first_bad: Option<(u64, &'static str)>,
    nonzero: bool,
}

impl TensorScan {
    /// Starts the check of tensor `name` of `ggml_type`, `len` bytes at absolute offset `start`.
    pub fn new(name: &str, ggml_type: GgmlType, start: u64, len: u64, check: Check, big_endian: bool) -> TensorScan {
        TensorScan {
            name: name.to_string(),
            ggml_type,
            check,
            big_endian,
            start,
            len,
            checked: 0,
            carry: [0; MAX_UNIT],
            carried: 0,
            bad: 0,
            nan: 0,
            first_bad: None,
            nonzero: false,
        }
    }

    /// Absolute offset just past the tensor's data.
    pub fn end(&self) -> u64 {
        self.start.saturating_add(self.len)
    }

    /// Absolute offset of the tensor's data.
    pub fn start(&self) -> u64 {
        self.start
    }

    fn unit(&self) -> usize {
        match self.check {
            Check::Floats(k) => k.width(),
            Check::Scales { block, .. } | Check::ZeroOnly { block, .. } => block.clamp(1, MAX_UNIT),
            Check::Nothing | Check::Unknown => 1,
        }
    }

    /// Feeds the next `bytes` of the tensor's data, in order.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        let unit = self.unit();
        // A unit is at most MAX_UNIT bytes, the carry's size, so every `get` below succeeds.
        if self.carried > 0 {
            let take = (unit - self.carried).min(bytes.len());
            let (head, tail) = bytes.split_at_checked(take).unwrap_or((bytes, &[]));
            if let Some(into) = self.carry.get_mut(self.carried..self.carried + head.len()) {
                into.copy_from_slice(head);
            }
            self.carried += head.len();
            bytes = tail;
            if self.carried < unit {
                return;
            }
            let carry = self.carry;
            self.check_units(carry.get(..unit).unwrap_or(&carry));
            self.carried = 0;
        }
        let whole = bytes.len() / unit * unit;
        let (units, rest) = bytes.split_at_checked(whole).unwrap_or((bytes, &[]));
        self.check_units(units);
        if let Some(into) = self.carry.get_mut(..rest.len()) {
            into.copy_from_slice(rest);
            self.carried = rest.len();
        }
    }

    /// Checks whole units starting at `self.checked` bytes into the tensor.
    fn check_units(&mut self, bytes: &[u8]) {
        let at = self.start.saturating_add(self.checked);
        match self.check {
            Check::Floats(kind) => {
                let s = scan_floats(kind, bytes, self.big_endian);
                self.bad += s.nan + s.inf;
                self.nan += s.nan;
                self.nonzero |= s.nonzero;
                if let (None, Some(i)) = (self.first_bad, s.first_bad) {
                    self.first_bad = Some((at + i * kind.width() as u64, ""));
                }
            }
            Check::Scales { block, fields } => {
                let s = scan_blocks(bytes, block, fields, self.big_endian);
                self.bad += s.bad_blocks;
                if let (None, Some((b, k))) = (self.first_bad, s.first_bad)
                    && let Some(field) = fields.get(k)
                {
                    self.first_bad = Some((at + b * block as u64 + field.at as u64, field.name));
                }
                self.nonzero = self.nonzero || bytes.iter().any(|&b| b != 0);
            }
            Check::ZeroOnly { .. } => self.nonzero = self.nonzero || bytes.iter().any(|&b| b != 0),
            Check::Nothing | Check::Unknown => {}
        }
        self.checked += bytes.len() as u64;
    }

    /// What the check found, once all the data has been fed.
    pub fn finish(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        let ty = self.ggml_type.name();
        if let Some((offset, field)) = self.first_bad {
            let (rule, message) = match self.check {
                Check::Floats(kind) => {
                    let index = (offset - self.start) / kind.width() as u64;
                    let what = plural(self.bad, "NaN/Inf value");
                    (Rule::NanInf, format!("{what} ({} NaN, {} Inf) in {ty} data; first is element {index}", self.nan, self.bad - self.nan))
                }
                _ => {
                    let what = plural(self.bad, "block");
                    (Rule::ScaleNanInf, format!("{what} of {ty} with a NaN/Inf scale; first is field `{field}`"))
                }
            };
            out.push(Finding { rule, severity: Severity::Error, tensor: Some(self.name.clone()), offset: Some(offset), count: self.bad, message });
        }
        let zero_checked = matches!(self.check, Check::Floats(_) | Check::Scales { .. } | Check::ZeroOnly { .. });
        if zero_checked && !self.nonzero && self.len > 0 {
            let what = match self.check {
                Check::Floats(_) => "every value is zero",
                _ => "every data byte is zero, so every weight dequantizes to 0",
            };
            out.push(Finding {
                rule: Rule::AllZero,
                severity: Severity::Warning,
                tensor: Some(self.name.clone()),
                offset: Some(self.start),
                count: self.len,
                message: format!("{what} ({ty}, {} bytes)", self.len),
            });
        }
        out
    }
}

fn plural(n: u64, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::blocks::check_for;

    fn run(t: GgmlType, data: &[u8], cuts: &[usize]) -> Vec<Finding> {
        let mut s = TensorScan::new("x", t, 1000, data.len() as u64, check_for(t), false);
        let mut prev = 0;
        for &c in cuts.iter().chain([data.len()].iter()) {
            s.feed(&data[prev..c]);
            prev = c;
        }
        s.finish()
    }

    #[test]
    fn chunk_boundaries_do_not_change_the_result() {
        let mut data: Vec<u8> = (0..4000u32).flat_map(|i| (i as f32).to_le_bytes()).collect();
        data[4 * 1234 + 3] = 0x7F;
        data[4 * 1234 + 2] = 0xC0;
        let whole = run(GgmlType::F32, &data, &[]);
        assert_eq!(whole.len(), 1);
        assert_eq!((whole[0].rule, whole[0].offset, whole[0].count), (Rule::NanInf, Some(1000 + 4 * 1234), 1));
        for cuts in [&[1usize, 2, 3][..], &[4937, 4938], &[7, 4939, 9999, 10001]] {
            assert_eq!(run(GgmlType::F32, &data, cuts), whole, "{cuts:?}");
        }
        // A quantized block cut in the middle of its scale field.
        let q6k = GgmlType::from_name("Q6_K").unwrap();
        let mut q: Vec<u8> = vec![1; 210 * 10];
        q[210 * 7 + 208..210 * 7 + 210].copy_from_slice(&0xFC00u16.to_le_bytes());
        let whole = run(q6k, &q, &[]);
        assert_eq!((whole[0].rule, whole[0].offset), (Rule::ScaleNanInf, Some(1000 + 210 * 7 + 208)));
        assert_eq!(run(q6k, &q, &[210 * 7 + 209]), whole);
        assert_eq!(run(q6k, &q, &[5, 210 * 7 + 100, 210 * 7 + 209, 2000]), whole);
    }

    #[test]
    fn all_zero_is_a_warning_for_floats_and_quants() {
        let f = run(GgmlType::F16, &[0, 0, 0, 0x80], &[1]);
        assert_eq!((f.len(), f[0].rule, f[0].severity), (1, Rule::AllZero, Severity::Warning));
        assert!(run(GgmlType::F16, &[0, 0, 1, 0], &[]).is_empty());
        let q = run(GgmlType::from_name("Q4_0").unwrap(), &[0; 36], &[17]);
        assert_eq!(q[0].rule, Rule::AllZero);
        assert!(run(GgmlType(26), &[0; 8], &[]).is_empty());
    }
}
