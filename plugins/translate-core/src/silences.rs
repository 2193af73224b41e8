//! Silences: an Alertmanager silence list (the `GET /api/v2/silences`
//! answer, which is also what the alertmanager adapter exports as
//! `silences`) restricted to a selection, for the new system.
//!
//! A silence is decided from its matchers as a route is: every scoped label
//! must be fixed (by `=` or an alternation of literals) to values the
//! selection accepts. Every input silence yields exactly one [`Item`]
//! (kind `silence`):
//! - in scope: `Ok`, written (label renames applied to its matchers);
//! - out of scope: `Ok` with reason `out of scope (...)`, not written;
//! - expired (`status.state` is `expired`): `Ok`, not written (there is
//!   nothing left to mute);
//! - split by the scope (a scoped label it does not fix, a real regex, or
//!   values the scope accepts only partly): `Warning`, not written: created
//!   in the new system it could mute alerts outside the scope, so a person
//!   decides;
//! - a matcher that is not valid (bad label name or regex):
//!   `Untranslatable`, not written.
//!
//! The output is a JSON array of the written silences, each with every field
//! it was read with (ids included; the adapter's import drops them).

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::decide::{self, Decision};
use crate::scope::{MatchOp, Matcher};
use crate::{Item, ItemKind, Selection, Status, TranslateError, lex};

/// Parameters of [`restrict_silences`] (JSON, snake_case, unknown fields
/// rejected; every field optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SilencesParams {
    /// `None` (or `*`): every silence is in scope. One scope or a list.
    pub scope: Option<Selection>,
    /// Label names, old -> new, applied to the matchers of written silences.
    pub label_renames: BTreeMap<String, String>,
}

impl SilencesParams {
    /// Parses JSON params; errors name the JSON path.
    pub fn from_json(text: &str) -> Result<SilencesParams, TranslateError> {
        let p: SilencesParams = crate::params_from_json(text)?;
        for (old, new) in &p.label_renames {
            for name in [old, new] {
                if !lex::is_label_name(name) {
                    return Err(TranslateError::Params {
                        path: format!("label_renames.{old}"),
                        message: format!("{name:?} is not a valid label name"),
                    });
                }
            }
        }
        Ok(p)
    }
}

/// The written silences (a JSON array) and one item per input silence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilencesOutput {
    pub text: String,
    pub items: Vec<Item>,
}

/// A matcher as Alertmanager's API v2 writes it (shared by the silence
/// translator, the decommission action and the notifications check).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiMatcher {
    pub name: String,
    pub value: String,
    pub is_regex: bool,
    /// Absent in answers of Alertmanager before 0.22, where it meant `true`.
    #[serde(default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

impl ApiMatcher {
    /// The matcher for `name op value`.
    pub fn new(name: &str, op: MatchOp, value: &str) -> ApiMatcher {
        ApiMatcher {
            name: name.to_owned(),
            value: value.to_owned(),
            is_regex: matches!(op, MatchOp::Re | MatchOp::NotRe),
            is_equal: matches!(op, MatchOp::Eq | MatchOp::Re),
        }
    }

    /// Its operator.
    pub fn op(&self) -> MatchOp {
        match (self.is_regex, self.is_equal) {
            (false, true) => MatchOp::Eq,
            (false, false) => MatchOp::Ne,
            (true, true) => MatchOp::Re,
            (true, false) => MatchOp::NotRe,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
struct SilenceState {
    state: String,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// `createdBy` of the silences the `alertmanager-silence` action creates.
pub const DECOMMISSION_AUTHOR: &str = "cutover";
/// How the comment of such a silence starts.
pub const DECOMMISSION_COMMENT_PREFIX: &str = "cutover plan ";

/// One silence; fields not modelled are kept as they were.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct Silence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    matchers: Vec<ApiMatcher>,
    starts_at: String,
    ends_at: String,
    created_by: String,
    comment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<SilenceState>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// Restricts a silence list (JSON array text from `file`) to the params'
/// selection. A list that does not parse is an error naming the file, the
/// JSON path and the position; everything else is reported per silence.
pub fn restrict_silences(
    file: &str,
    text: &str,
    params: &SilencesParams,
) -> Result<SilencesOutput, TranslateError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let silences: Vec<Silence> = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        TranslateError::Invalid {
            file: file.to_owned(),
            message: format!(
                "at `{path}`: {inner} (expected Alertmanager's silence list, a JSON array)"
            ),
        }
    })?;
    let selection = params.scope.as_ref().filter(|s| !s.is_all());
    let mut seen_ids = HashSet::new();
    let mut written = Vec::new();
    let mut items = Vec::with_capacity(silences.len());
    for (index, mut silence) in silences.into_iter().enumerate() {
        let id = match &silence.id {
            Some(id) if !id.trim().is_empty() && seen_ids.insert(id.clone()) => id.clone(),
            _ => format!("silences[{index}]"),
        };
        let (status, reason, keep) = decide_one(&mut silence, selection, params);
        items.push(Item {
            id,
            kind: ItemKind::Silence,
            status,
            reason,
        });
        if keep {
            written.push(silence);
        }
    }
    let text = serde_json::to_string_pretty(&written)
        .map_err(|e| TranslateError::Internal(format!("writing silences: {e}")))?;
    Ok(SilencesOutput {
        text: text + "\n",
        items,
    })
}

fn shown(matchers: &[Matcher]) -> String {
    let parts: Vec<String> = matchers.iter().map(|m| m.to_string()).collect();
    format!("{{{}}}", parts.join(", "))
}

/// Status, reason and whether the silence is written.
fn decide_one(
    silence: &mut Silence,
    selection: Option<&Selection>,
    params: &SilencesParams,
) -> (Status, String, bool) {
    let mut matchers = Vec::with_capacity(silence.matchers.len());
    for (i, m) in silence.matchers.iter().enumerate() {
        if !lex::is_label_name(&m.name) {
            return (
                Status::Untranslatable,
                format!("matchers[{i}]: {:?} is not a valid label name", m.name),
                false,
            );
        }
        match Matcher::new(&m.name, m.op(), &m.value) {
            Ok(m) => matchers.push(m),
            Err(e) => return (Status::Untranslatable, format!("matchers[{i}]: {e}"), false),
        }
    }
    let what = shown(&matchers);
    // What the decommission step (`alertmanager-silence`) put on the old
    // system mutes the old system; copied, it would mute the new one.
    if silence.created_by == DECOMMISSION_AUTHOR
        && silence.comment.starts_with(DECOMMISSION_COMMENT_PREFIX)
    {
        return (
            Status::Ok,
            format!("{what}: cutover's decommission silence of the old system; not copied"),
            false,
        );
    }
    if silence
        .status
        .as_ref()
        .is_some_and(|s| s.state == "expired")
    {
        return (Status::Ok, format!("{what}: expired; not written"), false);
    }
    let mut notes = Vec::new();
    if let Some(selection) = selection {
        match selection.decide(|l| decide::fixed_by_matchers(&matchers, l, "the silence")) {
            Decision::Out(why) => {
                return (
                    Status::Ok,
                    format!("{what}: out of scope ({why}); not written"),
                    false,
                );
            }
            Decision::Undecidable(why) => {
                return (
                    Status::Warning,
                    format!(
                        "{what}: not written: the scope splits this silence ({why}); create it by hand if wanted"
                    ),
                    false,
                );
            }
            Decision::In => notes.push("in scope".to_owned()),
        }
    }
    for m in &mut silence.matchers {
        if let Some(new) = params.label_renames.get(&m.name) {
            notes.push(format!("matcher label {} -> {new}", m.name));
            m.name = new.clone();
        }
    }
    let reason = if notes.is_empty() {
        format!("{what}: written unchanged")
    } else {
        format!("{what}: {}", notes.join("; "))
    };
    (Status::Ok, reason, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Counts;

    const LIST: &str = r#"[
      {"id": "a1", "matchers": [{"name": "team", "value": "core", "isRegex": false, "isEqual": true},
                                {"name": "alertname", "value": "Disk.*", "isRegex": true}],
       "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2030-01-01T00:00:00Z",
       "createdBy": "ops", "comment": "maintenance", "status": {"state": "active"},
       "updatedAt": "2026-01-01T00:00:00Z"},
      {"id": "b2", "matchers": [{"name": "team", "value": "web", "isRegex": false}],
       "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2030-01-01T00:00:00Z",
       "createdBy": "ops", "comment": "web", "status": {"state": "active"}},
      {"id": "c3", "matchers": [{"name": "team", "value": "core|web", "isRegex": true}],
       "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2030-01-01T00:00:00Z",
       "createdBy": "ops", "comment": "both", "status": {"state": "active"}},
      {"id": "d4", "matchers": [{"name": "instance", "value": "db1", "isRegex": false}],
       "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2030-01-01T00:00:00Z",
       "createdBy": "ops", "comment": "no team", "status": {"state": "active"}},
      {"id": "e5", "matchers": [{"name": "team", "value": "core", "isRegex": false}],
       "startsAt": "2025-01-01T00:00:00Z", "endsAt": "2025-01-02T00:00:00Z",
       "createdBy": "ops", "comment": "old", "status": {"state": "expired"}},
      {"id": "f6", "matchers": [{"name": "team", "value": "(", "isRegex": true}],
       "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2030-01-01T00:00:00Z",
       "createdBy": "ops", "comment": "broken", "status": {"state": "active"}}
    ]"#;

    fn params(json: &str) -> SilencesParams {
        SilencesParams::from_json(json).expect("params")
    }

    #[test]
    fn every_silence_gets_one_item_and_only_in_scope_ones_are_written() {
        let out = restrict_silences(
            "silences.json",
            LIST,
            &params(r#"{"scope": "{team=\"core\"}", "label_renames": {"team": "owner"}}"#),
        )
        .expect("restrict");
        let got: Vec<(&str, Status)> = out
            .items
            .iter()
            .map(|i| (i.id.as_str(), i.status))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a1", Status::Ok),
                ("b2", Status::Ok),
                ("c3", Status::Warning),
                ("d4", Status::Warning),
                ("e5", Status::Ok),
                ("f6", Status::Untranslatable),
            ]
        );
        assert!(out.items.iter().all(|i| i.kind == ItemKind::Silence));
        assert_eq!(
            Counts::of(&out.items),
            Counts {
                ok: 3,
                warning: 2,
                untranslatable: 1
            }
        );
        assert!(
            out.items[1].reason.contains("out of scope"),
            "{:?}",
            out.items[1]
        );
        assert!(
            out.items[4].reason.contains("expired"),
            "{:?}",
            out.items[4]
        );
        assert!(
            out.items[0].reason.contains("team -> owner"),
            "{:?}",
            out.items[0]
        );
        let written: Vec<Value> = serde_json::from_str(&out.text).expect("json array");
        assert_eq!(written.len(), 1);
        assert_eq!(written[0]["id"], "a1");
        assert_eq!(
            written[0]["updatedAt"], "2026-01-01T00:00:00Z",
            "unknown fields kept"
        );
        assert_eq!(written[0]["status"]["state"], "active");
        assert_eq!(written[0]["matchers"][0]["name"], "owner");
        assert_eq!(written[0]["matchers"][1]["isEqual"], true);
    }

    #[test]
    fn without_a_scope_everything_live_is_written() {
        let out = restrict_silences("s", LIST, &SilencesParams::default()).expect("restrict");
        let written: Vec<Value> = serde_json::from_str(&out.text).unwrap();
        assert_eq!(written.len(), 4, "all but the expired and the broken one");
        assert_eq!(out.items.len(), 6);
    }

    #[test]
    fn the_decommission_silence_is_never_copied() {
        let list = r#"[
          {"id": "d", "matchers": [{"name": "alertname", "value": ".+", "isRegex": true, "isEqual": true}],
           "startsAt": "", "endsAt": "2999-01-01T00:00:00Z", "createdBy": "cutover",
           "comment": "cutover plan p phase decommission step silence-old run r: done",
           "status": {"state": "active"}},
          {"id": "k", "matchers": [{"name": "team", "value": "web", "isRegex": false, "isEqual": true}],
           "startsAt": "", "endsAt": "2999-01-01T00:00:00Z", "createdBy": "cutover",
           "comment": "kept: not a decommission comment", "status": {"state": "active"}}
        ]"#;
        let out = restrict_silences("s", list, &SilencesParams::default()).expect("restrict");
        assert_eq!(out.items.len(), 2);
        assert_eq!(out.items[0].status, Status::Ok);
        assert!(
            out.items[0].reason.contains("decommission"),
            "{}",
            out.items[0].reason
        );
        let written: Vec<Value> = serde_json::from_str(&out.text).unwrap();
        assert_eq!(written.len(), 1);
        assert_eq!(written[0]["id"], "k");
    }

    #[test]
    fn ids_stay_unique_when_the_input_repeats_or_lacks_them() {
        let list = r#"[
          {"id": "x", "matchers": [], "startsAt": "", "endsAt": "", "createdBy": "", "comment": ""},
          {"id": "x", "matchers": [], "startsAt": "", "endsAt": "", "createdBy": "", "comment": ""},
          {"matchers": [], "startsAt": "", "endsAt": "", "createdBy": "", "comment": ""}
        ]"#;
        let out = restrict_silences("s", list, &SilencesParams::default()).unwrap();
        let ids: Vec<&str> = out.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, vec!["x", "silences[1]", "silences[2]"]);
    }

    #[test]
    fn bad_input_and_params_are_errors_naming_where() {
        let e =
            restrict_silences("s.json", r#"[{"id": 1}]"#, &SilencesParams::default()).unwrap_err();
        assert!(
            matches!(&e, TranslateError::Invalid { file, .. } if file == "s.json"),
            "{e}"
        );
        assert!(
            e.to_string().contains("[0].id") && e.to_string().contains("line 1"),
            "{e}"
        );
        let e = SilencesParams::from_json(r#"{"scope": "{team=}"}"#).unwrap_err();
        assert!(
            matches!(&e, TranslateError::Params { path, .. } if path == "scope"),
            "{e}"
        );
        let e = SilencesParams::from_json(r#"{"renames": {}}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
        let e = SilencesParams::from_json(r#"{"label_renames": {"team": "a-b"}}"#).unwrap_err();
        assert!(e.to_string().contains("a-b"), "{e}");
    }
}
