//! One wasmtime engine per process: epoch ticker, pooling allocator (with a
//! clean fallback), the shared linker and the compiled-component cache.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::wit_host;
use crate::cache::ComponentCache;
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

/// Errors creating the runtime.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The engine could not be configured.
    #[error("cannot create the wasm engine: {0}")]
    Engine(String),
    /// The cache directory could not be created.
    #[error("cannot open the component cache at {path}: {source}")]
    Cache {
        /// The directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

fn base_config() -> Config {
    let mut cfg = Config::new();
    cfg.wasm_component_model(true);
    cfg.epoch_interruption(true);
    cfg.max_wasm_stack(MAX_WASM_STACK);
    cfg
}

fn pooling_config() -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(64)
        .total_core_instances(512)
        .total_memories(128)
        .total_tables(256)
        .total_stacks(64)
        .max_memory_size(MAX_MEMORY_BYTES)
        .table_elements(200_000);
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
