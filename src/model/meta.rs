//! Typed access to `{arch}.*` metadata keys.

use crate::read::{Header, Value};

/// Metadata of one model, with its architecture prefix.
#[derive(Clone, Copy)]
pub struct Meta<'a> {
    /// The header that carries the metadata (first shard).
    pub header: &'a Header,
    /// `general.architecture`.
    pub arch: &'a str,
}

impl<'a> Meta<'a> {
    /// A raw value by full key.
    pub fn raw(&self, key: &str) -> Option<&'a Value> {
        self.header.get(key)
    }

    /// `{arch}.{suffix}`.
    pub fn get(&self, suffix: &str) -> Option<&'a Value> {
        self.header.get(&format!("{}.{}", self.arch, suffix))
    }

    /// `{arch}.{suffix}` as an integer; for a per-layer array, its first element.
    pub fn u64(&self, suffix: &str) -> Option<u64> {
        match self.get(suffix)? {
            Value::Array(a) => a.items.first()?.as_u64(),
            v => v.as_u64(),
        }
    }

    /// `{arch}.{suffix}` for layer `il`: a scalar applies to every layer, an array per layer.
    pub fn per_layer(&self, suffix: &str, il: usize) -> Option<u64> {
        match self.get(suffix)? {
            Value::Array(a) => a.items.get(il)?.as_u64(),
            v => v.as_u64(),
        }
    }

    /// `{arch}.{suffix}` as a per-layer bool array, if it is an array.
    pub fn bool_array(&self, suffix: &str) -> Option<Vec<bool>> {
        let a = self.get(suffix)?.as_array()?;
        if !a.is_complete() {
            return None;
        }
        a.items.iter().map(|v| v.as_u64().map(|x| x != 0)).collect()
    }
}
