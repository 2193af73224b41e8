//! Inventory agreement between the old and the new system, per data type:
//! what `data_consistency{data_type}` measures. A parity check reports it
//! as two measurements per type, `consistency.<data_type>.agreeing` (items
//! identical on both sides) and `consistency.<data_type>.total` (items on
//! either side); a migration step computes it from what it verified.

use serde::{Deserialize, Serialize};

/// How far the old and the new system agree on one data type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consistency {
    /// `alert_rules`, `routes`, `silences`...
    pub data_type: String,
    /// Items identical on both sides.
    pub agreeing: u64,
    /// Items on either side.
    pub total: u64,
}

/// Prefix of the measurements a check reports agreement with.
pub const MEASUREMENT_PREFIX: &str = "consistency.";

impl Consistency {
    /// The agreeing share: 1 when nothing disagrees (also when there is
    /// nothing on either side), else agreeing / total.
    pub fn fraction(&self) -> f64 {
        if self.total == 0 || self.agreeing >= self.total {
            1.0
        } else {
            self.agreeing as f64 / self.total as f64
        }
    }

    /// The agreement a check reported in its measurements: every type with
    /// both an `agreeing` and a `total` measurement that are whole numbers
    /// from 0 up (anything else is ignored, never guessed).
    pub fn from_measurements<'a>(
        measurements: impl IntoIterator<Item = (&'a str, f64)>,
    ) -> Vec<Consistency> {
        let mut parts: std::collections::BTreeMap<&str, (Option<u64>, Option<u64>)> =
            Default::default();
        for (name, value) in measurements {
            let Some(rest) = name.strip_prefix(MEASUREMENT_PREFIX) else {
                continue;
            };
            let Some((data_type, field)) = rest.rsplit_once('.') else {
                continue;
            };
            if data_type.is_empty() || !(value >= 0.0 && value.fract() == 0.0 && value < 1e15) {
                continue;
            }
            let entry = parts.entry(data_type).or_default();
            match field {
                "agreeing" => entry.0 = Some(value as u64),
                "total" => entry.1 = Some(value as u64),
                _ => {}
            }
        }
        parts
            .into_iter()
            .filter_map(|(data_type, (agreeing, total))| {
                Some(Consistency {
                    data_type: data_type.to_string(),
                    agreeing: agreeing?.min(total?),
                    total: total?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pairs_of_measurements_and_ignores_the_rest() {
        let got = Consistency::from_measurements([
            ("consistency.alert_rules.agreeing", 9.0),
            ("consistency.alert_rules.total", 10.0),
            ("consistency.silences.total", 3.0), // no agreeing: ignored
            ("consistency.routes.agreeing", 1.5), // not a count
            ("consistency.routes.total", 2.0),
            ("removed", 1.0),
        ]);
        assert_eq!(
            got,
            vec![Consistency {
                data_type: "alert_rules".into(),
                agreeing: 9,
                total: 10
            }]
        );
        assert!((got[0].fraction() - 0.9).abs() < 1e-9);
    }

    #[test]
    fn nothing_on_either_side_agrees() {
        let c = Consistency {
            data_type: "silences".into(),
            agreeing: 0,
            total: 0,
        };
        assert_eq!(c.fraction(), 1.0);
    }
}
