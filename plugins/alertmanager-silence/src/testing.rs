//! What the unit tests of this crate share: a fixed "now" and the origin
//! (plan, phase, step) of the step they pretend to run.

use crate::silence::Origin;

/// 2027-01-15T08:00:00Z.
pub const NOW: i64 = 1_800_000_000_000;

/// The step the tests run as: plan `migration`, phase `decommission`,
/// step `silence-old`.
pub fn origin() -> Origin {
    Origin {
        plan: "migration".into(),
        phase: "decommission".into(),
        step: "silence-old".into(),
    }
}
