//! Action and check steps: one plugin call each.

use cutover_plan::{Phase, Step};
use cutover_runtime::wit;

use crate::event::StepStatus;
use crate::runner::{Runner, StepExec};

/// The contract's name of a verdict.
pub fn verdict_name(v: wit::VerdictKind) -> &'static str {
    match v {
        wit::VerdictKind::Pass => "pass",
        wit::VerdictKind::Fail => "fail",
        wit::VerdictKind::Inconclusive => "inconclusive",
        wit::VerdictKind::NoData => "no-data",
    }
}

fn pairs(p: &[(String, String)]) -> serde_json::Value {
    serde_json::Value::Object(
        p.iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect(),
    )
}

impl Runner<'_> {
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
            Err(e) => return failed_load(plugin, e),
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
                    e.details = serde_json::json!({ "outcome": pairs(&o.details) });
                    e
                }
                Err(err) => {
                    let mut e = StepExec::new(StepStatus::Failed, err.to_string());
                    e.details = serde_json::json!({ "error_kind": err.kind() });
                    e
                }
            };
        exec.plugin = Some(plugin.to_string());
        exec.digest = Some(loaded.digest);
        exec
    }

    /// Evaluates a check; returns the verdict name (or `error`), the message
    /// and the plugin digest. Only `pass` passes.
    pub(crate) fn evaluate(
        &mut self,
        phase: &str,
        step: &str,
        plugin: &str,
        params: &serde_json::Value,
    ) -> (String, String, Option<String>, serde_json::Value) {
        let loaded = match self.plugins.get(plugin) {
            Ok(l) => l,
            Err(e) => return ("error".into(), e, None, serde_json::Value::Null),
        };
        let ctx = self.context(phase, step, params);
        match self
            .plugins
            .runtime()
            .evaluate(&loaded.plugin, &loaded.sandbox, &ctx)
        {
            Ok(v) => {
                let measurements: serde_json::Map<String, serde_json::Value> = v
                    .measurements
                    .iter()
                    .map(|m| (m.name.clone(), serde_json::json!(m.value)))
                    .collect();
                let mut msg = v.message;
                if v.verdict == wit::VerdictKind::NoData {
                    msg = format!("{msg} (no data is never a pass)");
                }
                (
                    verdict_name(v.verdict).to_string(),
                    msg,
                    Some(loaded.digest),
                    serde_json::Value::Object(measurements),
                )
            }
            Err(e) => (
                "error".into(),
                e.to_string(),
                Some(loaded.digest),
                serde_json::json!({ "error_kind": e.kind() }),
            ),
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
        let (verdict, message, digest, measurements) =
            self.evaluate(&phase.id, &step.id, plugin, params);
        let status = match (verdict.as_str(), shadow) {
            (_, true) => StepStatus::Shadow,
            ("pass", false) => StepStatus::Succeeded,
            _ => StepStatus::Failed,
        };
        let mut e = StepExec::new(status, format!("{verdict}: {message}"));
        e.verdict = Some(verdict);
        let consistency = crate::consistency::Consistency::from_measurements(
            measurements
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.as_str(), v.as_f64()?))),
        );
        e.details = serde_json::json!({ "measurements": measurements, "shadow": shadow });
        if !consistency.is_empty() {
            e.details["consistency"] = serde_json::json!(consistency);
        }
        e.plugin = Some(plugin.to_string());
        e.digest = digest;
        e
    }
}

fn failed_load(plugin: &str, msg: String) -> StepExec {
    let mut e = StepExec::new(StepStatus::Failed, msg);
    e.details = serde_json::json!({ "error_kind": "load" });
    e.plugin = Some(plugin.to_string());
    e
}
