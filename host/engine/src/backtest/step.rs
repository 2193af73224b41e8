//! `kind = "backtest"` steps: the old rule set is the step's system's
//! exported `alert_rules`, the new one their translation by the plan's
//! rules translator (or the other system's `alert_rules`), both evaluated
//! over the system's recorded history through its adapter's `query-range`
//! ([`AdapterRangeSource`]), compared in the step's scope and judged like a
//! parallel run. No data (or too few predicted alerts) is inconclusive: the
//! run stops for a person, never passes.

use std::collections::{BTreeMap, BTreeSet};

use cutover_compare::backtest::{BacktestReport, RuleOutcome, Window};
use cutover_plan::{Backtest, Phase, Selection, Step, SystemSide};
use cutover_runtime::{Document, TranslateRequest};
use translate_core::rules::RuleFile;

use super::{AdapterRangeSource, BacktestRequest, run};
use crate::bridge::Loaded;
use crate::details::{BacktestDetails, BacktestRuleError, StepDetails};
use crate::episodes::options_of;
use crate::error::EngineError;
use crate::gate::{self, Gate, GateRules, judge};
use crate::journal::now_ms;
use crate::runner::{Runner, StepExec, StepRun};

/// Rule files from an adapter's `alert_rules` export (a JSON bundle
/// `{"<file>": "<YAML>"}`), as documents.
fn rule_documents(bytes: &[u8]) -> Result<Vec<Document>, String> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let files: BTreeMap<String, String> = serde_json::from_slice(bytes).map_err(|e| {
        format!("the alert_rules export is not a rules bundle (a JSON object of file name -> YAML text): {e}")
    })?;
    Ok(files
        .into_iter()
        .map(|(name, text)| Document::new(name, text))
        .collect())
}

fn parse_rules(what: &str, docs: &[Document]) -> Result<Vec<RuleFile>, String> {
    docs.iter()
        .map(|d| RuleFile::parse(&d.name, &d.text).map_err(|e| format!("{what} {}: {e}", d.name)))
        .collect()
}

/// The two rule sets of a backtest step.
struct Sets {
    old: Vec<RuleFile>,
    new: Vec<RuleFile>,
}

impl Runner<'_> {
    /// Runs a backtest step (or finishes one a person accepted).
    pub(crate) fn backtest(
        &mut self,
        phase: &Phase,
        step: &Step,
        b: &Backtest,
    ) -> Result<StepRun, EngineError> {
        let target = format!("{}/{}", phase.id, step.id);
        let open = self
            .view
            .steps
            .get(&step.id)
            .and_then(|s| Some((s.inconclusive_seq?, s.summary.clone())));
        let accepted_by = open.and_then(|(seq, _)| {
            self.view
                .approval_after(&target, seq)
                .filter(|a| !a.retry)
                .map(|a| a.by.clone())
        });
        let (adapter_id, adapter) = match self.plugins.adapter(b.system) {
            Ok(a) => a,
            Err(e) => return Ok(StepRun::Done(StepExec::error("load", e))),
        };
        let sets = match self.rule_sets(b, &adapter) {
            Ok(s) => s,
            Err((kind, e)) => return Ok(StepRun::Done(StepExec::error(kind, e))),
        };
        let rt = self.plugins.runtime();
        let mut source = match AdapterRangeSource::from_loaded(rt, &adapter) {
            Ok(s) => s,
            Err(e) => {
                return Ok(StepRun::Done(StepExec::error(
                    "not-exported",
                    e.to_string(),
                )));
            }
        };
        let to_ms = now_ms();
        let from_ms = to_ms.saturating_sub(i64::try_from(b.history_ms).unwrap_or(i64::MAX));
        let scope = match &b.scope {
            Some(s) => Selection::any([s.clone()]),
            None => Selection::all(),
        };
        let opts = options_of(&b.ignore_labels, &b.rename, b.tolerance_ms);
        let req = BacktestRequest {
            old: &sets.old,
            new: &sets.new,
            window: Window { from_ms, to_ms },
            step_ms: b.step_ms.map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
            options: &opts,
            scope: &scope,
        };
        let result = match run(&req, &mut source) {
            Ok(r) => r,
            Err(e) => {
                return Ok(StepRun::Done(StepExec::error(
                    "invalid-window",
                    e.to_string(),
                )));
            }
        };
        if let Some(e) = source.unavailable() {
            return Ok(StepRun::Done(StepExec::error("unavailable", e.to_string())));
        }
        let queries = source.queries();
        let report = &result.report;
        let no_data = report.prediction.as_ref().is_some_and(|p| p.no_data);
        let rules = GateRules {
            min_match_rate: b.min_match_rate,
            max_missing: b.max_missing,
            min_alerts: 1,
            noise_tolerant: false,
            allow_missing: None,
        };
        let mut judgement = judge(report, &BTreeSet::new(), &rules);
        if no_data {
            judgement.gate = Gate::Inconclusive;
            judgement.reason = format!(
                "no rule of either set got any data over the last {} of the {} system's history",
                cutover_base::time::format_duration_ms(b.history_ms),
                b.system
            );
        }
        if judgement.gate == Gate::Inconclusive && !b.shadow && accepted_by.is_none() {
            let reason = format!(
                "backtest {target} is inconclusive: {}; resume to run it again (with more history), or accept it with `cutover approve PLAN {target} --by NAME`",
                judgement.reason
            );
            return self.stop_inconclusive(phase, step, target, reason);
        }
        let written = self.step_ctx().write_reports(&step.id, report);
        let status = gate::step_status(judgement.gate, b.shadow, accepted_by.is_some());
        let rule_errors = rule_errors(&result);
        let mut summary = format!(
            "{}: {}; predicted over {} of the {} system's history: {} matched, {} missing, {} extra{}",
            judgement.gate.as_str(),
            judgement.reason,
            cutover_base::time::format_duration_ms(b.history_ms),
            b.system,
            report.matched,
            report.missing,
            report.extra,
            match rule_errors.len() {
                0 => String::new(),
                n => format!("; {n} rule(s) not evaluated"),
            }
        );
        if let (Gate::Inconclusive, Some(by)) = (judgement.gate, &accepted_by) {
            summary = format!("accepted by {by}: {summary}");
        }
        if b.shadow {
            summary.push_str(" (shadow: never gates)");
        }
        let mut ex = StepExec::new(status, summary);
        ex.verdict = Some(judgement.gate.as_str().to_string());
        let (reports, report_error) = match written {
            Ok(files) => (Some(files), None),
            Err(e) => {
                tracing::warn!(step = %step.id, "{e}");
                ex.summary = format!("{} (report not written: {e})", ex.summary);
                (None, Some(e))
            }
        };
        ex.details = StepDetails::Backtest(Box::new(BacktestDetails {
            system: b.system,
            backtest_from_ms: from_ms,
            backtest_to_ms: to_ms,
            step_seconds: b.step_ms.map(|s| s as f64 / 1000.0),
            scope,
            translator: b.translate.clone(),
            no_data,
            compare_verdict: report.verdict,
            match_rate: report.match_rate,
            min_match_rate: b.min_match_rate,
            matched: report.matched,
            missing: report.missing,
            extra: report.extra,
            total_old: report.total_old,
            total_new: report.total_new,
            risk_level: report.risk_level,
            old_rules: result.old.rules.len(),
            new_rules: result.new.rules.len(),
            rule_errors,
            queries,
            missing_alerts: report
                .missing_alerts
                .iter()
                .map(|a| a.key.clone())
                .collect(),
            extra_alerts: report.extra_alerts.iter().map(|a| a.key.clone()).collect(),
            gate: judgement,
            shadow: b.shadow,
            accepted_by,
            reports,
            report_error,
        }));
        ex.plugin = Some(adapter_id);
        ex.digest = Some(adapter.digest);
        Ok(StepRun::Done(ex))
    }

    /// The old rule set (the system's `alert_rules`) and the new one (their
    /// translation, or the other system's `alert_rules`).
    fn rule_sets(
        &mut self,
        b: &Backtest,
        adapter: &Loaded,
    ) -> Result<Sets, (&'static str, String)> {
        let rt = self.plugins.runtime();
        let export = |side: SystemSide, l: &Loaded| {
            rt.export_data(&l.plugin, &l.sandbox, "alert_rules", Vec::new())
                .map(|e| e.writer)
                .map_err(|e| {
                    (
                        "export",
                        format!("exporting alert_rules from the {side} system: {e}"),
                    )
                })
                .and_then(|bytes| rule_documents(&bytes).map_err(|e| ("export", e)))
        };
        let old_docs = export(b.system, adapter)?;
        let new_docs = match &b.translate {
            Some(t) => {
                let tr = self.plugins.get(t).map_err(|e| ("load", e.to_string()))?;
                let mut params = match &b.params {
                    serde_json::Value::Object(m) => m.clone(),
                    _ => serde_json::Map::new(),
                };
                if let Some(s) = &b.scope {
                    params.insert(
                        "scope".into(),
                        serde_json::json!(Selection::any([s.clone()])),
                    );
                }
                let params = serde_json::Value::Object(params).to_string();
                rt.translate(
                    &tr.plugin,
                    &tr.sandbox,
                    &TranslateRequest::new("alert_rules", &params, &old_docs),
                )
                .map_err(|e| ("translate", format!("translator `{t}` on alert_rules: {e}")))?
                .documents
            }
            None => {
                let (_, other) = self
                    .plugins
                    .adapter(b.system.other())
                    .map_err(|e| ("load", e))?;
                export(b.system.other(), &other)?
            }
        };
        Ok(Sets {
            old: parse_rules("old rule file", &old_docs).map_err(|e| ("invalid-rules", e))?,
            new: parse_rules("new rule file", &new_docs).map_err(|e| ("invalid-rules", e))?,
        })
    }
}

/// The rules of both sets that could not be evaluated.
fn rule_errors(r: &BacktestReport) -> Vec<BacktestRuleError> {
    let of = |side: SystemSide, rules: &[RuleOutcome]| -> Vec<BacktestRuleError> {
        rules
            .iter()
            .filter_map(|o| {
                Some(BacktestRuleError {
                    side,
                    group: o.group.clone(),
                    rule: o.rule.clone(),
                    error: o.error.clone()?,
                })
            })
            .collect()
    };
    let mut v = of(SystemSide::Old, &r.old.rules);
    v.extend(of(SystemSide::New, &r.new.rules));
    v
}
