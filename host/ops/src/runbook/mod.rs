//! The human runbook: Markdown an operator can follow without the tool.

mod phase;

use cutover_plan::Plan;
use cutover_plan::duration::format_duration_range;

use crate::risks::registry;

/// Renders the runbook of `plan`; `plan_file` is the path shown in commands.
pub fn runbook(plan: &Plan, plan_file: &str) -> String {
    let mut out = String::new();
    summary(&mut out, plan, plan_file);
    systems(&mut out, plan);
    overview(&mut out, plan);
    for (index, _) in plan.phases.iter().enumerate() {
        phase::section(&mut out, plan, index, plan_file);
    }
    risks(&mut out, plan);
    emergency(&mut out, plan, plan_file);
    out
}

/// Escapes text for a Markdown table cell.
pub(crate) fn cell(text: &str) -> String {
    let t = text.replace('|', "\\|").replace('\n', " ");
    if t.trim().is_empty() {
        "-".to_string()
    } else {
        t
    }
}

/// Inline code, with a fence long enough for backticks in `text`.
pub(crate) fn code(text: &str) -> String {
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

fn summary(out: &mut String, plan: &Plan, plan_file: &str) {
    let m = &plan.meta;
    out.push_str(&format!("# Runbook: {}\n\n", m.name));
    out.push_str(&format!(
        "Generated from {} by `cutover runbook`. Every step below can also be carried out by hand when the tool is unavailable.\n\n",
        code(plan_file)
    ));
    if !m.description.is_empty() {
        out.push_str(&format!("{}\n\n", m.description));
    }
    let total: u64 = plan.phases.iter().filter_map(|p| p.duration_ms).sum();
    let total_max: u64 = plan.phases.iter().filter_map(|p| p.max_duration_ms()).sum();
    let unscheduled = plan
        .phases
        .iter()
        .filter(|p| p.duration_ms.is_none())
        .count();
    out.push_str(&format!(
        "- Owner: {}\n",
        if m.owner.is_empty() { "-" } else { &m.owner }
    ));
    out.push_str(&format!("- Phases: {}\n", plan.phases.len()));
    out.push_str(&format!(
        "- Expected duration: {}{}\n",
        format_duration_range(total, total_max),
        if unscheduled > 0 {
            format!(" (plus {unscheduled} phase(s) without a duration)")
        } else {
            String::new()
        }
    ));
    out.push_str(&format!(
        "- Start: `cutover run {plan_file}`; state: `cutover status {plan_file}`; stop: `cutover abort {plan_file} --reason \"...\"`\n\n"
    ));
}

fn systems(out: &mut String, plan: &Plan) {
    out.push_str("## Systems\n\n| Side | System | Adapter plugin |\n| --- | --- | --- |\n");
    for (side, s) in [("old", &plan.systems.old), ("new", &plan.systems.new)] {
        out.push_str(&format!(
            "| {side} | {} | {} |\n",
            cell(&s.label),
            code(&s.adapter)
        ));
    }
    out.push('\n');
}

fn overview(out: &mut String, plan: &Plan) {
    out.push_str(
        "## Phases\n\n| # | Phase | Duration | Risk | Max risk | Gate |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for (i, p) in plan.phases.iter().enumerate() {
        out.push_str(&format!(
            "| {} | {} ({}) | {} | {} | {} | {} |\n",
            i + 1,
            cell(&p.name),
            code(&p.id),
            p.duration_text().unwrap_or_else(|| "-".to_string()),
            p.risk,
            p.max_risk.map_or("-".to_string(), |r| r.to_string()),
            p.gate
                .as_ref()
                .map_or("-".to_string(), |g| cell(&g.approvers.join(", "))),
        ));
    }
    out.push('\n');
}

fn risks(out: &mut String, plan: &Plan) {
    out.push_str("## Risk register\n\n");
    let rows = registry(plan);
    if rows.is_empty() {
        out.push_str("The plan lists no risks.\n\n");
        return;
    }
    out.push_str("Score = probability x impact (low 1, medium 2, high 3); 6 or more is high, 3 or more medium.\n\n");
    out.push_str("| Id | Risk | Probability | Impact | Score | Level | Mitigation | Owner |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            code(&r.id),
            cell(&r.name),
            r.probability,
            r.impact,
            r.score,
            r.level,
            if r.mitigation.trim().is_empty() {
                "**none**".to_string()
            } else {
                cell(&r.mitigation)
            },
            cell(&r.owner),
        ));
    }
    out.push('\n');
}

fn emergency(out: &mut String, plan: &Plan, plan_file: &str) {
    out.push_str("## Emergency procedures\n\n");
    if plan.emergency.is_empty() {
        out.push_str("The plan defines no emergency procedures: use the rollback section of the current phase.\n");
        return;
    }
    for (name, e) in &plan.emergency {
        out.push_str(&format!("### {name}\n\n"));
        if !e.description.is_empty() {
            out.push_str(&format!("Use when: {}\n\n", e.description));
        }
        let mut n = 0;
        let mut step = |out: &mut String, text: String| {
            n += 1;
            out.push_str(&format!("{n}. {text}\n"));
        };
        if !e.notify.is_empty() {
            step(
                out,
                format!(
                    "Notify {}; if the procedure is not resolved within {}, escalate to them.",
                    e.notify.join(", "),
                    cutover_plan::duration::format_duration_ms(e.escalation_ms)
                ),
            );
        }
        step(
            out,
            format!("Stop the run: `cutover abort {plan_file} --reason \"emergency: {name}\"`."),
        );
        if let Some(point) = &e.rollback_to {
            step(
                out,
                format!(
                    "Roll back to `{point}`: `cutover rollback --plan {plan_file} --to {point}` (verifies and shows what would change), then the same command with `--now`."
                ),
            );
        }
        for s in &e.steps {
            step(out, s.clone());
        }
        out.push('\n');
    }
}
