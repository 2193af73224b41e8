//! `list<alert>` transfer from an adapter guest into the host (issue 19,
//! item 5; target >= 1 000 000 alerts/s).
//!
//! The `bulk-alerts` bench plugin generates N alerts (default 100 000,
//! `CUTOVER_BENCH_ALERTS`) shaped like a real Alertmanager's
//! `/api/v2/alerts` records and returns them from `collect-alerts`. Every
//! call gets a fresh instance, as in cutover. Where the time goes is
//! measured by difference, all in the same run, interleaved, medians:
//!
//! - `empty`: `count` 0, the instantiation and the bare call;
//! - `generate`: `keep: none`, the guest generates N alerts and drops them;
//! - `lowered`: the guest returns them and the host lifts the result as a
//!   `WasmList` (bounds checked, nothing copied): + the guest's lowering
//!   into canonical-ABI form (and freeing it after the call);
//! - `lifted`: the same call lifted into `Vec<Alert>`: + the host's lifting;
//! - `cutover`: `Runtime::collect_alerts` (sandboxed store, limits, output
//!   check), its output cap raised explicitly: the default 8 MiB cap refuses
//!   100 000 alerts (about 48 MB), with a typed `limit` error.
//!
//! What bounds it (2026-12-06, nine runs on the 2-core VM, quiet or with
//! other builds): host lifting at 0.62-1.16M alerts/s, about 1 µs per alert.
//! wasmtime's generic `Lift` of `list<alert>` makes ~16 heap allocations
//! per alert (a `String` per label name and value, annotation and
//! fingerprint, two `Vec`s); freeing them again (the `Vec<Alert>` drop,
//! timed apart) costs ~0.7 µs per alert, so the allocator is most of it.
//! The guest costs more: generating ~1.25 µs, lowering ~0.3 µs per alert.
//! A compact host form (one text buffer per batch) cannot be lifted through
//! wasmtime 48's typed API without implementing its unsafe `Lift` trait:
//! `WasmList`/`WasmStr` views are only read after `TypedFunc::call` returns,
//! when the guest's post-return has already freed that memory (tried: the
//! strings then fail their UTF-8 check). Left: a `data-sink` stream of
//! alerts (an additive contract change) or a faster allocator in `cutover`.
//!
//! `cargo bench -p cutover-runtime --bench alerts` (needs
//! target/plugins/bulk-alerts.wasm, built by scripts/build-plugins.sh).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cutover_runtime::{Grants, Runtime, Sandbox, wit};
use cutover_test_kit::plugin_path;
use wasmtime::component::{
    Component, ComponentType, InstancePre, Lift, Linker, Resource, ResourceTable, ResourceType,
    WasmList,
};
use wasmtime::{Engine, Store, StoreContextMut};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// The bar for moving alerts from a guest into the host.
const TARGET_PER_S: f64 = 1_000_000.0;
const END_MS: i64 = 1_800_000_000_000;

struct Raw {
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    hooks: NoHooks,
    config: BTreeMap<String, String>,
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

struct Sink;
struct Source;

fn raw_linker(engine: &Engine) -> Linker<Raw> {
    let mut l = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut l).unwrap();
    wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut l).unwrap();
    let mut host = l.instance("cutover:plugin/host@0.1.2").unwrap();
    host.resource("data-sink", ResourceType::host::<Sink>(), |_, _| Ok(()))
        .unwrap();
    host.resource("data-source", ResourceType::host::<Source>(), |_, _| Ok(()))
        .unwrap();
    for f in ["log", "progress"] {
        host.func_new(f, |_, _, _, _| Ok(())).unwrap();
    }
    host.func_wrap(
        "config-get",
        |store: StoreContextMut<'_, Raw>, (key,): (String,)| {
            Ok((store.data().config.get(&key).cloned(),))
        },
    )
    .unwrap();
    host.func_wrap("secret-get", |_, (name,): (String,)| {
        Ok((Err::<String, String>(format!(
            "{name}: no secrets in the bench"
        )),))
    })
    .unwrap();
    host.func_wrap(
        "[method]data-sink.write",
        |_, (_, _): (Resource<Sink>, Vec<u8>)| Ok((Err::<(), String>("bench".into()),)),
    )
    .unwrap();
    host.func_wrap(
        "[method]data-source.read",
        |_, (_, _): (Resource<Source>, u32)| Ok((Err::<Vec<u8>, String>("bench".into()),)),
    )
    .unwrap();
    host.func_wrap(
        "[method]data-source.size",
        |_, (_,): (Resource<Source>,)| Ok((0u64,)),
    )
    .unwrap();
    l
}

fn config(count: usize, keep: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("count".to_owned(), count.to_string()),
        ("keep".to_owned(), keep.to_owned()),
    ])
}

fn raw_store(engine: &Engine, config: BTreeMap<String, String>) -> Store<Raw> {
    let mut s = Store::new(
        engine,
        Raw {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            hooks: NoHooks,
            config,
        },
    );
    s.set_epoch_deadline(1 << 40);
    s.set_hostcall_fuel(usize::MAX);
    s
}

fn window() -> wit::Window {
    wit::Window {
        start: END_MS - 86_400_000,
        end: END_MS,
    }
}

/// What `collect-alerts` answers, lifted as `T`.
type Lifted<T> = Result<T, wit::PluginError>;

/// One fresh-instance call: instantiate, call (lifting included) and store
/// teardown times; `check` gets the lifted alerts.
fn raw_call<T: Lift + ComponentType + 'static>(
    pre: &InstancePre<Raw>,
    config: BTreeMap<String, String>,
    check: impl FnOnce(&mut Store<Raw>, T),
) -> (Duration, Duration, Duration) {
    let mut store = raw_store(pre.engine(), config);
    let t = Instant::now();
    let inst = pre.instantiate(&mut store).unwrap();
    let f = inst
        .get_typed_func::<(wit::Window,), (Lifted<T>,)>(&mut store, "collect-alerts")
        .unwrap();
    let instantiated = t.elapsed();
    let t = Instant::now();
    let (r,) = f.call(&mut store, (window(),)).unwrap();
    let called = t.elapsed();
    check(&mut store, r.expect("collect-alerts"));
    // Counted like cutover's call, which returns after its store is gone.
    let t = Instant::now();
    drop(store);
    (instantiated, called, t.elapsed())
}

#[derive(Default)]
struct Samples {
    inst: Vec<Duration>,
    call: Vec<Duration>,
    teardown: Vec<Duration>,
}

impl Samples {
    fn push(&mut self, (inst, call, teardown): (Duration, Duration, Duration)) {
        self.inst.push(inst);
        self.call.push(call);
        self.teardown.push(teardown);
    }
    fn skip_warmup(&mut self) {
        self.inst.remove(0);
        self.call.remove(0);
        self.teardown.remove(0);
    }
    fn teardown(&self) -> f64 {
        median(&self.teardown)
    }
    fn inst(&self) -> f64 {
        median(&self.inst)
    }
    fn call(&self) -> f64 {
        median(&self.call)
    }
}

fn median(v: &[Duration]) -> f64 {
    let mut v = v.to_vec();
    v.sort();
    v[v.len() / 2].as_secs_f64()
}

fn ms(s: f64) -> f64 {
    s * 1e3
}

/// Bytes of names, values and fingerprints: what a JSON dump would carry
/// as text, without its syntax.
fn text_bytes(alerts: &[wit::Alert]) -> usize {
    alerts
        .iter()
        .map(|a| {
            a.labels
                .iter()
                .chain(&a.annotations)
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
                + a.fingerprint.len()
        })
        .sum()
}

fn main() {
    let n: usize = std::env::var("CUTOVER_BENCH_ALERTS")
        .ok()
        .map(|v| v.parse().expect("CUTOVER_BENCH_ALERTS: a number"))
        .unwrap_or(100_000);
    let reps: usize = 9;
    let path = plugin_path("bulk-alerts");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cache = tempfile::tempdir().unwrap();
    let rt = Runtime::new(Some(cache.path())).unwrap();
    let engine = rt.engine().clone();
    let plugin = rt.load(&bytes, "bulk-alerts").unwrap();
    let component = Component::new(&engine, &bytes).unwrap();
    let pre = raw_linker(&engine).instantiate_pre(&component).unwrap();

    let mut sb = Sandbox::with_grants(Grants {
        config: config(n, "all"),
        ..Grants::default()
    });
    // Raised explicitly: 100 000 alerts are ~48 MB, the default cap 8 MiB.
    sb.limits.max_output_bytes = 1 << 30;
    sb.limits.memory_bytes = 1 << 30;

    let (mut empty, mut generate, mut lowered, mut lifted) = (
        Samples::default(),
        Samples::default(),
        Samples::default(),
        Samples::default(),
    );
    let (mut cutover, mut drops, mut text) = (Vec::new(), Vec::new(), 0);
    let mut run = |i: usize| {
        let steps: [&mut dyn FnMut(); 5] = [
            &mut || {
                empty.push(raw_call::<WasmList<wit::Alert>>(
                    &pre,
                    config(0, "all"),
                    |_, l| assert_eq!(l.len(), 0),
                ))
            },
            &mut || {
                generate.push(raw_call::<WasmList<wit::Alert>>(
                    &pre,
                    config(n, "none"),
                    |_, l| assert_eq!(l.len(), 0),
                ))
            },
            &mut || {
                lowered.push(raw_call::<WasmList<wit::Alert>>(
                    &pre,
                    config(n, "all"),
                    |_, l| assert_eq!(l.len(), n),
                ))
            },
            &mut || {
                lifted.push(raw_call::<Vec<wit::Alert>>(
                    &pre,
                    config(n, "all"),
                    |_, v| {
                        assert_eq!(v.len(), n);
                        text = text_bytes(&v);
                        let t = Instant::now();
                        drop(v);
                        drops.push(t.elapsed());
                    },
                ))
            },
            &mut || {
                let t = Instant::now();
                let v = rt.collect_alerts(&plugin, &sb, window()).unwrap();
                cutover.push(t.elapsed());
                assert_eq!(v.len(), n);
            },
        ];
        // Rotated so that no step always runs first or after the same one.
        for k in 0..steps.len() {
            let j = (i + k) % steps.len();
            (steps[j])();
        }
    };
    // Run 0 warms up (page faults in fresh pool slots, allocator growth)
    // and is left out.
    for i in 0..=reps {
        run(i);
    }
    for s in [&mut empty, &mut generate, &mut lowered, &mut lifted] {
        s.skip_warmup();
    }
    cutover.remove(0);
    drops.remove(0);
    report(
        n, text, &empty, &generate, &lowered, &lifted, &cutover, &drops,
    );
}

#[allow(clippy::too_many_arguments)]
fn report(
    n: usize,
    text: usize,
    empty: &Samples,
    generate: &Samples,
    lowered: &Samples,
    lifted: &Samples,
    cutover: &[Duration],
    drops: &[Duration],
) {
    let rate = |s: f64| n as f64 / s;
    let inst = empty.inst() + empty.call();
    let gen_ = generate.call() - empty.call();
    let lower = lowered.call() - generate.call();
    let lift = lifted.call() - lowered.call();
    let teardown = lifted.teardown();
    let raw_total = lifted.inst() + lifted.call() + teardown;
    let ours = median(cutover);
    let overhead = ours - raw_total;
    println!(
        "cutover alert transfer bench: bulk-alerts.wasm, {n} alerts ({:.1} MB of label/annotation/fingerprint text), medians of interleaved runs",
        text as f64 / 1e6
    );
    println!(
        "{:<44} {:>9} {:>7} {:>14}",
        "step", "ms", "share", "alerts/s"
    );
    let row = |what: &str, s: f64, of_rate: bool| {
        let r = if of_rate {
            format!("{:>14.0}", rate(s))
        } else {
            String::new()
        };
        println!("{what:<44} {:>9.2} {:>6.1}% {r}", ms(s), 100.0 * s / ours);
    };
    row("instantiation + bare call (count 0)", inst, false);
    row("guest: generate N alerts (and drop them)", gen_, true);
    row("guest: lower the list (canonical ABI)", lower, true);
    row("host: lift list<alert> into Vec<Alert>", lift, true);
    row("store teardown (linear memory released)", teardown, false);
    row("cutover runtime over raw wasmtime", overhead, false);
    row("= cutover collect_alerts, fresh instance", ours, true);
    println!(
        "{:<44} {:>9.2} (after the call, by the caller; not in the total)",
        "host: drop the Vec<Alert>",
        ms(median(drops))
    );
    let transfer = lower + lift;
    println!(
        "host lifting {:.0} alerts/s ({:.0} MB/s of text) = {:.2}x the 1M alerts/s target; \
         guest lowering + host lifting {:.0} alerts/s = {:.2}x; end to end {:.0} alerts/s = {:.2}x",
        rate(lift),
        text as f64 / 1e6 / lift,
        rate(lift) / TARGET_PER_S,
        rate(transfer),
        rate(transfer) / TARGET_PER_S,
        rate(ours),
        rate(ours) / TARGET_PER_S,
    );
}
