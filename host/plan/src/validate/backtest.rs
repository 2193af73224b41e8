//! `kind = "backtest"` steps: whose history, how much of it, the
//! translator the new rule set comes from, and the gate, checked with spans
//! before anything runs.

use std::ops::Range;

use super::steps::table_to_json;
use super::{Checker, span_of};
use crate::diagnostics::Diagnostic;
use crate::model::{Backtest, DEFAULT_TOLERANCE_MS, StepAction, SystemSide};
use crate::raw::RawStep;
use crate::resolver::PluginKind;

impl Checker<'_> {
    /// A backtest step: `history` is required, `step` (when set) must fit
    /// in it, `translate` must name a translator of `alert_rules`, the gate
    /// fields read as a parallel run's.
    pub(super) fn backtest(
        &mut self,
        sid: &str,
        st: &RawStep,
        kind_span: Range<usize>,
    ) -> StepAction {
        let system = match &st.system {
            Some(s) => {
                let text = s.get_ref().clone();
                self.side(Some(s), &text)
            }
            None => SystemSide::Old,
        };
        self.history_source(sid, st, system, &kind_span);
        let history_ms = match &st.history {
            Some(h) => self.duration_ms(h, "history"),
            None => {
                self.err(
                    Diagnostic::at(
                        kind_span,
                        format!("step `{sid}`: a `backtest` step needs `history`"),
                        "`history` missing",
                    )
                    .help("add `history = \"2d\"` (how much recorded history, ending when the step runs)"),
                );
                None
            }
        };
        let step_ms = st.step.as_ref().and_then(|s| self.duration_ms(s, "step"));
        if let (Some(h), Some(s), Some(span)) = (history_ms, step_ms, st.step.as_ref())
            && (s == 0 || s > h)
        {
            self.err(
                Diagnostic::at(
                    span_of(span),
                    format!(
                        "step `{sid}`: backtest step ({}) does not fit in its history ({})",
                        span.get_ref(),
                        st.history.as_ref().map_or("", |h| h.get_ref().as_str())
                    ),
                    "step > history",
                )
                .help("the evaluation step must be positive and no longer than the history, e.g. step = \"1m\""),
            );
        }
        if let Some(h) = history_ms.filter(|h| *h == 0)
            && let Some(span) = &st.history
        {
            let _ = h;
            self.err(
                Diagnostic::at(
                    span_of(span),
                    format!("step `{sid}`: backtest history is empty"),
                    "zero history",
                )
                .help("write how much history to evaluate, e.g. history = \"2d\""),
            );
        }
        let translate = st.translate.as_ref().map(|t| {
            self.plugin_use(
                t,
                PluginKind::Translator,
                &format!("the translator of backtest step `{sid}`"),
            );
            t.get_ref().clone()
        });
        if let (None, Some(p)) = (&translate, &st.params) {
            self.err(
                Diagnostic::at(
                    span_of(p),
                    format!("step `{sid}`: `params` are the translator's, but the backtest names no `translate`"),
                    "no translator",
                )
                .help("add translate = \"<translator plugin id>\" (the one the plan's rules migrate step uses), or remove params"),
            );
        }
        let scope = st
            .scope
            .as_ref()
            .and_then(|s| self.matcher_field(&format!("step `{sid}`"), "scope", s));
        if let Some(rate) = &st.min_match_rate {
            let r = *rate.get_ref();
            if !(0.0..=1.0).contains(&r) {
                self.err(
                    Diagnostic::at(
                        span_of(rate),
                        format!("step `{sid}`: min_match_rate {r} is outside 0..=1"),
                        "not a rate",
                    )
                    .help("write a fraction, e.g. 0.95"),
                );
            }
        }
        let tolerance_ms = st
            .tolerance
            .as_ref()
            .and_then(|t| self.duration_ms(t, "tolerance"))
            .unwrap_or(step_ms.unwrap_or(0).max(DEFAULT_TOLERANCE_MS));
        let max_missing = self.count_field(sid, st.max_missing.as_ref(), "max_missing", 0);
        StepAction::Backtest(Box::new(Backtest {
            system,
            history_ms: history_ms.unwrap_or(0),
            step_ms,
            translate,
            params: st
                .params
                .as_ref()
                .map_or(serde_json::json!({}), |p| table_to_json(p.get_ref())),
            scope,
            tolerance_ms,
            ignore_labels: st
                .ignore_labels
                .as_ref()
                .map(|l| l.get_ref().clone())
                .unwrap_or_default(),
            rename: st
                .rename
                .as_ref()
                .map(|r| r.get_ref().clone())
                .unwrap_or_default(),
            min_match_rate: st.min_match_rate.as_ref().map(|r| *r.get_ref()),
            max_missing,
            shadow: st.shadow.as_ref().is_some_and(|s| *s.get_ref()),
        }))
    }
}

impl Checker<'_> {
    /// The system whose history a backtest reads must have an adapter that
    /// answers `query-range` (contract 0.1.2 `history-adapter`); one that
    /// does not is refused here, not when the step runs.
    fn history_source(
        &mut self,
        sid: &str,
        st: &RawStep,
        side: SystemSide,
        kind_span: &Range<usize>,
    ) {
        let adapter = match side {
            SystemSide::Old => &self.system_adapters.0,
            SystemSide::New => &self.system_adapters.1,
        };
        let Some(info) = self
            .infos
            .get(adapter)
            .filter(|i| i.kind == PluginKind::Adapter && !i.history)
        else {
            return;
        };
        let what = format!(
            "step `{sid}`: the {side} system's adapter `{adapter}` ({} {}) cannot read history",
            info.name, info.version
        );
        let span = st.system.as_ref().map_or(kind_span.clone(), span_of);
        self.err(
            Diagnostic::at(span, what, "no `query-range` export")
                .help("a backtest reads recorded history through an adapter of contract 0.1.2 that exports `query-range` (world `history-adapter`), such as the first-party prometheus adapter"),
        );
    }
}
