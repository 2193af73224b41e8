//! Migration waves: which services a migrate step covers. A phase's
//! `scope` names the services it moves; a migrate step may narrow it; and a
//! later step covers what the earlier steps moved plus its own scope, per
//! data type, so that re-translating the source never drops an earlier wave.

use translate_core::{Scope, Selection};

use crate::model::{Plan, StepAction};

/// `a` and `b` both (`*` is the neutral element).
pub fn both(a: &Scope, b: &Scope) -> Scope {
    match (a, b) {
        (Scope::All, x) | (x, Scope::All) => x.clone(),
        (Scope::Matchers(x), Scope::Matchers(y)) => {
            let mut ms = x.clone();
            ms.extend(y.iter().filter(|m| !x.contains(m)).cloned());
            Scope::Matchers(ms)
        }
    }
}

impl Plan {
    /// What migrate step `step_id` covers for `data_type`: the union, over
    /// every migrate step of the plan up to and including it that moves
    /// `data_type`, of its phase's scope narrowed by its own (`*` where
    /// neither has one). `None` when `step_id` is not a migrate step.
    pub fn migration_selection(&self, step_id: &str, data_type: &str) -> Option<Selection> {
        let mut scopes = Vec::new();
        for phase in &self.phases {
            let phase_scope = phase.scope.clone().unwrap_or(Scope::All);
            for step in &phase.steps {
                if let StepAction::Migrate { types, scope, .. } = &step.action
                    && types.iter().any(|t| t == data_type)
                {
                    scopes.push(both(&phase_scope, scope.as_ref().unwrap_or(&Scope::All)));
                }
                if step.id == step_id {
                    return matches!(step.action, StepAction::Migrate { .. })
                        .then(|| Selection::any(scopes));
                }
            }
        }
        None
    }

    /// What a parallel run of phase `phase_id` compares: the alerts in the
    /// scopes of every phase up to and including it (what has moved so
    /// far); everything when none of them has a scope.
    pub fn parallel_selection(&self, phase_id: &str) -> Selection {
        let mut scopes = Vec::new();
        for p in &self.phases {
            scopes.extend(p.scope.clone());
            if p.id == phase_id {
                break;
            }
        }
        if scopes.is_empty() {
            Selection::all()
        } else {
            Selection::any(scopes)
        }
    }

    /// What parallel-run step `step` of phase `phase_id` compares: its own
    /// scope within its phase's when it has one (a wave batch), else
    /// [`Plan::parallel_selection`].
    pub fn compared_selection(&self, phase_id: &str, step: &crate::model::Step) -> Selection {
        if let StepAction::ParallelRun {
            scope: Some(own), ..
        } = &step.action
        {
            let phase_scope = self
                .phases
                .iter()
                .find(|p| p.id == phase_id)
                .and_then(|p| p.scope.clone())
                .unwrap_or(Scope::All);
            return Selection::any([both(&phase_scope, own)]);
        }
        self.parallel_selection(phase_id)
    }

    /// The wave plan and batch of step instance `step_id` (a step of a wave
    /// phase, expanded per batch).
    pub fn wave_of(
        &self,
        step_id: &str,
    ) -> Option<(&crate::model::WavePlan, &crate::model::WaveBatch, &str)> {
        self.phases.iter().find_map(|p| {
            let w = p.waves.as_ref()?;
            w.instance(step_id).map(|(b, s)| (w, b, s))
        })
    }

    /// The scope the step's own phase and the step itself give (no earlier
    /// waves): what this step adds.
    pub fn step_scope(&self, step_id: &str) -> Option<Scope> {
        self.phases.iter().find_map(|p| {
            let s = p.steps.iter().find(|s| s.id == step_id)?;
            let own = match &s.action {
                StepAction::Migrate { scope, .. } => scope.clone(),
                _ => None,
            };
            Some(both(
                p.scope.as_ref().unwrap_or(&Scope::All),
                own.as_ref().unwrap_or(&Scope::All),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_concatenates_matchers_and_star_is_neutral() {
        let a = Scope::parse(r#"{team="core"}"#).unwrap();
        let b = Scope::parse(r#"{service=~"cart|checkout", team="core"}"#).unwrap();
        assert_eq!(both(&Scope::All, &a), a);
        assert_eq!(
            both(&a, &b).to_string(),
            r#"{team="core", service=~"cart|checkout"}"#
        );
    }
}
