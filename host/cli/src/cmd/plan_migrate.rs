//! The migration part of `cutover plan`: every migrate step exported and
//! translated read-only, each item shown as ✅ ok / ⚠️ warning /
//! ❌ untranslatable with its reason, like Terraform's plan.

use std::fmt::Write;

use super::translate::marker;
use cutover_engine::migrate::StepPreview;
use cutover_plan::{LoadedPlan, StepAction};

/// Whether step `id` of `plan` allows untranslatable items.
fn allows(plan: &LoadedPlan, id: &str) -> bool {
    plan.plan.phases.iter().flat_map(|p| &p.steps).any(|s| {
        s.id == id
            && matches!(
                s.action,
                StepAction::Migrate {
                    allow_untranslatable: true,
                    ..
                }
            )
    })
}

/// Renders the previews; the flag says whether some step would fail.
pub fn render(plan: &LoadedPlan, previews: &[StepPreview]) -> (String, bool) {
    let mut o = String::new();
    let mut blocked = false;
    if previews.is_empty() {
        return (o, false);
    }
    let _ = writeln!(
        o,
        "\nMigration preview (read-only: exported and translated, nothing imported)"
    );
    for p in previews {
        let allow = allows(plan, &p.step);
        let stop = p.blocked(allow);
        blocked |= stop;
        let _ = writeln!(
            o,
            "\n  {}/{}{}",
            p.phase,
            p.step,
            if stop { "  -- would FAIL" } else { "" }
        );
        if p.no_data() {
            let _ = writeln!(
                o,
                "    ❌ no data: the scope selects nothing to migrate (a scope that matches nothing is never a pass)"
            );
        }
        for t in &p.types {
            match cutover_plan::waves::wave_text(&plan.plan, &p.step) {
                // A batch's scope names every service of every wave so far.
                Some(w) => {
                    let _ = writeln!(o, "    {} in {w}, on top of the earlier waves", t.data_type);
                }
                None => {
                    let _ = writeln!(o, "    {} in scope {}", t.data_type, t.scope);
                }
            }
            if let Some(e) = &t.error {
                let _ = writeln!(o, "      ❌ {e}");
                continue;
            }
            let Some(r) = &t.report else { continue };
            for i in &r.items {
                let _ = writeln!(
                    o,
                    "      {} {} {}: {}",
                    marker(i.status),
                    i.kind,
                    i.id,
                    i.reason
                );
            }
            let _ = writeln!(
                o,
                "      {}{}{}",
                r.summary,
                if t.in_place {
                    "; already in place on the target (nothing to import)"
                } else {
                    ""
                },
                if r.has_untranslatable() && !allow {
                    "; untranslatable items fail the step (allow_untranslatable = true accepts them)"
                } else {
                    ""
                }
            );
        }
    }
    (o, blocked)
}
