//! The backup types and rollback categories a plan asks of an adapter that
//! does not declare them. What an adapter declares is
//! [`cutover_base::adapter_support::AdapterSupport`], read from its
//! `describe()` description.

use std::fmt;

use serde::Serialize;

pub use cutover_base::adapter_support::{
    AdapterSupport, BACKUP_TYPES_LINE, CAPTURE_ONLY_LINE, ROLLBACK_CATEGORIES_LINE,
};

use crate::model::{Phase, ROLLBACK_CATEGORIES, StepAction, SystemSide, Systems};

/// What a plan asks of an adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Asked {
    /// A data type of a backup step.
    BackupType,
    /// A category of a rollback point (a `rollback-point` step or a phase's end).
    RollbackCategory,
}

impl fmt::Display for Asked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Asked::BackupType => "backup type",
            Asked::RollbackCategory => "rollback category",
        })
    }
}

/// One backup type or rollback category the plan asks of a system whose
/// adapter does not declare it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Undeclared {
    /// Which system.
    pub side: SystemSide,
    /// The system's adapter (plugin id).
    pub adapter: String,
    /// Backup type or rollback category.
    pub asked: Asked,
    /// The type or category.
    pub name: String,
    /// What the adapter declares of that kind.
    pub declared: Vec<String>,
    /// Phase asking.
    pub phase: String,
    /// Step asking; `None` for the phase's end-of-phase rollback point.
    pub step: Option<String>,
}

impl fmt::Display for Undeclared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "system `{}` adapter `{}` does not declare {} `{}` ({})",
            self.side,
            self.adapter,
            self.asked,
            self.name,
            declared_text(&self.declared)
        )
    }
}

/// `it declares: a, b` or `it declares none`.
pub fn declared_text(declared: &[String]) -> String {
    if declared.is_empty() {
        "it declares none".to_string()
    } else {
        format!("it declares: {}", declared.join(", "))
    }
}

/// The rollback categories a step or phase end captures: its own, or the
/// defaults when it names none.
pub fn effective_categories(categories: &[String]) -> Vec<String> {
    if categories.is_empty() {
        ROLLBACK_CATEGORIES.iter().map(|c| c.to_string()).collect()
    } else {
        categories.to_vec()
    }
}

/// The systems' adapters: side, plugin id, and what it declares (`None`
/// when it could not be described).
type Known<'a> = [(SystemSide, &'a str, Option<AdapterSupport>); 2];

/// Every backup type and rollback category the `phases` of a plan ask of
/// one of its `systems` whose adapter does not declare it, in plan order.
/// `support` answers for an adapter plugin id; a system whose adapter it
/// cannot describe is skipped (validation reports that adapter already).
pub fn undeclared(
    systems: &Systems,
    phases: &[Phase],
    support: &dyn Fn(&str) -> Option<AdapterSupport>,
) -> Vec<Undeclared> {
    let (old, new) = (&systems.old.adapter, &systems.new.adapter);
    let known: Known = [
        (SystemSide::Old, old, support(old)),
        (SystemSide::New, new, support(new)),
    ];
    let mut out = Vec::new();
    for phase in phases {
        for step in &phase.steps {
            match &step.action {
                StepAction::Backup { system, types } => {
                    for (side, adapter, s) in known.iter().filter(|(k, _, _)| k == system) {
                        let Some(s) = s else { continue };
                        for t in types.iter().filter(|t| !s.declares_backup_type(t)) {
                            out.push(Undeclared {
                                side: *side,
                                adapter: adapter.to_string(),
                                asked: Asked::BackupType,
                                name: t.clone(),
                                declared: s.backup_types.clone(),
                                phase: phase.id.clone(),
                                step: Some(step.id.clone()),
                            });
                        }
                    }
                }
                StepAction::RollbackPoint { categories, .. } => {
                    point(&known, &phase.id, Some(&step.id), categories, &mut out);
                }
                // Exported from `from`; imported into `to`, whose
                // `before-<step>` rollback point captures and restores them.
                StepAction::Migrate {
                    from, to, types, ..
                } => {
                    for (side, adapter, s) in &known {
                        let Some(s) = s else { continue };
                        if side != from && side != to {
                            continue;
                        }
                        let mut ask = |asked: Asked, name: &String, declared: Vec<String>| {
                            out.push(Undeclared {
                                side: *side,
                                adapter: adapter.to_string(),
                                asked,
                                name: name.clone(),
                                declared,
                                phase: phase.id.clone(),
                                step: Some(step.id.clone()),
                            })
                        };
                        let known_types = types
                            .iter()
                            .filter(|t| crate::model::MIGRATE_TYPES.contains(&t.as_str()));
                        for t in known_types {
                            if !s.declares_backup_type(t) {
                                ask(Asked::BackupType, t, s.backup_types.clone());
                            } else if side == to && !s.restores_category(t) {
                                ask(Asked::RollbackCategory, t, s.rollback_categories.clone());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(rp) = &phase.rollback_point {
            point(&known, &phase.id, None, &rp.categories, &mut out);
        }
    }
    out
}

/// The categories of one rollback point that either system's adapter does
/// not declare.
fn point(
    known: &Known,
    phase: &str,
    step: Option<&str>,
    categories: &[String],
    out: &mut Vec<Undeclared>,
) {
    let categories = effective_categories(categories);
    for (side, adapter, s) in known {
        let Some(s) = s else { continue };
        for c in categories.iter().filter(|c| !s.declares_category(c)) {
            out.push(Undeclared {
                side: *side,
                adapter: adapter.to_string(),
                asked: Asked::RollbackCategory,
                name: c.clone(),
                declared: s.categories(),
                phase: phase.to_string(),
                step: step.map(str::to_string),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn declaration_lines_are_read_and_other_text_ignored() {
        let s = AdapterSupport::from_description(
            "Prometheus Alertmanager: alerts and silences.\n\
             backup types: configurations, silences\n  \
             rollback categories: configurations,silences, \n\
             capture-only categories: active_alerts\n\
             Backup types are listed above.",
        );
        assert_eq!(s.backup_types, strings(&["configurations", "silences"]));
        assert_eq!(
            s.rollback_categories,
            strings(&["configurations", "silences"])
        );
        assert_eq!(s.capture_only, strings(&["active_alerts"]));
        assert!(s.declares_backup_type("silences") && !s.declares_backup_type("user_data"));
        assert!(s.declares_category("active_alerts") && !s.restores_category("active_alerts"));
        assert!(s.restores_category("configurations"));
        assert!(!s.declares_category("system_metrics"));
        assert_eq!(
            s.categories(),
            strings(&["configurations", "silences", "active_alerts"])
        );
        assert_eq!(
            AdapterSupport::from_description("read-only"),
            AdapterSupport::default()
        );
    }

    #[test]
    fn messages_name_system_adapter_and_what_is_declared() {
        let u = Undeclared {
            side: SystemSide::Old,
            adapter: "alertmanager".into(),
            asked: Asked::BackupType,
            name: "user_data".into(),
            declared: strings(&["configurations", "silences"]),
            phase: "p".into(),
            step: Some("s".into()),
        };
        assert_eq!(
            u.to_string(),
            "system `old` adapter `alertmanager` does not declare backup type `user_data` (it declares: configurations, silences)"
        );
        let none = Undeclared {
            asked: Asked::RollbackCategory,
            declared: Vec::new(),
            ..u
        };
        assert_eq!(
            none.to_string(),
            "system `old` adapter `alertmanager` does not declare rollback category `user_data` (it declares none)"
        );
    }
}
