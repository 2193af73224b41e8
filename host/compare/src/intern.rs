//! [`Interner`]: strings stored once each, named by dense ids, with a
//! direct-mapped cache of recent strings that checks a hit against a
//! 16-byte inline head (label names and values are mostly shorter) instead
//! of reading the interned text.

use crate::model::hash_str;

/// Strings stored once each, named by dense `u32` ids in first-seen order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Interner {
    table: hashbrown::HashTable<u32>,
    ends: Vec<usize>,
    text: String,
    /// Direct-mapped cache of recent strings in front of `table`.
    recent: Vec<Recent>,
}

/// Slots of [`Interner::recent`].
const RECENT: usize = 1 << 12;

/// A string's length and first 16 bytes (zero-padded): the whole string
/// when it is at most 16 bytes long, as most label names and values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Head {
    len: usize,
    w0: u64,
    w1: u64,
}

impl Head {
    #[inline]
    fn of(s: &[u8]) -> Head {
        let n = s.len();
        let w8 = |at: usize| -> u64 {
            let mut a = [0u8; 8];
            a.copy_from_slice(&s[at..at + 8]);
            u64::from_le_bytes(a)
        };
        let w4 = |at: usize| -> u64 {
            let mut a = [0u8; 4];
            a.copy_from_slice(&s[at..at + 4]);
            u64::from(u32::from_le_bytes(a))
        };
        let (w0, w1) = match n {
            0 => (0, 0),
            1..=3 => (
                u64::from(s[0])
                    | u64::from(s[n / 2]) << (8 * (n / 2))
                    | u64::from(s[n - 1]) << (8 * (n - 1)),
                0,
            ),
            // Bytes n-4..n of the second load are bytes 4..n once shifted.
            4..=7 => (w4(0) | (w4(n - 4) >> (8 * (8 - n))) << 32, 0),
            8 => (w8(0), 0),
            9..=15 => (w8(0), w8(n - 8) >> (8 * (16 - n))),
            _ => (w8(0), w8(8)),
        };
        Head { len: n, w0, w1 }
    }

    /// Slot of [`Interner::recent`] (collisions only cost a miss).
    #[inline]
    fn slot(&self) -> usize {
        let h = (self.w0
            ^ self.w1.rotate_left(23)
            ^ (self.len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .wrapping_mul(0xff51_afd7_ed55_8ccd);
        (h >> 52) as usize & (RECENT - 1)
    }
}

/// An entry of [`Interner::recent`]: an id and its string's [`Head`].
#[derive(Debug, Clone, Copy)]
struct Recent {
    id: u32,
    head: Head,
}

impl Interner {
    /// The id of `s`, adding it when new.
    #[inline]
    pub(crate) fn intern(&mut self, s: &str) -> u32 {
        let head = Head::of(s.as_bytes());
        let at = head.slot();
        if let Some(r) = self.recent.get(at)
            && r.id != u32::MAX
            && r.head == head
            && (head.len <= 16 || slot_bytes(&self.ends, &self.text, r.id) == s.as_bytes())
        {
            return r.id;
        }
        let id = self.intern_slow(s);
        if self.recent.is_empty() {
            let empty = Recent {
                id: u32::MAX,
                head: Head::of(b""),
            };
            self.recent = vec![empty; RECENT];
        }
        self.recent[at] = Recent { id, head };
        id
    }

    fn intern_slow(&mut self, s: &str) -> u32 {
        let Interner {
            table, ends, text, ..
        } = self;
        let get = |id: u32| -> &str { slot(ends, text, id) };
        let eq = |id: u32| bytes_eq(slot_bytes(ends, text, id), s.as_bytes());
        match table.entry(hash_str(s), |&id| eq(id), |&id| hash_str(get(id))) {
            hashbrown::hash_table::Entry::Occupied(e) => *e.get(),
            hashbrown::hash_table::Entry::Vacant(v) => {
                // More than u32::MAX distinct strings cannot come from a
                // readable dump; saturate rather than panic.
                let id = u32::try_from(ends.len()).unwrap_or(u32::MAX - 1);
                text.push_str(s);
                ends.push(text.len());
                v.insert(id);
                id
            }
        }
    }

    /// The id of `s` if it was interned.
    pub(crate) fn find(&self, s: &str) -> Option<u32> {
        self.table
            .find(hash_str(s), |&id| self.get(id) == s)
            .copied()
    }

    /// The string of `id` (empty for an unknown id).
    #[inline]
    pub(crate) fn get(&self, id: u32) -> &str {
        slot(&self.ends, &self.text, id)
    }

    /// Number of distinct strings.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }
}

/// Byte equality, inline for short strings (label names and values are
/// mostly under 16 bytes; a `memcmp` call costs more than the comparison).
#[inline]
pub(crate) fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_le_bytes(w)
    };
    let half = |s: &[u8], at: usize| -> u32 {
        let mut w = [0u8; 4];
        w.copy_from_slice(&s[at..at + 4]);
        u32::from_le_bytes(w)
    };
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

/// The bytes of [`slot`], without its check of character boundaries (for
/// comparisons).
#[inline]
fn slot_bytes<'t>(ends: &[usize], text: &'t str, id: u32) -> &'t [u8] {
    let i = id as usize;
    let start = if i == 0 {
        0
    } else {
        ends.get(i - 1).copied().unwrap_or(0)
    };
    let end = ends.get(i).copied().unwrap_or(start);
    text.as_bytes().get(start..end).unwrap_or(&[])
}

#[inline]
fn slot<'t>(ends: &[usize], text: &'t str, id: u32) -> &'t str {
    let i = id as usize;
    let start = if i == 0 {
        0
    } else {
        ends.get(i - 1).copied().unwrap_or(0)
    };
    let end = ends.get(i).copied().unwrap_or(start);
    text.get(start..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_byte_equality_is_equality() {
        let words: Vec<Vec<u8>> = (0..20usize)
            .flat_map(|n| {
                let base: Vec<u8> = (0..n as u8).map(|i| b'a' + i).collect();
                let mut out = vec![base.clone()];
                for i in 0..n {
                    let mut v = base.clone();
                    v[i] = b'Z';
                    out.push(v);
                }
                out
            })
            .collect();
        for a in &words {
            for b in &words {
                assert_eq!(bytes_eq(a, b), a == b, "{a:?} {b:?}");
                if a.len() <= 16 && b.len() <= 16 {
                    assert_eq!(Head::of(a) == Head::of(b), a == b, "{a:?} {b:?}");
                }
            }
        }
    }

    #[test]
    fn interned_ids_name_strings_once() {
        let mut strings: Vec<String> = Vec::new();
        for n in 0..40usize {
            for c in [b'a', b'b', 0u8] {
                let mut v: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
                if n > 0 {
                    v[n - 1] = c;
                    v[n / 2] = c;
                }
                strings.push(String::from_utf8(v).unwrap());
            }
        }
        let mut i = Interner::default();
        let mut seen: std::collections::HashMap<&str, u32> = Default::default();
        for round in 0..3 {
            for s in strings.iter().rev().skip(round) {
                let id = i.intern(s);
                assert_eq!(*seen.entry(s).or_insert(id), id, "{s:?}");
                assert_eq!(i.get(id), s);
            }
        }
        assert_eq!(i.len(), seen.len());
    }
}
