//! Where the store's bytes go: keys and value bytes per key family, for the disk benchmark and
//! for operators wondering what fills the data folder.

use serde::Serialize;

use super::{Store, StoreError};

/// The keys of one family (the key up to its first `/`, e.g. `m/` for messages).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FamilyUsage {
    pub family: String,
    pub keys: u64,
    pub key_bytes: u64,
    pub value_bytes: u64,
}

impl Store {
    /// Keys, key bytes and value bytes per key family, in key order. Reads every key: for
    /// benchmarks and diagnostics, not for a request path.
    pub fn usage_by_family(&self) -> Result<Vec<FamilyUsage>, StoreError> {
        let mut families: Vec<FamilyUsage> = Vec::new();
        for kv in self.tree.iter() {
            let (key, value) = kv?;
            let end = key
                .iter()
                .position(|b| *b == b'/')
                .map_or(key.len(), |i| i + 1);
            let family = &key[..end];
            let entry = match families.last_mut() {
                Some(last) if last.family.as_bytes() == family => last,
                _ => {
                    families.push(FamilyUsage {
                        family: String::from_utf8_lossy(family).into_owned(),
                        ..Default::default()
                    });
                    families.last_mut().ok_or(StoreError::Closed)?
                }
            };
            entry.keys += 1;
            entry.key_bytes += key.len() as u64;
            entry.value_bytes += value.len() as u64;
        }
        Ok(families)
    }

    /// What sled reports as its size on disk.
    pub fn sled_size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }
}
