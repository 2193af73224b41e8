//! What `cutover status` and `cutover history` print, read from the
//! journal without validating the plan (so they work when the plan no
//! longer validates).

use std::path::{Path, PathBuf};

use cutover_base::time::now_ms;
use cutover_engine::{RunView, StateAt, operator};

use super::usage;
use crate::exit;

/// What the operator commands need from a plan without validating it (so
/// they work even when the plan no longer validates).
pub(crate) struct PlanOutline {
    pub(crate) state_dir: PathBuf,
    /// Where the journal lives: `CUTOVER_STATE_URL`, `[plan] state`, or the directory.
    pub(crate) state: StateAt,
    /// `[plan] notify_tls_ca`, resolved against the plan's directory.
    pub(crate) notify_tls_ca: Vec<PathBuf>,
    phases: Vec<(String, Vec<String>)>,
    /// Each phase's `duration` as written and its maximum in ms.
    durations: std::collections::BTreeMap<String, (String, u64)>,
}

impl PlanOutline {
    pub(crate) fn read(plan: &Path) -> anyhow::Result<PlanOutline> {
        let src = super::read_input(plan, "plan")?;
        let doc: toml_edit::DocumentMut = src
            .parse()
            .map_err(|e| usage(format!("{}: {e}", plan.display())))?;
        let meta = |key: &str| {
            doc.get("plan")
                .and_then(|p| p.get(key))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let dir = meta("state_dir").unwrap_or_else(|| ".cutover".to_string());
        let base = plan.parent().unwrap_or(Path::new(""));
        let url = std::env::var(cutover_base::STATE_URL_ENV)
            .ok()
            .filter(|u| !u.trim().is_empty())
            .or_else(|| meta("state"));
        let state = StateAt::new(
            &base.join(&dir),
            url.as_deref(),
            &meta("name").unwrap_or_default(),
        )?;
        let str_of =
            |t: &toml_edit::Table, k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let durations = doc
            .get("phases")
            .and_then(|p| p.as_array_of_tables())
            .map(|a| {
                a.iter()
                    .filter_map(|ph| {
                        let text = str_of(ph, "duration")?;
                        let (_, max) = cutover_plan::duration::parse_duration_range(&text).ok()?;
                        Some((str_of(ph, "id")?, (text, max)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let phases = doc
            .get("phases")
            .and_then(|p| p.as_array_of_tables())
            .map(|a| {
                a.iter()
                    .map(|ph| {
                        let steps = ph
                            .get("steps")
                            .and_then(|s| s.as_array_of_tables())
                            .map(|s| s.iter().filter_map(|st| str_of(st, "id")).collect())
                            .unwrap_or_default();
                        let steps = wave_ids(ph, base).unwrap_or(steps);
                        (str_of(ph, "id").unwrap_or_default(), steps)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let notify_tls_ca = doc
            .get("plan")
            .and_then(|p| p.get("notify_tls_ca"))
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str())
                    .map(|f| base.join(f))
                    .collect()
            })
            .unwrap_or_default();
        Ok(PlanOutline {
            state_dir: base.join(dir),
            state,
            notify_tls_ca,
            phases,
            durations,
        })
    }

    /// Whether phase `id` is behind schedule: as journaled by a runner, or
    /// (between runner invocations) still running or paused past the maximum
    /// of its `duration`. `(duration as written, elapsed ms)`.
    fn behind_schedule(&self, view: &RunView, id: &str) -> Option<(String, u64)> {
        let phase = view.phases.get(id)?;
        if let Some(b) = &phase.behind_schedule {
            let elapsed = phase.overdue_at(b.max_ms, now_ms()).unwrap_or(b.elapsed_ms);
            return Some((b.duration.clone(), elapsed));
        }
        let (text, max) = self.durations.get(id)?;
        let elapsed = phase.overdue_at(*max, now_ms())?;
        Some((text.clone(), elapsed))
    }
}

/// The step ids of wave phase `ph` as the runner journals them (its
/// migrate and parallel-run steps once per batch); `None` for a phase
/// without `[phases.waves]` or whose services cannot be counted (the plan
/// would not validate).
fn wave_ids(ph: &toml_edit::Table, base: &Path) -> Option<Vec<String>> {
    use cutover_plan::{StepKind, waves};
    let w = ph.get("waves")?;
    let int = |v: Option<&toml_edit::Item>, default: i64| {
        v.map_or(Some(default), |v| v.as_integer())
            .and_then(|n| u32::try_from(n).ok())
    };
    let size = int(w.get("size"), 0)?;
    let max_parallel = int(ph.get("max_parallel"), 1)?;
    let values = match (
        w.get("values"),
        w.get("values_file").and_then(|f| f.as_str()),
    ) {
        (Some(v), None) => v.as_array()?.len(),
        (None, Some(f)) => {
            waves::listed_values(&std::fs::read_to_string(base.join(f)).ok()?).count()
        }
        _ => return None,
    };
    let steps: Vec<(String, StepKind)> = ph
        .get("steps")?
        .as_array_of_tables()?
        .iter()
        .map(|st| {
            let id = st.get("id")?.as_str()?.to_string();
            let kind = StepKind::parse(st.get("kind")?.as_str()?)?;
            Some((id, kind))
        })
        .collect::<Option<_>>()?;
    Some(waves::expanded_ids(&steps, values, size, max_parallel))
}

pub(crate) fn pct(r: Option<f64>) -> String {
    r.map_or("n/a".to_string(), |r| format!("{:.1}%", r * 100.0))
}

pub(crate) fn status(plan: &Path, json: bool) -> anyhow::Result<u8> {
    let outline = PlanOutline::read(plan)?;
    let view = operator::status_summary(&outline.state)?;
    if json {
        let phases: Vec<serde_json::Value> = outline
            .phases
            .iter()
            .map(|(id, steps)| {
                serde_json::json!({
                    "id": id,
                    "status": view.phase_status(id).as_str(),
                    "duration": outline.durations.get(id).map(|(t, _)| t),
                    "started_ms": view.phases.get(id).and_then(|p| p.started_ms),
                    "behind_schedule": outline.behind_schedule(&view, id).map(|(d, e)| {
                        serde_json::json!({ "duration": d, "elapsed_ms": e })
                    }),
                    "overall_passed": view.phases.get(id).is_none_or(|p| p.overall_passed()),
                    "checklist": view.phases.get(id).map(|p| &p.items),
                    "steps": steps.iter().map(|s| serde_json::json!({
                        "id": s,
                        "status": view.step_status(s).as_str(),
                        "summary": view.steps.get(s).map(|v| v.summary.clone()),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let doc = serde_json::json!({
            "plan": plan.display().to_string(),
            "state_dir": outline.state_dir.display().to_string(),
            "run_id": view.run_id,
            "status": view.status.as_str(),
            "fingerprint": view.fingerprint,
            "current": view.current.as_ref().map(|(p, s)| format!("{p}/{s}")),
            "waiting_for": view.waiting_for,
            "reason": view.reason,
            "match_rate": view.match_rate,
            "open_incident": view.open_incident().map(|i| i.id.clone()),
            "rollbacks": view.rollbacks,
            "rollback_requests": pending_rollbacks(&view),
            "records": view.records,
            "phases": phases,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(exit::OK);
    }
    print_status(plan, &outline, &view);
    Ok(exit::OK)
}

fn print_status(plan: &Path, outline: &PlanOutline, view: &RunView) {
    println!("plan        {}", plan.display());
    println!("run         {}", view.run_id.as_deref().unwrap_or("(none)"));
    println!("status      {}", view.status.as_str());
    println!(
        "fingerprint {}",
        view.fingerprint.as_deref().unwrap_or("(none)")
    );
    if let Some((p, s)) = &view.current {
        println!("current     {p}/{s} ({})", view.step_status(s).as_str());
    }
    if let Some(w) = &view.waiting_for {
        println!("waiting for {w}");
    }
    if let Some(r) = &view.reason {
        println!("reason      {r}");
    }
    println!("match rate  {}", pct(view.match_rate));
    if let Some(r) = view.rollbacks.last() {
        println!(
            "rollback    to {} by {}{}: {}",
            r.point,
            r.by,
            if r.now { " (--now)" } else { "" },
            match &r.error {
                None => "done".to_string(),
                Some(e) => format!("FAILED: {e}"),
            }
        );
    }
    for r in pending_rollbacks(view) {
        println!(
            "rollback    to {} requested by {}, awaiting approval: cutover approve {} rollback:{} --by <{}>",
            r.point,
            r.by,
            plan.display(),
            r.point,
            r.approvers.join("|")
        );
    }
    if let Some(i) = view.open_incident() {
        println!(
            "incident    {} ({}, {}): see `cutover incident show {} {}`",
            i.id,
            i.procedure,
            i.status(),
            plan.display(),
            i.id
        );
    }
    for (id, steps) in &outline.phases {
        match outline.behind_schedule(view, id) {
            Some((planned, elapsed)) => println!(
                "phase {id:<24} {:<15} behind schedule: {} since its start, planned {planned}",
                view.phase_status(id).as_str(),
                // Whole seconds once it is a minute or more.
                cutover_plan::duration::format_duration_ms(if elapsed >= 60_000 {
                    elapsed / 1000 * 1000
                } else {
                    elapsed
                })
            ),
            None => println!("phase {id:<24} {}", view.phase_status(id).as_str()),
        }
        for s in steps {
            let st = view.step_status(s);
            let summary = view.steps.get(s).map(|v| v.summary.as_str()).unwrap_or("");
            println!("  {s:<26} {:<15} {summary}", st.as_str());
        }
        if let Some(p) = view.phases.get(id).filter(|p| !p.items.is_empty()) {
            for i in &p.items {
                let item = format!("checklist #{}", i.index);
                println!("  {item:<26} {:<15} {}", i.status.as_str(), i.message);
            }
            if !p.overall_passed() {
                println!(
                    "  {:<26} a critical item has not passed",
                    "overall_passed false"
                );
            }
        }
    }
}

/// Rollback requests not yet settled by a completed rollback (latest per point).
fn pending_rollbacks(view: &RunView) -> Vec<&cutover_engine::RollbackRequestView> {
    let mut points: Vec<&str> = Vec::new();
    for r in &view.rollback_requests {
        if !points.contains(&r.point.as_str()) {
            points.push(&r.point);
        }
    }
    points
        .into_iter()
        .filter_map(|p| view.pending_rollback(p))
        .filter(|r| view.rollback_approval(&r.point).is_none())
        .collect()
}

pub(crate) fn history(plan: &Path, json: bool) -> anyhow::Result<u8> {
    let outline = PlanOutline::read(plan)?;
    let records = operator::history(&outline.state)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&records)?);
        return Ok(exit::OK);
    }
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for r in &records {
        if writeln!(
            out,
            "{:>5} {} {:<16} {}",
            r.seq,
            r.ts_ms,
            r.kind,
            super::history::describe(&r.kind, &r.payload)
        )
        .is_err()
        {
            break;
        }
    }
    Ok(exit::OK)
}
