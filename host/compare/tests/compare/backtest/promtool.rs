//! Agreement with `promtool test rules`: the same rules over the same
//! input series (15 s samples over 30 minutes), evaluated by the backtest
//! through an in-memory source, must give at every minute the firing
//! alerts promtool finds. The test writes promtool's unit test with the
//! backtest's alerts as `exp_alerts`, runs it, and checks that promtool
//! fails once one expectation is perturbed.
//!
//! The in-memory source ([`Steps::recorded`], [`query_recorded`])
//! evaluates only what these rules use: a selector `name{label="value",...}`, optionally compared with a
//! number (`> < >= <= == !=`, filtering, `__name__` dropped), each sample
//! looked up with Prometheus's 5-minute lookback and stale markers, and
//! `vector(N)`.
//!
//! [`fixture_rules_on_scraped_series_agree_with_promtool`] does the same
//! with the real fixture's old rules (`tests/fixture/rules/v1-old.rules.yml`,
//! unchanged: 1 s group interval, `for: 1s`) over its series as Prometheus
//! scrapes them from node-exporter (`job`, `instance` added; the values
//! `tests/fixture/textfile/fixture.prom` serves when alerting), with a
//! failed scrape and a vanished target among them.

use super::*;
use std::path::Path;
use std::process::Command;

/// Seconds between input samples.
const SCRAPE: i64 = 15_000;
/// Prometheus's default lookback.
const LOOKBACK: i64 = 5 * M;
/// Minutes of input, 0..=30.
const MINUTES: i64 = 30;

const RULES: &str = r#"groups:
- name: backtest
  rules:
  - alert: ForZero
    expr: cpu > 80
  - alert: ForTwo
    expr: cpu > 80
    for: 2m
  - alert: Keep
    expr: errors > 0
    for: 1m
    keep_firing_for: 3m
  - alert: Flap
    expr: flap == 1
  - alert: FlapFor
    expr: flap == 1
    for: 1m
  - alert: Static
    expr: up == 0
    labels:
      severity: page
      team: core
  - alert: Templated
    expr: queue_depth > 100
    labels:
      queue: 'q-{{ $labels.queue }}'
      depth: '{{ $value }}'
      host: '{{- $labels.instance -}} !'
      gone: '{{ $labels.nope }}'
  - alert: NaNPresent
    expr: nan_metric
  - alert: NaNCompare
    expr: nan_metric > 0
  - alert: Stale
    expr: gone
    for: 1m
"#;

/// A rule giving two `up` series one label set: Prometheus's evaluation
/// fails whenever both are returned (promtool reports the first failure).
const OVERRIDE: &str = r#"groups:
- name: override
  rules:
  - alert: Override
    expr: up == 0
    labels:
      instance: all
"#;

/// A recorded series: a sample slot every 15 s from 0 (`None`: no sample).
pub(super) struct Raw {
    labels: BTreeMap<String, String>,
    slots: Vec<Option<f64>>,
}

/// Series `name{l}` (`l` as `k=v,k=v`) from a pattern of one character
/// per minute (31 of them): each
/// minute's four samples take the character's value in `table`; `_` is no
/// sample, `S` a stale marker followed by no sample.
fn raw(name: &str, l: &str, pattern: &str, table: &[(char, f64)]) -> Raw {
    assert_eq!(pattern.len() as i64, MINUTES + 1, "{pattern}");
    let mut slots = Vec::new();
    for (m, c) in pattern.chars().enumerate() {
        let per_minute = if m as i64 == MINUTES { 1 } else { 4 };
        for k in 0..per_minute {
            slots.push(match c {
                '_' => None,
                'S' if k == 0 => Some(f64::from_bits(STALE_NAN_BITS)),
                'S' => None,
                c => Some(table.iter().find(|t| t.0 == c).unwrap().1),
            });
        }
    }
    let pairs: Vec<(&str, &str)> = l.split(',').filter_map(|kv| kv.split_once('=')).collect();
    let mut labels = labels(&pairs);
    labels.insert("__name__".into(), name.into());
    Raw { labels, slots }
}

fn input() -> Vec<Raw> {
    let hl = [('H', 95.0), ('L', 10.0)];
    let bit = [('H', 1.0), ('L', 0.0)];
    let depth = [('L', 50.0), ('H', 150.0), ('M', 1_234_567.0), ('F', 250.5)];
    let nan = [('N', f64::NAN), ('H', 1.0)];
    vec![
        // A 3-minute gap is bridged by the lookback, a 7-minute one is not.
        raw("cpu", "instance=a", "LLHHHHLLHLHHHHHHH___HHHLLLLLLLL", &hl),
        raw("cpu", "instance=b", "HHHHHHHHHHHH_______LLLLLLLLLLLL", &hl),
        raw("errors", "job=api", "LLHHHLLHHHLLLLLHHHLLLLLLLLLLLLL", &bit),
        raw("flap", "", "HLHLHLHLHLHLHLHLHLHLHLHLHLHLHLH", &bit),
        // Both down at 5-6 and 17-18, where `Override` fails.
        raw("up", "instance=a", "HHHLLLLHHHHHHLLLLLLHHHHHHHHHHHH", &bit),
        raw("up", "instance=b", "HHHHHLLLLHHHHHHHHLLLLLHHHHHHHHH", &bit),
        raw(
            "queue_depth",
            "queue=orders,instance=q1",
            "LLHHHMMMLLFFF___LLLLHHHLLLLLLLL",
            &depth,
        ),
        raw(
            "nan_metric",
            "instance=n",
            "NNNNNHHHNNN____________________",
            &nan,
        ),
        raw(
            "gone",
            "instance=g",
            "HHHHHSHHHHHHHHS________________",
            &bit,
        ),
    ]
}

/// A query of the form these rules use.
struct Query {
    name: String,
    matchers: Vec<(String, bool, String)>,
    filter: Option<(&'static str, f64)>,
}

impl Query {
    fn parse(expr: &str) -> Result<Query, String> {
        let (selector, filter) = match ["<=", ">=", "==", "!=", ">", "<"]
            .into_iter()
            .find_map(|op| expr.split_once(&format!(" {op} ")).map(|(s, n)| (s, op, n)))
        {
            Some((s, op, n)) => (
                s,
                Some((
                    op,
                    n.trim()
                        .parse()
                        .map_err(|_| format!("bad number in {expr:?}"))?,
                )),
            ),
            None => (expr, None),
        };
        let (name, body) = selector
            .trim()
            .split_once('{')
            .unwrap_or((selector.trim(), "}"));
        let body = body
            .strip_suffix('}')
            .ok_or_else(|| format!("unclosed selector in {expr:?}"))?;
        let matchers = body
            .split(',')
            .filter(|m| !m.trim().is_empty())
            .map(|m| {
                let (k, eq, v) = match m.split_once("!=") {
                    Some((k, v)) => (k, false, v),
                    None => m
                        .split_once('=')
                        .map(|(k, v)| (k, true, v))
                        .ok_or(format!("bad matcher {m:?}"))?,
                };
                Ok((
                    k.trim().to_string(),
                    eq,
                    v.trim().trim_matches('"').to_string(),
                ))
            })
            .collect::<Result<_, String>>()?;
        Ok(Query {
            name: name.to_string(),
            matchers,
            filter,
        })
    }

    fn selects(&self, l: &BTreeMap<String, String>) -> bool {
        l.get("__name__") == Some(&self.name)
            && self
                .matchers
                .iter()
                .all(|(k, eq, v)| (l.get(k).map(String::as_str).unwrap_or("") == v) == *eq)
    }

    fn keeps(&self, v: f64) -> bool {
        match self.filter {
            None => true,
            Some(("<=", n)) => v <= n,
            Some((">=", n)) => v >= n,
            Some(("==", n)) => v == n,
            Some(("!=", n)) => v != n,
            Some((">", n)) => v > n,
            Some((_, n)) => v < n,
        }
    }
}

/// The value of `r` at `t`: its last sample at or before `t`, within the
/// lookback, unless that is a stale marker.
fn value_at(r: &Raw, t: i64) -> Option<f64> {
    let last = usize::try_from(t / SCRAPE).ok()?.min(r.slots.len() - 1);
    let (i, v) = (0..=last).rev().find_map(|i| r.slots[i].map(|v| (i, v)))?;
    let fresh = i as i64 * SCRAPE >= t - LOOKBACK;
    (fresh && v.to_bits() != STALE_NAN_BITS).then_some(v)
}

/// What `expr` gives over `recorded` at `start`, `start + step`, ... `end`.
pub(super) fn query_recorded(
    recorded: &[Raw],
    (expr, start, end, step): (&str, i64, i64, i64),
) -> Result<Vec<RangeSeries>, SourceError> {
    if let Some(n) = expr
        .strip_prefix("vector(")
        .and_then(|r| r.strip_suffix(')'))
        .and_then(|n| n.parse::<f64>().ok())
    {
        // `vector(1)`: one series without labels at every step.
        let samples = (0..)
            .map(|i| start + i * step)
            .take_while(|&t| t <= end)
            .map(|t| (t, n))
            .collect();
        return Ok(vec![RangeSeries {
            labels: BTreeMap::new(),
            samples,
        }]);
    }
    let q = Query::parse(expr).map_err(|message| SourceError::Rejected { message })?;
    let mut out = Vec::new();
    for r in recorded.iter().filter(|r| q.selects(&r.labels)) {
        let samples: Vec<(i64, f64)> = (0..)
            .map(|i| start + i * step)
            .take_while(|&t| t <= end)
            .filter_map(|t| value_at(r, t).filter(|&v| q.keeps(v)).map(|v| (t, v)))
            .collect();
        let mut labels = r.labels.clone();
        if q.filter.is_some() {
            labels.remove("__name__");
        }
        if !samples.is_empty() {
            out.push(RangeSeries { labels, samples });
        }
    }
    Ok(out)
}

/// One `alert_rule_test`: at `minute`, `alertname` fires these label sets
/// (without `alertname`).
type Expectation = (i64, String, Vec<BTreeMap<String, String>>);

/// What the backtest says fires at each minute, for each rule.
fn expectations(e: &cutover_compare::backtest::Evaluation) -> Vec<Expectation> {
    let mut out = Vec::new();
    for minute in 0..=MINUTES {
        let t = minute * M;
        for rule in &e.rules {
            let firing = e
                .alerts
                .iter()
                .filter(|a| {
                    a.alertname() == rule.rule
                        && a.starts_at <= t
                        && a.ends_at.is_none_or(|end| t < end)
                })
                .map(|a| {
                    let mut l = a.labels.clone();
                    l.remove("alertname");
                    l
                })
                .collect();
            out.push((minute, rule.rule.clone(), firing));
        }
    }
    out
}

/// promtool's unit test file for the rules in file `rules`, evaluated
/// every `every` (`1m`) over `input`, expecting `expected`.
fn unit_test(rules: &str, every: &str, input: &[Raw], expected: &[Expectation]) -> String {
    let mut s = format!(
        "rule_files: [{rules}]\nevaluation_interval: {every}\ntests:\n- interval: 15s\n  input_series:\n"
    );
    for r in input {
        let mut l = r.labels.clone();
        let name = l.remove("__name__").unwrap();
        let sel: Vec<String> = l.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        let values: Vec<String> = r
            .slots
            .iter()
            .map(|v| match v {
                None => "_".to_string(),
                Some(v) if v.to_bits() == STALE_NAN_BITS => "stale".to_string(),
                Some(v) if v.is_nan() => "NaN".to_string(),
                Some(v) => v.to_string(),
            })
            .collect();
        s += &format!(
            "  - series: '{name}{{{}}}'\n    values: '{}'\n",
            sel.join(","),
            values.join(" ")
        );
    }
    s += "  alert_rule_test:\n";
    for (minute, name, alerts) in expected {
        s += &format!("  - eval_time: {minute}m\n    alertname: {name}\n    exp_alerts:");
        if alerts.is_empty() {
            s += " []\n";
        }
        for a in alerts {
            s += &format!("\n    - exp_labels: {}", serde_json::to_string(a).unwrap());
        }
        if !alerts.is_empty() {
            s += "\n";
        }
    }
    s
}

/// Run promtool on `test` in `dir`: (passed, what it printed).
fn promtool(dir: &Path, test: &str) -> (bool, String) {
    std::fs::write(dir.join("test.yml"), test).unwrap();
    let out = Command::new("promtool")
        .args(["test", "rules", "test.yml"])
        .current_dir(dir)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The backtest of `rules` over [`input`].
fn backtest_of(rules: &str) -> cutover_compare::backtest::Evaluation {
    backtest_over(rules, input())
}

/// The backtest of `rules` (each group at its own interval) over `input`.
fn backtest_over(rules: &str, input: Vec<Raw>) -> cutover_compare::backtest::Evaluation {
    let files = vec![RuleFile::parse("rules.yml", rules).unwrap()];
    let window = Window {
        from_ms: 0,
        to_ms: MINUTES * M,
    };
    evaluate(&files, &mut Steps::recorded(input), window, None).unwrap()
}

/// Whether promtool can be run; says why the test is skipped when not.
fn have_promtool() -> bool {
    let found = Command::new("promtool").arg("--version").output().is_ok();
    if !found {
        eprintln!(
            "SKIPPED the promtool comparison: promtool is not installed (the setup script installs it)"
        );
    }
    found
}

#[test]
fn firing_alerts_agree_with_promtool() {
    let e = backtest_of(RULES);
    let outcome = |name: &str| e.rules.iter().find(|r| r.rule == name).unwrap();
    for r in &e.rules {
        assert_eq!(
            (r.error.as_ref(), r.warnings.len()),
            (None, 0),
            "{}",
            r.rule
        );
    }
    // The cases are really exercised.
    let episodes = |name: &str| outcome(name).episodes;
    assert_eq!((episodes("Flap"), episodes("FlapFor")), (16, 0));
    assert_eq!((episodes("NaNPresent"), episodes("NaNCompare")), (1, 1));
    assert_eq!((episodes("Keep"), episodes("Stale")), (2, 2));
    assert!(
        e.alerts
            .iter()
            .any(|a| a.labels.get("depth").map(String::as_str) == Some("1.234567e+06"))
    );
    if !have_promtool() {
        return;
    }
    let expected = expectations(&e);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), RULES).unwrap();
    let (passed, out) = promtool(
        dir.path(),
        &unit_test("rules.yml", "1m", &input(), &expected),
    );
    assert!(passed, "promtool disagrees with the backtest:\n{out}");

    // The comparison can fail: one firing alert left out...
    let mut fewer = expected.clone();
    let first = fewer.iter_mut().find(|x| !x.2.is_empty()).unwrap();
    first.2.pop();
    let at = format!("alertname: {}, time: ", first.1);
    let (passed, out) = promtool(dir.path(), &unit_test("rules.yml", "1m", &input(), &fewer));
    assert!(!passed && out.contains(&at), "{out}");
    // ... or one alert said to fire one evaluation after it resolved.
    let ended = e.alerts.iter().find(|a| a.ends_at.is_some()).unwrap();
    let minute = ended.ends_at.unwrap() / M;
    let mut later = expected.clone();
    let slot = later
        .iter_mut()
        .find(|x| x.0 == minute && x.1 == ended.alertname())
        .unwrap();
    let mut l = ended.labels.clone();
    l.remove("alertname");
    slot.2.push(l);
    let (passed, out) = promtool(dir.path(), &unit_test("rules.yml", "1m", &input(), &later));
    assert!(!passed, "{out}");
}

#[test]
fn failed_evaluations_agree_with_promtool() {
    let e = backtest_of(OVERRIDE);
    let warning = &e.rules[0].warnings[0];
    // Both `up` series are down at minutes 5, 6, 17 and 18.
    assert!(
        warning.starts_with("4 evaluations failed (first at 1970-01-01T00:05:00Z)"),
        "{warning}"
    );
    if !have_promtool() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("override.yml"), OVERRIDE).unwrap();
    let (passed, out) = promtool(
        dir.path(),
        &unit_test("override.yml", "1m", &input(), &expectations(&e)),
    );
    let failure = "rule: Override, time: 5m0s, err: vector contains metrics with the same labelset";
    assert!(!passed && out.contains(failure), "{out}");
}

/// The fixture's series as Prometheus A scrapes them (`job`, `instance`
/// added), quiet (`L`) or at the value `textfile/fixture.prom` serves (`H`),
/// one character per minute; `_` a failed scrape, `S` the target gone.
fn fixture_input() -> Vec<Raw> {
    let l = |extra: &str| format!("instance=127.0.0.1:19100,job=fixture,{extra}");
    let depth = |h: f64| [('L', 10.0), ('H', h)];
    vec![
        raw(
            "fixture_queue_depth",
            &l("queue=orders"),
            "LHHLLLHHHLLHLLLLHHHHLLLHLLHHLLL",
            &depth(75.0),
        ),
        raw(
            "fixture_queue_depth",
            &l("queue=emails"),
            "LLLHHLLLLLLLHH___HLLLLHHHHLLLLL",
            &depth(95.0),
        ),
        raw(
            "fixture_service_up",
            &l("service=api"),
            "HHLLLHHLHHHLLHHHHHLHHHHHHLLLHHH",
            &[('H', 1.0), ('L', 0.0)],
        ),
        raw(
            "fixture_service_up",
            &l("service=db"),
            "HHHHHLLHHHHHLHHLLS_____________",
            &[('H', 1.0), ('L', 0.0)],
        ),
        raw(
            "fixture_disk_used_ratio",
            &l("mount=/data"),
            "LLLLHHHLLLLLLLHHLLLLHHHHHHHLLLL",
            &[('L', 0.5), ('H', 0.95)],
        ),
        raw(
            "fixture_error_rate",
            &l("service=api"),
            "LLHLLHLLHHLHLLLLLHLLLHHLLLHLLLL",
            &[('L', 0.01), ('H', 0.2)],
        ),
    ]
}

#[test]
fn fixture_rules_on_scraped_series_agree_with_promtool() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixture/rules/v1-old.rules.yml");
    // Without annotations: promtool compares them too, the backtest leaves
    // them out (they play no part in an alert's identity). The fixture
    // writes each on one line (`annotations: {summary: ...}`).
    let rules: String = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| {
            let a = l.trim_start().starts_with("annotations:");
            assert!(!a || l.trim_end().ends_with('}'), "not one line: {l}");
            !a
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(rules.contains("for: 1s") && rules.contains("interval: 1s"));
    let e = backtest_over(&rules, fixture_input());
    for r in &e.rules {
        assert_eq!(
            (r.error.as_ref(), r.warnings.len()),
            (None, 0),
            "{}",
            r.rule
        );
        // Evaluated at the group's 1 s interval.
        assert_eq!(r.evaluations as i64, MINUTES * 60 + 1, "{}", r.rule);
    }
    let episodes = |name: &str| e.rules.iter().find(|r| r.rule == name).unwrap().episodes;
    // Every rule fires and resolves: queue orders 6 + emails 3 (one run
    // bridged by the lookback over three failed scrapes), api 5 + db 3 (then
    // the target vanishes), disk 3, errors 7; the Watchdog all along.
    assert_eq!(
        [
            episodes("HighQueueDepth"),
            episodes("ServiceDown"),
            episodes("DiskAlmostFull"),
            episodes("ErrorRateHigh"),
            episodes("Watchdog"),
        ],
        [9, 8, 3, 7, 1]
    );
    let a = &e
        .alerts
        .iter()
        .find(|a| a.alertname() == "ServiceDown")
        .unwrap()
        .labels;
    assert_eq!(
        (
            a["job"].as_str(),
            a["instance"].as_str(),
            a["severity"].as_str()
        ),
        ("fixture", "127.0.0.1:19100", "critical")
    );
    if !have_promtool() {
        return;
    }
    let expected = expectations(&e);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("v1-old.rules.yml"), &rules).unwrap();
    let test = unit_test("v1-old.rules.yml", "1s", &fixture_input(), &expected);
    let (passed, out) = promtool(dir.path(), &test);
    assert!(passed, "promtool disagrees with the backtest:\n{out}");
    // One minute's firing alerts left out: promtool notices.
    let mut fewer = expected.clone();
    let first = fewer
        .iter_mut()
        .find(|x| x.1 == "ServiceDown" && !x.2.is_empty())
        .unwrap();
    first.2.pop();
    let test = unit_test("v1-old.rules.yml", "1s", &fixture_input(), &fewer);
    let (passed, out) = promtool(dir.path(), &test);
    assert!(!passed && out.contains("alertname: ServiceDown"), "{out}");
}
