//! The silence list Alertmanager answers and whether its active silences
//! mute a label set, with Alertmanager's semantics: every matcher of a
//! silence must match; regular expressions are anchored (`^(?:re)$`); a
//! label the alert lacks reads as `""`.

use cutover_adapter_util::rfc3339::parse_millis;
use serde::Deserialize;
use translate_core::scope::Matcher;
use translate_core::silences::ApiMatcher;

use crate::probe::Labels;

#[derive(Debug, Clone, Deserialize)]
struct Status {
    state: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSilence {
    id: String,
    matchers: Vec<ApiMatcher>,
    #[serde(default)]
    starts_at: Option<String>,
    #[serde(default)]
    ends_at: Option<String>,
    #[serde(default)]
    status: Option<Status>,
}

/// An active silence with its matchers compiled.
#[derive(Debug, Clone)]
pub struct Active {
    pub id: String,
    matchers: Vec<Matcher>,
}

impl Active {
    /// Whether the silence mutes an alert with these labels.
    pub fn mutes(&self, labels: &Labels) -> bool {
        self.matchers
            .iter()
            .all(|m| m.matches_value(labels.get(&m.name).map_or("", String::as_str)))
    }
}

/// What a silence list holds.
#[derive(Debug, Default)]
pub struct Silences {
    /// The active silences that can be judged.
    pub active: Vec<Active>,
    /// Active silences left out, with why (no matchers, a regex that does
    /// not compile).
    pub skipped: Vec<String>,
}

/// `status.state`, or from `startsAt`/`endsAt` when the answer has none.
fn is_active(s: &RawSilence, now_ms: i64) -> bool {
    if let Some(st) = &s.status {
        return st.state == "active";
    }
    let time = |t: &Option<String>, missing| {
        t.as_deref()
            .map_or(Ok(missing), parse_millis)
            .unwrap_or(i64::MIN)
    };
    time(&s.starts_at, i64::MIN) <= now_ms && now_ms < time(&s.ends_at, i64::MAX)
}

fn compile(s: &RawSilence) -> Result<Active, String> {
    if s.matchers.is_empty() {
        return Err(format!("silence {} has no matchers", s.id));
    }
    let matchers = s
        .matchers
        .iter()
        .map(|m| {
            Matcher::new(&m.name, m.op(), &m.value).map_err(|e| format!("silence {}: {e}", s.id))
        })
        .collect::<Result<_, _>>()?;
    Ok(Active {
        id: s.id.clone(),
        matchers,
    })
}

/// Parses a `GET /api/v2/silences` answer and keeps the active silences;
/// errors name line, column and JSON path.
pub fn parse(text: &str, now_ms: i64) -> Result<Silences, String> {
    let all: Vec<RawSilence> = cutover_plugin_sdk::decode_json("silence list", text)?;
    let mut out = Silences::default();
    for s in all.iter().filter(|s| is_active(s, now_ms)) {
        match compile(s) {
            Ok(a) => out.active.push(a),
            Err(why) => out.skipped.push(why),
        }
    }
    Ok(out)
}

/// For each probe, the ids of the active silences that mute it.
pub fn muting<'a>(silences: &'a Silences, probes: &[Labels]) -> Vec<Vec<&'a str>> {
    probes
        .iter()
        .map(|p| {
            silences
                .active
                .iter()
                .filter(|s| s.mutes(p))
                .map(|s| s.id.as_str())
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000; // 2027-01-15T08:00:00Z

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn silence(id: &str, state: &str, matchers: &str) -> String {
        format!(
            r#"{{"id":"{id}","status":{{"state":"{state}"}},"createdBy":"cutover","comment":"c",
                "startsAt":"2027-01-01T00:00:00Z","endsAt":"2027-03-01T00:00:00Z","matchers":[{matchers}]}}"#
        )
    }

    fn m(name: &str, value: &str, is_regex: bool, is_equal: bool) -> String {
        format!(
            r#"{{"name":"{name}","value":"{value}","isRegex":{is_regex},"isEqual":{is_equal}}}"#
        )
    }

    fn one(matchers: &str) -> Active {
        let s = parse(&format!("[{}]", silence("x", "active", matchers)), NOW).unwrap();
        assert!(s.skipped.is_empty(), "{:?}", s.skipped);
        s.active.into_iter().next().unwrap()
    }

    #[test]
    fn all_matchers_must_match() {
        let s = one(&[
            m("team", "core", false, true),
            m("env", "dev", false, false),
        ]
        .join(","));
        assert!(s.mutes(&labels(&[("team", "core"), ("env", "prod")])));
        assert!(s.mutes(&labels(&[("team", "core")])));
        assert!(!s.mutes(&labels(&[("team", "core"), ("env", "dev")])));
        assert!(!s.mutes(&labels(&[("team", "infra")])));
    }

    #[test]
    fn regexes_are_anchored_and_missing_labels_are_empty() {
        let s = one(&m("service", "checkout|cart", true, true));
        assert!(s.mutes(&labels(&[("service", "cart")])));
        assert!(!s.mutes(&labels(&[("service", "carts")])));
        assert!(!s.mutes(&labels(&[("service", "my-checkout")])));
        assert!(!s.mutes(&labels(&[])));
        let everything = one(&m("alertname", ".+", true, true));
        assert!(everything.mutes(&labels(&[("alertname", "X")])));
        assert!(!everything.mutes(&labels(&[("team", "core")])));
        let not_dev = one(&m("env", "dev|test", true, false));
        assert!(not_dev.mutes(&labels(&[])));
        assert!(!not_dev.mutes(&labels(&[("env", "test")])));
        let empty = one(&m("team", "", false, true));
        assert!(empty.mutes(&labels(&[("x", "y")])));
        // `isEqual` absent (Alertmanager < 0.22) means an equality.
        let old = one(r#"{"name":"team","value":"core","isRegex":false}"#);
        assert!(old.mutes(&labels(&[("team", "core")])));
    }

    #[test]
    fn only_active_silences_count() {
        let text = format!(
            "[{},{},{},{}]",
            silence("a", "active", &m("team", "core", false, true)),
            silence("b", "expired", &m("team", "core", false, true)),
            silence("c", "pending", &m("team", "core", false, true)),
            r#"{"id":"d","matchers":[{"name":"team","value":"core","isRegex":false}],
               "startsAt":"2027-01-01T00:00:00Z","endsAt":"2027-01-02T00:00:00Z"}"#,
        );
        let s = parse(&text, NOW).unwrap();
        let ids: Vec<&str> = s.active.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["a"]);
        let probes = [labels(&[("team", "core")]), labels(&[("team", "infra")])];
        assert_eq!(muting(&s, &probes), [vec!["a"], vec![]]);
    }

    #[test]
    fn unjudgeable_silences_are_skipped_with_a_reason() {
        let text = format!(
            "[{},{}]",
            silence("bad", "active", &m("team", "(", true, true)),
            silence("none", "active", ""),
        );
        let s = parse(&text, NOW).unwrap();
        assert!(s.active.is_empty());
        assert!(
            s.skipped[0].contains("silence bad: invalid regular expression"),
            "{:?}",
            s.skipped
        );
        assert_eq!(s.skipped[1], "silence none has no matchers");
    }

    #[test]
    fn bad_answers_name_the_place() {
        let e = parse(r#"[{"id":"a","matchers":[{"name":"x"}]}]"#, NOW).unwrap_err();
        assert!(
            e.contains("at `[0].matchers[0]`") && e.contains("missing field"),
            "{e}"
        );
        let e = parse("<html>", NOW).unwrap_err();
        assert!(e.contains("line 1, column 1"), "{e}");
    }
}
