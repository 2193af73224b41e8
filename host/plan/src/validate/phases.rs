//! Phases, checklists, rollback points, risks and emergency procedures.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use toml::Spanned;

use super::steps::table_to_json;
use super::{CHECKLIST_SLOT, Checker, END_SLOT, PointDef, Position, StepDef, span_of};
use crate::diagnostics::Diagnostic;
use crate::model::*;
use crate::raw::*;
use crate::resolver::PluginKind;

impl Checker<'_> {
    pub(super) fn risk_level(&mut self, text: &Spanned<String>, what: &str) -> Option<RiskLevel> {
        let level = RiskLevel::parse(text.get_ref());
        if level.is_none() {
            self.err(
                Diagnostic::at(
                    span_of(text),
                    format!("invalid {what} `{}`", text.get_ref()),
                    "not a risk level",
                )
                .help("use one of: low, medium, high"),
            );
        }
        level
    }

    /// Validates phases; returns them and the rollback points defined.
    pub(super) fn phases(&mut self, raw: &RawFile) -> (Vec<Phase>, BTreeMap<String, PointDef>) {
        if raw.phases.is_empty() {
            self.err(
                Diagnostic::at(
                    span_of(&raw.plan),
                    "the plan has no phases",
                    "plan without phases",
                )
                .help("add at least one [[phases]] table with an id, a risk and [[phases.steps]]"),
            );
        }
        // Pass 1: definitions (phase ids, step ids, rollback points).
        let mut phase_lines: HashMap<String, usize> = HashMap::new();
        let mut steps: HashMap<String, StepDef> = HashMap::new();
        let mut step_lines: HashMap<String, usize> = HashMap::new();
        let mut points: BTreeMap<String, PointDef> = BTreeMap::new();
        let mut point_lines: HashMap<String, usize> = HashMap::new();
        for (pi, phase) in raw.phases.iter().enumerate() {
            let ph = phase.get_ref();
            let pid = ph.id.get_ref().clone();
            let line = self.line_of(&span_of(&ph.id));
            let duplicate_phase = phase_lines.contains_key(&pid);
            if let Some(first) = phase_lines.get(&pid) {
                self.err(
                    Diagnostic::at(
                        span_of(&ph.id),
                        format!("duplicate phase id `{pid}` (first defined on line {first})"),
                        "duplicate phase id",
                    )
                    .help("give every phase a unique id"),
                );
            } else {
                phase_lines.insert(pid.clone(), line);
            }
            for (si, step) in ph.steps.iter().enumerate() {
                let st = step.get_ref();
                let sid = st.id.get_ref().clone();
                let line = self.line_of(&span_of(&st.id));
                if let Some(first) = step_lines.get(&sid) {
                    self.err(
                        Diagnostic::at(
                            span_of(&st.id),
                            format!("duplicate step id `{sid}` (first defined on line {first})"),
                            "duplicate step id",
                        )
                        .help("step ids must be unique across the whole plan"),
                    );
                    continue;
                }
                step_lines.insert(sid.clone(), line);
                let kind = StepKind::parse(st.kind.get_ref());
                if kind == Some(StepKind::RollbackPoint)
                    && let Some(name) = &st.name
                {
                    self.define_point(
                        &mut points,
                        &mut point_lines,
                        name.get_ref(),
                        span_of(name),
                        &pid,
                        (pi, si),
                    );
                }
                steps.insert(
                    sid,
                    StepDef {
                        phase: pid.clone(),
                        position: (pi, si),
                        kind,
                        types: st
                            .types
                            .as_ref()
                            .map(|t| t.get_ref().clone())
                            .unwrap_or_else(|| {
                                BACKUP_TYPES.iter().map(|s| s.to_string()).collect()
                            }),
                    },
                );
            }
            if let Some(name) = end_point_name(ph).filter(|_| !duplicate_phase) {
                let span = ph
                    .rollback_point
                    .as_ref()
                    .map_or_else(|| span_of(&ph.id), span_of);
                self.define_point(
                    &mut points,
                    &mut point_lines,
                    &name,
                    span,
                    &pid,
                    (pi, END_SLOT),
                );
            }
        }
        // Pass 2: content.
        let mut phases = Vec::new();
        for (pi, phase) in raw.phases.iter().enumerate() {
            phases.push(self.phase(pi, phase.get_ref(), &steps, &points));
        }
        (phases, points)
    }

    pub(super) fn define_point(
        &mut self,
        points: &mut BTreeMap<String, PointDef>,
        lines: &mut HashMap<String, usize>,
        name: &str,
        span: Range<usize>,
        phase: &str,
        position: Position,
    ) {
        if let Some(first) = lines.get(name) {
            self.err(
                Diagnostic::at(
                    span,
                    format!("duplicate rollback point `{name}` (first defined on line {first})"),
                    "duplicate rollback point",
                )
                .help("give every rollback point a unique name"),
            );
            return;
        }
        lines.insert(name.to_string(), self.line_of(&span));
        points.insert(
            name.to_string(),
            PointDef {
                phase: phase.to_string(),
                position,
            },
        );
    }

    pub(super) fn phase(
        &mut self,
        pi: usize,
        ph: &RawPhase,
        steps: &HashMap<String, StepDef>,
        points: &BTreeMap<String, PointDef>,
    ) -> Phase {
        let pid = ph.id.get_ref().clone();
        let risk = self
            .risk_level(&ph.risk, "risk level")
            .unwrap_or(RiskLevel::High);
        let max_risk = ph
            .max_risk
            .as_ref()
            .and_then(|m| self.risk_level(m, "max_risk level"));
        if let (Some(max), Some(actual)) = (max_risk, RiskLevel::parse(ph.risk.get_ref()))
            && actual > max
        {
            self.err(
                    Diagnostic::at(span_of(&ph.risk), format!("phase `{pid}` has risk `{actual}` above its max_risk `{max}`"), "risk too high")
                        .help("lower the phase's risk (split it, add mitigations) or raise max_risk deliberately"),
                );
        }
        let duration = ph.duration.as_ref().and_then(|d| self.phase_duration(d));
        let scope = ph
            .scope
            .as_ref()
            .and_then(|s| self.matcher_field(&format!("phase `{pid}`"), "scope", s));
        if ph.steps.is_empty() {
            self.err(
                Diagnostic::at(span_of(&ph.id), format!("phase `{pid}` has no steps"), "empty phase")
                    .help("add at least one [[phases.steps]] (e.g. kind = \"check\" or kind = \"approval\")"),
            );
        }
        let mut out_steps = Vec::new();
        for (si, step) in ph.steps.iter().enumerate() {
            if let Some(s) = self.step((pi, si), step.get_ref(), steps) {
                out_steps.push(s);
            }
        }
        let taken: std::collections::HashSet<String> = steps.keys().cloned().collect();
        let waves = self.waves(ph, &mut out_steps, &taken);
        let checklist = ph
            .checklist
            .iter()
            .map(|c| self.checklist_item(pi, c.get_ref(), points, &out_steps))
            .collect();
        if let Some(g) = &ph.gate
            && g.approvers.is_empty()
        {
            self.err(
                Diagnostic::at(
                    span_of(&ph.id),
                    format!("phase `{pid}`: gate has no approvers"),
                    "gate without approvers",
                )
                .help("list who may approve, e.g. approvers = [\"oncall-lead\"]"),
            );
        }
        let rollback_point = end_point_name(ph).map(|name| RollbackPoint {
            name,
            categories: match ph.rollback_point.as_ref().map(|r| r.get_ref()) {
                Some(RawRollbackPoint::Detailed(RawRollbackDetail {
                    categories: Some(c),
                    ..
                })) => c.clone(),
                _ => ROLLBACK_CATEGORIES.iter().map(|s| s.to_string()).collect(),
            },
        });
        Phase {
            id: pid,
            name: ph.name.clone(),
            description: ph.description.clone(),
            duration_ms: duration.map(|(min, _)| min),
            duration_max_ms: duration.and_then(|(min, max)| (max != min).then_some(max)),
            risk,
            max_risk,
            steps: out_steps,
            checklist,
            gate: ph.gate.as_ref().map(|g| Gate {
                approvers: g.approvers.clone(),
                message: g.message.clone(),
            }),
            rollback_point,
            scope,
            waves,
        }
    }

    pub(super) fn checklist_item(
        &mut self,
        pi: usize,
        c: &RawChecklistItem,
        points: &BTreeMap<String, PointDef>,
        steps: &[Step],
    ) -> ChecklistItem {
        let match_rate = self.match_rate_item(c, steps);
        if let Some(check) = &c.check {
            self.plugin_use(
                check,
                PluginKind::Check,
                &format!("the checklist item \"{}\"", c.item),
            );
        }
        let on_failure = match &c.on_failure {
            None => OnFailure::Halt,
            Some(text) => OnFailure::parse(text.get_ref()).unwrap_or_else(|| {
                self.err(
                    Diagnostic::at(
                        span_of(text),
                        format!("invalid on_failure `{}`", text.get_ref()),
                        "not a failure policy",
                    )
                    .help("use one of: halt, warn, pause, rollback"),
                );
                OnFailure::Halt
            }),
        };
        let here = (pi, CHECKLIST_SLOT);
        match &c.rollback_to {
            Some(target) => {
                if on_failure != OnFailure::Rollback {
                    self.err(
                        Diagnostic::at(
                            span_of(target),
                            "`rollback_to` is only used with on_failure = \"rollback\"",
                            "unused",
                        )
                        .help("set on_failure = \"rollback\" or remove rollback_to"),
                    );
                }
                self.point_ref(target, Some(here), points);
            }
            None if on_failure == OnFailure::Rollback => {
                if !points.values().any(|p| p.position < here)
                    && let Some(text) = &c.on_failure
                {
                    self.err(
                            Diagnostic::at(span_of(text), "on_failure = \"rollback\" but no rollback point is captured before this checklist", "nothing to roll back to")
                                .help("add a rollback-point step earlier, or keep rollback_point = true on an earlier phase"),
                        );
                }
            }
            None => {}
        }
        ChecklistItem {
            item: c.item.clone(),
            critical: c.critical,
            check: c.check.as_ref().map(|s| s.get_ref().clone()),
            params: c
                .params
                .as_ref()
                .map_or(serde_json::json!({}), |p| table_to_json(p.get_ref())),
            on_failure,
            rollback_to: c.rollback_to.as_ref().map(|s| s.get_ref().clone()),
            match_rate,
            shadow: c.shadow,
        }
    }

    /// `min_match_rate` (+ `parallel_run`) of a checklist item: a rate in
    /// 0..=1, no `check` beside it, and a parallel-run step of this phase.
    fn match_rate_item(&mut self, c: &RawChecklistItem, steps: &[Step]) -> Option<MatchRateCheck> {
        let Some(rate) = &c.min_match_rate else {
            if let Some(step) = &c.parallel_run {
                self.err(
                    Diagnostic::at(
                        span_of(step),
                        "`parallel_run` is only used with `min_match_rate`",
                        "unused",
                    )
                    .help("add min_match_rate = 0.95 (for example) or remove parallel_run"),
                );
            }
            return None;
        };
        let min = *rate.get_ref();
        if !(0.0..=1.0).contains(&min) {
            self.err(
                Diagnostic::at(
                    span_of(rate),
                    format!("min_match_rate {min} is outside 0..=1"),
                    "not a rate",
                )
                .help("write a fraction, e.g. 0.95"),
            );
        }
        if let Some(check) = &c.check {
            self.err(
                Diagnostic::at(
                    span_of(check),
                    "a checklist item has either `check` or `min_match_rate`, not both",
                    "second check",
                )
                .help("split it into two checklist items"),
            );
        }
        let runs: Vec<&str> = steps
            .iter()
            .filter(|s| matches!(s.action, StepAction::ParallelRun { .. }))
            .map(|s| s.id.as_str())
            .collect();
        let step = match &c.parallel_run {
            Some(named) if runs.contains(&named.get_ref().as_str()) => named.get_ref().clone(),
            Some(named) => {
                self.err(
                    Diagnostic::at(
                        span_of(named),
                        format!(
                            "`{}` is not a parallel-run step of this phase",
                            named.get_ref()
                        ),
                        "unknown parallel run",
                    )
                    .help(if runs.is_empty() {
                        "this phase has no parallel-run step".to_string()
                    } else {
                        format!("parallel-run steps here: {}", runs.join(", "))
                    }),
                );
                return None;
            }
            None => match runs.last() {
                Some(last) => (*last).to_string(),
                None => {
                    self.err(
                        Diagnostic::at(
                            span_of(rate),
                            "min_match_rate needs a parallel-run step in the same phase",
                            "nothing to judge",
                        )
                        .help("add a step with kind = \"parallel-run\" to this phase"),
                    );
                    return None;
                }
            },
        };
        Some(MatchRateCheck { min, step })
    }

    /// Checks a reference to a rollback point made at `here` (None: anytime).
    pub(super) fn point_ref(
        &mut self,
        target: &Spanned<String>,
        here: Option<Position>,
        points: &BTreeMap<String, PointDef>,
    ) {
        let name = target.get_ref();
        let usable: Vec<&str> = points
            .iter()
            .filter(|(_, p)| here.is_none_or(|h| p.position < h))
            .map(|(k, _)| k.as_str())
            .collect();
        let hint = if usable.is_empty() {
            "no rollback point is captured before this point".to_string()
        } else {
            format!("rollback points available here: {}", usable.join(", "))
        };
        match points.get(name) {
            None => self.err(
                Diagnostic::at(span_of(target), format!("unknown rollback point `{name}`"), "no such rollback point")
                    .help(hint),
            ),
            Some(p) if here.is_some_and(|h| p.position >= h) => self.err(
                Diagnostic::at(span_of(target), format!("rollback point `{name}` is captured later (phase `{}`); a rollback can only return to an earlier point", p.phase), "captured later")
                    .help(hint),
            ),
            Some(_) => {}
        }
    }

    pub(super) fn risk(&mut self, r: &RawRisk) -> Risk {
        Risk {
            id: r.id.clone(),
            name: r.name.clone(),
            description: r.description.clone(),
            probability: self
                .risk_level(&r.probability, "probability")
                .unwrap_or(RiskLevel::High),
            impact: self
                .risk_level(&r.impact, "impact")
                .unwrap_or(RiskLevel::High),
            mitigation: r.mitigation.clone(),
            owner: r.owner.clone(),
        }
    }

    pub(super) fn emergency(
        &mut self,
        raw: &RawFile,
        points: &BTreeMap<String, PointDef>,
    ) -> BTreeMap<String, Emergency> {
        let mut out = BTreeMap::new();
        for (name, e) in &raw.emergency {
            if let Some(t) = &e.rollback_to {
                self.point_ref(t, None, points);
            }
            for t in &e.notify {
                self.notify_target(t);
            }
            let escalation_ms = e
                .escalation
                .as_ref()
                .and_then(|d| self.duration_ms(d, "escalation"))
                .unwrap_or(crate::model::DEFAULT_ESCALATION_MS);
            out.insert(
                name.clone(),
                Emergency {
                    description: e.description.clone(),
                    rollback_to: e.rollback_to.as_ref().map(|s| s.get_ref().clone()),
                    notify: e.notify.iter().map(|t| t.get_ref().clone()).collect(),
                    steps: e.steps.clone(),
                    escalation_ms,
                },
            );
        }
        out
    }
}

/// Name of the end-of-phase rollback point, if the phase captures one.
pub(super) fn end_point_name(ph: &RawPhase) -> Option<String> {
    let default = || format!("after-{}", ph.id.get_ref());
    match ph.rollback_point.as_ref().map(|r| r.get_ref()) {
        None | Some(RawRollbackPoint::Enabled(true)) => Some(default()),
        Some(RawRollbackPoint::Enabled(false)) => None,
        Some(RawRollbackPoint::Detailed(d)) => Some(d.name.clone().unwrap_or_else(default)),
    }
}
