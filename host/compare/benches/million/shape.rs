//! The shape of a real Alertmanager `GET /api/v2/alerts` answer, read from a
//! dump saved from the test fixture (`alertmanager-v2-alerts.json`, taken
//! from Alertmanager A of `FIXTURE_SCENARIO=migration`, unedited): the
//! fields of an alert and of its status in the order Alertmanager writes
//! them, the label keys most alerts carry and their values, the annotation
//! keys and receivers of each sample alert, the form of `generatorURL`, and
//! the compact size of each sample alert. The generator copies all of it,
//! so a different Alertmanager version's dump changes the generated data.

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// The saved real dump.
pub fn sample_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/million/alertmanager-v2-alerts.json")
}

/// A top-level field of an alert, in Alertmanager's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Annotations,
    EndsAt,
    Fingerprint,
    Receivers,
    StartsAt,
    Status,
    UpdatedAt,
    GeneratorUrl,
    Labels,
}

/// A field of an alert's `status`, in Alertmanager's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusField {
    InhibitedBy,
    SilencedBy,
    State,
}

/// What one sample alert contributes: its annotation keys (in order), its
/// receiver names and its compact size in bytes.
#[derive(Debug, Clone)]
pub struct Template {
    pub annotations: Vec<String>,
    pub receivers: Vec<String>,
    pub bytes: usize,
}

/// Everything the generator takes from the real dump.
#[derive(Debug, Clone)]
pub struct Shape {
    pub fields: Vec<Field>,
    pub status_fields: Vec<StatusField>,
    /// Label keys on at least half of the sample alerts, with every value seen.
    pub common_labels: BTreeMap<String, Vec<String>>,
    pub templates: Vec<Template>,
    /// `generatorURL` around the URL-encoded expression: `/graph?g0.expr=` and `&g0.tab=1`.
    pub url_before_expr: String,
    pub url_after_expr: String,
    /// Length of the silence ids in `silencedBy` (a UUID: 36).
    pub silence_id_len: usize,
}

/// One sample alert as read: typed fields and the order they came in.
struct SampleAlert {
    order: Vec<Field>,
    status_order: Vec<StatusField>,
    annotations: Vec<String>,
    receivers: Vec<String>,
    labels: BTreeMap<String, String>,
    generator_url: String,
    silenced_by: Vec<String>,
}

#[derive(Deserialize)]
struct Receiver {
    name: String,
}

/// Keys of a JSON object in document order (values ignored).
struct KeysInOrder(Vec<String>);

impl<'de> Deserialize<'de> for KeysInOrder {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeysInOrder;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<KeysInOrder, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = m.next_key::<String>()? {
                    m.next_value::<de::IgnoredAny>()?;
                    keys.push(k);
                }
                Ok(KeysInOrder(keys))
            }
        }
        d.deserialize_map(V)
    }
}

struct Status {
    order: Vec<StatusField>,
    silenced_by: Vec<String>,
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Status;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an alert status object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Status, A::Error> {
                let mut s = Status {
                    order: Vec::new(),
                    silenced_by: Vec::new(),
                };
                while let Some(k) = m.next_key::<String>()? {
                    let field = match k.as_str() {
                        "inhibitedBy" => {
                            m.next_value::<Vec<String>>()?;
                            StatusField::InhibitedBy
                        }
                        "silencedBy" => {
                            s.silenced_by = m.next_value()?;
                            StatusField::SilencedBy
                        }
                        "state" => {
                            m.next_value::<String>()?;
                            StatusField::State
                        }
                        other => {
                            return Err(de::Error::custom(format!(
                                "status field `{other}` is unknown to the bench generator"
                            )));
                        }
                    };
                    s.order.push(field);
                }
                Ok(s)
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for SampleAlert {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SampleAlert;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an Alertmanager v2 alert object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<SampleAlert, A::Error> {
                let mut a = SampleAlert {
                    order: Vec::new(),
                    status_order: Vec::new(),
                    annotations: Vec::new(),
                    receivers: Vec::new(),
                    labels: BTreeMap::new(),
                    generator_url: String::new(),
                    silenced_by: Vec::new(),
                };
                while let Some(k) = m.next_key::<String>()? {
                    let field = match k.as_str() {
                        "annotations" => {
                            a.annotations = m.next_value::<KeysInOrder>()?.0;
                            Field::Annotations
                        }
                        "receivers" => {
                            let r: Vec<Receiver> = m.next_value()?;
                            a.receivers = r.into_iter().map(|r| r.name).collect();
                            Field::Receivers
                        }
                        "status" => {
                            let s: Status = m.next_value()?;
                            a.status_order = s.order;
                            a.silenced_by = s.silenced_by;
                            Field::Status
                        }
                        "labels" => {
                            a.labels = m.next_value()?;
                            Field::Labels
                        }
                        "generatorURL" => {
                            a.generator_url = m.next_value()?;
                            Field::GeneratorUrl
                        }
                        time @ ("endsAt" | "startsAt" | "updatedAt") => {
                            m.next_value::<String>()?;
                            match time {
                                "endsAt" => Field::EndsAt,
                                "startsAt" => Field::StartsAt,
                                _ => Field::UpdatedAt,
                            }
                        }
                        "fingerprint" => {
                            m.next_value::<String>()?;
                            Field::Fingerprint
                        }
                        other => {
                            return Err(de::Error::custom(format!(
                                "alert field `{other}` is unknown to the bench generator"
                            )));
                        }
                    };
                    a.order.push(field);
                }
                Ok(a)
            }
        }
        d.deserialize_map(V)
    }
}

impl Shape {
    /// Read and check the saved real dump.
    pub fn load() -> Result<Shape, String> {
        let path = sample_path();
        let bytes = std::fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        Shape::parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(bytes: &[u8]) -> Result<Shape, String> {
        let alerts: Vec<SampleAlert> = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        // Compact size of each alert as Alertmanager wrote it.
        let sizes = element_sizes(bytes)?;
        let first = alerts.first().ok_or("the sample has no alerts")?;
        let mut common: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        let mut url = None;
        let mut silence_id_len = None;
        for (i, a) in alerts.iter().enumerate() {
            if a.order != first.order || a.status_order != first.status_order {
                return Err(format!("alert {i} has another field order than alert 0"));
            }
            for (k, v) in &a.labels {
                *seen.entry(k).or_default() += 1;
                let values = common.entry(k.clone()).or_default();
                if !values.contains(v) {
                    values.push(v.clone());
                }
            }
            if url.is_none() {
                url = split_url(&a.generator_url);
            }
            if let Some(id) = a.silenced_by.first() {
                silence_id_len = Some(id.len());
            }
        }
        common.retain(|k, _| seen[k.as_str()] * 2 >= alerts.len());
        let (url_before_expr, url_after_expr) =
            url.ok_or("no generatorURL of the form <origin><path>?g0.expr=<expr>&...")?;
        let templates = alerts
            .iter()
            .zip(sizes)
            .map(|(a, bytes)| Template {
                annotations: a.annotations.clone(),
                receivers: a.receivers.clone(),
                bytes,
            })
            .collect();
        Ok(Shape {
            fields: first.order.clone(),
            status_fields: first.status_order.clone(),
            common_labels: common,
            templates,
            url_before_expr,
            url_after_expr,
            silence_id_len: silence_id_len.ok_or("no silenced alert in the sample")?,
        })
    }

    /// Mean compact size of the sample alerts.
    pub fn mean_bytes(&self) -> f64 {
        self.templates.iter().map(|t| t.bytes as f64).sum::<f64>() / self.templates.len() as f64
    }
}

/// `http://host:port/graph?g0.expr=E&g0.tab=1` -> (`/graph?g0.expr=`, `&g0.tab=1`).
fn split_url(url: &str) -> Option<(String, String)> {
    let path = url.find("://").map(|i| i + 3)?;
    let path = path + url[path..].find('/')?;
    let expr = url.find("g0.expr=")? + "g0.expr=".len();
    let after = url[expr..].find('&').map_or(url.len(), |i| expr + i);
    Some((url[path..expr].to_string(), url[after..].to_string()))
}

/// Byte length of each top-level element of a JSON array, re-serialised
/// compactly (Alertmanager's own output is compact, so these are its sizes).
fn element_sizes(bytes: &[u8]) -> Result<Vec<usize>, String> {
    let values: Vec<serde_json::Value> =
        serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    values
        .iter()
        .map(|v| {
            serde_json::to_vec(v)
                .map(|b| b.len())
                .map_err(|e| e.to_string())
        })
        .collect()
}
