//! How each migrated data type travels: what the translator is given, what
//! the target system is sent, and how "it landed" is decided. The shapes
//! are the adapters' exports: a rules bundle (`{"<file>": "<YAML>"}`, the
//! prometheus adapter's `alert_rules`), an `alertmanager.yml` text
//! (`routes`) and Alertmanager's API v2 silence list (`silences`).

use std::collections::BTreeMap;

use cutover_runtime::Document;
use serde::Deserialize;

/// A data type a migrate step moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Prometheus rule files.
    Rules,
    /// An Alertmanager configuration (routes, receivers, inhibitions).
    Routes,
    /// Alertmanager silences.
    Silences,
}

/// Input document names of a `routes` translation.
pub const ROUTES_OLD: &str = "old";
/// See [`ROUTES_OLD`].
pub const ROUTES_NEW: &str = "new";
/// Input document name of a `silences` translation.
pub const SILENCES_DOC: &str = "silences.json";

/// How much of what was sent is on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Landed {
    /// Items (documents, silences) found on the target as sent.
    pub agreeing: u64,
    /// Items sent.
    pub total: u64,
}

impl Landed {
    /// Everything sent is there.
    pub fn all(&self) -> bool {
        self.agreeing == self.total
    }
}

fn text(what: &str, bytes: &[u8]) -> Result<String, String> {
    String::from_utf8(bytes.to_vec()).map_err(|e| format!("{what} is not UTF-8: {e}"))
}

fn bundle(what: &str, bytes: &[u8]) -> Result<BTreeMap<String, String>, String> {
    if bytes.is_empty() {
        return Ok(BTreeMap::new());
    }
    serde_json::from_slice(bytes).map_err(|e| {
        format!("{what} is not a rules bundle (a JSON object of file name -> YAML text): {e}")
    })
}

/// The fields that make two silences the same (as the alertmanager
/// adapter's idempotent import decides), and whether it is still active.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Silence {
    matchers: Vec<SilenceMatcher>,
    ends_at: String,
    #[serde(default)]
    created_by: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    status: Option<SilenceStatus>,
}

#[derive(Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord, Clone)]
#[serde(rename_all = "camelCase")]
struct SilenceMatcher {
    name: String,
    value: String,
    #[serde(default)]
    is_regex: bool,
    #[serde(default = "yes")]
    is_equal: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
struct SilenceStatus {
    state: String,
}

type SilenceKey = (Vec<SilenceMatcher>, String, String, String);

fn silences(what: &str, bytes: &[u8]) -> Result<Vec<Silence>, String> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_slice(bytes)
        .map_err(|e| format!("{what} is not an Alertmanager silence list: {e}"))
}

fn key(s: &Silence) -> SilenceKey {
    let mut m = s.matchers.clone();
    m.sort();
    (
        m,
        s.ends_at.clone(),
        s.created_by.clone(),
        s.comment.clone(),
    )
}

fn active(s: &Silence) -> bool {
    s.status.as_ref().is_none_or(|st| st.state != "expired")
}

impl Codec {
    /// The codec of data type `t`, if cutover migrates it.
    pub fn of(t: &str) -> Option<Codec> {
        match t {
            "alert_rules" => Some(Codec::Rules),
            "routes" => Some(Codec::Routes),
            "silences" => Some(Codec::Silences),
            _ => None,
        }
    }

    /// Whether the step must read the target before translating (the
    /// translator merges into what the target has).
    pub fn needs_target_in_translation(self) -> bool {
        self == Codec::Routes
    }

    /// The translator's input documents, from the source's export and the
    /// target's current export.
    pub fn inputs(self, source: &[u8], target: &[u8]) -> Result<Vec<Document>, String> {
        Ok(match self {
            Codec::Rules => bundle("the source's alert_rules export", source)?
                .into_iter()
                .map(|(n, t)| Document::new(n, t))
                .collect(),
            Codec::Routes => vec![
                Document::new(ROUTES_OLD, text("the source's routes export", source)?),
                Document::new(ROUTES_NEW, text("the target's routes export", target)?),
            ],
            Codec::Silences => vec![Document::new(
                SILENCES_DOC,
                text("the source's silences export", source)?,
            )],
        })
    }

    /// What the target is sent, from the translator's output documents and
    /// what the target has now.
    pub fn payload(self, output: &[Document], target: &[u8]) -> Result<Vec<u8>, String> {
        match self {
            Codec::Rules => {
                let mut files = bundle("the target's alert_rules export", target)?;
                for d in output {
                    files.insert(d.name.clone(), d.text.clone());
                }
                serde_json::to_vec_pretty(&files).map_err(|e| e.to_string())
            }
            Codec::Routes | Codec::Silences => match output {
                [one] => {
                    if self == Codec::Silences {
                        silences("the translated silences", one.text.as_bytes())?;
                    }
                    Ok(one.text.clone().into_bytes())
                }
                _ => Err(format!(
                    "the translator wrote {} documents; one is expected",
                    output.len()
                )),
            },
        }
    }

    /// How much of `payload` (built from `output`) the target's export
    /// `now` holds.
    pub fn landed(self, output: &[Document], payload: &[u8], now: &[u8]) -> Result<Landed, String> {
        match self {
            Codec::Rules => {
                let files = bundle("the target's alert_rules export", now)?;
                let agreeing = output
                    .iter()
                    .filter(|d| files.get(&d.name) == Some(&d.text))
                    .count();
                Ok(Landed {
                    agreeing: agreeing as u64,
                    total: output.len() as u64,
                })
            }
            Codec::Routes => Ok(Landed {
                agreeing: u64::from(payload == now),
                total: 1,
            }),
            Codec::Silences => {
                let sent = silences("the translated silences", payload)?;
                let have: Vec<SilenceKey> = silences("the target's silences export", now)?
                    .iter()
                    .filter(|s| active(s))
                    .map(key)
                    .collect();
                let wanted: Vec<SilenceKey> = sent.iter().filter(|s| active(s)).map(key).collect();
                Ok(Landed {
                    agreeing: wanted.iter().filter(|k| have.contains(k)).count() as u64,
                    total: wanted.len() as u64,
                })
            }
        }
    }

    /// How many items the output moves (rules, silences), when the codec
    /// can count them; `None` for a configuration merge.
    pub fn moved(self, output: &[Document]) -> Option<u64> {
        match self {
            Codec::Rules => Some(
                output
                    .iter()
                    .filter_map(|d| translate_core::rules::RuleFile::parse(&d.name, &d.text).ok())
                    .map(|f| f.groups.iter().map(|g| g.rules.len() as u64).sum::<u64>())
                    .sum(),
            ),
            Codec::Silences => Some(
                output
                    .iter()
                    .filter_map(|d| silences("output", d.text.as_bytes()).ok())
                    .map(|l| l.len() as u64)
                    .sum(),
            ),
            Codec::Routes => None,
        }
    }

    /// Whether the target already holds the payload, so importing would
    /// change nothing.
    pub fn in_place(
        self,
        output: &[Document],
        payload: &[u8],
        current: &[u8],
    ) -> Result<bool, String> {
        Ok(match self {
            Codec::Rules => {
                bundle("the payload", payload)?
                    == bundle("the target's alert_rules export", current)?
            }
            Codec::Routes | Codec::Silences => self.landed(output, payload, current)?.all(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_overlay_the_target_and_land_file_by_file() {
        let target = br#"{"own.yml": "groups: []\n"}"#;
        let out = vec![Document::new("app.yml", "groups: [x]\n")];
        let payload = Codec::Rules.payload(&out, target).unwrap();
        let files: BTreeMap<String, String> = serde_json::from_slice(&payload).unwrap();
        assert_eq!(files.len(), 2, "the target's own file is kept");
        assert!(!Codec::Rules.in_place(&out, &payload, target).unwrap());
        assert!(Codec::Rules.in_place(&out, &payload, &payload).unwrap());
        let landed = Codec::Rules.landed(&out, &payload, target).unwrap();
        assert_eq!(
            landed,
            Landed {
                agreeing: 0,
                total: 1
            }
        );
        assert!(Codec::Rules.landed(&out, &payload, &payload).unwrap().all());
        assert!(Codec::Rules.inputs(b"[1]", b"").is_err());
    }

    #[test]
    fn silences_land_by_identity_and_expired_ones_do_not_count() {
        let one = r#"{"matchers":[{"name":"team","value":"web","isRegex":false}],"endsAt":"2030-01-01T00:00:00Z","createdBy":"a","comment":"c"}"#;
        let expired = r#"{"matchers":[{"name":"x","value":"y","isRegex":false}],"endsAt":"2020-01-01T00:00:00Z","createdBy":"a","comment":"old","status":{"state":"expired"}}"#;
        let payload = format!("[{one},{expired}]");
        let out = vec![Document::new(SILENCES_DOC, payload.clone())];
        let p = Codec::Silences.payload(&out, b"[]").unwrap();
        assert_eq!(
            Codec::Silences.landed(&out, &p, b"[]").unwrap(),
            Landed {
                agreeing: 0,
                total: 1
            }
        );
        let now = format!(
            r#"[{}]"#,
            one.replace(r#""createdBy""#, r#""id":"1","createdBy""#)
        );
        assert!(Codec::Silences.in_place(&out, &p, now.as_bytes()).unwrap());
        assert!(
            Codec::Silences
                .payload(&[Document::new("s", "{}")], b"")
                .is_err()
        );
    }

    #[test]
    fn routes_are_one_document_compared_as_sent() {
        let out = vec![Document::new("alertmanager.yml", "route: {}\n")];
        let p = Codec::Routes.payload(&out, b"").unwrap();
        assert!(Codec::Routes.in_place(&out, &p, b"route: {}\n").unwrap());
        assert!(
            !Codec::Routes
                .in_place(&out, &p, b"route: {receiver: x}\n")
                .unwrap()
        );
        assert!(Codec::Routes.payload(&[], b"").is_err());
        let inputs = Codec::Routes.inputs(b"old: 1", b"new: 2").unwrap();
        assert_eq!(inputs[0].name, ROUTES_OLD);
        assert_eq!(inputs[1].name, ROUTES_NEW);
    }
}
