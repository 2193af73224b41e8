//! Translating Prometheus rule files: scope filtering, alert renames, label
//! renames, added labels and `for:` overrides, for Prometheus or vmalert.
//!
//! Every input rule yields exactly one [`Item`]:
//! - in scope and translated: `Ok` (the reason lists what changed);
//! - out of scope: `Ok` with reason `out of scope (...)`, not written;
//! - scope undecidable, or a change that could not be applied safely:
//!   `Warning`, written (the reason says so);
//! - invalid (unscannable expression, bad duration, ...): `Untranslatable`,
//!   not written.
//!
//! Fields the crate does not model are kept when the target accepts them
//! and dropped with a `Warning` otherwise. Prometheus accepts group fields
//! `name interval query_offset limit labels rules` and rule fields `alert
//! record expr for keep_firing_for labels annotations`; vmalert (which
//! rejects unknown fields, like Prometheus) accepts group fields `name
//! interval eval_offset eval_delay limit concurrency labels params headers
//! notifier_headers eval_alignment type rules` and additionally the rule
//! fields `debug update_entries_limit`. The only Prometheus field vmalert
//! rejects is the group's `query_offset`. vmalert also rejects two identical
//! rules (same kind, name, expression and labels) in one group, which
//! Prometheus allows: with `target = "vmalert"` the second one is not written
//! (`Warning`).

use crate::decide::{self, Decision, Fixed};
use crate::promql::{self, Analysis};
use crate::rules::{Group, Labels, Rule, RuleFile};
pub use crate::rules_params::{RulesParams, Target};
use crate::yaml::Map;
use crate::{Item, ItemKind, Selection, Status, TranslateError, duration, lex};

/// Translated files (same names, YAML text) and one item per input rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesOutput {
    pub files: Vec<(String, String)>,
    pub items: Vec<Item>,
}

/// Notes collected while translating one rule.
#[derive(Default)]
struct Notes {
    done: Vec<String>,
    warnings: Vec<String>,
}

/// Translates rule files `(name, text)`. A file that does not parse is an
/// error naming it; everything else is reported per rule.
pub fn translate_rules(
    files: &[(String, String)],
    params: &RulesParams,
) -> Result<RulesOutput, TranslateError> {
    params.validate()?;
    let scope = params.scope.as_ref().filter(|s| !s.is_all());
    let mut out = RulesOutput {
        files: Vec::new(),
        items: Vec::new(),
    };
    for (name, text) in files {
        let file = RuleFile::parse(name, text)?;
        let mut file_warnings = Vec::new();
        if !file.extra.is_empty() {
            let keys: Vec<&str> = file.extra.keys().collect();
            file_warnings.push(format!("dropped top-level field(s) {}", keys.join(", ")));
        }
        let mut written = RuleFile::default();
        for group in file.groups {
            let g = translate_group(name, group, params, scope, &file_warnings, &mut out.items);
            if let Some(g) = g {
                written.groups.push(g);
            }
        }
        out.files.push((name.clone(), written.to_text()?));
    }
    Ok(out)
}

fn translate_group(
    file: &str,
    group: Group,
    params: &RulesParams,
    scope: Option<&Selection>,
    file_warnings: &[String],
    items: &mut Vec<Item>,
) -> Option<Group> {
    let target = params.target;
    let (extra, dropped) = split_fields(&group.extra, target.group_fields());
    let mut group_warnings = file_warnings.to_vec();
    if !dropped.is_empty() {
        group_warnings.push(format!(
            "dropped group field(s) {} ({} does not accept them)",
            dropped.join(", "),
            target.name()
        ));
    }
    let bad_interval = group
        .interval
        .as_deref()
        .and_then(|i| duration::parse_ms(i).err());
    let mut kept: Vec<Rule> = Vec::new();
    let mut kept_index: Vec<usize> = Vec::new();
    for (index, rule) in group.rules.into_iter().enumerate() {
        let id = format!("{file}:{}:{}#{index}", group.name, rule.name());
        let kind = if rule.is_alert() {
            ItemKind::AlertRule
        } else {
            ItemKind::RecordingRule
        };
        let (status, reason, rule) = match &bad_interval {
            Some(e) => (Status::Untranslatable, format!("group interval: {e}"), None),
            None => translate_rule(rule, params, scope, &group_warnings),
        };
        let (status, reason, rule) = match rule {
            Some(r) if target == Target::Vmalert => {
                match kept.iter().position(|k| same_for_vmalert(k, &r)) {
                    Some(p) => (
                        Status::Warning,
                        format!(
                            "not written: identical to rule #{} of this group after translation (vmalert rejects duplicate rules)",
                            kept_index[p]
                        ),
                        None,
                    ),
                    None => (status, reason, Some(r)),
                }
            }
            other => (status, reason, other),
        };
        if let Some(r) = rule {
            kept.push(r);
            kept_index.push(index);
        }
        items.push(Item {
            id,
            kind,
            status,
            reason,
        });
    }
    if kept.is_empty() {
        return None;
    }
    Some(Group {
        rules: kept,
        extra,
        ..group
    })
}

/// vmalert's rule identity: kind, name, expression and labels.
fn same_for_vmalert(a: &Rule, b: &Rule) -> bool {
    let labels = |r: &Rule| {
        let mut l = r.labels.0.clone();
        l.sort();
        l
    };
    a.alert == b.alert && a.record == b.record && a.expr == b.expr && labels(a) == labels(b)
}

/// Splits `extra` into fields in `accepted` and the names of the others.
fn split_fields(extra: &Map, accepted: &[&str]) -> (Map, Vec<String>) {
    let mut kept = Map::default();
    let mut dropped = Vec::new();
    for (k, v) in &extra.0 {
        if accepted.contains(&k.as_str()) {
            kept.0.push((k.clone(), v.clone()));
        } else {
            dropped.push(k.clone());
        }
    }
    (kept, dropped)
}

/// What the rule fixes `label` to: static labels first (they override the
/// expression's), then every vector selector of the expression.
fn fixed_for(
    rule: &Rule,
    expr: &str,
    analysis: &Result<Analysis, promql::ExprError>,
    label: &str,
) -> Fixed {
    if label == "alertname"
        && let Some(a) = &rule.alert
    {
        return Fixed::Values(vec![a.clone()]);
    }
    if label == "__name__"
        && let Some(r) = &rule.record
    {
        return Fixed::Values(vec![r.clone()]);
    }
    if let Some(v) = rule.labels.get(label) {
        if v.contains("{{") {
            return Fixed::Unfixed(format!("static label {label} is a template ({v:?})"));
        }
        return Fixed::Values(vec![v.to_owned()]);
    }
    let Ok(a) = analysis else {
        return Fixed::Unfixed(format!(
            "{label} is not a static label and the expression cannot be scanned"
        ));
    };
    if a.selectors.is_empty() {
        return Fixed::Unfixed(format!(
            "{label} is neither a static label nor fixed by a selector (the expression has no vector selector)"
        ));
    }
    decide::union(a.selectors.iter().map(|s| {
        let ms = s.all_matchers();
        decide::fixed_by_matchers(&ms, label, &format!("selector `{}`", s.text(expr)))
    }))
}

fn translate_rule(
    mut rule: Rule,
    params: &RulesParams,
    scope: Option<&Selection>,
    group_warnings: &[String],
) -> (Status, String, Option<Rule>) {
    let untranslatable = |why: String| (Status::Untranslatable, why, None);
    if let Some(r) = &rule.record {
        if !lex::is_metric_name(r) {
            return untranslatable(format!("record name {r:?} is not a valid metric name"));
        }
        if rule.for_.is_some() || rule.keep_firing_for.is_some() {
            return untranslatable("recording rule with `for`/`keep_firing_for`".into());
        }
    }
    for (field, value) in [
        ("for", &rule.for_),
        ("keep_firing_for", &rule.keep_firing_for),
    ] {
        if let Some(Err(e)) = value.as_deref().map(duration::parse_ms) {
            return untranslatable(format!("invalid `{field}`: {e}"));
        }
    }
    let expr = rule.expr.clone();
    let analysis = promql::analyze(&expr);
    let mut notes = Notes::default();
    if let Some(scope) = scope {
        match scope.decide(|l| fixed_for(&rule, &expr, &analysis, l)) {
            Decision::Out(why) => {
                return (
                    Status::Ok,
                    format!("out of scope ({why}); not written"),
                    None,
                );
            }
            Decision::Undecidable(why) => notes.warnings.push(format!(
                "scope undecidable ({why}); kept in the output for review"
            )),
            Decision::In => notes.done.push("in scope".into()),
        }
    }
    if let Err(e) = &analysis {
        return untranslatable(format!("cannot scan the expression: {e}"));
    }
    apply_changes(&mut rule, params, &mut notes);
    let (extra, dropped) = split_fields(&rule.extra, params.target.rule_fields());
    if !dropped.is_empty() {
        notes.warnings.push(format!(
            "dropped rule field(s) {} ({} does not accept them)",
            dropped.join(", "),
            params.target.name()
        ));
    }
    rule.extra = extra;
    notes.warnings.extend(group_warnings.iter().cloned());
    let status = if notes.warnings.is_empty() {
        Status::Ok
    } else {
        Status::Warning
    };
    let mut all = notes.warnings;
    all.extend(notes.done);
    let reason = if all.is_empty() {
        "translated unchanged".to_owned()
    } else {
        all.join("; ")
    };
    (status, reason, Some(rule))
}

fn apply_changes(rule: &mut Rule, params: &RulesParams, notes: &mut Notes) {
    let old_name = rule.alert.clone();
    if let Some(old) = &old_name
        && let Some(new) = params.renames.get(old)
        && new != old
    {
        notes.done.push(format!("renamed {old} -> {new}"));
        rule.alert = Some(new.clone());
    }
    for (old, new) in &params.label_renames {
        rename_label(rule, old, new, notes);
    }
    let mut added = Vec::new();
    for (k, v) in &params.add_labels {
        match rule.labels.get(k) {
            Some(cur) if cur == v => {}
            Some(cur) => {
                notes.warnings.push(format!(
                    "static label {k}={cur:?} replaced by the added {k}={v:?}"
                ));
                rule.labels.insert(k, v);
            }
            None => {
                added.push(format!("{k}={v:?}"));
                rule.labels.insert(k, v);
            }
        }
    }
    if !added.is_empty() {
        notes
            .done
            .push(format!("added label(s) {}", added.join(", ")));
    }
    if rule.is_alert() {
        let over = rule
            .alert
            .as_ref()
            .and_then(|n| params.for_overrides.get(n))
            .or_else(|| old_name.as_ref().and_then(|n| params.for_overrides.get(n)));
        if let Some(d) = over
            && rule.for_.as_deref() != Some(d)
        {
            let was = rule.for_.as_deref().unwrap_or("none").to_owned();
            notes.done.push(format!("for: {was} -> {d}"));
            rule.for_ = Some(d.clone());
        }
    }
}

fn rename_label(rule: &mut Rule, old: &str, new: &str, notes: &mut Notes) {
    let mut changed = Vec::new();
    if rule.labels.get(old).is_some() {
        if rule.labels.get(new).is_some() {
            notes.warnings.push(format!(
                "static label {new} already set; static label {old} not renamed"
            ));
        } else {
            rule.labels.rename(old, new);
            changed.push("static labels");
        }
    }
    match promql::rename_label(&rule.expr, old, new) {
        Ok(Some(e)) => {
            rule.expr = e;
            changed.push("expr");
        }
        Ok(None) => {}
        Err(why) => notes
            .warnings
            .push(format!("label {old} not renamed in the expression: {why}")),
    }
    let mut templates_changed = false;
    for map in [&mut rule.labels, &mut rule.annotations] {
        templates_changed |= rename_in_templates(map, old, new, notes);
    }
    if templates_changed {
        changed.push("templates");
    }
    if !changed.is_empty() {
        notes
            .done
            .push(format!("label {old} -> {new} in {}", changed.join(", ")));
    }
}

/// Rewrites `$labels.old` / `.Labels.old` in template values.
fn rename_in_templates(map: &mut Labels, old: &str, new: &str, notes: &mut Notes) -> bool {
    let mut changed = false;
    for (key, value) in &mut map.0 {
        if !value.contains("{{") {
            continue;
        }
        if value.contains("index") && value.contains(&format!("\"{old}\"")) {
            notes.warnings.push(format!(
                "template {key} uses `index ... \"{old}\"`; not rewritten"
            ));
        }
        let mut out = String::with_capacity(value.len());
        let mut rest = value.as_str();
        while let Some(after) = ["$labels.", ".Labels."]
            .iter()
            .filter_map(|p| rest.find(p).map(|i| i + p.len()))
            .min()
        {
            let tail = &rest[after..];
            let n = lex::ident_len(tail, 0, false);
            out.push_str(&rest[..after]);
            if &tail[..n] == old {
                out.push_str(new);
                changed = true;
            } else {
                out.push_str(&tail[..n]);
            }
            rest = &tail[n..];
        }
        out.push_str(rest);
        *value = out;
    }
    changed
}
