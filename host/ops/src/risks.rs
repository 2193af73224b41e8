//! The risk registry: scores, levels, the `cutover risks` table and the
//! phase gate on unmitigated high risks.

use cutover_plan::{Phase, Plan, Risk, RiskLevel};
use serde::Serialize;

/// Numeric weight of a probability or impact: low 1, medium 2, high 3.
pub fn weight(level: RiskLevel) -> u8 {
    match level {
        RiskLevel::Low => 1,
        RiskLevel::Medium => 2,
        RiskLevel::High => 3,
    }
}

/// `probability x impact`, 1..=9.
pub fn score(risk: &Risk) -> u8 {
    weight(risk.probability) * weight(risk.impact)
}

/// Level of a score: >= 6 high, >= 3 medium, else low.
pub fn level_of(score: u8) -> RiskLevel {
    match score {
        6.. => RiskLevel::High,
        3.. => RiskLevel::Medium,
        _ => RiskLevel::Low,
    }
}

/// One row of the registry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskEntry {
    /// Risk id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Probability.
    pub probability: RiskLevel,
    /// Impact.
    pub impact: RiskLevel,
    /// probability x impact.
    pub score: u8,
    /// Level of the score.
    pub level: RiskLevel,
    /// Mitigation (empty: none).
    pub mitigation: String,
    /// Owner.
    pub owner: String,
}

/// The plan's risks scored, highest score first (plan order among equals).
pub fn registry(plan: &Plan) -> Vec<RiskEntry> {
    let mut rows: Vec<RiskEntry> = plan
        .risks
        .iter()
        .map(|r| {
            let s = score(r);
            RiskEntry {
                id: r.id.clone(),
                name: r.name.clone(),
                probability: r.probability,
                impact: r.impact,
                score: s,
                level: level_of(s),
                mitigation: r.mitigation.clone(),
                owner: r.owner.clone(),
            }
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.score));
    rows
}

/// The registry as an aligned text table.
pub fn table(rows: &[RiskEntry]) -> String {
    let header = [
        "ID",
        "NAME",
        "PROBABILITY",
        "IMPACT",
        "SCORE",
        "LEVEL",
        "MITIGATION",
        "OWNER",
    ];
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|r| {
            [
                r.id.clone(),
                r.name.clone(),
                r.probability.to_string(),
                r.impact.to_string(),
                r.score.to_string(),
                r.level.to_string(),
                if r.mitigation.trim().is_empty() {
                    "(none)".to_string()
                } else {
                    r.mitigation.clone()
                },
                if r.owner.is_empty() {
                    "-".to_string()
                } else {
                    r.owner.clone()
                },
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |row: &[String]| {
        let last = row.len() - 1;
        let text: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == last {
                    c.clone()
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect();
        out.push_str(text.join("  ").trim_end());
        out.push('\n');
    };
    line(&header.map(String::from));
    for row in &cells {
        line(row);
    }
    if rows.is_empty() {
        out.push_str("(the plan has no risks)\n");
    }
    out
}

/// Why `phase` may not start, if it is blocked: its `max_risk` is below
/// high while the register holds a high risk without a mitigation.
pub fn phase_blocked_by_risk(plan: &Plan, phase: &Phase) -> Option<String> {
    let max = phase.max_risk?;
    if max >= RiskLevel::High {
        return None;
    }
    let open: Vec<String> = registry(plan)
        .into_iter()
        .filter(|r| r.level == RiskLevel::High && r.mitigation.trim().is_empty())
        .map(|r| format!("`{}` ({}, score {})", r.id, r.name, r.score))
        .collect();
    if open.is_empty() {
        return None;
    }
    Some(format!(
        "phase `{}` accepts at most {max} risk, but the risk register has {} high risk{} without a mitigation: {}; add a mitigation to {} or raise the phase's max_risk deliberately",
        phase.id,
        open.len(),
        if open.len() == 1 { "" } else { "s" },
        open.join(", "),
        if open.len() == 1 { "it" } else { "them" },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_and_level_follow_the_matrix() {
        use RiskLevel::*;
        let levels = [Low, Medium, High];
        for p in levels {
            for i in levels {
                let r = Risk {
                    id: "r".into(),
                    name: "n".into(),
                    description: String::new(),
                    probability: p,
                    impact: i,
                    mitigation: String::new(),
                    owner: String::new(),
                };
                let s = score(&r);
                assert_eq!(u32::from(s), u32::from(weight(p)) * u32::from(weight(i)));
                let expected = if s >= 6 {
                    High
                } else if s >= 3 {
                    Medium
                } else {
                    Low
                };
                assert_eq!(level_of(s), expected, "{p} x {i}");
            }
        }
        assert_eq!(level_of(4), Medium);
        assert_eq!(level_of(2), Low);
        assert_eq!(level_of(6), High);
    }
}
