//! Backup types and rollback categories against what the systems' adapters
//! declare in `describe()` (see [`crate::support`]): each one a plan asks
//! for, explicitly or by default, that the adapter does not declare is an
//! error at the step or phase asking.

use std::ops::Range;

use toml::Spanned;

use super::{Checker, span_of};
use crate::diagnostics::Diagnostic;
use crate::model::{Phase, ROLLBACK_CATEGORIES, Systems};
use crate::raw::{RawFile, RawPhase, RawRollbackDetail, RawRollbackPoint, RawStep};
use crate::resolver::PluginKind;
use crate::support::{Asked, Undeclared, undeclared};

impl Checker<'_> {
    /// A `rollback-point` step's `categories` (empty when not given: the
    /// defaults). Names must be plain.
    pub(super) fn categories(&mut self, raw: Option<&Spanned<Vec<String>>>) -> Vec<String> {
        let Some(list) = raw else {
            return Vec::new();
        };
        if list.get_ref().is_empty() {
            self.err(
                Diagnostic::at(span_of(list), "empty list of rollback categories", "empty")
                    .help(format!(
                        "name at least one of: {} (or an adapter-defined category), or leave `categories` out for all of them",
                        ROLLBACK_CATEGORIES.join(", ")
                    )),
            );
        }
        for c in list.get_ref() {
            let ok = !c.is_empty()
                && c.chars().all(|ch| {
                    ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_' || ch == '-'
                });
            if !ok {
                self.err(
                    Diagnostic::at(
                        span_of(list),
                        format!("rollback category `{c}` is not a valid name"),
                        "bad category",
                    )
                    .help(format!(
                        "use lowercase names like {}",
                        ROLLBACK_CATEGORIES.join(", ")
                    )),
                );
            }
        }
        list.get_ref().clone()
    }

    /// Reports every backup type and rollback category the plan asks of a
    /// system whose adapter does not declare it, at the step or phase asking.
    pub(super) fn declared_support(&mut self, raw: &RawFile, systems: &Systems, phases: &[Phase]) {
        let infos = &self.infos;
        // A system whose plugin is no adapter is reported as such already.
        let support = |id: &str| {
            infos
                .get(id)
                .filter(|i| i.kind == PluginKind::Adapter)
                .map(|i| i.support.clone())
        };
        let found = undeclared(systems, phases, &support);
        // Categories both adapters declare: what a rollback point may list.
        let common: Vec<String> =
            match (support(&systems.old.adapter), support(&systems.new.adapter)) {
                (Some(o), Some(n)) => o
                    .categories()
                    .into_iter()
                    .filter(|c| n.declares_category(c))
                    .collect(),
                _ => Vec::new(),
            };
        for u in found {
            let Some(ph) = raw
                .phases
                .iter()
                .map(Spanned::get_ref)
                .find(|p| p.id.get_ref() == &u.phase)
            else {
                continue;
            };
            let step = u.step.as_ref().and_then(|sid| {
                ph.steps
                    .iter()
                    .map(Spanned::get_ref)
                    .find(|st| st.id.get_ref() == sid)
            });
            let d = match (u.asked, step) {
                (_, Some(st)) if st.kind.get_ref() == "migrate" => migrate_support(&u, st),
                (Asked::BackupType, Some(st)) => backup_type(&u, st),
                (Asked::RollbackCategory, Some(st)) => step_category(&u, st, &common),
                (Asked::RollbackCategory, None) => phase_category(&u, ph, &common),
                (Asked::BackupType, None) => continue,
            };
            self.err(d);
        }
    }
}

fn list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

fn backup_type(u: &Undeclared, st: &RawStep) -> Diagnostic {
    let sid = st.id.get_ref();
    let fix = if u.declared.is_empty() {
        format!(
            "adapter `{}` backs up nothing: remove step `{sid}` or give the {} system an adapter that does",
            u.adapter, u.side
        )
    } else {
        format!(
            "ask only for what it declares, e.g. types = {}",
            list(&u.declared)
        )
    };
    match &st.types {
        Some(types) => {
            Diagnostic::at(span_of(types), u.to_string(), "not declared by the adapter").help(fix)
        }
        None => Diagnostic::at(
            span_of(&st.kind),
            u.to_string(),
            format!("step `{sid}` backs up the default types"),
        )
        .help(format!(
            "without `types` a backup asks for {}; {fix}",
            crate::model::BACKUP_TYPES.join(", ")
        )),
    }
}

/// A migrate step asking an adapter for a data type it does not move.
fn migrate_support(u: &Undeclared, st: &RawStep) -> Diagnostic {
    let sid = st.id.get_ref();
    let help = match u.asked {
        Asked::BackupType => format!(
            "a migrate step exports each type from `from` and imports it into `to`; adapter `{}` declares {}",
            u.adapter,
            if u.declared.is_empty() {
                "no data types".to_string()
            } else {
                list(&u.declared)
            }
        ),
        Asked::RollbackCategory => format!(
            "a migrate step captures the target's rollback point `before-{sid}` of the types it moves, so \
             the target's adapter must restore them; adapter `{}` restores {}",
            u.adapter,
            list(&u.declared)
        ),
    };
    let span = st.types.as_ref().map_or_else(|| span_of(&st.kind), span_of);
    Diagnostic::at(span, u.to_string(), "not declared by the adapter").help(help)
}

/// How to list categories both adapters declare.
fn category_fix(common: &[String], key: &str, off: &str) -> String {
    if common.is_empty() {
        format!("the two systems' adapters declare no rollback category in common: {off}")
    } else {
        format!(
            "list categories both systems' adapters declare: {key} {}",
            list(common)
        )
    }
}

fn step_category(u: &Undeclared, st: &RawStep, common: &[String]) -> Diagnostic {
    let sid = st.id.get_ref();
    let fix = category_fix(common, "categories =", &format!("remove step `{sid}`"));
    match &st.categories {
        Some(c) => {
            Diagnostic::at(span_of(c), u.to_string(), "not declared by the adapter").help(fix)
        }
        None => Diagnostic::at(
            span_of(&st.kind),
            u.to_string(),
            format!("step `{sid}` captures the default categories"),
        )
        .help(format!(
            "without `categories` a rollback point captures {}; {fix}",
            ROLLBACK_CATEGORIES.join(", ")
        )),
    }
}

fn phase_category(u: &Undeclared, ph: &RawPhase, common: &[String]) -> Diagnostic {
    let pid = ph.id.get_ref();
    let fix = category_fix(
        common,
        "rollback_point = { categories =",
        "set rollback_point = false",
    );
    let fix = if common.is_empty() {
        fix
    } else {
        format!("{fix} }}, or rollback_point = false")
    };
    let span: Range<usize> = match &ph.rollback_point {
        Some(rp) => span_of(rp),
        None => span_of(&ph.id),
    };
    let explicit = matches!(
        ph.rollback_point.as_ref().map(Spanned::get_ref),
        Some(RawRollbackPoint::Detailed(RawRollbackDetail {
            categories: Some(_),
            ..
        }))
    );
    if explicit {
        Diagnostic::at(span, u.to_string(), "not declared by the adapter").help(fix)
    } else {
        Diagnostic::at(
            span,
            u.to_string(),
            format!("phase `{pid}` ends with a rollback point of the default categories"),
        )
        .help(format!(
            "a phase's rollback point captures {} unless it lists its categories; {fix}",
            ROLLBACK_CATEGORIES.join(", ")
        ))
    }
}
