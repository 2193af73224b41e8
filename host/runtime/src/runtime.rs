//! One wasmtime engine per process: epoch ticker, pooling allocator (with a
//! clean fallback), the shared linker and the compiled-component cache.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::wit_host;
use crate::cache::ComponentCache;
use crate::error::RuntimeError;
use crate::limits::MAX_MEMORY_BYTES;
use crate::state::HostState;

/// How often the epoch advances; deadlines are enforced at this granularity.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Maximum wasm stack per call (deep recursion traps with `Limit::Stack`).
pub const MAX_WASM_STACK: usize = 512 * 1024;

/// Which instance allocator the engine ended up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Allocator {
    /// Pre-reserved instance slots (fast instantiation).
    Pooling,
    /// Allocation per instance (fallback when the pool cannot be reserved).
    OnDemand,
}

struct Ticker(Arc<AtomicBool>);

impl Drop for Ticker {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The plugin runtime: create one per process and share it.
pub struct Runtime {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<HostState>,
    pub(crate) cache: Option<ComponentCache>,
    allocator: Allocator,
    _ticker: Ticker,
}

fn base_config() -> Config {
    let mut cfg = Config::new();
    cfg.wasm_component_model(true);
    cfg.epoch_interruption(true);
    cfg.max_wasm_stack(MAX_WASM_STACK);
    cfg
}

/// Bytes at the bottom of each pooled linear memory that stay mapped after a
/// call and are reset page by page (the shadow stack and the start of the
/// heap of a typical plugin); above this, freed memory is `madvise`d.
const KEEP_RESIDENT_MEMORY: usize = 2 << 20;

/// As [`KEEP_RESIDENT_MEMORY`], for tables.
const KEEP_RESIDENT_TABLE: usize = 1 << 20;

fn pooling_config() -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(64)
        .total_core_instances(512)
        .total_memories(128)
        .total_tables(256)
        .total_stacks(64)
        .max_memory_size(MAX_MEMORY_BYTES)
        .table_elements(200_000);
    // Reset freed slots by scanning for the pages the plugin dirtied and
    // zeroing/restoring just those, instead of `madvise` over the whole
    // slot (which also makes the next instance page-fault everything back
    // in). Same isolation: every slot is back to its initial image before
    // reuse. Only with `PAGEMAP_SCAN` (Linux >= 6.7): without it, "keep
    // resident" would `memset` the whole prefix, which is slower than
    // `madvise` for small plugins.
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        pool.pagemap_scan(Enabled::Yes)
            .linear_memory_keep_resident(KEEP_RESIDENT_MEMORY)
            .table_keep_resident(KEEP_RESIDENT_TABLE);
    }
    pool
}

impl Runtime {
    /// Creates the engine. `cache_dir` enables the compiled-component cache.
    pub fn new(cache_dir: Option<&Path>) -> Result<Self, RuntimeError> {
        let force_on_demand = std::env::var_os("CUTOVER_NO_POOLING").is_some();
        let (engine, allocator) = match force_on_demand {
            false => {
                let mut cfg = base_config();
                cfg.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling_config()));
                match Engine::new(&cfg) {
                    Ok(e) => (e, Allocator::Pooling),
                    Err(e) => {
                        tracing::info!(error = %e, "pooling allocator unavailable, using on-demand allocation");
                        Self::on_demand()?
                    }
                }
            }
            true => Self::on_demand()?,
        };
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| RuntimeError::Engine(e.to_string()))?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)
            .map_err(|e| RuntimeError::Engine(e.to_string()))?;
        wit_host::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)
            .map_err(|e| RuntimeError::Engine(e.to_string()))?;
        let cache =
            match cache_dir {
                Some(dir) => Some(ComponentCache::open(dir, &engine).map_err(|source| {
                    RuntimeError::Cache {
                        path: dir.display().to_string(),
                        source,
                    }
                })?),
                None => None,
            };
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, ticking) = (stop.clone(), engine.weak());
        std::thread::Builder::new()
            .name("cutover-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match ticking.upgrade() {
                        Some(e) => e.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map_err(|e| RuntimeError::Engine(format!("cannot start the epoch ticker: {e}")))?;
        Ok(Self {
            engine,
            linker,
            cache,
            allocator,
            _ticker: Ticker(stop),
        })
    }

    fn on_demand() -> Result<(Engine, Allocator), RuntimeError> {
        let cfg = base_config();
        Engine::new(&cfg)
            .map(|e| (e, Allocator::OnDemand))
            .map_err(|e| RuntimeError::Engine(e.to_string()))
    }

    /// The instance allocator in use.
    pub fn allocator(&self) -> Allocator {
        self.allocator
    }

    /// The cache, if enabled.
    pub fn cache(&self) -> Option<&ComponentCache> {
        self.cache.as_ref()
    }

    /// The wasmtime engine (for embedders and benchmarks).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Sandbox, wit};

    /// Traps when anything an earlier call left behind is visible: a data
    /// segment overwritten, memory written below and above the
    /// keep-resident prefix, memory or table grown.
    const LEAK_CHECK: &str = r#"
        (if (i32.ne (memory.size) (i32.const 1)) (then unreachable))
        (if (i32.ne (table.size $t) (i32.const 1)) (then unreachable))
        (if (i32.ne (i32.load8_u (i32.const 16)) (i32.const 0x69)) (then unreachable))
        (if (i32.load (i32.const 0x8000)) (then unreachable))
        (if (i32.ne (memory.grow (i32.const 40)) (i32.const 1)) (then unreachable))
        (if (i32.load (i32.const 0x240000)) (then unreachable))
        (i32.store8 (i32.const 16) (i32.const 0x58))
        (i32.store (i32.const 0x8000) (i32.const 1))
        (i32.store (i32.const 0x240000) (i32.const 1))
        (drop (table.grow $t (ref.null func) (i32.const 100)))
        (i32.store8 (i32.const 512) (i32.const 0))
        (i32.store8 (i32.const 516) (i32.const 0))
        (i32.store (i32.const 520) (i32.const 0))
        (i32.store (i32.const 524) (i32.const 0))
        (i32.store (i32.const 528) (i32.const 0))
        (i32.store (i32.const 532) (i32.const 0))
        (i32.const 512)
    "#;

    #[test]
    fn a_reused_slot_starts_from_the_initial_image() {
        let wat = include_str!("../../../tests/fixtures/hostile/check-template.wat")
            .replace("@IMPORTS@", "")
            .replace("@CORE_IMPORTS@", "")
            .replace("@WITH@", "")
            .replace("@FUNCS@", "")
            .replace("@BODY@", LEAK_CHECK)
            .replace("@NAMELEN@", "\\03")
            .replace("@NAME@", "iso");
        let rt = Runtime::new(None).expect("runtime");
        let plugin = rt.load(wat.as_bytes(), "iso").expect("fixture loads");
        let sb = Sandbox::default();
        let ctx = wit::Context {
            plan: "t".into(),
            phase: String::new(),
            step: String::new(),
            run_id: "r".into(),
            params: "{}".into(),
        };
        for i in 0..20 {
            let v = rt
                .evaluate(&plugin, &sb, &ctx)
                .unwrap_or_else(|e| panic!("call {i} saw state of an earlier call: {e}"));
            assert_eq!(v.verdict, wit::VerdictKind::Pass, "call {i}");
        }
    }
}
