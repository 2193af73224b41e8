//! `alertmanager-silence`: an action that silences the old Alertmanager's
//! notifications for a scope, for the decommission phase.
//!
//! Params (JSON, unknown fields rejected; errors name the JSON path):
//! `scope` (Prometheus label matchers such as `{team="core",
//! service=~"checkout|cart"}`, or `*`), `duration` (`30d`, `12h`, ...) or
//! `ends_at` (RFC 3339), optional `comment`.
//!
//! Config: `url` (the old Alertmanager; grant it as a host), `timeout_ms`,
//! `auth` (`none` | `basic`, which reads the secrets `alertmanager_user` and
//! `alertmanager_password`).
//!
//! It POSTs one silence to `/api/v2/silences`: the scope's matchers (`=`,
//! `!=`, `=~`, `!~` as `isEqual`/`isRegex`; `*` is `alertname=~".+"`),
//! `createdBy` `cutover`, comment `cutover plan <plan> phase <phase> step
//! <step> run <run-id>: <comment>`. The run id is the idempotency key: when
//! an active silence with the same matchers and the same comment prefix
//! (plan, phase, step and run) exists, nothing is created and the outcome
//! says so. Details: `silence_id`, `matchers`, `ends_at`, `created`.
//!
//! Rollback: the engine's rollback points capture the adapter's `silences`
//! category, and rolling back to such a point expires the silences created
//! since (the `alertmanager` adapter's `restore-state silences`). A
//! decommission phase must therefore capture a rollback point with category
//! `silences` of the old system before this step (a `rollback-point` step
//! with `categories = ["silences", ...]`, or the previous phase's point).
//!
//! Undo: params `{"undo": true, "scope": ...}` expire exactly the silences
//! not yet expired with the scope's matchers, `createdBy` `cutover` and a
//! comment naming this plan, phase and step (any run). Outside a plan run
//! (`cutover plugin run`) name them with `plan`, `phase` and `step`.

mod params;
mod silence;
#[cfg(test)]
mod testing;
mod time;

use cutover_adapter_util::client::{Client, describe, ok_text};
use cutover_plugin_sdk::http::HttpMethod;
use cutover_plugin_sdk::{
    Context, Descriptor, Outcome, PluginError, PluginKind, action, failed, log, unavailable,
};

use params::{Mode, Params};
use silence::{ApiMatcher, Origin, Silence};

/// The collection endpoint.
const SILENCES: &str = "/api/v2/silences";

/// Secret name prefix for basic auth.
const SECRETS: &str = "alertmanager";

struct AlertmanagerSilence;

impl action::Guest for AlertmanagerSilence {
    fn describe() -> Descriptor {
        Descriptor {
            capabilities: cutover_adapter_util::client::capabilities(SECRETS),
            ..cutover_plugin_sdk::descriptor(
                "alertmanager-silence",
                env!("CARGO_PKG_VERSION"),
                PluginKind::Action,
                "Silences the Alertmanager at config `url` for params.scope until params.duration \
                 or params.ends_at, once per run (comment names plan, phase, step and run). \
                 {\"undo\": true} expires this step's silences. Capture a rollback point with \
                 category `silences` before it.",
            )
        }
    }

    fn run(ctx: Context) -> Result<Outcome, PluginError> {
        let p: Params = cutover_plugin_sdk::params(&ctx)?;
        let now = time::now_ms();
        let mode = p.mode(&ctx, now)?;
        let matchers = silence::matchers(&p.scope);
        let am = Client::from_config(SECRETS, false)?;
        let list = live_silences(&am)?;
        match mode {
            Mode::Silence {
                origin,
                ends_at_ms,
                comment,
            } => {
                if let Some(s) = silence::existing(&list, &matchers, &origin, &ctx.run_id, now) {
                    return Ok(already(s, &matchers, &ctx.run_id));
                }
                let comment = origin.comment(&ctx.run_id, &comment);
                create(&am, &matchers, now, ends_at_ms, &comment)
            }
            Mode::Undo { origin } => undo(&am, &list, &matchers, &origin, now),
        }
    }
}

/// The silences Alertmanager holds now.
fn live_silences(am: &Client) -> Result<Vec<Silence>, PluginError> {
    let text = am.get_ok(SILENCES)?;
    silence::parse_list(&text).map_err(|e| unavailable(format!("GET {}: {e}", am.url(SILENCES))))
}

fn already(s: &Silence, matchers: &[ApiMatcher], run_id: &str) -> Outcome {
    let text = silence::matchers_text(matchers);
    log::info(format!(
        "silence {} for {text} already active for run {run_id}; nothing created",
        s.id
    ));
    Outcome {
        summary: format!(
            "silence {} for {text} already active (created by run {run_id}); nothing created",
            s.id
        ),
        details: vec![
            ("silence_id".into(), s.id.clone()),
            ("matchers".into(), text),
            ("ends_at".into(), s.ends_at.clone()),
            ("created".into(), "false".into()),
        ],
    }
}

fn create(
    am: &Client,
    matchers: &[ApiMatcher],
    now: i64,
    ends_at_ms: i64,
    comment: &str,
) -> Result<Outcome, PluginError> {
    let ends_at = time::format_millis(ends_at_ms);
    let body = silence::body(matchers, &time::format_millis(now), &ends_at, comment);
    let answer = am.post_json_ok(SILENCES, body)?;
    let id = silence::created_id(&answer).map_err(|e| {
        failed(format!(
            "POST {}: the silence may have been created, but the answer is not understood: {e}",
            am.url(SILENCES)
        ))
    })?;
    let text = silence::matchers_text(matchers);
    log::info(format!("silence {id} created for {text} until {ends_at}"));
    Ok(Outcome {
        summary: format!("silence {id} created for {text} until {ends_at}"),
        details: vec![
            ("silence_id".into(), id),
            ("matchers".into(), text),
            ("ends_at".into(), ends_at),
            ("created".into(), "true".into()),
            ("comment".into(), comment.to_owned()),
        ],
    })
}

fn undo(
    am: &Client,
    list: &[Silence],
    matchers: &[ApiMatcher],
    origin: &Origin,
    now: i64,
) -> Result<Outcome, PluginError> {
    let chosen = silence::to_undo(list, matchers, origin, now);
    if let Some(bad) = chosen.iter().find(|s| !silence::safe_id(&s.id)) {
        return Err(failed(format!(
            "silence id {:?} is not an Alertmanager id; nothing expired",
            bad.id
        )));
    }
    for (i, s) in chosen.iter().enumerate() {
        let path = format!("/api/v2/silence/{}", s.id);
        let answer = am.send(HttpMethod::DELETE, &path, None)?;
        ok_text(&am.url(&path), "DELETE", answer).map_err(|e| {
            failed(format!(
                "silence {} not expired ({i} of {} expired before it): {}",
                s.id,
                chosen.len(),
                describe(&e)
            ))
        })?;
    }
    let ids: Vec<&str> = chosen.iter().map(|s| s.id.as_str()).collect();
    let text = silence::matchers_text(matchers);
    let prefix = origin.step_prefix();
    log::info(format!(
        "expired {} silences for {text} of `{}`",
        ids.len(),
        prefix.trim_end()
    ));
    Ok(Outcome {
        summary: format!(
            "{} silences for {text} expired (comment `{}...`)",
            ids.len(),
            prefix.trim_end()
        ),
        details: vec![
            ("expired".into(), ids.len().to_string()),
            ("silence_ids".into(), ids.join(",")),
            ("matchers".into(), text),
        ],
    })
}

cutover_plugin_sdk::export_action!(AlertmanagerSilence);
