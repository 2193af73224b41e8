//! What a component declares before it runs: the initial size of every
//! linear memory and table its core modules define, checked against the
//! limits the plugin is loaded with and the pooling allocator's slots, so
//! that an oversized component is refused at load with the limit it is
//! over (not as "not a valid WebAssembly component", and not only when
//! its first call fails).

use wasmparser::{Chunk, Parser, Payload};

use crate::limits::{Limit, Limits, MAX_MEMORY_BYTES, MAX_TABLE_ELEMENTS};

/// A declared size over a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Excess {
    /// [`Limit::Memory`] (bytes) or [`Limit::TableElements`] (elements).
    pub(crate) limit: Limit,
    /// The declared initial size.
    pub(crate) asked: u64,
    /// The most allowed.
    pub(crate) allowed: u64,
}

/// The most bytes one linear memory may start with under `limits`.
pub(crate) fn memory_allowed(limits: &Limits) -> u64 {
    limits.memory_bytes.min(MAX_MEMORY_BYTES) as u64
}

/// The most elements one table may start with under `limits`.
pub(crate) fn table_allowed(limits: &Limits) -> u64 {
    limits.table_elements.min(MAX_TABLE_ELEMENTS) as u64
}

/// The first memory or table `bytes` (a binary component or component
/// text) defines with an initial size over `limits`. `None` when there is
/// none, or when the bytes cannot be parsed (compiling them reports that).
pub(crate) fn excess(bytes: &[u8], limits: &Limits) -> Option<Excess> {
    let binary;
    let bytes = if bytes.starts_with(b"\0asm") {
        bytes
    } else {
        binary = wat::parse_bytes(bytes).ok()?;
        &binary[..]
    };
    let (memory_max, table_max) = (memory_allowed(limits), table_allowed(limits));
    // `Parser::parse_all`, without walking the function bodies: code
    // sections are skipped whole (most of a large guest's bytes, which then
    // need not even be read in).
    let mut stack: Vec<Parser> = Vec::new();
    let mut cur = Parser::new(0);
    let mut data = bytes;
    loop {
        let (payload, consumed) = match cur.parse(data, true).ok()? {
            Chunk::Parsed { payload, consumed } => (payload, consumed),
            Chunk::NeedMoreData(_) => return None,
        };
        data = data.get(consumed..)?;
        match payload {
            Payload::ModuleSection { parser, .. } | Payload::ComponentSection { parser, .. } => {
                stack.push(cur.clone());
                cur = parser;
            }
            Payload::End(_) => cur = stack.pop()?,
            Payload::CodeSectionStart { size, .. } => {
                cur.skip_section();
                data = data.get(usize::try_from(size).ok()?..)?;
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    let m = memory.ok()?;
                    let page = 1u64 << m.page_size_log2.unwrap_or(16).min(63);
                    let asked = m.initial.saturating_mul(page);
                    if asked > memory_max {
                        return Some(Excess {
                            limit: Limit::Memory,
                            asked,
                            allowed: memory_max,
                        });
                    }
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let asked = table.ok()?.ty.initial;
                    if asked > table_max {
                        return Some(Excess {
                            limit: Limit::TableElements,
                            asked,
                            allowed: table_max,
                        });
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(core: &str) -> String {
        format!("(component (core module $m {core}) (core instance (instantiate $m)))")
    }

    #[test]
    fn memories_and_tables_of_nested_modules_are_measured() {
        let limits = Limits::default();
        assert_eq!(excess(component("(memory 1)").as_bytes(), &limits), None);
        // 64 MiB is exactly the default limit; one page more is over it.
        assert_eq!(excess(component("(memory 1024)").as_bytes(), &limits), None);
        assert_eq!(
            excess(component("(memory 1025)").as_bytes(), &limits),
            Some(Excess {
                limit: Limit::Memory,
                asked: 1025 << 16,
                allowed: 64 << 20,
            })
        );
        assert_eq!(
            excess(component("(table 20001 funcref)").as_bytes(), &limits),
            Some(Excess {
                limit: Limit::TableElements,
                asked: 20_001,
                allowed: 20_000,
            })
        );
        // A plan may allow more memory, never more than the pool's slot.
        let big = Limits {
            memory_bytes: usize::MAX,
            ..Limits::default()
        };
        assert_eq!(excess(component("(memory 1025)").as_bytes(), &big), None);
        let over_pool = excess(component("(memory 16385)").as_bytes(), &big);
        assert_eq!(over_pool.map(|e| e.allowed), Some(MAX_MEMORY_BYTES as u64));
        // Function bodies are skipped, not what follows them: a second
        // module after one with code, and a nested component.
        let two = "(component (core module $a (func (result i32) i32.const 1) (func)) \
                   (core module $b (memory 1025)))";
        assert_eq!(
            excess(two.as_bytes(), &limits).map(|e| e.asked),
            Some(1025 << 16)
        );
        let nested = format!("(component {two})");
        assert_eq!(
            excess(nested.as_bytes(), &limits).map(|e| e.limit),
            Some(Limit::Memory)
        );
        // Unparseable bytes are left to the compiler to report.
        assert_eq!(excess(b"(component (oops", &limits), None);
        assert_eq!(excess(b"\0asm\x0d\0\x01\0\xff", &limits), None);
    }
}
