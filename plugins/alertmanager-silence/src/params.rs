//! Step parameters and what they ask for.

use cutover_adapter_util::rfc3339::parse_millis;
use cutover_plugin_sdk::{Context, PluginError, invalid_input};
use serde::Deserialize;
use translate_core::Scope;
use translate_core::duration::parse_ms;

use crate::silence::{Origin, refused_by_alertmanager};
use crate::time::{MAX_MS, format_millis};

/// The comment text when the params give none.
pub const DEFAULT_COMMENT: &str = "old system decommissioned";

/// Step parameters (JSON, unknown fields rejected).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Prometheus label matchers (`{team="core"}`) or `*`.
    pub scope: Scope,
    /// How long the silence lasts (`30d`, `12h`, `1w2d`).
    #[serde(default)]
    pub duration: Option<String>,
    /// When the silence ends (RFC 3339), instead of `duration`.
    #[serde(default)]
    pub ends_at: Option<String>,
    /// Text after the `cutover plan ... run ...:` prefix of the comment.
    #[serde(default)]
    pub comment: Option<String>,
    /// Expire this step's silences instead of creating one.
    #[serde(default)]
    pub undo: bool,
    /// Undo only: the plan whose silences to expire (default: the context's).
    #[serde(default)]
    pub plan: Option<String>,
    /// Undo only: the phase (default: the context's).
    #[serde(default)]
    pub phase: Option<String>,
    /// Undo only: the step (default: the context's).
    #[serde(default)]
    pub step: Option<String>,
}

/// What a call does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Create the silence (unless this run already did).
    Silence {
        origin: Origin,
        ends_at_ms: i64,
        comment: String,
    },
    /// Expire the silences of `origin` (any run).
    Undo { origin: Origin },
}

fn at(path: &str, why: impl std::fmt::Display) -> PluginError {
    invalid_input(format!("params: at JSON path `{path}`: {why}"))
}

impl Params {
    /// Validates the params against the context at `now_ms`.
    pub fn mode(&self, ctx: &Context, now_ms: i64) -> Result<Mode, PluginError> {
        if self.undo {
            let pick = |given: &Option<String>, ctx_value: &str| {
                given.clone().unwrap_or_else(|| ctx_value.to_owned())
            };
            return Ok(Mode::Undo {
                origin: Origin {
                    plan: pick(&self.plan, &ctx.plan),
                    phase: pick(&self.phase, &ctx.phase),
                    step: pick(&self.step, &ctx.step),
                },
            });
        }
        for (key, value) in [
            ("plan", &self.plan),
            ("phase", &self.phase),
            ("step", &self.step),
        ] {
            if value.is_some() {
                return Err(at(
                    key,
                    "allowed only with \"undo\": true (a new silence names the running plan, \
                     phase and step)",
                ));
            }
        }
        if let Some(why) = refused_by_alertmanager(&self.scope) {
            return Err(at("scope", why));
        }
        let ends_at_ms = match (&self.duration, &self.ends_at) {
            (Some(_), Some(_)) => {
                return Err(at("ends_at", "give `duration` or `ends_at`, not both"));
            }
            (None, None) => {
                return Err(at(
                    "duration",
                    "missing: give `duration` (e.g. \"30d\") or `ends_at` (RFC 3339)",
                ));
            }
            (Some(d), None) => {
                let ms = parse_ms(d).map_err(|e| at("duration", e))?;
                if ms == 0 {
                    return Err(at("duration", "must be longer than 0"));
                }
                i64::try_from(ms)
                    .ok()
                    .and_then(|ms| now_ms.checked_add(ms))
                    .filter(|end| *end <= MAX_MS)
                    .ok_or_else(|| at("duration", format!("{d:?} ends after the year 9999")))?
            }
            (None, Some(t)) => {
                let end = parse_millis(t).map_err(|e| at("ends_at", e))?;
                if end <= now_ms {
                    return Err(at(
                        "ends_at",
                        format!(
                            "{t:?} is not in the future (now is {})",
                            format_millis(now_ms)
                        ),
                    ));
                }
                if end > MAX_MS {
                    return Err(at("ends_at", format!("{t:?} is after the year 9999")));
                }
                end
            }
        };
        let comment = match self.comment.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_COMMENT.to_owned(),
            Some(c) => c.to_owned(),
        };
        Ok(Mode::Silence {
            origin: Origin {
                plan: ctx.plan.clone(),
                phase: ctx.phase.clone(),
                step: ctx.step.clone(),
            },
            ends_at_ms,
            comment,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{NOW, origin};

    fn ctx(params: &str) -> Context {
        let Origin { plan, phase, step } = origin();
        Context {
            plan,
            phase,
            step,
            run_id: "r1".into(),
            params: params.into(),
        }
    }

    fn mode(params: &str) -> Result<Mode, String> {
        let c = ctx(params);
        let p: Params = cutover_plugin_sdk::params(&c).map_err(text)?;
        p.mode(&c, NOW).map_err(text)
    }

    /// The kind and message of an error, unescaped.
    fn text(e: PluginError) -> String {
        match e {
            PluginError::InvalidInput(m) => format!("InvalidInput: {m}"),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn duration_and_ends_at() {
        assert_eq!(
            mode(r#"{"scope":"*","duration":"30d","comment":" bye "}"#),
            Ok(Mode::Silence {
                origin: origin(),
                ends_at_ms: NOW + 30 * 86_400_000,
                comment: "bye".into(),
            })
        );
        assert_eq!(
            mode(r#"{"scope":"{team=\"core\"}","ends_at":"2027-02-01T00:00:00Z"}"#),
            Ok(Mode::Silence {
                origin: origin(),
                ends_at_ms: parse_millis("2027-02-01T00:00:00Z").unwrap(),
                comment: DEFAULT_COMMENT.into(),
            })
        );
    }

    #[test]
    fn errors_name_the_json_path() {
        let cases = [
            (r#"{"scope":"*"}"#, "`duration`: missing"),
            (
                r#"{"scope":"*","duration":"1d","ends_at":"2030-01-01T00:00:00Z"}"#,
                "`ends_at`: give `duration` or `ends_at`, not both",
            ),
            (
                r#"{"scope":"*","duration":"30 days"}"#,
                "`duration`: invalid duration",
            ),
            (
                r#"{"scope":"*","duration":"0s"}"#,
                "`duration`: must be longer than 0",
            ),
            (
                r#"{"scope":"*","duration":"10000y"}"#,
                "after the year 9999",
            ),
            (
                r#"{"scope":"*","ends_at":"2020-01-01T00:00:00Z"}"#,
                "`ends_at`: \"2020-01-01T00:00:00Z\" is not in the future (now is 2027-01-15",
            ),
            (
                r#"{"scope":"*","ends_at":"tomorrow"}"#,
                "`ends_at`: invalid RFC 3339",
            ),
            (r#"{"scope":"{team=}","duration":"1d"}"#, "`scope`"),
            (
                r#"{"scope":"*","duration":"1d","ttl":1}"#,
                "unknown field `ttl`",
            ),
            (r#"{"duration":"1d"}"#, "missing field `scope`"),
            (
                r#"{"scope":"{team!=\"core\"}","duration":"1d"}"#,
                "`scope`: every matcher of {team!=\"core\"} matches the empty string",
            ),
            (
                r#"{"scope":"*","duration":"1d","plan":"other"}"#,
                "`plan`: allowed only with \"undo\": true",
            ),
        ];
        for (params, want) in cases {
            let err = mode(params).unwrap_err();
            assert!(err.contains("InvalidInput"), "{params}: {err}");
            assert!(err.contains(want), "{params}: {err}");
        }
    }

    #[test]
    fn undo_needs_no_end_and_may_name_the_origin() {
        assert_eq!(
            mode(r#"{"undo":true,"scope":"*"}"#),
            Ok(Mode::Undo { origin: origin() })
        );
        // The step's params with "undo": true added are accepted as they are.
        assert_eq!(
            mode(r#"{"undo":true,"scope":"*","duration":"30d","comment":"x"}"#),
            Ok(Mode::Undo { origin: origin() })
        );
        assert_eq!(
            mode(r#"{"undo":true,"scope":"*","plan":"p","phase":"f","step":"s"}"#),
            Ok(Mode::Undo {
                origin: Origin {
                    plan: "p".into(),
                    phase: "f".into(),
                    step: "s".into(),
                }
            })
        );
    }
}
