//! `[phases.waves]` and `max_parallel`: a phase that moves many services
//! splits them into waves of `size` values of one label and runs its
//! migrate and parallel-run steps once per batch of `max_parallel` waves.
//! The expansion happens here, so every later stage (preview, fingerprint,
//! runner, journal) sees ordinary steps: one instance per batch, each with
//! the batch's services as its scope.

use std::collections::HashSet;

use toml::Spanned;
use translate_core::Scope;
use translate_core::scope::{MatchOp, Matcher};

use super::{Checker, span_of};
use crate::diagnostics::Diagnostic;
use crate::model::{Step, StepAction, WaveBatch, WavePlan};
use crate::raw::{RawPhase, RawWaves};
use crate::scope::both;

/// The label waves split on when `label` is not given.
pub const DEFAULT_WAVE_LABEL: &str = "service";

/// Characters a wave value is escaped for in its `=~` matcher.
const REGEX_META: &str = "\\.+*?()|[]{}^$";

/// `v`, matched literally inside an anchored regular expression.
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if REGEX_META.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The scope of one batch: `label=~"v1|v2|..."`.
pub fn batch_scope(label: &str, values: &[String]) -> Result<Scope, String> {
    let alternation: Vec<String> = values.iter().map(|v| escape(v)).collect();
    Matcher::new(label, MatchOp::Re, &alternation.join("|")).map(|m| Scope::Matchers(vec![m]))
}

use crate::waves::{instance_id, is_wave_kind};

fn is_body(s: &Step) -> bool {
    is_wave_kind(s.action.kind())
}

impl Checker<'_> {
    /// The wave plan of phase `ph`, with `steps` (the phase's, validated)
    /// expanded in place; `None` (and `steps` untouched) without waves or
    /// after reporting an error.
    pub(super) fn waves(
        &mut self,
        ph: &RawPhase,
        steps: &mut Vec<Step>,
        taken: &HashSet<String>,
    ) -> Option<WavePlan> {
        let pid = ph.id.get_ref();
        let Some(raw) = &ph.waves else {
            if let Some(mp) = &ph.max_parallel {
                self.err(
                    Diagnostic::at(
                        span_of(mp),
                        format!("phase `{pid}`: max_parallel without waves"),
                        "nothing to run in parallel",
                    )
                    .help("add [phases.waves] with label, size and values_file (or values), or remove max_parallel"),
                );
            }
            return None;
        };
        // Every field is checked before giving up, so one run of
        // `validate` names every problem.
        let mut bad = false;
        let max_parallel = match &ph.max_parallel {
            None => 1,
            Some(mp) => match u32::try_from(*mp.get_ref()) {
                Ok(n) if n >= 1 => n,
                _ => {
                    self.err(
                        Diagnostic::at(
                            span_of(mp),
                            format!(
                                "phase `{pid}`: max_parallel {} is not a positive count",
                                mp.get_ref()
                            ),
                            "not a positive count",
                        )
                        .help("write how many waves move at once, e.g. max_parallel = 4"),
                    );
                    bad = true;
                    1
                }
            },
        };
        let w = raw.get_ref();
        let label = self.wave_label(pid, w);
        bad |= label.is_none();
        let size = match u32::try_from(*w.size.get_ref()) {
            Ok(n) if n >= 1 => n,
            _ => {
                self.err(
                    Diagnostic::at(
                        span_of(&w.size),
                        format!(
                            "phase `{pid}`: waves.size {} is not a positive count",
                            w.size.get_ref()
                        ),
                        "not a positive count",
                    )
                    .help("write how many services each wave moves, e.g. size = 250"),
                );
                bad = true;
                1
            }
        };
        let values = self.wave_values(pid, raw);
        let (Some(label), Some(values), false) = (label, values, bad) else {
            return None;
        };
        // The migrate and parallel-run steps are the body run per batch;
        // they must be one run of steps, so that "before" and "after" mean
        // what they say.
        let body: Vec<usize> = (0..steps.len()).filter(|&i| is_body(&steps[i])).collect();
        if !body
            .iter()
            .any(|&i| matches!(steps[i].action, StepAction::Migrate { .. }))
        {
            self.err(
                Diagnostic::at(
                    span_of(raw),
                    format!("phase `{pid}` has waves but no migrate step"),
                    "nothing moves in waves",
                )
                .help("waves split the phase's migrate (and parallel-run) steps by service: add a kind = \"migrate\" step"),
            );
            return None;
        }
        if let (Some(&first), Some(&last)) = (body.first(), body.last())
            && last - first + 1 != body.len()
        {
            let gap = (first..=last).find(|i| !body.contains(i)).unwrap_or(first);
            self.err(
                Diagnostic::at(
                    span_of(raw),
                    format!(
                        "phase `{pid}`: step `{}` sits between the steps that run per wave batch",
                        steps[gap].id
                    ),
                    "waves need one run of migrate and parallel-run steps",
                )
                .help("put the phase's migrate and parallel-run steps next to each other; other steps run once, before or after them"),
            );
            return None;
        }
        let (first, last) = (body[0], body[body.len() - 1]);
        let template: Vec<Step> = steps[first..=last].to_vec();
        let mut instances = Vec::new();
        let mut batches = Vec::new();
        for (range, first_wave, last_wave) in
            crate::waves::batches(values.len(), size, max_parallel)
        {
            let chunk = &values[range];
            let scope = match batch_scope(&label, chunk) {
                Ok(s) => s,
                Err(e) => {
                    self.err(
                        Diagnostic::at(
                            span_of(raw),
                            format!("phase `{pid}`: waves {first_wave}-{last_wave}: {e}"),
                            "cannot match these values",
                        )
                        .help("name the services with plain values"),
                    );
                    return None;
                }
            };
            let mut ids = Vec::new();
            for t in &template {
                let id = instance_id(&t.id, first_wave, last_wave);
                if taken.contains(&id) {
                    self.err(
                        Diagnostic::at(
                            span_of(raw),
                            format!("phase `{pid}`: the wave instance `{id}` of step `{}` has the id of another step", t.id),
                            "duplicate step id",
                        )
                        .help("rename that step: ids ending in .wN or .wN-M name the instances of wave steps"),
                    );
                    return None;
                }
                let mut s = t.clone();
                s.id = id.clone();
                match &mut s.action {
                    StepAction::Migrate { scope: own, .. } => {
                        *own = Some(both(own.as_ref().unwrap_or(&Scope::All), &scope));
                    }
                    StepAction::ParallelRun { scope: own, by, .. } => {
                        *own = Some(scope.clone());
                        by.get_or_insert_with(|| label.clone());
                    }
                    _ => {}
                }
                ids.push((t.id.clone(), id));
                instances.push(s);
            }
            batches.push(WaveBatch {
                first_wave,
                last_wave,
                services: u32::try_from(chunk.len()).unwrap_or(u32::MAX),
                steps: ids,
            });
        }
        steps.splice(first..=last, instances);
        Some(WavePlan {
            label,
            size,
            max_parallel,
            values,
            batches,
        })
    }

    fn wave_label(&mut self, pid: &str, w: &RawWaves) -> Option<String> {
        let Some(l) = &w.label else {
            return Some(DEFAULT_WAVE_LABEL.to_string());
        };
        let name = l.get_ref();
        if super::steps::is_label_name(name) {
            return Some(name.clone());
        }
        self.err(
            Diagnostic::at(
                span_of(l),
                format!("phase `{pid}`: waves.label must be a label name, not {name:?}"),
                "not a label name",
            )
            .help("the label that names a service, e.g. label = \"service\""),
        );
        None
    }

    /// The services, from `values` or `values_file`, each once.
    fn wave_values(&mut self, pid: &str, raw: &Spanned<RawWaves>) -> Option<Vec<String>> {
        let w = raw.get_ref();
        let (listed, origin): (Vec<(String, String)>, _) = match (&w.values, &w.values_file) {
            (Some(v), None) => (
                v.iter()
                    .enumerate()
                    .map(|(i, s)| (s.clone(), format!("values[{i}]")))
                    .collect(),
                span_of(raw),
            ),
            (None, Some(f)) => {
                let path = self.base_dir.join(f.get_ref());
                let text = match std::fs::read_to_string(&path) {
                    Ok(t) => t,
                    Err(e) => {
                        self.err(
                            Diagnostic::at(
                                span_of(f),
                                format!(
                                    "phase `{pid}`: cannot read waves.values_file {}: {e}",
                                    path.display()
                                ),
                                "unreadable",
                            )
                            .help("name a file relative to the plan, one service per line"),
                        );
                        return None;
                    }
                };
                let lines = crate::waves::listed_values(&text)
                    .map(|(l, n)| (l.to_string(), format!("{}:{n}", f.get_ref())))
                    .collect();
                (lines, span_of(f))
            }
            _ => {
                self.err(
                    Diagnostic::at(
                        span_of(raw),
                        format!("phase `{pid}`: waves need either values or values_file"),
                        "which services?",
                    )
                    .help("values_file = \"services.txt\" (one per line), or values = [\"checkout\", \"cart\"]; not both"),
                );
                return None;
            }
        };
        let mut seen = std::collections::HashMap::new();
        let mut out = Vec::with_capacity(listed.len());
        for (v, at) in listed {
            if v.is_empty() || v.chars().any(char::is_control) {
                self.err(
                    Diagnostic::at(
                        origin.clone(),
                        format!("phase `{pid}`: wave value at {at} is empty or holds a control character"),
                        "not a service name",
                    )
                    .help("one service name per entry"),
                );
                return None;
            }
            if let Some(first) = seen.insert(v.clone(), at.clone()) {
                self.err(
                    Diagnostic::at(
                        origin.clone(),
                        format!("phase `{pid}`: service {v:?} is listed twice ({first} and {at})"),
                        "duplicate service",
                    )
                    .help("each service moves in exactly one wave: remove the second entry"),
                );
                return None;
            }
            out.push(v);
        }
        if out.is_empty() {
            self.err(
                Diagnostic::at(
                    origin,
                    format!("phase `{pid}`: waves name no service"),
                    "empty",
                )
                .help("a wave phase that moves nothing proves nothing: list the services"),
            );
            return None;
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_scope_matches_exactly_its_values() {
        let vals = vec!["a.b".to_string(), "c|d".to_string(), "e-1".to_string()];
        let s = batch_scope("service", &vals).unwrap();
        let m = |v: &str| s.matches(&[("service".to_string(), v.to_string())].into());
        assert!(m("a.b") && m("c|d") && m("e-1"));
        assert!(!m("axb") && !m("c") && !m("e-12") && !m(""));
        // Plain names read back as the literal set translators use.
        let plain = vec!["a.b".to_string(), "e-1".to_string()];
        let Scope::Matchers(ms) = batch_scope("service", &plain).unwrap() else {
            panic!("matchers")
        };
        assert_eq!(ms[0].literal_alternatives(), Some(plain));
    }
}
