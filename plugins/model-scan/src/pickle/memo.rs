//! The unpickler memo. Picklers number entries 0, 1, 2, ...: those keys
//! live in a vector (no hashing on the hot path); any other key (hostile or
//! hand-written pickles) goes to a map. Behaves as one `key -> value` map.

use std::collections::HashMap;

use super::value::Value;

/// Keys below this are stored densely (at most this many slots).
const DENSE: u64 = 1 << 16;

/// A `u64 -> Value` map tuned for small sequential keys.
#[derive(Default)]
pub(super) struct Memo {
    dense: Vec<Option<Value>>,
    sparse: HashMap<u64, Value>,
    len: usize,
}

impl Memo {
    /// Number of entries.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The value under `key`.
    pub(super) fn get(&self, key: u64) -> Option<&Value> {
        if key < DENSE {
            self.dense.get(key as usize).and_then(Option::as_ref)
        } else {
            self.sparse.get(&key)
        }
    }

    /// Whether `key` has a value.
    pub(super) fn contains_key(&self, key: u64) -> bool {
        self.get(key).is_some()
    }

    /// Set `key` to `v` (replacing any value).
    pub(super) fn insert(&mut self, key: u64, v: Value) {
        let old = if key < DENSE {
            let i = key as usize;
            if self.dense.len() <= i {
                self.dense.resize(i + 1, None);
            }
            self.dense[i].replace(v)
        } else {
            self.sparse.insert(key, v)
        };
        if old.is_none() {
            self.len += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse_keys_count_once() {
        let mut m = Memo::default();
        m.insert(0, Value::None);
        m.insert(0, Value::Int(1));
        m.insert(1 << 40, Value::None);
        m.insert(1 << 40, Value::None);
        assert_eq!(m.len(), 2);
        assert!(matches!(m.get(0), Some(Value::Int(1))));
        assert!(m.contains_key(1 << 40));
        assert!(!m.contains_key(5));
        assert!(m.get(70_000).is_none());
    }
}
