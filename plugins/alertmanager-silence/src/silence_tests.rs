use super::*;
use crate::testing::{NOW, origin};
use serde_json::Value;

fn scope(text: &str) -> Scope {
    Scope::parse(text).unwrap()
}

fn m(name: &str, value: &str, is_regex: bool, is_equal: bool) -> ApiMatcher {
    ApiMatcher {
        name: name.into(),
        value: value.into(),
        is_regex,
        is_equal,
    }
}

#[test]
fn matchers_follow_the_scope() {
    let ms = matchers(&scope(
        r#"{team="core", service=~"checkout|cart", env!="dev", region!~"eu-.*"}"#,
    ));
    assert_eq!(
        ms,
        [
            m("team", "core", false, true),
            m("service", "checkout|cart", true, true),
            m("env", "dev", false, false),
            m("region", "eu-.*", true, false),
        ]
    );
    assert_eq!(
        matchers_text(&ms),
        r#"{team="core", service=~"checkout|cart", env!="dev", region!~"eu-.*"}"#
    );
    assert_eq!(matchers(&scope("*")), [m("alertname", ".+", true, true)]);
}

#[test]
fn scopes_alertmanager_refuses() {
    assert!(refused_by_alertmanager(&scope("*")).is_none());
    assert!(refused_by_alertmanager(&scope(r#"{team="core"}"#)).is_none());
    assert!(refused_by_alertmanager(&scope(r#"{team!="core", x=~".+"}"#)).is_none());
    for s in [r#"{team!="core"}"#, r#"{team=~".*"}"#, r#"{team=""}"#] {
        let why = refused_by_alertmanager(&scope(s)).unwrap();
        assert!(why.contains("matches the empty string"), "{s}: {why}");
    }
}

#[test]
fn comment_and_body() {
    let o = origin();
    assert_eq!(
        o.comment("r1", "bye"),
        "cutover plan migration phase decommission step silence-old run r1: bye"
    );
    assert!(o.comment("r1", "bye").starts_with(&o.run_prefix("r1")));
    assert!(!o.comment("r12", "bye").starts_with(&o.run_prefix("r1")));
    assert!(o.comment("r12", "bye").starts_with(&o.step_prefix()));
    // The silences translator recognises (and never copies) these.
    assert!(
        o.step_prefix()
            .starts_with(translate_core::silences::DECOMMISSION_COMMENT_PREFIX)
    );
    let b: Value = serde_json::from_str(&body(
        &[m("team", "core", false, true)],
        "2027-01-15T08:00:00.000Z",
        "2027-02-14T08:00:00.000Z",
        "c",
    ))
    .unwrap();
    assert_eq!(
        b,
        serde_json::json!({
            "matchers": [{"name": "team", "value": "core", "isRegex": false, "isEqual": true}],
            "startsAt": "2027-01-15T08:00:00.000Z",
            "endsAt": "2027-02-14T08:00:00.000Z",
            "createdBy": "cutover",
            "comment": "c",
        })
    );
    assert_eq!(created_id(r#"{"silenceID":"abc-1"}"#), Ok("abc-1".into()));
    assert!(created_id("{}").unwrap_err().contains("silenceID"));
}

/// A `GET /api/v2/silences` entry.
fn entry(id: &str, state: &str, by: &str, comment: &str, matchers: &str) -> String {
    format!(
        r#"{{"id":"{id}","status":{{"state":"{state}"}},"createdBy":"{by}","comment":"{comment}",
            "startsAt":"2027-01-01T00:00:00Z","endsAt":"2027-03-01T00:00:00Z",
            "updatedAt":"2027-01-01T00:00:00Z","matchers":{matchers}}}"#
    )
}

const CORE: &str = r#"[{"name":"team","value":"core","isRegex":false,"isEqual":true}]"#;
/// The same matcher without `isEqual` (Alertmanager before 0.22).
const CORE_OLD: &str = r#"[{"name":"team","value":"core","isRegex":false}]"#;
const INFRA: &str = r#"[{"name":"team","value":"infra","isRegex":false,"isEqual":true}]"#;

fn list(entries: &[String]) -> Vec<Silence> {
    parse_list(&format!("[{}]", entries.join(","))).unwrap()
}

#[test]
fn idempotency_needs_same_run_matchers_author_and_activity() {
    let o = origin();
    let ms = matchers(&scope(r#"{team="core"}"#));
    let mine = o.comment("r1", "bye");
    let other_run = o.comment("r2", "bye");
    let l = list(&[
        entry("a", "active", "cutover", &other_run, CORE),
        entry("b", "expired", "cutover", &mine, CORE),
        entry("c", "active", "cutover", &mine, INFRA),
        entry("d", "active", "ops", &mine, CORE),
    ]);
    assert!(existing(&l, &ms, &o, "r1", NOW).is_none());
    let l = list(&[
        entry("a", "active", "cutover", &other_run, CORE),
        entry(
            "e",
            "active",
            "cutover",
            &o.comment("r1", "other text"),
            CORE_OLD,
        ),
    ]);
    assert_eq!(
        existing(&l, &ms, &o, "r1", NOW).map(|s| s.id.as_str()),
        Some("e")
    );
    // A pending silence is not active yet.
    let l = list(&[entry("p", "pending", "cutover", &mine, CORE)]);
    assert!(existing(&l, &ms, &o, "r1", NOW).is_none());
}

#[test]
fn undo_selects_this_step_any_run_not_expired() {
    let o = origin();
    let ms = matchers(&scope(r#"{team="core"}"#));
    let other_step = Origin {
        step: "silence-older".into(),
        ..origin()
    };
    let l = list(&[
        entry("a", "active", "cutover", &o.comment("r1", "x"), CORE),
        entry("b", "pending", "cutover", &o.comment("r2", "y"), CORE_OLD),
        entry("c", "expired", "cutover", &o.comment("r1", "x"), CORE),
        entry("d", "active", "cutover", &o.comment("r1", "x"), INFRA),
        entry("e", "active", "ops", &o.comment("r1", "x"), CORE),
        entry(
            "f",
            "active",
            "cutover",
            &other_step.comment("r1", "x"),
            CORE,
        ),
        entry(
            "g",
            "active",
            "cutover",
            "cutover plan migration phase decommission",
            CORE,
        ),
    ]);
    let ids: Vec<&str> = to_undo(&l, &ms, &o, NOW)
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(ids, ["a", "b"]);
}

#[test]
fn state_without_status_comes_from_the_times() {
    let text = |starts: &str, ends: &str| {
        format!(r#"[{{"id":"x","matchers":[],"startsAt":"{starts}","endsAt":"{ends}"}}]"#)
    };
    let state = |starts, ends| parse_list(&text(starts, ends)).unwrap()[0].state(NOW);
    assert_eq!(
        state("2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z"),
        State::Active
    );
    assert_eq!(
        state("2027-01-20T00:00:00Z", "2027-02-01T00:00:00Z"),
        State::Pending
    );
    assert_eq!(
        state("2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z"),
        State::Expired
    );
    assert_eq!(state("2027-01-01T00:00:00Z", "garbage"), State::Expired);
}

#[test]
fn bad_lists_name_the_place() {
    let err = parse_list(r#"[{"id":"a","matchers":[{"name":1}],"endsAt":"x"}]"#).unwrap_err();
    assert!(err.contains("[0].matchers[0].name"), "{err}");
    let err = parse_list(r#"{"silences":[]}"#).unwrap_err();
    assert!(err.contains("line 1"), "{err}");
    let err = parse_list(r#"[{"matchers":[],"endsAt":"x"}]"#).unwrap_err();
    assert!(err.contains("missing field `id`"), "{err}");
}

#[test]
fn ids_that_go_into_a_path() {
    assert!(safe_id("6f2a3c1e-91b0-4c4e-9a55-0c1b2d3e4f50"));
    for bad in ["", "../silences", "a/b", "a?b", "a b"] {
        assert!(!safe_id(bad), "{bad}");
    }
}
