//! Cold compile vs cached load of the large guests (JavaScript and Python
//! example checks, ~12-18 MB components embedding a language runtime).
//!
//! Target: a cached load in tens of milliseconds, against seconds for a cold
//! compile. Run: `cargo bench -p cutover-polyglot --bench large_guests`
//! (after `scripts/build-polyglot.sh`).

use std::time::{Duration, Instant};

use cutover_polyglot::{component_path, fixture_params};
use cutover_runtime::{CacheStatus, Runtime, Sandbox, wit};

const CACHED_ROUNDS: usize = 7;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let params = fixture_params("offenders")?;
    let ctx = wit::Context {
        plan: "bench".into(),
        phase: String::new(),
        step: String::new(),
        run_id: "b".into(),
        params,
    };
    println!(
        "{:<8} {:>10} {:>14} {:>14} {:>14} {:>12}",
        "guest", "size MB", "cold load ms", "cached p50 ms", "cached min ms", "evaluate ms"
    );
    for lang in ["js", "python"] {
        let path = component_path(lang);
        if !path.exists() {
            return Err(
                format!("{} missing: run scripts/build-polyglot.sh", path.display()).into(),
            );
        }
        let size = std::fs::metadata(&path)?.len() as f64 / 1e6;
        let cache = tempfile::tempdir()?;
        let rt = Runtime::new(Some(cache.path()))?;
        let started = Instant::now();
        let cold = rt.load_file(&path, None)?;
        let cold_ms = ms(started.elapsed());
        if cold.info().cache != CacheStatus::Miss {
            return Err(format!("{lang}: expected a cache miss on the cold load").into());
        }
        let mut cached = Vec::with_capacity(CACHED_ROUNDS);
        for _ in 0..CACHED_ROUNDS {
            // A new runtime each round, as a new `cutover` process would have.
            let rt = Runtime::new(Some(cache.path()))?;
            let started = Instant::now();
            let p = rt.load_file(&path, None)?;
            cached.push(ms(started.elapsed()));
            if p.info().cache != CacheStatus::Hit {
                return Err(format!("{lang}: expected a cache hit").into());
            }
        }
        cached.sort_by(f64::total_cmp);
        let started = Instant::now();
        let v = rt.evaluate(&cold, &Sandbox::default(), &ctx)?;
        let eval_ms = ms(started.elapsed());
        if v.verdict != wit::VerdictKind::Fail {
            return Err(format!("{lang}: unexpected verdict {:?}", v.verdict).into());
        }
        println!(
            "{lang:<8} {size:>10.1} {cold_ms:>14.1} {:>14.1} {:>14.1} {eval_ms:>12.2}",
            cached[cached.len() / 2],
            cached[0]
        );
    }
    println!("(cached load = read + verify + deserialize + link + describe in a fresh runtime)");
    Ok(())
}
