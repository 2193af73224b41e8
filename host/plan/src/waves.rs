//! What wave phases share with readers that do not load the whole plan
//! (`cutover status` reads the plan's outline): the ids of a wave step's
//! instances and how a services file is read.

use crate::model::{Plan, StepKind};

/// The id of `step`'s instance for waves `first..=last`.
pub fn instance_id(step: &str, first: u32, last: u32) -> String {
    if first == last {
        format!("{step}.w{first}")
    } else {
        format!("{step}.w{first}-{last}")
    }
}

/// Whether a step of this kind runs once per batch in a wave phase.
pub fn is_wave_kind(kind: StepKind) -> bool {
    matches!(kind, StepKind::Migrate | StepKind::ParallelRun)
}

/// The values a services file lists, with their 1-based line numbers:
/// one per line, blank lines and `#` comments skipped.
pub fn listed_values(text: &str) -> impl Iterator<Item = (&str, usize)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (l.split('#').next().unwrap_or("").trim(), i + 1))
        .filter(|(l, _)| !l.is_empty())
}

/// The batches of `values` services in waves of `size`, `max_parallel` at
/// once: each batch's range of values and its first and last wave (1-based).
pub fn batches(
    values: usize,
    size: u32,
    max_parallel: u32,
) -> impl Iterator<Item = (std::ops::Range<usize>, u32, u32)> {
    let (size, max_parallel) = (size.max(1), max_parallel.max(1));
    let per_batch = (size as usize).saturating_mul(max_parallel as usize);
    (0..values.div_ceil(per_batch)).map(move |b| {
        let start = b * per_batch;
        let end = (start + per_batch).min(values);
        let first_wave = u32::try_from(b)
            .unwrap_or(u32::MAX)
            .saturating_mul(max_parallel)
            + 1;
        let waves = u32::try_from((end - start).div_ceil(size as usize)).unwrap_or(1);
        (start..end, first_wave, first_wave + waves - 1)
    })
}

/// The step ids of a wave phase whose steps are `steps` (`(id, kind)` in
/// plan order), for `values` services in waves of `size`, `max_parallel`
/// at once: the wave steps repeated per batch, in place.
pub fn expanded_ids(
    steps: &[(String, StepKind)],
    values: usize,
    size: u32,
    max_parallel: u32,
) -> Vec<String> {
    let (size, max_parallel) = (size.max(1), max_parallel.max(1));
    let body: Vec<usize> = (0..steps.len())
        .filter(|&i| is_wave_kind(steps[i].1))
        .collect();
    let (Some(&first), Some(&last)) = (body.first(), body.last()) else {
        return steps.iter().map(|(id, _)| id.clone()).collect();
    };
    let mut out: Vec<String> = steps[..first].iter().map(|(id, _)| id.clone()).collect();
    for (_, first_wave, last_wave) in batches(values, size, max_parallel) {
        for (id, _) in &steps[first..=last] {
            out.push(instance_id(id, first_wave, last_wave));
        }
    }
    out.extend(steps[last + 1..].iter().map(|(id, _)| id.clone()));
    out
}

/// `waves 9-16 of 40 (2000 services: svc-1 ... svc-2000)` for a wave
/// instance; `None` for any other step.
pub fn wave_text(plan: &Plan, step_id: &str) -> Option<String> {
    let (w, b, _) = plan.wave_of(step_id)?;
    let vals = w.values_of(b);
    let waves = if b.first_wave == b.last_wave {
        format!("wave {}", b.first_wave)
    } else {
        format!("waves {}-{}", b.first_wave, b.last_wave)
    };
    let names = match vals {
        [one] => one.clone(),
        [a, b] => format!("{a}, {b}"),
        [a, .., z] => format!("{a} ... {z}"),
        [] => String::new(),
    };
    Some(format!(
        "{waves} of {} ({} {}{}: {names})",
        w.waves(),
        b.services,
        w.label,
        if b.services == 1 { "" } else { " values" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_ids_name_the_waves() {
        assert_eq!(instance_id("move", 1, 4), "move.w1-4");
        assert_eq!(instance_id("move", 9, 9), "move.w9");
    }

    #[test]
    fn expanded_ids_repeat_the_wave_steps_per_batch() {
        let steps = vec![
            ("pre".to_string(), StepKind::Notify),
            ("m".to_string(), StepKind::Migrate),
            ("c".to_string(), StepKind::ParallelRun),
            ("post".to_string(), StepKind::Check),
        ];
        // 5 values, waves of 2, 2 at once: waves 1-2 (4 values), wave 3.
        assert_eq!(
            expanded_ids(&steps, 5, 2, 2),
            ["pre", "m.w1-2", "c.w1-2", "m.w3", "c.w3", "post"]
        );
        let comments = "# catalogue\n\na # first\n  b\n";
        assert_eq!(
            listed_values(comments).collect::<Vec<_>>(),
            [("a", 3), ("b", 4)]
        );
    }
}
