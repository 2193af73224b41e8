//! Per-call resource limits, as data, and the limiter that enforces them.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which limit a plugin ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Limit {
    /// Linear memory beyond `Limits::memory_bytes`.
    Memory,
    /// Table growth beyond `Limits::table_elements`.
    TableElements,
    /// More instances, tables or memories than allowed.
    Instances,
    /// Wasm stack exhausted (deep recursion).
    Stack,
    /// Too many live host resources (`Limits::max_resources`).
    ResourceTable,
    /// More than `Limits::max_output_bytes` passed to the host at once: an
    /// export's result, an import's arguments, or an export stream.
    Output,
    /// The plugin ran past its epoch deadline.
    Deadline,
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Limit::Memory => "memory",
            Limit::TableElements => "table elements",
            Limit::Instances => "instances",
            Limit::Stack => "stack",
            Limit::ResourceTable => "resource table",
            Limit::Output => "output size",
            Limit::Deadline => "deadline",
        })
    }
}

/// Limits applied to every plugin call. Plans may override the deadline and
/// memory per plugin; the rest are host policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Wall-clock budget for one call (enforced through epochs).
    pub deadline: Duration,
    /// Maximum linear memory per memory, in bytes.
    pub memory_bytes: usize,
    /// Maximum elements per table.
    pub table_elements: usize,
    /// Maximum core instances per call (a component has several).
    pub instances: usize,
    /// Maximum tables per call.
    pub tables: usize,
    /// Maximum memories per call.
    pub memories: usize,
    /// Maximum bytes a guest may hand the host at once: an export's result
    /// or one host call's arguments. Enforced by wasmtime's hostcall fuel
    /// while lifting, so the host never allocates more than this.
    pub max_output_bytes: usize,
    /// Maximum live host resources (streams, requests, sinks...).
    pub max_resources: usize,
    /// Maximum bytes an adapter may stream into one data sink.
    pub max_export_bytes: u64,
    /// Maximum bytes a translator may write into its output sink (the host
    /// keeps a translation's output in memory to check it, so this is far
    /// below `max_export_bytes`).
    #[serde(default = "default_max_translation_bytes")]
    pub max_translation_bytes: u64,
    /// Bytes of plugin stdout/stderr kept per call (the rest is counted and dropped).
    pub max_log_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(10),
            memory_bytes: 64 << 20,
            table_elements: 20_000,
            instances: 32,
            tables: 32,
            memories: 8,
            max_output_bytes: 8 << 20,
            max_resources: 1_000,
            max_export_bytes: 64 << 30,
            max_translation_bytes: default_max_translation_bytes(),
            max_log_bytes: 64 << 10,
        }
    }
}

fn default_max_translation_bytes() -> u64 {
    256 << 20
}

/// The largest memory a plan may grant one plugin (the pooling allocator
/// reserves slots of this size).
pub const MAX_MEMORY_BYTES: usize = 1 << 30;

/// The most elements one table may have (the pooling allocator reserves
/// slots of this size); `Limits::table_elements` is at most this.
pub const MAX_TABLE_ELEMENTS: usize = 200_000;

/// The error a limiter raises; found again by downcast when classifying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("plugin exceeded its {limit} limit")]
pub struct LimitHit {
    /// Which limit.
    pub limit: Limit,
}

/// The first growth a [`Limiter`] refused: what was asked and what is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refused {
    /// [`Limit::Memory`] (bytes) or [`Limit::TableElements`] (elements).
    pub(crate) limit: Limit,
    /// The size the guest asked to grow to.
    pub(crate) desired: usize,
    /// The most allowed: the limit, or the memory's or table's own maximum.
    pub(crate) allowed: usize,
}

impl Refused {
    /// What happened, for [`crate::CallError::Limit`]'s detail (which
    /// already names the plugin and the limit).
    pub(crate) fn detail(&self) -> String {
        let Refused {
            desired, allowed, ..
        } = self;
        match self.limit {
            Limit::TableElements => {
                format!("it asked to grow a table to {desired} elements; {allowed} are allowed")
            }
            _ => format!(
                "it asked to grow a linear memory to {desired} bytes; {allowed} are allowed"
            ),
        }
    }
}

/// `wasmtime::ResourceLimiter` that traps on the first excess and remembers it.
pub(crate) struct Limiter {
    limits: Limits,
    pub(crate) hit: Option<Refused>,
}

impl Limiter {
    pub(crate) fn new(limits: Limits) -> Self {
        Self { limits, hit: None }
    }

    fn exceed(
        &mut self,
        limit: Limit,
        desired: usize,
        cap: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.hit.get_or_insert(Refused {
            limit,
            desired,
            allowed: maximum.map_or(cap, |m| m.min(cap)),
        });
        Err(wasmtime::Error::new(LimitHit { limit }))
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limits.memory_bytes || maximum.is_some_and(|m| desired > m) {
            return self.exceed(Limit::Memory, desired, self.limits.memory_bytes, maximum);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limits.table_elements || maximum.is_some_and(|m| desired > m) {
            return self.exceed(
                Limit::TableElements,
                desired,
                self.limits.table_elements,
                maximum,
            );
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.limits.instances
    }

    fn tables(&self) -> usize {
        self.limits.tables
    }

    fn memories(&self) -> usize {
        self.limits.memories
    }
}
