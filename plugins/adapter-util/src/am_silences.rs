//! Alertmanager silences (API v2): the export (`GET /api/v2/silences`), an
//! idempotent import that creates only the silences not already live, and
//! the rollback to a captured set (create what is missing, expire what was
//! created since). Shared by the `alertmanager` adapter and the
//! `prometheus` adapter (for its stack's Alertmanager).
//!
//! The pure part ([`validate`], [`plan_restore`], [`plan_rollback`]) takes
//! the JSON texts; [`export`], [`import`] and [`rollback`] drive a [`Client`].

use cutover_plugin_sdk::http::HttpMethod;
use cutover_plugin_sdk::{
    DataSink, DataSource, ExportInfo, Outcome, PluginError, failed, invalid_input, log, unavailable,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use translate_core::time::now_ms;

use crate::client::{Client, describe, ok_text};
use crate::data::{read_text, write_all};
use crate::rfc3339::parse_millis;

/// The collection endpoint.
pub const SILENCES_PATH: &str = "/api/v2/silences";

/// A matcher of a silence, in Alertmanager's API v2 shape.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct Matcher {
    name: String,
    value: String,
    is_regex: bool,
    #[serde(default = "yes")]
    is_equal: bool,
}

fn yes() -> bool {
    true
}

/// The fields that make two silences "the same" for an idempotent restore.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    matchers: Vec<Matcher>,
    ends_at: i64,
    created_by: String,
    comment: String,
}

/// What restoring a backup would do.
#[derive(Debug, Default, PartialEq)]
pub struct RestorePlan {
    /// JSON bodies to POST to `/api/v2/silences` (ids dropped).
    pub to_create: Vec<String>,
    /// Silences in the backup that have expired (or end before `now`).
    pub expired: usize,
    /// Silences already present (same matchers, end, author and comment).
    pub present: usize,
}

fn parse_array(what: &str, text: &str) -> Result<Vec<Map<String, Value>>, String> {
    cutover_plugin_sdk::decode_json(what, text)
}

fn field<'a>(
    what: &str,
    i: usize,
    s: &'a Map<String, Value>,
    key: &str,
) -> Result<&'a str, String> {
    s.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{what}: at `[{i}].{key}`: missing or not a string"))
}

fn identity(what: &str, i: usize, s: &Map<String, Value>) -> Result<Identity, String> {
    let mut matchers: Vec<Matcher> =
        serde_json::from_value(s.get("matchers").cloned().unwrap_or(Value::Null))
            .map_err(|e| format!("{what}: at `[{i}].matchers`: {e}"))?;
    matchers.sort();
    let ends_at = parse_millis(field(what, i, s, "endsAt")?)
        .map_err(|e| format!("{what}: at `[{i}].endsAt`: {e}"))?;
    Ok(Identity {
        matchers,
        ends_at,
        created_by: field(what, i, s, "createdBy")?.to_owned(),
        comment: field(what, i, s, "comment")?.to_owned(),
    })
}

fn expired(s: &Map<String, Value>, ends_at: i64, now_ms: i64) -> bool {
    let state = s
        .get("status")
        .and_then(|st| st.get("state"))
        .and_then(Value::as_str);
    state == Some("expired") || ends_at <= now_ms
}

/// Validates a silences backup and returns how many silences it holds.
pub fn validate(text: &str) -> Result<usize, String> {
    let all = parse_array("silences backup", text)?;
    for (i, s) in all.iter().enumerate() {
        identity("silences backup", i, s)?;
    }
    Ok(all.len())
}

/// Plans the restore of `backup` onto a system whose current silences are
/// `current` (both `GET /api/v2/silences` answers), at `now_ms`.
pub fn plan_restore(backup: &str, current: &str, now_ms: i64) -> Result<RestorePlan, String> {
    let wanted = parse_array("silences backup", backup)?;
    let existing = parse_array("current silences", current)?;
    let mut live = Vec::new();
    for (i, s) in existing.iter().enumerate() {
        let id = identity("current silences", i, s)?;
        if !expired(s, id.ends_at, now_ms) {
            live.push(id);
        }
    }
    let mut plan = RestorePlan::default();
    for (i, s) in wanted.iter().enumerate() {
        let id = identity("silences backup", i, s)?;
        if expired(s, id.ends_at, now_ms) {
            plan.expired += 1;
            continue;
        }
        if live.contains(&id) {
            plan.present += 1;
            continue;
        }
        let mut body = Map::new();
        for key in ["matchers", "startsAt", "endsAt", "createdBy", "comment"] {
            if let Some(v) = s.get(key) {
                body.insert(key.to_owned(), v.clone());
            }
        }
        plan.to_create.push(Value::Object(body).to_string());
        live.push(id);
    }
    Ok(plan)
}

/// What rolling back to a captured set of silences does: create what is
/// missing (as [`plan_restore`]) and expire every live silence the capture
/// does not hold (created after it), so the live set equals the capture.
#[derive(Debug, Default, PartialEq)]
pub struct RollbackPlan {
    /// Silences to create, as for a restore.
    pub restore: RestorePlan,
    /// Ids of live silences to expire.
    pub to_expire: Vec<String>,
}

/// Plans the rollback of the silences of a system (`current`) to a captured
/// set (`point`), both `GET /api/v2/silences` answers, at `now_ms`.
pub fn plan_rollback(point: &str, current: &str, now_ms: i64) -> Result<RollbackPlan, String> {
    let restore = plan_restore(point, current, now_ms)?;
    let mut wanted = Vec::new();
    for (i, s) in parse_array("silences backup", point)?.iter().enumerate() {
        let id = identity("silences backup", i, s)?;
        if !expired(s, id.ends_at, now_ms) {
            wanted.push(id);
        }
    }
    let mut to_expire = Vec::new();
    for (i, s) in parse_array("current silences", current)?.iter().enumerate() {
        let id = identity("current silences", i, s)?;
        if expired(s, id.ends_at, now_ms) || wanted.contains(&id) {
            continue;
        }
        to_expire.push(field("current silences", i, s, "id")?.to_owned());
    }
    Ok(RollbackPlan { restore, to_expire })
}

/// Exports the live silences: the `GET /api/v2/silences` answer as is,
/// after checking it is a silence list.
pub fn export(am: &Client, sink: &DataSink) -> Result<ExportInfo, PluginError> {
    let body = am.get_ok(SILENCES_PATH)?;
    let n =
        validate(&body).map_err(|e| unavailable(format!("GET {}: {e}", am.url(SILENCES_PATH))))?;
    write_all(sink, body.as_bytes(), "the silences export")?;
    log::info(format!("exported {n} silences"));
    Ok(ExportInfo {
        content_type: "application/json".to_owned(),
        metadata: vec![("count".into(), n.to_string())],
    })
}

/// POSTs each planned silence; an error names which one and how many were
/// created before it.
fn create_all(am: &Client, bodies: Vec<String>, report_progress: bool) -> Result<(), PluginError> {
    let total = bodies.len();
    for (i, body) in bodies.into_iter().enumerate() {
        am.post_json_ok(SILENCES_PATH, body).map_err(|e| {
            failed(format!(
                "silence {} of {total} not created ({i} created before it): {}",
                i + 1,
                describe(&e)
            ))
        })?;
        if report_progress {
            cutover_plugin_sdk::progress(i as u64 + 1, total as u64, "silences created");
        }
    }
    Ok(())
}

/// Imports a silence list (a `GET /api/v2/silences` answer, or the same
/// shape without ids): creates the live silences not already present
/// (same matchers, end, author and comment), skips expired ones. Importing
/// the same list twice creates nothing the second time.
pub fn import(am: &Client, source: &DataSource) -> Result<Outcome, PluginError> {
    let backup = read_text(source, "the silences import")?;
    validate(&backup).map_err(invalid_input)?;
    let current = am.get_ok(SILENCES_PATH)?;
    let plan = plan_restore(&backup, &current, now_ms()).map_err(invalid_input)?;
    let total = plan.to_create.len();
    create_all(am, plan.to_create, true)?;
    log::info(format!(
        "silences: {total} created, {} already present, {} expired skipped",
        plan.present, plan.expired
    ));
    Ok(Outcome {
        summary: format!("{total} silences created"),
        details: vec![
            ("created".into(), total.to_string()),
            ("already_present".into(), plan.present.to_string()),
            ("expired_skipped".into(), plan.expired.to_string()),
        ],
    })
}

/// `restore-state silences`: the live set becomes the captured one. Missing
/// silences are created (new ids), silences created since the capture are
/// expired (`DELETE /api/v2/silence/{id}`).
pub fn rollback(am: &Client, source: &DataSource) -> Result<Outcome, PluginError> {
    let point = read_text(source, "the silences capture")?;
    validate(&point).map_err(invalid_input)?;
    let current = am.get_ok(SILENCES_PATH)?;
    let plan = plan_rollback(&point, &current, now_ms()).map_err(invalid_input)?;
    let created = plan.restore.to_create.len();
    create_all(am, plan.restore.to_create, false)?;
    for (i, id) in plan.to_expire.iter().enumerate() {
        let path = format!("/api/v2/silence/{id}");
        let r = am.send(HttpMethod::DELETE, &path, None)?;
        ok_text(&am.url(&path), "DELETE", r).map_err(|e| {
            failed(format!(
                "silence {id} not expired ({created} created, {i} expired before it): {}",
                describe(&e)
            ))
        })?;
    }
    log::info(format!(
        "silences rolled back: {created} created, {} expired, {} already present",
        plan.to_expire.len(),
        plan.restore.present
    ));
    Ok(Outcome {
        summary: format!(
            "silences rolled back: {created} created, {} expired",
            plan.to_expire.len()
        ),
        details: vec![
            ("created".into(), created.to_string()),
            ("expired".into(), plan.to_expire.len().to_string()),
            ("already_present".into(), plan.restore.present.to_string()),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn silence(id: &str, state: &str, ends: &str, comment: &str) -> String {
        format!(
            r#"{{"id":"{id}","status":{{"state":"{state}"}},"updatedAt":"2026-01-01T00:00:00Z",
               "comment":"{comment}","createdBy":"ops","endsAt":"{ends}","startsAt":"2026-01-01T00:00:00Z",
               "matchers":[{{"isEqual":true,"isRegex":false,"name":"alertname","value":"Watchdog"}},
                           {{"isRegex":false,"name":"b","value":"1"}}]}}"#
        )
    }

    const NOW: i64 = 1_800_000_000_000; // 2027-01-15

    #[test]
    fn drops_ids_skips_expired_and_present() {
        let backup = format!(
            "[{},{},{},{}]",
            silence("a", "active", "2030-01-01T00:00:00Z", "keep"),
            silence("b", "expired", "2030-01-01T00:00:00Z", "old"),
            silence("c", "active", "2020-01-01T00:00:00Z", "ended"),
            silence("d", "active", "2030-01-01T00:00:00Z", "there"),
        );
        // Same silence as "d", different id and a normalised time format.
        let current = format!(
            "[{}]",
            silence("x", "active", "2030-01-01T00:00:00.000Z", "there")
        );
        let plan = plan_restore(&backup, &current, NOW).unwrap();
        assert_eq!(plan.expired, 2);
        assert_eq!(plan.present, 1);
        assert_eq!(plan.to_create.len(), 1);
        let body: Value = serde_json::from_str(&plan.to_create[0]).unwrap();
        assert!(body.get("id").is_none() && body.get("status").is_none());
        assert_eq!(body["comment"], "keep");
        assert_eq!(body["matchers"][0]["name"], "alertname");
        assert_eq!(validate(&backup).unwrap(), 4);
    }

    #[test]
    fn restoring_twice_creates_nothing_new() {
        let backup = format!("[{}]", silence("a", "active", "2030-01-01T00:00:00Z", "k"));
        let first = plan_restore(&backup, "[]", NOW).unwrap();
        assert_eq!(first.to_create.len(), 1);
        let again = plan_restore(&backup, &backup, NOW).unwrap();
        assert!(again.to_create.is_empty());
        assert_eq!(again.present, 1);
        // An expired current silence does not count as present.
        let gone = format!("[{}]", silence("a", "expired", "2030-01-01T00:00:00Z", "k"));
        assert_eq!(
            plan_restore(&backup, &gone, NOW).unwrap().to_create.len(),
            1
        );
    }

    #[test]
    fn duplicates_in_one_import_are_created_once() {
        let one = silence("a", "active", "2030-01-01T00:00:00Z", "k");
        let twice = format!("[{one},{}]", one.replace("\"a\"", "\"b\""));
        let plan = plan_restore(&twice, "[]", NOW).unwrap();
        assert_eq!((plan.to_create.len(), plan.present), (1, 1));
    }

    #[test]
    fn import_without_ids_or_status_is_accepted() {
        // What a translator writes: no id, no status; matcher order differs
        // from the live copy's.
        let sent = r#"[{"comment":"c","createdBy":"ops","endsAt":"2030-01-01T00:00:00Z",
            "startsAt":"2026-01-01T00:00:00Z",
            "matchers":[{"isRegex":false,"name":"b","value":"1"},
                        {"isRegex":false,"isEqual":true,"name":"alertname","value":"Watchdog"}]}]"#;
        assert_eq!(validate(sent).unwrap(), 1);
        let live = format!("[{}]", silence("x", "active", "2030-01-01T00:00:00Z", "c"));
        let plan = plan_restore(sent, &live, NOW).unwrap();
        assert!(plan.to_create.is_empty(), "{plan:?}");
        assert_eq!(plan.present, 1);
    }

    #[test]
    fn rollback_expires_what_the_capture_does_not_hold() {
        let point = format!(
            "[{},{}]",
            silence("a", "active", "2030-01-01T00:00:00Z", "kept"),
            silence("b", "active", "2030-01-01T00:00:00Z", "deleted since"),
        );
        let current = format!(
            "[{},{},{}]",
            silence("x", "active", "2030-01-01T00:00:00.000Z", "kept"),
            silence("y", "active", "2030-01-01T00:00:00Z", "added since"),
            silence("z", "expired", "2030-01-01T00:00:00Z", "long gone"),
        );
        let plan = plan_rollback(&point, &current, NOW).unwrap();
        assert_eq!(plan.to_expire, ["y"]);
        assert_eq!(plan.restore.present, 1);
        assert_eq!(plan.restore.to_create.len(), 1);
        let body: Value = serde_json::from_str(&plan.restore.to_create[0]).unwrap();
        assert_eq!(body["comment"], "deleted since");
        // Rolling back to what is live changes nothing.
        let same = plan_rollback(&current, &current, NOW).unwrap();
        assert!(same.to_expire.is_empty() && same.restore.to_create.is_empty());
        // Rolling back to an empty capture expires every live silence.
        let empty = plan_rollback("[]", &current, NOW).unwrap();
        assert_eq!(empty.to_expire, ["x", "y"]);
    }

    #[test]
    fn live_silence_without_id_cannot_be_expired() {
        let live =
            r#"[{"comment":"c","createdBy":"ops","endsAt":"2030-01-01T00:00:00Z","matchers":[]}]"#;
        let err = plan_rollback("[]", live, NOW).unwrap_err();
        assert!(err.contains("current silences: at `[0].id`"), "{err}");
    }

    #[test]
    fn bad_backups_name_the_place() {
        let err = validate(r#"[{"matchers":[],"endsAt":"soon","createdBy":"a","comment":"c"}]"#)
            .unwrap_err();
        assert!(err.contains("[0].endsAt"), "{err}");
        let err = validate(r#"{"not":"an array"}"#).unwrap_err();
        assert!(
            err.contains("silences backup") && err.contains("line 1"),
            "{err}"
        );
        let err =
            validate(r#"[{"matchers":[{"name":1}],"endsAt":"x","createdBy":"a","comment":"c"}]"#)
                .unwrap_err();
        assert!(err.contains("[0].matchers"), "{err}");
        let err = validate(r#"[{"matchers":[],"endsAt":"2030-01-01T00:00:00Z","comment":"c"}]"#)
            .unwrap_err();
        assert!(err.contains("[0].createdBy"), "{err}");
        let err = plan_restore("[]", "not json", NOW).unwrap_err();
        assert!(err.contains("current silences: line 1"), "{err}");
    }
}
