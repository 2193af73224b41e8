//! The pure part: the silence a scope becomes (matchers, comment, body),
//! the silence list Alertmanager answers, the idempotency decision and the
//! undo selection.

use cutover_adapter_util::rfc3339::parse_millis;
use serde::Deserialize;
use translate_core::Scope;
use translate_core::scope::MatchOp;

/// `createdBy` of every silence this plugin creates.
pub const CREATED_BY: &str = translate_core::silences::DECOMMISSION_AUTHOR;

pub use translate_core::silences::ApiMatcher;

/// The silence matchers of a scope, in the scope's order: `=`, `!=`, `=~`,
/// `!~` map to `isEqual`/`isRegex`; `*` becomes `alertname=~".+"`.
pub fn matchers(scope: &Scope) -> Vec<ApiMatcher> {
    match scope {
        Scope::All => vec![ApiMatcher::new("alertname", MatchOp::Re, ".+")],
        Scope::Matchers(ms) => ms
            .iter()
            .map(|m| ApiMatcher::new(&m.name, m.op, &m.value))
            .collect(),
    }
}

/// Alertmanager refuses a silence whose matchers all match the empty
/// string (it would mute every alert); `Some(why)` for such a scope.
pub fn refused_by_alertmanager(scope: &Scope) -> Option<String> {
    match scope {
        Scope::All => None,
        Scope::Matchers(ms) if ms.iter().all(|m| m.matches_value("")) => Some(format!(
            "every matcher of {scope} matches the empty string, and Alertmanager refuses such a \
             silence; add a matcher that fixes a label (e.g. alertname=~\".+\") or use \"*\""
        )),
        Scope::Matchers(_) => None,
    }
}

/// Matchers as label-matcher text: `{team="core", service=~"a|b"}`.
pub fn matchers_text(ms: &[ApiMatcher]) -> String {
    let parts: Vec<String> = ms
        .iter()
        .map(|m| {
            let value = serde_json::to_string(&m.value).unwrap_or_else(|_| m.value.clone());
            format!("{}{}{value}", m.name, m.op().as_str())
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// Whether two matcher lists are the same set (order does not count).
pub fn same_matchers(a: &[ApiMatcher], b: &[ApiMatcher]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    a.dedup();
    b.sort();
    b.dedup();
    a == b
}

/// Where a silence comes from: the plan, phase and step whose comment it
/// carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub plan: String,
    pub phase: String,
    pub step: String,
}

impl Origin {
    /// The comment prefix of every silence of this step, any run:
    /// `cutover plan P phase PH step S run `.
    pub fn step_prefix(&self) -> String {
        format!(
            "cutover plan {} phase {} step {} run ",
            self.plan, self.phase, self.step
        )
    }

    /// The comment prefix of the silence of run `run_id`, the idempotency
    /// key: `cutover plan P phase PH step S run R:`.
    pub fn run_prefix(&self, run_id: &str) -> String {
        format!("{}{run_id}:", self.step_prefix())
    }

    /// The whole comment: `cutover plan P phase PH step S run R: text`.
    pub fn comment(&self, run_id: &str, text: &str) -> String {
        format!("{} {text}", self.run_prefix(run_id))
    }
}

/// The `POST /api/v2/silences` body.
pub fn body(matchers: &[ApiMatcher], starts_at: &str, ends_at: &str, comment: &str) -> String {
    serde_json::json!({
        "matchers": matchers,
        "startsAt": starts_at,
        "endsAt": ends_at,
        "createdBy": CREATED_BY,
        "comment": comment,
    })
    .to_string()
}

/// The silence id in a `POST /api/v2/silences` answer (`{"silenceID": ".."}`).
pub fn created_id(answer: &str) -> Result<String, String> {
    #[derive(Deserialize)]
    struct Created {
        #[serde(rename = "silenceID")]
        silence_id: String,
    }
    serde_json::from_str::<Created>(answer)
        .map(|c| c.silence_id)
        .map_err(|e| format!("expected {{\"silenceID\": \"...\"}}: {e}"))
}

#[derive(Debug, Clone, Deserialize)]
struct Status {
    state: String,
}

/// One silence of a `GET /api/v2/silences` answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<ApiMatcher>,
    #[serde(default)]
    pub starts_at: Option<String>,
    pub ends_at: String,
    #[serde(default)]
    pub created_by: String,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    status: Option<Status>,
}

/// A silence's state: Alertmanager's `status.state`, or, when the answer
/// has none, from `startsAt`/`endsAt` and the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Pending,
    Active,
    Expired,
}

impl Silence {
    pub fn state(&self, now_ms: i64) -> State {
        match self.status.as_ref().map(|s| s.state.as_str()) {
            Some("active") => return State::Active,
            Some("pending") => return State::Pending,
            Some("expired") => return State::Expired,
            _ => {}
        }
        let ends = parse_millis(&self.ends_at).unwrap_or(i64::MIN);
        let starts = self
            .starts_at
            .as_deref()
            .and_then(|s| parse_millis(s).ok())
            .unwrap_or(i64::MIN);
        if ends <= now_ms {
            State::Expired
        } else if starts > now_ms {
            State::Pending
        } else {
            State::Active
        }
    }
}

/// Parses a `GET /api/v2/silences` answer; errors name line, column and
/// JSON path.
pub fn parse_list(text: &str) -> Result<Vec<Silence>, String> {
    cutover_plugin_sdk::decode_json("silence list", text)
}

fn ours(s: &Silence, matchers: &[ApiMatcher], prefix: &str) -> bool {
    s.created_by == CREATED_BY
        && s.comment.starts_with(prefix)
        && same_matchers(&s.matchers, matchers)
}

/// The idempotency decision: the active silence this run already created
/// for these matchers (same matchers, `createdBy` cutover, comment
/// starting with `origin.run_prefix(run_id)`), if any.
pub fn existing<'a>(
    list: &'a [Silence],
    matchers: &[ApiMatcher],
    origin: &Origin,
    run_id: &str,
    now_ms: i64,
) -> Option<&'a Silence> {
    let prefix = origin.run_prefix(run_id);
    list.iter()
        .find(|s| s.state(now_ms) == State::Active && ours(s, matchers, &prefix))
}

/// The undo selection: every silence not yet expired (active or pending)
/// with these matchers, `createdBy` cutover, and a comment naming this
/// plan, phase and step (any run).
pub fn to_undo<'a>(
    list: &'a [Silence],
    matchers: &[ApiMatcher],
    origin: &Origin,
    now_ms: i64,
) -> Vec<&'a Silence> {
    let prefix = origin.step_prefix();
    list.iter()
        .filter(|s| s.state(now_ms) != State::Expired && ours(s, matchers, &prefix))
        .collect()
}

/// Whether `id` can go into `/api/v2/silence/{id}` as is (Alertmanager's
/// ids are UUIDs).
pub fn safe_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
#[path = "silence_tests.rs"]
mod tests;
