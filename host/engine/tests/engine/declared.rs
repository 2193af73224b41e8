//! What the systems' adapters declare in `describe()`: a run refuses to start
//! when the plan asks for more, and a rollback reports a category the
//! adapter cannot restore as `unsupported`, never `ok`.

use cutover_plan::{PluginInfo, PluginKind, PluginResolver};

use super::*;

/// The real descriptors, except that every adapter claims to back up and
/// roll back everything: a plan validated with it may ask for more than the
/// adapters declare.
struct Overclaiming;

impl PluginResolver for Overclaiming {
    fn describe(&self, id: &str, path: &Path) -> Result<PluginInfo, String> {
        let mut info = bridge().describe(id, path)?;
        if info.kind == PluginKind::Adapter {
            info.support.backup_types.push("audit_logs".into());
        }
        Ok(info)
    }
}

#[test]
fn run_refuses_to_start_when_the_plan_asks_for_undeclared_types() {
    let fx = Fixture::new(&phase_one(&step(
        "b",
        "backup",
        "system = \"old\"\ntypes = [\"configurations\", \"audit_logs\"]\n",
    )));
    // Validation with the real descriptors refuses it, located.
    let diags = cutover_plan::load(&fx.path, &bridge()).expect_err("undeclared type");
    let text = diags.render_plain();
    assert!(
        text.contains(
            "system `old` adapter `file-old` does not declare backup type `audit_logs` (it declares: configurations, alert_rules, user_data, historical_alerts"
        ),
        "{text}"
    );
    assert!(text.contains("plan.toml:"), "{text}");

    // A plan that got through anyway is refused before anything is journaled.
    let plan = cutover_plan::load(&fx.path, &Overclaiming).expect("validates when overclaimed");
    let err = match Runner::open(runtime(), &plan, Mode::Run, RunOptions::default()) {
        Err(e) => e,
        Ok(_) => panic!("the run must not start"),
    };
    match &err {
        EngineError::Undeclared(found) => {
            let names: Vec<(&str, &str)> = found
                .iter()
                .map(|u| (u.step.as_deref().unwrap_or(""), u.name.as_str()))
                .collect();
            assert_eq!(names, [("b", "audit_logs")]);
        }
        other => panic!("expected Undeclared, got {other:?}"),
    }
    assert_eq!(err.kind(), "undeclared");
    assert!(!err.is_state());
    assert!(
        err.to_string()
            .contains("phase `one` step `b`: system `old` adapter `file-old` does not declare backup type `audit_logs`"),
        "{err}"
    );
    assert!(
        operator::history(&fx.state_dir()).map_or(true, |h| h.is_empty()),
        "nothing may be journaled"
    );
    assert!(
        !fx.state_dir().join("backups").exists(),
        "nothing backed up"
    );
}

#[test]
fn automatic_rollback_reports_capture_only_categories_unsupported() {
    let fx = Fixture::new(&phase_one(&format!(
        "{}{}{}",
        step("point", "rollback-point", "name = \"before\"\n"),
        step("s1", "action", "plugin = \"noop\"\n"),
        failing_probe_item("rollback"),
    )));
    let out = fx.run(Mode::Run).expect("run");
    assert!(matches!(out, RunOutcome::RolledBack { .. }), "{out:?}");
    let results = fx
        .events()
        .into_iter()
        .find_map(|e| match e {
            Event::RolledBack { results, .. } => Some(results),
            _ => None,
        })
        .expect("rolled-back journaled");
    for side in ["old", "new"] {
        // As journaled.
        let r = &serde_json::to_value(&results[side]).expect("results");
        assert_eq!(
            r["unsupported"],
            serde_json::json!(["active_alerts"]),
            "{r}"
        );
        assert_eq!(
            r["applied"],
            serde_json::json!(["configurations", "system_metrics", "user_permissions"]),
            "{r}"
        );
        let active = r["categories"]
            .as_array()
            .expect("categories")
            .iter()
            .find(|c| c["category"] == "active_alerts")
            .expect("active_alerts reported");
        assert_eq!(active["status"], "unsupported", "{active}");
        assert_eq!(active["ok"], false, "never ok: {active}");
        assert!(
            active["error"]
                .as_str()
                .is_some_and(|e| e.contains("capture only")),
            "{active}"
        );
    }
}
