//! Human-readable dry-run preview of a loaded plan.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::duration::format_duration_ms;
use crate::fingerprint::sort_keys;
use crate::model::*;
use crate::resolver::PluginInfo;
use crate::validate::LoadedPlan;

fn size(bytes: u64) -> String {
    if bytes.is_multiple_of(1 << 30) && bytes > 0 {
        format!("{}GiB", bytes >> 30)
    } else if bytes.is_multiple_of(1 << 20) && bytes > 0 {
        format!("{}MiB", bytes >> 20)
    } else if bytes.is_multiple_of(1 << 10) && bytes > 0 {
        format!("{}KiB", bytes >> 10)
    } else {
        format!("{bytes}B")
    }
}

/// Parameters as compact JSON with sorted keys.
fn params_text(params: &serde_json::Value) -> String {
    sort_keys(params.clone()).to_string()
}

fn describe_step(step: &Step, plan: &Plan) -> String {
    let label = |side: SystemSide| match side {
        SystemSide::Old => &plan.systems.old.label,
        SystemSide::New => &plan.systems.new.label,
    };
    match &step.action {
        StepAction::Action { plugin, params } => {
            format!("action: run `{plugin}` with {}", params_text(params))
        }
        StepAction::Check {
            plugin,
            params,
            shadow,
        } => format!(
            "check: `{plugin}` with {}{}",
            params_text(params),
            if *shadow {
                " [shadow: recorded, never gates]"
            } else {
                ""
            }
        ),
        StepAction::Canary {
            plugin,
            params,
            shadow,
        } => format!(
            "canary: `{plugin}` pages through both Alertmanagers with {}, then resolves the \
             synthetic alert{}",
            params_text(params),
            if *shadow {
                " [shadow: recorded, never gates]"
            } else {
                ""
            }
        ),
        StepAction::Backtest(b) => {
            let mut s = format!(
                "backtest: the {} system's ({}) alert rules over its last {} of history",
                b.system,
                label(b.system),
                format_duration_ms(b.history_ms)
            );
            match &b.translate {
                Some(t) => {
                    let _ = write!(
                        s,
                        " against their translation by `{t}` with {}",
                        params_text(&b.params)
                    );
                }
                None => {
                    let _ = write!(s, " against the {} system's", b.system.other());
                }
            }
            if let Some(step) = b.step_ms {
                let _ = write!(s, ", every {}", format_duration_ms(step));
            }
            if let Some(scope) = &b.scope {
                let _ = write!(s, ", in scope {scope}");
            }
            let _ = write!(s, ", tolerance {}", format_duration_ms(b.tolerance_ms));
            if let Some(rate) = b.min_match_rate {
                let _ = write!(s, ", min predicted match rate {rate}");
            }
            if !b.ignore_labels.is_empty() {
                let _ = write!(s, ", ignoring labels {}", b.ignore_labels.join(", "));
            }
            if !b.rename.is_empty() {
                let pairs: Vec<String> = b.rename.iter().map(|(a, b)| format!("{a}={b}")).collect();
                let _ = write!(s, ", renaming {}", pairs.join(", "));
            }
            let _ = write!(
                s,
                "; gate: {} missing alert{} allowed; no data waits for a person",
                b.max_missing,
                if b.max_missing == 1 { "" } else { "s" }
            );
            if b.shadow {
                s.push_str(" [shadow: recorded, never gates]");
            }
            s
        }
        StepAction::Backup { system, types } => {
            format!(
                "backup: {system} system ({}): {}",
                label(*system),
                types.join(", ")
            )
        }
        StepAction::Restore { backup, types } => format!(
            "restore: from backup step `{backup}`{}",
            if types.is_empty() {
                String::from(" (all types)")
            } else {
                format!(": {}", types.join(", "))
            }
        ),
        StepAction::RollbackPoint { name, categories } => format!(
            "rollback point `{name}`: {}",
            crate::support::effective_categories(categories).join(", ")
        ),
        StepAction::ParallelRun {
            window_ms,
            interval_ms,
            tolerance_ms,
            ignore_labels,
            rename,
            min_match_rate,
            shadow,
            noise,
            max_missing,
            min_alerts,
            noise_tolerant,
            allow_missing,
            by,
            scope,
        } => {
            let mut s = format!(
                "parallel run: window {}, every {}, tolerance {}",
                format_duration_ms(*window_ms),
                format_duration_ms(*interval_ms),
                format_duration_ms(*tolerance_ms)
            );
            if let Some(rate) = min_match_rate {
                let _ = write!(s, ", min match rate {rate}");
            }
            if !ignore_labels.is_empty() {
                let _ = write!(s, ", ignoring labels {}", ignore_labels.join(", "));
            }
            if !rename.is_empty() {
                let pairs: Vec<String> = rename.iter().map(|(a, b)| format!("{a}={b}")).collect();
                let _ = write!(s, ", renaming {}", pairs.join(", "));
            }
            if let Some(noise) = noise {
                let _ = write!(s, ", noise floor against {noise}");
                if *noise_tolerant {
                    s.push_str(" (noisy alerts tolerated)");
                }
            }
            let _ = write!(
                s,
                "; gate: {} missing alert{} allowed, at least {min_alerts} old alert{} for evidence",
                max_missing,
                if *max_missing == 1 { "" } else { "s" },
                if *min_alerts == 1 { "" } else { "s" }
            );
            if let Some(m) = allow_missing {
                let _ = write!(s, ", missing alerts matching {m} tolerated");
            }
            if let Some(w) = crate::waves::wave_text(plan, &step.id) {
                let _ = write!(s, "; compares {w} only");
            } else if let Some(sc) = scope {
                let _ = write!(s, "; compares {sc} only");
            }
            if let Some(by) = by {
                let _ = write!(s, "; results per {by}");
            }
            if *shadow {
                s.push_str(" [shadow: recorded, never gates]");
            }
            s
        }
        StepAction::Approval { message, approvers } => format!(
            "approval by {}: \"{message}\"",
            if approvers.is_empty() {
                "anyone".to_string()
            } else {
                approvers.join(", ")
            }
        ),
        StepAction::Wait { duration_ms } => format!("wait {}", format_duration_ms(*duration_ms)),
        StepAction::Notify { message, target } => format!("notify {target}: \"{message}\""),
        StepAction::Migrate {
            from,
            to,
            types,
            translate,
            params,
            allow_untranslatable,
            ..
        } => {
            let mut s = format!(
                "migrate {} from the {from} system ({}) to the {to} system ({})",
                types.join(", "),
                label(*from),
                label(*to)
            );
            match translate {
                Some(t) => {
                    let _ = write!(s, " through `{t}` with {}", params_text(params));
                }
                None => s.push_str(" unchanged"),
            }
            let scopes: Vec<String> = types
                .iter()
                .filter_map(|t| Some(format!("{t}: {}", plan.migration_selection(&step.id, t)?)))
                .collect();
            if let Some(w) = crate::waves::wave_text(plan, &step.id) {
                let _ = write!(s, "; {w}, on top of the earlier waves");
            } else if !scopes.is_empty() {
                let _ = write!(s, "; scope {}", scopes.join("; "));
            }
            if *allow_untranslatable {
                s.push_str(" [untranslatable items allowed]");
            }
            s
        }
    }
}

fn on_failure(policy: OnFailure, rollback_to: &Option<String>) -> String {
    match (policy, rollback_to) {
        (OnFailure::Halt, _) => "halt".into(),
        (OnFailure::Warn, _) => "warn".into(),
        (OnFailure::Pause, _) => "pause".into(),
        (OnFailure::Rollback, Some(to)) => format!("roll back to `{to}`"),
        (OnFailure::Rollback, None) => "roll back to the latest rollback point".into(),
    }
}

/// Renders the dry-run preview: systems, plugins with their grants, ordered
/// phases with steps, checklists, gates and rollback points, what is backed
/// up, and the fingerprint. `infos` are the plugins' self-descriptions.
pub fn preview(loaded: &LoadedPlan, infos: &BTreeMap<String, PluginInfo>) -> String {
    let plan = &loaded.plan;
    let mut o = String::new();
    let _ = writeln!(o, "Plan: {}", plan.meta.name);
    if !plan.meta.description.is_empty() {
        let _ = writeln!(o, "  {}", plan.meta.description);
    }
    if !plan.meta.owner.is_empty() {
        let _ = writeln!(o, "Owner: {}", plan.meta.owner);
    }
    let _ = writeln!(o, "File: {}", loaded.path.display());
    let _ = writeln!(o, "State directory: {}", plan.meta.state_dir);
    if let Some(url) = &plan.meta.state {
        let _ = writeln!(o, "State database: {url}");
    }
    let _ = writeln!(o, "Fingerprint: {}", loaded.fingerprint());
    let _ = writeln!(
        o,
        "On a migration alert: {}",
        plan.meta.on_alert.as_deref().unwrap_or("pause (default)")
    );
    if !plan.meta.notify.is_empty() {
        let _ = writeln!(o, "Notifications to: {}", plan.meta.notify.join(", "));
    }
    if !plan.meta.notify_tls_ca.is_empty() {
        let _ = writeln!(
            o,
            "Notifications over https trust: {} (instead of the public roots)",
            plan.meta.notify_tls_ca.join(", ")
        );
    }
    let _ = writeln!(
        o,
        "Rollback approval: {}",
        if plan.meta.rollback_approvers.is_empty() {
            "none needed".to_string()
        } else {
            format!(
                "one of {} (unless --now)",
                plan.meta.rollback_approvers.join(", ")
            )
        }
    );
    let _ = writeln!(o, "\nSystems:");
    for (side, sys) in [("old", &plan.systems.old), ("new", &plan.systems.new)] {
        let info = infos
            .get(&sys.adapter)
            .map_or(String::new(), |i| format!(": {} {}", i.name, i.version));
        let _ = writeln!(
            o,
            "  {side}: {} (adapter `{}`{info})",
            sys.label, sys.adapter
        );
    }
    let _ = writeln!(o, "\nPlugins and the capabilities they get:");
    for (id, p) in &plan.plugins {
        let info = infos.get(id).map_or(String::from("(not described)"), |i| {
            format!("{} {} ({})", i.name, i.version, i.kind)
        });
        let _ = writeln!(o, "  {id}: {info}");
        let _ = writeln!(o, "    file: {} sha256 {}", p.path, p.sha256);
        let g = &p.grants;
        let none = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        let _ = writeln!(o, "    hosts: {}", none(&g.hosts));
        let dirs: Vec<String> = g
            .dirs
            .iter()
            .map(|d| {
                format!(
                    "{} -> {} ({})",
                    d.name,
                    d.path,
                    if d.write { "read-write" } else { "read-only" }
                )
            })
            .collect();
        let _ = writeln!(o, "    dirs: {}", none(&dirs));
        let _ = writeln!(o, "    secrets: {}", none(&g.secrets));
        let config: Vec<String> = g.config.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(o, "    config: {}", none(&config));
        if !g.tls_ca.is_empty() {
            let _ = writeln!(
                o,
                "    tls_ca: {} (trusted for HTTPS instead of the public roots)",
                g.tls_ca.join(", ")
            );
        }
        let _ = writeln!(
            o,
            "    limits: deadline {}, memory {}",
            format_duration_ms(p.limits.deadline_ms),
            size(p.limits.memory_bytes)
        );
    }
    let _ = writeln!(o, "\nPhases:");
    let mut backups = Vec::new();
    let mut points = Vec::new();
    for (n, phase) in plan.phases.iter().enumerate() {
        let expected = phase
            .duration_text()
            .map_or(String::new(), |d| format!(", expected {d}"));
        let max = phase
            .max_risk
            .map_or(String::new(), |m| format!(" (max {m})"));
        let _ = writeln!(
            o,
            "  {}. {} \"{}\" [risk {}{max}{expected}]",
            n + 1,
            phase.id,
            phase.name,
            phase.risk
        );
        if !phase.description.is_empty() {
            let _ = writeln!(o, "     {}", phase.description);
        }
        if let Some(scope) = &phase.scope {
            let _ = writeln!(o, "     scope: {scope}");
        }
        let _ = writeln!(o, "     steps:");
        for (sn, step) in phase.steps.iter().enumerate() {
            let idem = if step.idempotent {
                "idempotent"
            } else {
                "not idempotent"
            };
            let _ = writeln!(
                o,
                "       {}.{} {} ({idem}): {}",
                n + 1,
                sn + 1,
                step.id,
                describe_step(step, plan)
            );
            match &step.action {
                StepAction::Backup { system, types } => backups.push(format!(
                    "  {} ({} system, phase {}): {}",
                    step.id,
                    system,
                    phase.id,
                    types.join(", ")
                )),
                StepAction::RollbackPoint { name, categories } => points.push(format!(
                    "  {name} (step {} in phase {}): {}",
                    step.id,
                    phase.id,
                    crate::support::effective_categories(categories).join(", ")
                )),
                _ => {}
            }
        }
        if !phase.checklist.is_empty() {
            let _ = writeln!(o, "     checklist:");
            for c in &phase.checklist {
                let how = c
                    .check
                    .as_ref()
                    .map_or("manual confirmation".to_string(), |p| {
                        format!("check `{p}` with {}", params_text(&c.params))
                    });
                let _ = writeln!(
                    o,
                    "       - [{}{}] {} ({how}; on failure: {})",
                    if c.critical {
                        "critical"
                    } else {
                        "non-critical"
                    },
                    if c.shadow { ", shadow" } else { "" },
                    c.item,
                    on_failure(c.on_failure, &c.rollback_to)
                );
            }
        }
        if let Some(g) = &phase.gate {
            let _ = writeln!(
                o,
                "     gate: approval by {}: \"{}\"",
                g.approvers.join(", "),
                g.message
            );
        }
        match &phase.rollback_point {
            Some(rp) => {
                let _ = writeln!(
                    o,
                    "     rollback point at end: {} ({})",
                    rp.name,
                    rp.categories.join(", ")
                );
                points.push(format!(
                    "  {} (end of phase {}): {}",
                    rp.name,
                    phase.id,
                    rp.categories.join(", ")
                ));
            }
            None => {
                let _ = writeln!(o, "     rollback point at end: none");
            }
        }
    }
    let _ = writeln!(o, "\nWhat will be backed up:");
    if backups.is_empty() {
        let _ = writeln!(o, "  nothing");
    }
    for b in backups {
        let _ = writeln!(o, "{b}");
    }
    let _ = writeln!(o, "\nRollback points:");
    if points.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for p in points {
        let _ = writeln!(o, "{p}");
    }
    if !plan.emergency.is_empty() {
        let _ = writeln!(o, "\nEmergency procedures:");
        for (name, e) in &plan.emergency {
            let to = e
                .rollback_to
                .as_ref()
                .map_or(String::new(), |t| format!(" (roll back to {t})"));
            let _ = writeln!(o, "  {name}{to}: {}", e.description);
        }
    }
    o
}
