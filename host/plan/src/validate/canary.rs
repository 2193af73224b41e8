//! `kind = "canary"` steps: a check plugin, and parameters a paging canary
//! can act on (the synthetic alert's labels, the receivers expected per
//! Alertmanager, a timeout), checked with spans before anything runs.

use std::ops::Range;

use toml::Spanned;

use super::{Checker, span_of};
use crate::diagnostics::Diagnostic;
use crate::model::StepAction;
use crate::raw::RawStep;
use crate::resolver::PluginKind;

use super::steps::table_to_json;

/// Labels the canary sets itself (the run marker and its companions).
pub const CANARY_LABEL_PREFIX: &str = "cutover_canary";

/// The wait of a canary without `timeout_ms` (the first-party plugin's).
const DEFAULT_TIMEOUT_MS: u64 = 30_000;

/// Time a canary needs besides its wait: leftovers, posting, resolving.
const CALL_MARGIN_MS: u64 = 10_000;

/// What a canary's `params` hold, as plan text shows them.
const PARAMS_HELP: &str = "params = { labels = { alertname = \"CutoverCanary\", team = \"web\" }, \
     receivers = { old = [\"web-team\"], new = [\"web-team\"] }, timeout_ms = 20000 }";

impl Checker<'_> {
    /// A canary step: its plugin must be a check plugin, its params must
    /// name the labels (with `alertname`) and at least one receiver.
    pub(super) fn canary(
        &mut self,
        sid: &str,
        st: &RawStep,
        plugin: String,
        kind_span: Range<usize>,
    ) -> StepAction {
        if let Some(p) = &st.plugin {
            self.plugin_use(p, PluginKind::Check, &format!("`canary` step `{sid}`"));
        }
        let params = match &st.params {
            Some(p) => {
                self.canary_params(sid, p);
                self.canary_deadline(sid, p, &plugin);
                table_to_json(p.get_ref())
            }
            None => {
                self.err(
                    Diagnostic::at(
                        kind_span,
                        format!("step `{sid}`: a canary step needs `params`"),
                        "`params` missing",
                    )
                    .help(format!("for example: {PARAMS_HELP}")),
                );
                serde_json::json!({})
            }
        };
        StepAction::Canary {
            plugin,
            params,
            shadow: st.shadow.as_ref().is_some_and(|s| *s.get_ref()),
        }
    }

    /// The canary's wait (`timeout_ms`, default [`DEFAULT_TIMEOUT_MS`])
    /// plus [`CALL_MARGIN_MS`] for posting and resolving must fit in the
    /// plugin's deadline: a canary cut off mid-wait cannot resolve its alert.
    fn canary_deadline(&mut self, sid: &str, params: &Spanned<toml::Table>, plugin: &str) {
        let Some(&deadline) = self.plugin_deadlines.get(plugin) else {
            return;
        };
        let timeout = match params.get_ref().get("timeout_ms") {
            None => DEFAULT_TIMEOUT_MS,
            Some(t) => match t.as_integer().and_then(|n| u64::try_from(n).ok()) {
                Some(n) => n,
                None => return,
            },
        };
        if timeout.saturating_add(CALL_MARGIN_MS) > deadline {
            self.err(
                Diagnostic::at(
                    span_of(params),
                    format!(
                        "step `{sid}`: the canary waits up to {timeout} ms, but plugin `{plugin}` \
                         has a deadline of {deadline} ms: it would be stopped before it resolves \
                         its alert"
                    ),
                    "wait longer than the deadline allows",
                )
                .help(format!(
                    "give [plugins.{plugin}] `limits = {{ deadline = \"{}s\" }}` or more, or a \
                     shorter `timeout_ms`",
                    (timeout + CALL_MARGIN_MS).div_ceil(1000)
                )),
            );
        }
    }

    fn canary_params(&mut self, sid: &str, params: &Spanned<toml::Table>) {
        let span = span_of(params);
        let table = params.get_ref();
        let bad = |this: &mut Self, what: String| {
            this.err(
                Diagnostic::at(
                    span.clone(),
                    format!("step `{sid}`: {what}"),
                    "canary params",
                )
                .help(format!("for example: {PARAMS_HELP}")),
            );
        };
        match table.get("labels") {
            None => bad(
                self,
                "canary params need `labels` (the synthetic alert's labels)".into(),
            ),
            Some(toml::Value::Table(labels)) => {
                if !labels.contains_key("alertname") {
                    bad(self, "canary `labels` need an `alertname`".into());
                }
                for (k, v) in labels {
                    if !v.is_str() {
                        bad(self, format!("canary label `{k}` must be a string"));
                    }
                    if k.starts_with(CANARY_LABEL_PREFIX) {
                        bad(
                            self,
                            format!(
                                "canary label `{k}`: `{CANARY_LABEL_PREFIX}*` labels are set by the canary itself"
                            ),
                        );
                    }
                }
            }
            Some(_) => bad(self, "canary `labels` must be a table of strings".into()),
        }
        match table.get("receivers") {
            None => bad(
                self,
                "canary params need `receivers` (per Alertmanager, `old` and/or `new`)".into(),
            ),
            Some(toml::Value::Table(r)) => {
                let mut count = 0;
                for (side, list) in r {
                    if side != "old" && side != "new" {
                        bad(
                            self,
                            format!("canary `receivers.{side}`: expected `old` or `new`"),
                        );
                        continue;
                    }
                    match list.as_array() {
                        Some(a)
                            if a.iter()
                                .all(|x| x.as_str().is_some_and(|s| !s.trim().is_empty())) =>
                        {
                            count += a.len();
                        }
                        _ => bad(
                            self,
                            format!("canary `receivers.{side}` must be a list of receiver names"),
                        ),
                    }
                }
                if count == 0 {
                    bad(self, "canary `receivers` name no receiver".into());
                }
            }
            Some(_) => bad(self, "canary `receivers` must be a table".into()),
        }
        if let Some(t) = table.get("timeout_ms")
            && t.as_integer().is_none_or(|n| n <= 0)
        {
            bad(
                self,
                "canary `timeout_ms` must be a positive whole number of milliseconds".into(),
            );
        }
    }
}
