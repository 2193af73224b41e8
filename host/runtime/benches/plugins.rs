//! Plugin runtime figures next to a raw-wasmtime baseline on the same
//! component in the same run: cold compile, cached load, fresh-instance
//! instantiate+call (p50/p99), warm call, and deadline overrun.
//!
//! `cargo bench -p cutover-runtime --bench plugins` (needs target/plugins,
//! built by scripts/build-plugins.sh). Prints figures, ratios and targets.

use std::time::{Duration, Instant};

use cutover_runtime::{Runtime, Sandbox, wit};
use cutover_test_kit::{plugin_path, wat};
use wasmtime::component::{
    Component, ComponentType, Lift, Linker, Lower, ResourceTable, ResourceType,
};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

struct Raw {
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    hooks: NoHooks,
}
struct NoHooks;
impl wasmtime_wasi_http::WasiHttpHooks for NoHooks {}
impl WasiView for Raw {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
impl WasiHttpView for Raw {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

#[derive(ComponentType, Lower, Clone)]
#[component(record)]
struct Ctx {
    plan: String,
    phase: String,
    step: String,
    #[component(name = "run-id")]
    run_id: String,
    params: String,
}

#[derive(ComponentType, Lift)]
#[component(record)]
#[allow(dead_code)]
struct Outcome {
    summary: String,
    details: Vec<(String, String)>,
}

#[derive(ComponentType, Lift)]
#[component(variant)]
#[allow(dead_code)]
enum PErr {
    #[component(name = "invalid-input")]
    InvalidInput(String),
    #[component(name = "unavailable")]
    Unavailable(String),
    #[component(name = "denied")]
    Denied(String),
    #[component(name = "unsupported")]
    Unsupported(String),
    #[component(name = "failed")]
    Failed(String),
}

struct DataRes;

fn raw_linker(engine: &Engine) -> Linker<Raw> {
    let mut l = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut l).unwrap();
    wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut l).unwrap();
    let mut host = l.instance("cutover:plugin/host@0.1.3").unwrap();
    host.resource("data-sink", ResourceType::host::<DataRes>(), |_, _| Ok(()))
        .unwrap();
    host.resource("data-source", ResourceType::host::<u8>(), |_, _| Ok(()))
        .unwrap();
    for f in ["log", "progress"] {
        host.func_new(f, |_, _, _, _| Ok(())).unwrap();
    }
    l
}

fn raw_store(engine: &Engine) -> Store<Raw> {
    let mut s = Store::new(
        engine,
        Raw {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            hooks: NoHooks,
        },
    );
    s.set_epoch_deadline(1 << 40);
    s
}

fn pct(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn median(f: &mut dyn FnMut() -> Duration, n: usize) -> Duration {
    let v: Vec<Duration> = (0..n).map(|_| f()).collect();
    pct(v, 0.5)
}

fn line(what: &str, ours: f64, raw: f64, unit: &str, target: &str) {
    println!(
        "{what:<34} ours {ours:>10.1} {unit}   raw {raw:>10.1} {unit}   ratio {:>5.2}x   {target}",
        ours / raw
    );
}

fn main() {
    let path = plugin_path("noop-action");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cache = tempfile::tempdir().unwrap();
    let rt = Runtime::new(Some(cache.path())).unwrap();
    let nocache = Runtime::new(None).unwrap();
    let engine = rt.engine().clone();
    println!(
        "cutover plugin runtime bench: noop-action.wasm ({} bytes), allocator {:?}, pagemap scan {}",
        bytes.len(),
        rt.allocator(),
        wasmtime::PoolingAllocationConfig::is_pagemap_scan_available()
    );

    // `CUTOVER_BENCH_ONLY=fresh` skips to the call figures (for profiling).
    let only_fresh = std::env::var("CUTOVER_BENCH_ONLY").is_ok_and(|v| v == "fresh");
    if !only_fresh {
        cold_and_cached(&rt, &nocache, &engine, &bytes);
    }

    // Fresh instance per call: instantiate + run(ctx).
    fresh_and_warm(&rt, &engine, &bytes);
}

fn cold_and_cached(rt: &Runtime, nocache: &Runtime, engine: &Engine, bytes: &[u8]) {
    // Cold compile: our load (hash, compile, link, describe) vs Component::new.
    let ours = median(
        &mut || {
            let t = Instant::now();
            nocache.load(bytes, "noop").unwrap();
            t.elapsed()
        },
        5,
    );
    let raw = median(
        &mut || {
            let t = Instant::now();
            Component::new(engine, bytes).unwrap();
            t.elapsed()
        },
        5,
    );
    line(
        "cold compile",
        ours.as_secs_f64() * 1e3,
        raw.as_secs_f64() * 1e3,
        "ms",
        "",
    );

    // Cached load: verified cache entry + link + describe vs raw deserialize.
    rt.load(bytes, "noop").unwrap();
    let serialized = Component::new(engine, bytes).unwrap().serialize().unwrap();
    let ours = median(
        &mut || {
            let t = Instant::now();
            rt.load(bytes, "noop").unwrap();
            t.elapsed()
        },
        50,
    );
    let raw = median(
        &mut || {
            let t = Instant::now();
            // SAFETY: bytes serialized by this engine just above.
            unsafe { Component::deserialize(engine, &serialized) }.unwrap();
            t.elapsed()
        },
        50,
    );
    line(
        "load from cache",
        us(ours),
        us(raw),
        "us",
        "target ours <= 1000 us",
    );
}

fn fresh_and_warm(rt: &Runtime, engine: &Engine, bytes: &[u8]) {
    // Fresh instance per call: instantiate + run(ctx).
    let plugin = rt.load(bytes, "noop").unwrap();
    let sb = Sandbox::default();
    let ctx = wit::Context {
        plan: "bench".into(),
        phase: String::new(),
        step: String::new(),
        run_id: "r".into(),
        params: "{}".into(),
    };
    let raw_ctx = Ctx {
        plan: "bench".into(),
        phase: String::new(),
        step: String::new(),
        run_id: "r".into(),
        params: "{}".into(),
    };
    let component = Component::new(engine, bytes).unwrap();
    let pre = raw_linker(engine).instantiate_pre(&component).unwrap();
    let n = 3000;
    for _ in 0..200 {
        rt.run_action(&plugin, &sb, &ctx).unwrap();
    }
    // Interleaved so that neither side benefits from running second.
    let raw_call = || {
        let t = Instant::now();
        let mut store = raw_store(engine);
        let inst = pre.instantiate(&mut store).unwrap();
        let f = inst
            .get_typed_func::<(Ctx,), (Result<Outcome, PErr>,)>(&mut store, "run")
            .unwrap();
        let r = f.call(&mut store, (raw_ctx.clone(),)).unwrap();
        assert!(r.0.is_ok());
        // Teardown counts: `run_action` returns only after its store (and
        // the pooled instance slot) is dropped.
        let before_drop = t.elapsed();
        drop(store);
        (t.elapsed(), before_drop)
    };
    let ours_call = || {
        let t = Instant::now();
        rt.run_action(&plugin, &sb, &ctx).unwrap();
        t.elapsed()
    };
    let (mut ours, mut raw) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut raw_no_drop = Vec::with_capacity(n);
    let mut raw_push = |(total, no_drop): (Duration, Duration)| {
        raw.push(total);
        raw_no_drop.push(no_drop);
    };
    for i in 0..n {
        if i % 2 == 0 {
            ours.push(ours_call());
            raw_push(raw_call());
        } else {
            raw_push(raw_call());
            ours.push(ours_call());
        }
    }
    let (o50, o99, r50, r99) = (
        pct(ours.clone(), 0.5),
        pct(ours, 0.99),
        pct(raw.clone(), 0.5),
        pct(raw, 0.99),
    );
    line(
        "fresh instance + call p50",
        us(o50),
        us(r50),
        "us",
        "target ours <= 50 us, ratio <= 1.2x",
    );
    line("fresh instance + call p99", us(o99), us(r99), "us", "");
    println!(
        "{:<34} raw  {:>10.1} us p50 (the raw figure above includes dropping the store)",
        "raw without teardown",
        us(pct(raw_no_drop, 0.5))
    );

    // Warm call: one instance, repeated calls (raw only: the runtime gives
    // every call a fresh instance by design, so there is no warm path).
    let mut store = raw_store(engine);
    let inst = pre.instantiate(&mut store).unwrap();
    let f = inst
        .get_typed_func::<(Ctx,), (Result<Outcome, PErr>,)>(&mut store, "run")
        .unwrap();
    let warm: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            let (r,) = f.call(&mut store, (raw_ctx.clone(),)).unwrap();
            assert!(r.is_ok());
            t.elapsed()
        })
        .collect();
    println!(
        "{:<34} raw  {:>10.1} us p50 (cutover never reuses an instance between calls: isolation over 2-7 us)",
        "warm call",
        us(pct(warm, 0.5))
    );

    // Deadline overrun on an infinite loop.
    let wat = wat::check_fixture("loop", "infinite-loop.body.wat");
    let spin = rt.load(wat.as_bytes(), "loop").unwrap();
    let mut sb = Sandbox::default();
    sb.limits.deadline = Duration::from_millis(200);
    let over: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            assert!(rt.evaluate(&spin, &sb, &ctx).is_err());
            t.elapsed().saturating_sub(Duration::from_millis(200))
        })
        .collect();
    println!(
        "{:<34} max {:>6.1} ms past a 200 ms deadline (target <= 100 ms)",
        "deadline overrun",
        pct(over, 1.0).as_secs_f64() * 1e3
    );
}
