//! Evaluating one rule set over a window: for each alerting rule, read
//! what its expression returned at each of the group's evaluation steps
//! (range queries of at most [`MAX_POINTS_PER_QUERY`] steps), turn the
//! returned series into alert label sets, run each label set through the
//! alert state machine ([`super::machine`]) and keep the episodes that
//! fired, as [`Alert`]s.
//!
//! Evaluation steps are aligned on the interval: the first is the first
//! multiple of the interval (in unix milliseconds) at or after the
//! window's start, so two rule sets with the same interval are evaluated at
//! the same instants. (Prometheus staggers each group by a hash-derived
//! offset within the interval; the comparison tolerance absorbs that.)
//! History before the window is not evaluated: an alert already firing at
//! the start is seen pending at the first step and firing `for` later.

use super::machine::{self, Timing};
use super::prediction::RuleOutcome;
use super::source::{MAX_POINTS_PER_QUERY, RangeSeries, RangeSource, SourceError, is_stale_marker};
use super::spec::{self, Spec};
use crate::model::{Alert, AlertState, label_fingerprint};
use crate::timefmt::format_millis;
use std::collections::{BTreeMap, HashMap};
use translate_core::rules::{Group, Rule, RuleFile};

/// Most evaluation steps of one rule in one backtest (about 23 months at
/// 1m, 11.5 days at 1s): beyond it the rule is reported, not evaluated.
pub const MAX_STEPS: u32 = 1_000_000;

/// The stretch of history evaluated: unix milliseconds, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First instant.
    pub from_ms: i64,
    /// Last instant.
    pub to_ms: i64,
}

/// Why a backtest cannot start at all (per-rule problems are
/// [`RuleOutcome::error`] instead).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BacktestError {
    /// `from` is after `to`.
    #[error("empty window: from ({from}) is after to ({to})", from = format_millis(*from), to = format_millis(*to))]
    EmptyWindow {
        /// Start, unix milliseconds.
        from: i64,
        /// End, unix milliseconds.
        to: i64,
    },
    /// The forced step is not a positive number of milliseconds.
    #[error("invalid step of {0} ms: it must be positive")]
    InvalidStep(i64),
}

/// What one rule set would have fired over the window.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The episodes that fired, by start then labels. `starts_at` is when
    /// the alert started *firing* (Prometheus's `FiredAt`, sent to
    /// Alertmanager as `startsAt`, first instant of
    /// `ALERTS{alertstate="firing"}`), `ends_at` when it resolved
    /// (`ResolvedAt`, Alertmanager's `endsAt`) or `None` when still firing
    /// at the window's end. Annotations are left empty.
    pub alerts: Vec<Alert>,
    /// One outcome per alerting rule, in file order.
    pub rules: Vec<RuleOutcome>,
}

/// One backtest's access to the source, shared by both rule sets: once the
/// source is unavailable, no further query is made.
pub(crate) struct Session<'s> {
    source: &'s mut dyn RangeSource,
    window: Window,
    step_override: Option<i64>,
    unavailable: Option<String>,
}

impl<'s> Session<'s> {
    /// A session over `window`, checking the window and the forced step.
    pub(crate) fn new(
        source: &'s mut dyn RangeSource,
        window: Window,
        step_override: Option<i64>,
    ) -> Result<Session<'s>, BacktestError> {
        if window.from_ms > window.to_ms {
            return Err(BacktestError::EmptyWindow {
                from: window.from_ms,
                to: window.to_ms,
            });
        }
        if let Some(s) = step_override.filter(|&s| s <= 0) {
            return Err(BacktestError::InvalidStep(s));
        }
        Ok(Session {
            source,
            window,
            step_override,
            unavailable: None,
        })
    }

    /// Evaluate every alerting rule of `files` (recording rules are not
    /// evaluated: their recorded series are read like any other).
    pub(crate) fn evaluate(&mut self, files: &[RuleFile], origin: &str) -> Evaluation {
        let mut alerts = Vec::new();
        let mut rules = Vec::new();
        for group in files.iter().flat_map(|f| &f.groups) {
            for rule in group.rules.iter().filter(|r| r.is_alert()) {
                rules.push(self.rule(group, rule, origin, &mut alerts));
            }
        }
        alerts.sort_by(|a: &Alert, b: &Alert| {
            (a.starts_at, &a.labels).cmp(&(b.starts_at, &b.labels))
        });
        Evaluation { alerts, rules }
    }

    /// Evaluate one rule, adding its fired episodes to `alerts`.
    fn rule(
        &mut self,
        group: &Group,
        rule: &Rule,
        origin: &str,
        alerts: &mut Vec<Alert>,
    ) -> RuleOutcome {
        let mut outcome = RuleOutcome {
            group: group.name.clone(),
            rule: rule.name().to_string(),
            interval_seconds: None,
            evaluations: 0,
            label_sets: 0,
            samples: 0,
            episodes: 0,
            error: None,
            warnings: Vec::new(),
        };
        if let Err(e) = self.run(group, rule, origin, &mut outcome, alerts) {
            outcome.error = Some(e);
        }
        outcome
    }

    /// [`Session::rule`]'s work, filling `outcome` as it goes; an error
    /// leaves `alerts` untouched.
    fn run(
        &mut self,
        group: &Group,
        rule: &Rule,
        origin: &str,
        outcome: &mut RuleOutcome,
        alerts: &mut Vec<Alert>,
    ) -> Result<(), String> {
        let step = spec::interval(group, self.step_override)?;
        outcome.interval_seconds = Some(step as f64 / 1000.0);
        let spec = Spec::new(group, rule)?;
        let grid = grid(self.window, step)?;
        outcome.evaluations = grid.steps;
        let collected = self.collect(&spec, grid)?;
        outcome.label_sets = collected.sets.len();
        outcome.samples = collected.samples;
        if collected.ignored > 0 {
            outcome.warnings.push(format!(
                "{} samples ignored: timestamps off the evaluation steps or repeated",
                collected.ignored
            ));
        }
        let (sets, failed) = split_failed(collected.sets);
        if let Some(&first) = failed.first() {
            outcome.warnings.push(format!(
                "{} evaluations failed (first at {}): two series had the same labels once the rule's labels were applied; Prometheus leaves the rule's alerts unchanged at such an evaluation",
                failed.len(),
                format_millis(grid.at(first))
            ));
        }
        let timing = Timing::new(grid.steps, step, spec.for_ms, spec.keep_ms);
        let lives: Vec<_> = sets
            .into_iter()
            .map(|(labels, present)| (labels, machine::lives(&present, &failed, timing)))
            .collect();
        if let Some(limit) = spec.limit {
            let all: Vec<_> = lives.iter().flat_map(|(_, l)| l.iter().copied()).collect();
            let most = machine::max_active(&all, grid.steps);
            if most as u64 > limit {
                return Err(format!(
                    "up to {most} alerts active at once, over the group's limit of {limit}: Prometheus fails such evaluations and drops the rule's alerts, which the backtest does not simulate"
                ));
            }
        }
        for (labels, lives) in lives {
            for life in lives {
                let Some(fired) = life.fired else { continue };
                let ends_at = life.end.map(|e| grid.at(e));
                alerts.push(Alert {
                    fingerprint: label_fingerprint(&labels),
                    labels: labels.clone(),
                    annotations: BTreeMap::new(),
                    starts_at: grid.at(fired),
                    ends_at,
                    state: if ends_at.is_some() {
                        AlertState::Resolved
                    } else {
                        AlertState::Active
                    },
                    source: origin.to_string(),
                });
                outcome.episodes += 1;
            }
        }
        Ok(())
    }

    /// Query the rule's expression over the grid, chunk by chunk, and
    /// gather the steps at which each alert label set was returned.
    fn collect(&mut self, spec: &Spec<'_>, grid: Grid) -> Result<Collected, String> {
        let mut out = Collected::default();
        let mut c0 = 0u32;
        while c0 < grid.steps {
            let c1 = grid.steps.min(c0.saturating_add(MAX_POINTS_PER_QUERY)) - 1;
            if let Some(why) = &self.unavailable {
                return Err(format!("not evaluated: the source is unavailable: {why}"));
            }
            let answer = self.source.query_range(
                spec.expr,
                grid.at(c0).saturating_sub(spec.offset),
                grid.at(c1).saturating_sub(spec.offset),
                grid.step,
            );
            let series = match answer {
                Ok(s) => s,
                Err(SourceError::Unavailable { message }) => {
                    self.unavailable = Some(message.clone());
                    return Err(format!(
                        "not evaluated: the source is unavailable: {message}"
                    ));
                }
                Err(e) => return Err(e.to_string()),
            };
            for s in &series {
                out.add(spec, grid, (c0, c1), s);
            }
            c0 = c1 + 1;
        }
        Ok(out)
    }
}

/// A rule's evaluation instants: `first + i * step` for `i < steps`.
#[derive(Debug, Clone, Copy)]
struct Grid {
    first: i64,
    step: i64,
    steps: u32,
}

impl Grid {
    /// The instant of step `i`.
    fn at(&self, i: u32) -> i64 {
        self.first + i64::from(i) * self.step
    }

    /// The step at instant `t`, if `t` is one.
    fn index(&self, t: i64) -> Option<u32> {
        let d = t.checked_sub(self.first)?;
        if d < 0 || d % self.step != 0 {
            return None;
        }
        u32::try_from(d / self.step)
            .ok()
            .filter(|&i| i < self.steps)
    }
}

/// The evaluation steps of an interval of `step` ms over `w`.
fn grid(w: Window, step: i64) -> Result<Grid, String> {
    let rem = w.from_ms.rem_euclid(step);
    let first = if rem == 0 {
        Some(w.from_ms)
    } else {
        w.from_ms.checked_add(step - rem)
    };
    let Some(first) = first.filter(|&f| f <= w.to_ms) else {
        return Err(format!(
            "no evaluation in the window: it is shorter than the interval of {}s",
            step as f64 / 1000.0
        ));
    };
    let steps = (i128::from(w.to_ms) - i128::from(first)) / i128::from(step) + 1;
    match u32::try_from(steps) {
        Ok(n) if n <= MAX_STEPS => Ok(Grid {
            first,
            step,
            steps: n,
        }),
        _ => Err(format!(
            "the window holds {steps} evaluations at {}s, more than the {MAX_STEPS} a backtest evaluates per rule: narrow the window or use a longer step",
            step as f64 / 1000.0
        )),
    }
}

/// The steps at which each alert label set was returned.
#[derive(Default)]
struct Collected {
    /// Alert labels → steps (unsorted; repeated when two series gave the
    /// same labels at one step).
    sets: HashMap<BTreeMap<String, String>, Vec<u32>>,
    /// Samples used.
    samples: usize,
    /// Samples off the grid, outside the query's chunk, or repeated.
    ignored: usize,
}

impl Collected {
    /// Add the samples of series `s`, answered for steps `chunk.0..=chunk.1`.
    fn add(&mut self, spec: &Spec<'_>, grid: Grid, chunk: (u32, u32), s: &RangeSeries) {
        let mut points: Vec<(u32, f64)> = Vec::with_capacity(s.samples.len());
        for &(ts, v) in &s.samples {
            if is_stale_marker(v) {
                continue;
            }
            match ts.checked_add(spec.offset).and_then(|t| grid.index(t)) {
                Some(i) if (chunk.0..=chunk.1).contains(&i) => points.push((i, v)),
                _ => self.ignored += 1,
            }
        }
        if !points.is_sorted_by(|a, b| a.0 < b.0) {
            // Stable: for a repeated step, the last sample wins.
            points.sort_by_key(|p| p.0);
            points.reverse();
            let before = points.len();
            points.dedup_by_key(|p| p.0);
            points.reverse();
            self.ignored += before - points.len();
        }
        self.samples += points.len();
        if spec.by_value {
            for (i, v) in points {
                self.sets
                    .entry(spec.alert_labels(&s.labels, v))
                    .or_default()
                    .push(i);
            }
        } else if !points.is_empty() {
            self.sets
                .entry(spec.alert_labels(&s.labels, f64::NAN))
                .or_default()
                .extend(points.iter().map(|p| p.0));
        }
    }
}

/// Sort each label set's steps, and take out the steps at which two series
/// gave one label set: Prometheus's evaluation fails there
/// (`ErrDuplicateAlertLabelSet`). Returns the sets (distinct steps without
/// the failed ones, by labels) and the failed steps, sorted.
#[allow(clippy::type_complexity)]
fn split_failed(
    sets: HashMap<BTreeMap<String, String>, Vec<u32>>,
) -> (Vec<(BTreeMap<String, String>, Vec<u32>)>, Vec<u32>) {
    let mut sets: Vec<_> = sets.into_iter().collect();
    sets.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut failed = Vec::new();
    for (_, steps) in &mut sets {
        steps.sort_unstable();
        failed.extend(steps.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]));
    }
    failed.sort_unstable();
    failed.dedup();
    for (_, steps) in &mut sets {
        steps.dedup();
        if !failed.is_empty() {
            steps.retain(|s| failed.binary_search(s).is_err());
        }
    }
    (sets, failed)
}
