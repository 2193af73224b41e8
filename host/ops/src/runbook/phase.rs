//! One phase of the runbook: steps, checklist, gate and rollback.

use cutover_plan::duration::format_duration_ms;
use cutover_plan::{OnFailure, Phase, Plan, StepAction};

use super::code;

/// Rollback points captured before the checklist of phase `index` (in
/// order): end points of earlier phases and rollback-point steps so far.
fn points_before_checklist(plan: &Plan, index: usize) -> Vec<String> {
    let mut points = Vec::new();
    for (i, p) in plan.phases.iter().enumerate().take(index + 1) {
        for s in &p.steps {
            if let StepAction::RollbackPoint { name, .. } = &s.action {
                points.push(name.clone());
            }
        }
        if i < index
            && let Some(rp) = &p.rollback_point
        {
            points.push(rp.name.clone());
        }
    }
    points
}

/// The latest rollback point captured before phase `index` starts.
fn point_before_phase(plan: &Plan, index: usize) -> Option<String> {
    if index == 0 {
        return None;
    }
    let earlier = points_before_checklist(plan, index - 1);
    let prev_end = plan.phases[index - 1]
        .rollback_point
        .as_ref()
        .map(|r| r.name.clone());
    prev_end.or_else(|| earlier.last().cloned())
}

fn params(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) if m.is_empty() => String::new(),
        serde_json::Value::Null => String::new(),
        v => format!(" with {}", code(&v.to_string())),
    }
}

fn step_text(plan: &Plan, action: &StepAction) -> String {
    let label = |side: cutover_plan::SystemSide| match side {
        cutover_plan::SystemSide::Old => &plan.systems.old.label,
        cutover_plan::SystemSide::New => &plan.systems.new.label,
    };
    match action {
        StepAction::Action { plugin, params: p } => {
            format!("Run action plugin {}{}.", code(plugin), params(p))
        }
        StepAction::Check {
            plugin,
            params: p,
            shadow,
        } => format!(
            "Check with plugin {}{}{}.",
            code(plugin),
            params(p),
            if *shadow {
                " (shadow: recorded, never blocks)"
            } else {
                "; stop if it fails"
            }
        ),
        StepAction::Canary {
            plugin,
            params: p,
            shadow,
        } => format!(
            "Page through both Alertmanagers with the paging canary {}{}: each expected \
             receiver must get the synthetic alert, which is resolved afterwards{}.",
            code(plugin),
            params(p),
            if *shadow {
                " (shadow: recorded, never blocks)"
            } else {
                "; stop if a receiver never gets it"
            }
        ),
        StepAction::Backtest(b) => {
            let mut t = format!(
                "Backtest the {} system's ({}) alert rules on its last {} of recorded history",
                b.system,
                label(b.system),
                format_duration_ms(b.history_ms)
            );
            match &b.translate {
                Some(tr) => t.push_str(&format!(
                    " against their translation by {}{}",
                    code(tr),
                    params(&b.params)
                )),
                None => t.push_str(&format!(" against the {} system's rules", b.system.other())),
            }
            t.push_str(" (`cutover backtest` does the same by hand); predicted, not observed");
            if let Some(r) = b.min_match_rate {
                t.push_str(&format!(
                    "; the predicted match rate must be at or above {r}"
                ));
            }
            t.push_str(if b.shadow {
                " (shadow: recorded, never blocks)."
            } else {
                "; no data waits for a person."
            });
            t
        }
        StepAction::Backup { system, types } => format!(
            "Back up {} of the {system} system ({}); keep the backup id.",
            types.join(", "),
            label(*system)
        ),
        StepAction::Restore { backup, types } => format!(
            "Restore the backup taken by step {}{}.",
            code(backup),
            if types.is_empty() {
                String::new()
            } else {
                format!(" ({})", types.join(", "))
            }
        ),
        StepAction::RollbackPoint { name, categories } => format!(
            "Capture rollback point {} of both systems ({}).",
            code(name),
            cutover_plan::support::effective_categories(categories).join(", ")
        ),
        StepAction::ParallelRun {
            window_ms,
            interval_ms,
            tolerance_ms,
            ignore_labels,
            min_match_rate,
            shadow,
            noise,
            ..
        } => {
            let mut t = format!(
                "Run old and new side by side for {}, comparing fired alerts every {} (start times may differ by {}",
                format_duration_ms(*window_ms),
                format_duration_ms(*interval_ms),
                format_duration_ms(*tolerance_ms)
            );
            if !ignore_labels.is_empty() {
                t.push_str(&format!("; ignore labels {}", ignore_labels.join(", ")));
            }
            t.push(')');
            if let Some(r) = min_match_rate {
                t.push_str(&format!("; the match rate must stay at or above {r}"));
            }
            if *shadow {
                t.push_str(" (shadow: recorded, never blocks)");
            }
            match noise {
                Some(cutover_plan::NoiseSource::SecondRead) => t.push_str(
                    "; the noise floor is measured against a second read of the old system",
                ),
                Some(cutover_plan::NoiseSource::Adapter(id)) => t.push_str(&format!(
                    "; the noise floor is measured against adapter {}",
                    code(id)
                )),
                None => {}
            }
            t.push('.');
            t
        }
        StepAction::Approval { message, approvers } => format!(
            "Get approval from {}: \"{message}\".",
            if approvers.is_empty() {
                "any operator".to_string()
            } else {
                approvers.join(" or ")
            }
        ),
        StepAction::Wait { duration_ms } => format!("Wait {}.", format_duration_ms(*duration_ms)),
        StepAction::Notify { message, target } => format!("Notify {target}: \"{message}\"."),
        StepAction::Migrate {
            from,
            to,
            types,
            translate,
            ..
        } => format!(
            "Migrate {} from the {from} system ({}) to the {to} system ({}){}; preview it first with `cutover plan`, \
             and if it fails the {to} system is rolled back to {}.",
            types.join(", "),
            label(*from),
            label(*to),
            translate
                .as_ref()
                .map_or_else(String::new, |t| format!(" through translator {}", code(t))),
            code("before-<step>")
        ),
    }
}

fn on_failure(plan: &Plan, index: usize, policy: OnFailure, to: Option<&String>) -> String {
    match policy {
        OnFailure::Halt => "halt: stop the migration and investigate".into(),
        OnFailure::Warn => "warn: record it and continue".into(),
        OnFailure::Pause => "pause: wait for an operator's decision".into(),
        OnFailure::Rollback => {
            let target = to
                .cloned()
                .or_else(|| points_before_checklist(plan, index).last().cloned());
            match target {
                Some(t) => format!("roll back to {}", code(&t)),
                None => "roll back (no rollback point is available)".into(),
            }
        }
    }
}

/// Appends the section of phase `index`.
pub(super) fn section(out: &mut String, plan: &Plan, index: usize, plan_file: &str) {
    let p: &Phase = &plan.phases[index];
    out.push_str(&format!(
        "## Phase {}: {} ({})\n\n",
        index + 1,
        p.name,
        code(&p.id)
    ));
    if !p.description.is_empty() {
        out.push_str(&format!("{}\n\n", p.description));
    }
    out.push_str(&format!(
        "- Expected duration: {}\n",
        p.duration_text().unwrap_or_else(|| "not set".to_string())
    ));
    out.push_str(&format!(
        "- Risk: {}{}\n",
        p.risk,
        p.max_risk
            .map_or(String::new(), |m| format!(" (accepts at most {m})"))
    ));
    match &p.gate {
        Some(g) => out.push_str(&format!(
            "- Gate: before leaving the phase, approval by {}: \"{}\" (`cutover approve {plan_file} {}`)\n",
            if g.approvers.is_empty() {
                "any operator".to_string()
            } else {
                g.approvers.join(" or ")
            },
            g.message,
            p.id
        )),
        None => out.push_str("- Gate: none\n"),
    }
    match &p.rollback_point {
        Some(rp) => out.push_str(&format!(
            "- Rollback point at the end: {} ({})\n",
            code(&rp.name),
            rp.categories.join(", ")
        )),
        None => out.push_str("- Rollback point at the end: none\n"),
    }
    out.push_str("\n### Steps\n\n");
    for (i, s) in p.steps.iter().enumerate() {
        let what = if s.description.is_empty() {
            String::new()
        } else if s.description.ends_with(['.', '!', '?']) {
            format!("{} ", s.description)
        } else {
            format!("{}. ", s.description)
        };
        out.push_str(&format!(
            "{}. {} ({}{}): {what}{}\n",
            i + 1,
            code(&s.id),
            s.action.kind().as_str(),
            if s.idempotent { ", safe to repeat" } else { "" },
            step_text(plan, &s.action)
        ));
    }
    out.push_str("\n### Checklist\n\n");
    if p.checklist.is_empty() {
        out.push_str("No checklist.\n");
    }
    for c in &p.checklist {
        let how = match (&c.check, &c.match_rate) {
            (_, Some(m)) => format!(
                "checked by the match rate of parallel run {}: at least {:.1}%, no data fails",
                code(&m.step),
                m.min * 100.0
            ),
            (Some(plugin), None) => format!("checked by {}{}", code(plugin), params(&c.params)),
            (None, None) => "confirm by hand".to_string(),
        };
        out.push_str(&format!(
            "- [ ] {}{}{} ({how}). On failure: {}.\n",
            if c.critical { "**CRITICAL** " } else { "" },
            c.item,
            if c.shadow { " (shadow)" } else { "" },
            on_failure(plan, index, c.on_failure, c.rollback_to.as_ref())
        ));
    }
    rollback(out, plan, index, plan_file);
}

fn rollback(out: &mut String, plan: &Plan, index: usize, plan_file: &str) {
    let p = &plan.phases[index];
    out.push_str("\n### Rollback\n\n");
    let mut n = 0;
    let mut step = |out: &mut String, text: String| {
        n += 1;
        out.push_str(&format!("{n}. {text}\n"));
    };
    step(
        out,
        format!("Stop the run: `cutover abort {plan_file} --reason \"...\"`."),
    );
    match point_before_phase(plan, index) {
        Some(point) => {
            step(
                out,
                format!(
                    "Return to {}, captured before this phase: `cutover rollback --plan {plan_file} --to {point}` verifies it and shows what would change; run it again with `--now` to apply.",
                    code(&point)
                ),
            );
        }
        None => step(
            out,
            format!(
                "No rollback point exists before this phase: restore the backups taken in this phase: find their ids with `cutover backup list --plan {plan_file}`, then `cutover backup restore ID --plan {plan_file}`."
            ),
        ),
    }
    let in_phase: Vec<String> = p
        .steps
        .iter()
        .filter_map(|s| match &s.action {
            StepAction::RollbackPoint { name, .. } => Some(code(name)),
            _ => None,
        })
        .collect();
    if !in_phase.is_empty() {
        step(
            out,
            format!(
                "Failures after a point captured in this phase may return to it instead: {}.",
                in_phase.join(", ")
            ),
        );
    }
    let actions: Vec<String> = p
        .steps
        .iter()
        .rev()
        .filter_map(|s| match &s.action {
            StepAction::Action { plugin, params: pr } => {
                Some(format!("{} ({}{})", code(&s.id), code(plugin), params(pr)))
            }
            // A migrate step changes its target system too.
            StepAction::Migrate { to, types, .. } => Some(format!(
                "{} (migrated {} into the {to} system; its state before is the point {})",
                code(&s.id),
                types.join(", "),
                code(&format!("before-{}", s.id))
            )),
            _ => None,
        })
        .collect();
    if actions.is_empty() {
        step(
            out,
            "By hand: this phase changes no system through actions; nothing else to undo."
                .to_string(),
        );
    } else {
        step(
            out,
            format!(
                "By hand, without the tool: undo this phase's actions in reverse order: {}; then restore the captured categories of both systems from the rollback point kept in the state directory {}.",
                actions.join(", then "),
                code(&plan.meta.state_dir)
            ),
        );
    }
    step(
        out,
        if index == 0 {
            "Re-run this phase's checks to confirm both systems are as they were before the migration, then tell the owners.".to_string()
        } else {
            format!(
                "Re-run the checklist of phase {} to confirm the systems are back to where they were, then tell the owners.",
                code(&plan.phases[index - 1].id)
            )
        },
    );
    out.push('\n');
}
