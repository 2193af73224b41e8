//! `cutover translate prometheus-rules` on ~1,000 rules shaped like the
//! real-world rule files (`tests/fixtures/real-world-rules`, copied group by
//! group under new group names), beside `promtool check rules` on the same
//! file in the same run. Run with `cargo bench -p cutover --bench
//! translate` (needs `scripts/build-plugins.sh` and promtool). Prints the
//! figures, the ratio to promtool and PASS/FAIL against the target (a warm
//! `cutover translate` of ~1,000 rules under 1 s); it never fails the build.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use cutover_runtime::{Document, Runtime, Sandbox, TranslateRequest};
use cutover_test_kit::{plugin_path, plugins_dir, repo_root as root};

const TARGET: Duration = Duration::from_secs(1);
const COPIES: usize = 9;
const RUNS: usize = 5;
const PARAMS: &str = r#"{"scope": "{job=\"node\"}", "label_renames": {"instance": "host"},
    "add_labels": {"migrated_by": "cutover"}, "for_overrides": {"NodeClockSkewDetected": "20m"}}"#;

type Error = Box<dyn std::error::Error>;

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

/// The real-world files, each copied `COPIES` times into one rule file with
/// group names suffixed `-<copy>` (Prometheus wants them unique).
fn generate(out: &Path) -> Result<(usize, usize), Error> {
    let dir = root().join("tests/fixtures/real-world-rules");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    let mut text = String::from("groups:\n");
    for copy in 0..COPIES {
        for f in &files {
            let src = std::fs::read_to_string(f)?;
            for line in src.lines() {
                if line.trim_end() == "groups:" {
                    continue;
                }
                match line.strip_prefix("- name: ") {
                    Some(name) => text.push_str(&format!("- name: {}-{copy}\n", name.trim())),
                    None => {
                        text.push_str(line);
                        text.push('\n');
                    }
                }
            }
        }
    }
    let rules = translate_core::input_items("alert_rules", &[("rules.yml".into(), text.clone())])?
        .unwrap_or(0);
    std::fs::write(out, text)?;
    Ok((rules, files.len()))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn timed(cmd: &mut Command) -> Result<(Duration, Output), Error> {
    let start = Instant::now();
    let out = cmd.output()?;
    Ok((start.elapsed(), out))
}

fn promtool(file: &Path) -> Result<Duration, Error> {
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let (t, o) = timed(Command::new("promtool").args(["check", "rules"]).arg(file))
            .map_err(|e| format!("promtool is required (run scripts/system-deps.sh first): {e}"))?;
        if !o.status.success() {
            return Err(format!(
                "promtool rejects {}: {}",
                file.display(),
                String::from_utf8_lossy(&o.stdout)
            )
            .into());
        }
        times.push(t);
    }
    Ok(median(times))
}

fn cutover(cache: &Path, file: &Path, out: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cutover"));
    c.env("CUTOVER_CACHE_DIR", cache)
        .env("CUTOVER_PLUGIN_DIR", plugins_dir())
        .args(["translate", "prometheus-rules"])
        .arg(file)
        .args(["--params", PARAMS, "--json", "--out"])
        .arg(out);
    c
}

fn main() -> Result<(), Error> {
    let work = root().join("target/bench-translate");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let file = work.join("rules.yml");
    let (rules, files) = generate(&file)?;
    let size = std::fs::metadata(&file)?.len();
    println!(
        "input: {rules} rules ({files} real-world files x {COPIES}), {:.1} KiB",
        size as f64 / 1024.0
    );

    let base = promtool(&file)?;
    println!(
        "baseline: promtool check rules: median of {RUNS} {:.1} ms",
        base.as_secs_f64() * 1e3
    );

    let cache = work.join("cache");
    let out = work.join("out");
    let (cold, o) = timed(&mut cutover(&cache, &file, &out))?;
    if !o.status.success() && o.status.code() != Some(1) {
        return Err(format!(
            "cutover translate failed: {}",
            String::from_utf8_lossy(&o.stderr)
        )
        .into());
    }
    let report: serde_json::Value = serde_json::from_slice(&o.stdout)?;
    let items = report["items"].as_array().map_or(0, Vec::len);
    println!(
        "cutover translate, cold (compiles the component into a fresh cache): {:.1} ms (info)",
        cold.as_secs_f64() * 1e3
    );
    let mut warm = Vec::new();
    for _ in 0..RUNS {
        let (t, o) = timed(&mut cutover(&cache, &file, &out))?;
        if !o.status.success() && o.status.code() != Some(1) {
            return Err("cutover translate failed on a warm run".into());
        }
        warm.push(t);
    }
    let warm = median(warm);
    println!(
        "cutover translate, warm (whole process: start, cached load, translate, write): median of {RUNS} {:.1} ms \
         (target < {:.0} ms): {}; {:.1}x promtool check rules",
        warm.as_secs_f64() * 1e3,
        TARGET.as_secs_f64() * 1e3,
        verdict(warm < TARGET),
        warm.as_secs_f64() / base.as_secs_f64()
    );
    println!(
        "report: {items} items for {rules} rules ({}), summary {}",
        verdict(items == rules),
        report["summary"]
    );
    let checked = promtool(&out.join("rules.yml"));
    println!(
        "output: promtool check rules: {}",
        match &checked {
            Ok(_) => "PASS".to_string(),
            Err(e) => format!("FAIL: {e}"),
        }
    );

    // In-process: the translate call alone, without process start and load.
    let rt = Runtime::new(Some(&cache))?;
    let plugin = rt.load_file(&plugin_path("prometheus-rules"), None)?;
    let docs = [Document::new("rules.yml", std::fs::read_to_string(&file)?)];
    let request = TranslateRequest::new("alert_rules", PARAMS, &docs).expecting(rules as u64);
    let mut calls = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let t = rt.translate(&plugin, &Sandbox::default(), &request)?;
        calls.push(start.elapsed());
        assert_eq!(t.report.items.len(), rules);
    }
    println!(
        "Runtime::translate alone (fresh instance, documents in and out, report checked): median of {RUNS} {:.1} ms (info)",
        median(calls).as_secs_f64() * 1e3
    );
    Ok(())
}
