//! Action and check steps: one plugin call each.

use std::collections::BTreeMap;

use cutover_plan::{Phase, Step};
use cutover_runtime::wit;

use crate::consistency::Consistency;
use crate::details::{ActionDetails, CheckDetails, StepDetails};
use crate::event::StepStatus;
use crate::gate::{self, CheckVerdict};
use crate::runner::StepExec;
use crate::step_ctx::StepCtx;

/// What a check call answered.
pub(crate) struct Evaluation {
    /// The verdict (`error` when the call failed).
    pub verdict: CheckVerdict,
    /// Its message.
    pub message: String,
    /// sha256 of the plugin, when it loaded.
    pub digest: Option<String>,
    /// Measurements by name.
    pub measurements: BTreeMap<String, Option<f64>>,
    /// Why the call failed, when it did.
    pub error_kind: Option<String>,
}

impl Evaluation {
    fn error(message: String, digest: Option<String>, kind: &str) -> Evaluation {
        Evaluation {
            verdict: CheckVerdict::Error,
            message,
            digest,
            measurements: BTreeMap::new(),
            error_kind: Some(kind.to_string()),
        }
    }
}

impl StepCtx<'_, '_> {
    pub(crate) fn context(
        &self,
        phase: &str,
        step: &str,
        params: &serde_json::Value,
    ) -> wit::Context {
        wit::Context {
            plan: self.plan.plan.meta.name.clone(),
            phase: phase.to_string(),
            step: step.to_string(),
            run_id: self.view.run_id.clone().unwrap_or_default(),
            params: params.to_string(),
        }
    }

    pub(crate) fn run_action(
        &mut self,
        phase: &Phase,
        step: &Step,
        plugin: &str,
        params: &serde_json::Value,
    ) -> StepExec {
        let loaded = match self.plugins.get(plugin) {
            Ok(l) => l,
            Err(e) => return failed_load(plugin, e.to_string()),
        };
        let ctx = self.context(&phase.id, &step.id, params);
        let mut exec =
            match self
                .plugins
                .runtime()
                .run_action(&loaded.plugin, &loaded.sandbox, &ctx)
            {
                Ok(o) => {
                    let mut e = StepExec::new(StepStatus::Succeeded, o.summary);
                    e.details = StepDetails::Action(ActionDetails {
                        outcome: o.details.iter().cloned().collect(),
                    });
                    e
                }
                Err(err) => StepExec::error(err.kind(), err.to_string()),
            };
        exec.plugin = Some(plugin.to_string());
        exec.digest = Some(loaded.digest);
        exec
    }

    /// Evaluates a check. Only `pass` passes.
    pub(crate) fn evaluate(
        &mut self,
        phase: &str,
        step: &str,
        plugin: &str,
        params: &serde_json::Value,
    ) -> Evaluation {
        let loaded = match self.plugins.get(plugin) {
            Ok(l) => l,
            Err(e) => return Evaluation::error(e.to_string(), None, "load"),
        };
        let ctx = self.context(phase, step, params);
        match self
            .plugins
            .runtime()
            .evaluate(&loaded.plugin, &loaded.sandbox, &ctx)
        {
            Ok(v) => {
                let verdict = CheckVerdict::from(v.verdict);
                let mut message = v.message;
                if verdict == CheckVerdict::NoData {
                    message = format!("{message} (no data is never a pass)");
                }
                Evaluation {
                    verdict,
                    message,
                    digest: Some(loaded.digest),
                    measurements: v
                        .measurements
                        .iter()
                        .map(|m| (m.name.clone(), m.value.is_finite().then_some(m.value)))
                        .collect(),
                    error_kind: None,
                }
            }
            Err(e) => Evaluation::error(e.to_string(), Some(loaded.digest), e.kind()),
        }
    }

    pub(crate) fn run_check(
        &mut self,
        phase: &Phase,
        step: &Step,
        plugin: &str,
        params: &serde_json::Value,
        shadow: bool,
    ) -> StepExec {
        let ev = self.evaluate(&phase.id, &step.id, plugin, params);
        let status = gate::step_status(ev.verdict.gate(), shadow, false);
        let mut e = StepExec::new(status, format!("{}: {}", ev.verdict.as_str(), ev.message));
        e.verdict = Some(ev.verdict.as_str().to_string());
        let consistency = Consistency::from_measurements(
            ev.measurements
                .iter()
                .filter_map(|(k, v)| Some((k.as_str(), (*v)?))),
        );
        e.details = StepDetails::Check(CheckDetails {
            measurements: ev.measurements,
            error_kind: ev.error_kind,
            shadow,
            consistency,
        });
        e.plugin = Some(plugin.to_string());
        e.digest = ev.digest;
        e
    }
}

fn failed_load(plugin: &str, msg: String) -> StepExec {
    let mut e = StepExec::new(StepStatus::Failed, msg);
    e.details = StepDetails::error("load");
    e.plugin = Some(plugin.to_string());
    e
}
