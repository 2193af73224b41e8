//! One wasmtime engine per process: epoch ticker, pooling allocator (with a
//! clean fallback), the shared linker and the compiled-component cache.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::wit_host;
use crate::cache::ComponentCache;
use crate::error::RuntimeError;
use crate::limits::{MAX_MEMORY_BYTES, MAX_TABLE_ELEMENTS};
use crate::state::HostState;

/// How often the epoch advances; deadlines are enforced at this granularity.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Maximum wasm stack per call (deep recursion traps with `Limit::Stack`).
pub const MAX_WASM_STACK: usize = 512 * 1024;

/// An instance allocator: the one asked for in [`RuntimeOptions`], or the
/// one the engine ended up with ([`Runtime::allocator`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Allocator {
    /// Pre-reserved instance slots (fast instantiation). Asked for, it falls
    /// back to [`Allocator::OnDemand`] when the pool cannot be reserved.
    #[default]
    Pooling,
    /// Allocation per instance.
    OnDemand,
}

/// The environment variable that makes [`RuntimeOptions::from_env`] ask for
/// [`Allocator::OnDemand`] (set to anything).
pub const NO_POOLING_ENV: &str = "CUTOVER_NO_POOLING";

/// How to set up a [`Runtime`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeOptions {
    /// Where compiled components are cached (`None`: no cache).
    pub cache_dir: Option<PathBuf>,
    /// The instance allocator asked for.
    pub allocator: Allocator,
}

impl RuntimeOptions {
    /// The options [`Runtime::new`] uses: `cache_dir`, and
    /// [`Allocator::OnDemand`] when [`NO_POOLING_ENV`] is set, else pooling.
    pub fn from_env(cache_dir: Option<&Path>) -> Self {
        Self {
            cache_dir: cache_dir.map(Path::to_path_buf),
            allocator: match std::env::var_os(NO_POOLING_ENV) {
                Some(_) => Allocator::OnDemand,
                None => Allocator::Pooling,
            },
        }
    }
}

/// The epoch ticker's clock: the engine's epoch counts [`EPOCH_TICK`]s of
/// wall-clock time since `started`, `applied` of them so far.
struct Clock {
    started: Instant,
    applied: AtomicU64,
    stop: AtomicBool,
}

impl Clock {
    /// Ticks of wall-clock time since the clock started.
    fn due(&self) -> u64 {
        (self.started.elapsed().as_nanos() / EPOCH_TICK.as_nanos()) as u64
    }
}

struct Ticker(Arc<Clock>);

impl Drop for Ticker {
    fn drop(&mut self) {
        self.0.stop.store(true, Ordering::Relaxed);
    }
}

/// The plugin runtime: create one per process and share it.
pub struct Runtime {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<HostState>,
    pub(crate) cache: Option<ComponentCache>,
    allocator: Allocator,
    ticker: Ticker,
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
        .table_elements(MAX_TABLE_ELEMENTS);
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
    /// Creates the engine. `cache_dir` enables the compiled-component cache;
    /// the allocator is pooling unless [`NO_POOLING_ENV`] is set (see
    /// [`RuntimeOptions::from_env`]).
    pub fn new(cache_dir: Option<&Path>) -> Result<Self, RuntimeError> {
        Self::with_options(&RuntimeOptions::from_env(cache_dir))
    }

    /// Creates the engine as `options` say, whatever the environment.
    pub fn with_options(options: &RuntimeOptions) -> Result<Self, RuntimeError> {
        let cache_dir = options.cache_dir.as_deref();
        let (engine, allocator) = match options.allocator {
            Allocator::Pooling => {
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
            Allocator::OnDemand => Self::on_demand()?,
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
                Some(dir) => Some(ComponentCache::open(dir, &engine).map_err(|cause| {
                    RuntimeError::Cache {
                        path: dir.display().to_string(),
                        cause,
                    }
                })?),
                None => None,
            };
        let clock = Arc::new(Clock {
            started: Instant::now(),
            applied: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let (ticks, ticking) = (clock.clone(), engine.weak());
        std::thread::Builder::new()
            .name("cutover-epoch".into())
            .spawn(move || {
                // The epoch counts elapsed wall-clock ticks, not sleeps: a
                // sleep that overruns (a loaded machine) is caught up at
                // once, so a long deadline does not drift later and later.
                while !ticks.stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    let Some(e) = ticking.upgrade() else { break };
                    let due = ticks.due();
                    while ticks.applied.load(Ordering::Relaxed) < due {
                        e.increment_epoch();
                        ticks.applied.fetch_add(1, Ordering::Release);
                    }
                }
            })
            .map_err(|e| RuntimeError::Engine(format!("cannot start the epoch ticker: {e}")))?;
        Ok(Self {
            engine,
            linker,
            cache,
            allocator,
            ticker: Ticker(clock),
        })
    }

    fn on_demand() -> Result<(Engine, Allocator), RuntimeError> {
        let cfg = base_config();
        Engine::new(&cfg)
            .map(|e| (e, Allocator::OnDemand))
            .map_err(|e| RuntimeError::Engine(e.to_string()))
    }

    /// How many ticks the engine's epoch is behind the wall clock (the
    /// ticker thread was late); a store's deadline adds them, since the
    /// ticker catches them up at once.
    pub(crate) fn epoch_lag(&self) -> u64 {
        let clock = &self.ticker.0;
        clock
            .due()
            .saturating_sub(clock.applied.load(Ordering::Acquire))
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
