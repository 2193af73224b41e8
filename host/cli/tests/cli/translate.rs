//! `cutover translate PLUGIN INPUT...`: the human report (golden files in
//! `tests/fixtures/translate/*.out`; `UPDATE_GOLDENS=1` rewrites them), the
//! JSON report, `--out`, exit codes, and the real-world rule files of
//! `tests/fixtures/real-world-rules` (every rule accounted for, output
//! accepted by `promtool check rules`).

use cutover_test_kit::golden::assert_golden;
use cutover_test_kit::tools;

use super::*;

fn fixture(name: &str) -> String {
    root()
        .join("host/cli/tests/fixtures/translate")
        .join(name)
        .display()
        .to_string()
}

fn real_world() -> Vec<String> {
    let dir = root().join("tests/fixtures/real-world-rules");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("real-world rules")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    assert_eq!(files.len(), 4, "{files:?}");
    files
}

/// Compares `actual` with the golden file `NAME` of the translate fixtures.
fn golden(name: &str, actual: &str) {
    assert_golden(
        &root().join("host/cli/tests/fixtures/translate").join(name),
        actual,
    );
}

/// Debian's promtool (package prometheus, installed by scripts/system-deps.sh).
fn promtool() -> &'static str {
    tools::require("promtool", "to check translated rules")
}

/// `promtool check rules FILE`: the number of rules it found; panics with
/// promtool's words when it rejects the file.
fn promtool_rules(file: &Path) -> usize {
    let o = Command::new(promtool())
        .args(["check", "rules"])
        .arg(file)
        .output()
        .expect("run promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.status.success(),
        "promtool rejects {}:\n{text}",
        file.display()
    );
    text.split("SUCCESS: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no rule count in promtool's answer: {text}"))
}

const RULES_PARAMS: &str = r#"{"scope": "{team=\"core\"}", "renames": {"CheckoutDown": "CheckoutUnavailable"},
    "label_renames": {"job": "service"}, "add_labels": {"migrated_by": "cutover"},
    "for_overrides": {"CheckoutSlow": "15m"}}"#;

/// `cutover translate prometheus-rules rules.yml --params RULES_PARAMS`,
/// then `extra`, in `dir`.
fn translate_rules(dir: &Path, extra: &[&str]) -> Output {
    let rules = fixture("rules.yml");
    let mut args = vec![
        "translate",
        "prometheus-rules",
        &rules,
        "--params",
        RULES_PARAMS,
    ];
    args.extend_from_slice(extra);
    run(dir, &args)
}

#[test]
fn translate_prometheus_rules_human_report() {
    let tmp = tempfile::tempdir().unwrap();
    let o = translate_rules(tmp.path(), &["--out", "out"]);
    expect(&o, ExitClass::Failed.into()); // one rule is untranslatable
    golden("rules.out", &out(&o));
    assert!(err(&o).contains("wrote 1 document to out"), "{}", err(&o));
    let written = tmp.path().join("out/rules.yml");
    let text = std::fs::read_to_string(&written).expect("output written");
    assert!(
        text.contains("CheckoutUnavailable") && !text.contains("WebDown"),
        "{text}"
    );
    assert_eq!(promtool_rules(&written), 3);
}

#[test]
fn translate_alertmanager_routes_and_silences_human_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let old = format!("old={}", fixture("am-old.yml"));
    let new = format!("new={}", fixture("am-new.yml"));
    let o = run(
        tmp.path(),
        &[
            "translate",
            "alertmanager-routes",
            &old,
            &new,
            "--params",
            r#"{"scope": "{team=\"core\"}"}"#,
            "--out",
            "am",
        ],
    );
    expect(&o, ExitClass::Ok.into());
    golden("routes.out", &out(&o));
    let merged = std::fs::read_to_string(tmp.path().join("am/new")).expect("merged config");
    assert!(
        merged.contains("core-pager") && merged.contains("db-pager"),
        "{merged}"
    );
    let o = run(
        tmp.path(),
        &[
            "translate",
            "alertmanager-silences",
            &fixture("silences.json"),
            "--params",
            r#"{"scope": "{team=\"core\"}"}"#,
        ],
    );
    expect(&o, ExitClass::Ok.into());
    golden("silences.out", &out(&o));
}

#[test]
fn translate_json_report_has_the_documented_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let o = translate_rules(tmp.path(), &["--json"]);
    expect(&o, ExitClass::Failed.into());
    let v: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    // serde_json's map sorts keys; the printed order is the documented one.
    let obj = v.as_object().expect("object");
    assert_eq!(obj.keys().collect::<Vec<_>>(), vec!["items", "summary"]);
    let printed = out(&o);
    let first = printed.find("\"id\"").expect("id");
    let order: Vec<usize> = ["\"id\"", "\"kind\"", "\"status\"", "\"reason\""]
        .iter()
        .map(|k| printed[first..].find(k).expect("key") + first)
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{printed}");
    let items = v["items"].as_array().expect("items");
    assert_eq!(items.len(), 5);
    for i in items {
        let keys: Vec<&String> = i.as_object().expect("item").keys().collect();
        assert_eq!(keys, vec!["id", "kind", "reason", "status"], "{i}");
    }
    let count = |s: &str| items.iter().filter(|i| i["status"] == s).count();
    assert_eq!(
        v["summary"],
        serde_json::json!({
            "ok": count("ok"),
            "warning": count("warning"),
            "untranslatable": count("untranslatable"),
        })
    );
    assert_eq!(count("untranslatable"), 1);
    assert_eq!(items[4]["id"], "rules.yml:web:WebBroken#1");
}

#[test]
fn translate_real_world_rules_accounts_for_every_rule() {
    let files = real_world();
    let in_input: usize = files.iter().map(|f| promtool_rules(Path::new(f))).sum();
    assert_eq!(in_input, 113);
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        ("as-is", "{}"),
        (
            "scoped",
            r#"{"scope": "{job=\"node\"}", "label_renames": {"instance": "host"},
                "add_labels": {"migrated_by": "cutover"}, "renames": {"NodeRAIDDegraded": "NodeRaidDegraded"},
                "for_overrides": {"NodeClockSkewDetected": "20m"}}"#,
        ),
    ];
    for (name, params) in cases {
        let mut args = vec!["translate", "prometheus-rules"];
        args.extend(files.iter().map(String::as_str));
        args.extend(["--params", params, "--json", "--out", name]);
        let o = run(tmp.path(), &args);
        let v: serde_json::Value =
            serde_json::from_str(&out(&o)).unwrap_or_else(|e| panic!("{name}: {e}\n{}", err(&o)));
        let items = v["items"].as_array().expect("items");
        let s = &v["summary"];
        let total = ["ok", "warning", "untranslatable"]
            .iter()
            .map(|k| s[k].as_u64().expect("count") as usize)
            .sum::<usize>();
        assert_eq!(items.len(), in_input, "{name}: one item per input rule");
        assert_eq!(total, in_input, "{name}: ok + warning + untranslatable");
        expect(&o, if s["untranslatable"] == 0 { 0 } else { 1 });
        let mut written = 0;
        for f in &files {
            let file_name = Path::new(f).file_name().expect("name");
            let translated = tmp.path().join(name).join(file_name);
            let text = std::fs::read_to_string(&translated).expect("output file");
            if text.contains("rules:") {
                written += promtool_rules(&translated);
            }
        }
        if name == "as-is" {
            assert_eq!(s["untranslatable"], 0, "{v}");
            assert_eq!(written, in_input, "every rule written unchanged");
        } else {
            assert!(written > 0 && written <= in_input, "{name}: {written}");
        }
    }
}

#[test]
fn translate_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = fixture("rules.yml");
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec!["translate", "prometheus-rules", &rules, "--params", "[1]"],
            2,
            "--params must be a JSON object",
        ),
        (
            vec![
                "translate",
                "prometheus-rules",
                &rules,
                "--params",
                r#"{"scope": "{team=}"}"#,
            ],
            2,
            "invalid input: params",
        ),
        (
            vec!["translate", "prometheus-rules", "missing.yml"],
            2,
            "missing.yml: cannot read it",
        ),
        (
            vec!["translate", "prometheus-rules", &rules, "--kind", "routes"],
            2,
            "does not translate \"routes\"",
        ),
        (
            vec!["translate", "no-such-translator", &rules],
            2,
            "neither a file nor a first-party plugin",
        ),
        (
            vec!["translate", "noop-action", &rules],
            2,
            "not a translator",
        ),
        (
            vec!["translate", "alertmanager-routes", &rules],
            2,
            "two documents named `old` and `new`",
        ),
    ];
    for (args, code, msg) in cases {
        let o = run(tmp.path(), &args);
        expect(&o, code);
        assert!(err(&o).contains(msg), "{args:?}: {}", err(&o));
        assert!(out(&o).is_empty(), "{args:?}: {}", out(&o));
    }
    std::fs::write(tmp.path().join("bad.yml"), "groups: [").unwrap();
    let o = run(tmp.path(), &["translate", "prometheus-rules", "bad.yml"]);
    expect(&o, ExitClass::Usage.into());
    assert!(err(&o).contains("bad.yml"), "{}", err(&o));
    std::fs::write(tmp.path().join("bad.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let o = run(tmp.path(), &["translate", "./bad.wasm", &rules]);
    expect(&o, ExitClass::PluginLoad.into());
    // A translator given by path whose report does not add up: exit 4,
    // naming the translator and the item.
    let hostile = plugins_dir().join("hostile-translator.wasm");
    let o = run(
        tmp.path(),
        &[
            "translate",
            &hostile.display().to_string(),
            &rules,
            &fixture("silences.json"),
            "--kind",
            "anything",
            "--params",
            r#"{"mode": "dup-ids"}"#,
        ],
    );
    expect(&o, ExitClass::PluginCall.into());
    assert!(
        err(&o).contains("translator hostile-translator reported item \"same\" twice"),
        "{}",
        err(&o)
    );
}
