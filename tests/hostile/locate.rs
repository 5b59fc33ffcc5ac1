//! Where the fields of a little-endian GGUF header lie, so mutations can aim at counts,
//! lengths, types, dimensions and offsets instead of random bytes. Written independently of
//! the crate's parser (a walker that records positions and stops at the first surprise).

/// Positions (byte offsets) of the fields of one tensor info.
#[derive(Clone, Debug, Default)]
pub struct TensorFields {
    /// Start of the info (its name's length field).
    pub start: usize,
    /// The `n_dims` u32.
    pub n_dims_at: usize,
    /// Each dimension's u64.
    pub dims_at: Vec<usize>,
    /// The ggml type u32.
    pub type_at: usize,
    /// The data offset u64.
    pub offset_at: usize,
    /// Just past the info.
    pub end: usize,
}

/// Field positions of a header (as far as it could be walked).
#[derive(Clone, Debug, Default)]
pub struct Fields {
    /// u64 length fields of strings: keys, string values, strings in arrays, tensor names.
    pub string_lens: Vec<usize>,
    /// u32 element-type fields of arrays (the u64 length follows).
    pub array_heads: Vec<usize>,
    /// u32 value-type fields of metadata pairs.
    pub value_types: Vec<usize>,
    /// Numeric values of metadata pairs (not in arrays): position and size in bytes.
    pub scalars: Vec<(usize, usize)>,
    /// Start of each metadata pair (its key's length field).
    pub kv_starts: Vec<usize>,
    /// Tensor infos.
    pub tensors: Vec<TensorFields>,
    /// Where the tensor infos end (the header's end), if the walk got there.
    pub header_end: Option<usize>,
}

struct Walk<'a> {
    b: &'a [u8],
    pos: usize,
    f: Fields,
}

impl Walk<'_> {
    fn u32(&mut self) -> Option<u32> {
        let v = u32::from_le_bytes(self.b.get(self.pos..self.pos + 4)?.try_into().ok()?);
        self.pos += 4;
        Some(v)
    }
    fn u64(&mut self) -> Option<u64> {
        let v = u64::from_le_bytes(self.b.get(self.pos..self.pos + 8)?.try_into().ok()?);
        self.pos += 8;
        Some(v)
    }
    fn string(&mut self) -> Option<()> {
        self.f.string_lens.push(self.pos);
        let n = usize::try_from(self.u64()?).ok()?;
        self.b.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(())
    }
    fn value(&mut self, t: u32) -> Option<()> {
        // Array items are recorded as array heads only, not as scalars.
        let fixed = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8];
        match t {
            8 => self.string(),
            9 => {
                self.f.array_heads.push(self.pos);
                let elem = self.u32()?;
                let len = self.u64()?;
                match fixed.get(elem as usize) {
                    Some(&s) if s > 0 => {
                        let n = usize::try_from(len.checked_mul(s)?).ok()?;
                        self.b.get(self.pos..self.pos.checked_add(n)?)?;
                        self.pos += n;
                        Some(())
                    }
                    Some(_) if elem == 8 => (0..len).try_for_each(|_| self.string()),
                    _ => None, // nested arrays: record the head, stop walking
                }
            }
            _ => {
                let size = *fixed.get(t as usize).filter(|&&s| s > 0)? as usize;
                self.f.scalars.push((self.pos, size));
                self.pos += size;
                (self.pos <= self.b.len()).then_some(())
            }
        }
    }
    fn all(&mut self) -> Option<()> {
        if self.b.get(..4)? != b"GGUF" || !matches!(u32::from_le_bytes(self.b.get(4..8)?.try_into().ok()?), 2 | 3) {
            return None;
        }
        self.pos = 8;
        let n_tensors = self.u64()?;
        let n_kv = self.u64()?;
        for _ in 0..n_kv {
            self.f.kv_starts.push(self.pos);
            self.string()?;
            self.f.value_types.push(self.pos);
            let t = self.u32()?;
            self.value(t)?;
        }
        for _ in 0..n_tensors {
            let mut t = TensorFields { start: self.pos, ..Default::default() };
            self.string()?;
            t.n_dims_at = self.pos;
            let n = self.u32()?.min(8);
            for _ in 0..n {
                t.dims_at.push(self.pos);
                self.u64()?;
            }
            t.type_at = self.pos;
            self.u32()?;
            t.offset_at = self.pos;
            self.u64()?;
            t.end = self.pos;
            self.f.tensors.push(t);
        }
        self.f.header_end = Some(self.pos);
        Some(())
    }
}

/// Walks `b` (a little-endian GGUF v2/v3 header, possibly cut or corrupt) and returns the
/// positions found before the walk ended.
pub fn locate(b: &[u8]) -> Fields {
    let mut w = Walk { b, pos: 0, f: Fields::default() };
    let _ = w.all();
    w.f
}
