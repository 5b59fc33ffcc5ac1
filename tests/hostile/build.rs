//! Writes little-endian GGUF v3 headers by hand, for inputs no fixture has (dims near
//! u64::MAX, offsets at the edge). Tensor data is never written: the files are header-only.

/// A metadata value.
pub enum Val<'a> {
    /// A string.
    Str(&'a str),
    /// A u32.
    U32(u32),
}

/// A tensor info: name, dims (innermost first), ggml type id, data offset.
pub struct Tensor<'a>(pub &'a str, pub &'a [u64], pub u32, pub u64);

fn string(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

/// The header bytes: magic, version 3, counts, pairs, tensor infos, padding to 32.
pub fn gguf(kvs: &[(&str, Val)], tensors: &[Tensor]) -> Vec<u8> {
    let mut out = b"GGUF".to_vec();
    out.extend(3u32.to_le_bytes());
    out.extend((tensors.len() as u64).to_le_bytes());
    out.extend((kvs.len() as u64).to_le_bytes());
    for (k, v) in kvs {
        string(&mut out, k);
        match v {
            Val::Str(s) => {
                out.extend(8u32.to_le_bytes());
                string(&mut out, s);
            }
            Val::U32(x) => {
                out.extend(4u32.to_le_bytes());
                out.extend(x.to_le_bytes());
            }
        }
    }
    for Tensor(name, dims, ty, offset) in tensors {
        string(&mut out, name);
        out.extend((dims.len() as u32).to_le_bytes());
        for d in *dims {
            out.extend(d.to_le_bytes());
        }
        out.extend(ty.to_le_bytes());
        out.extend(offset.to_le_bytes());
    }
    out.resize(out.len().div_ceil(32) * 32, 0);
    out
}
