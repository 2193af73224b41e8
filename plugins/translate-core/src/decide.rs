//! Deciding whether a rule or a route belongs to a scope from the label
//! values it fixes.
//!
//! A scoped label is *fixed* to a finite set of values by equality matchers
//! (`team="core"`), by regex matchers that are plain alternations of
//! literals (`team=~"core|infra"`), or by static rule labels. The thing is
//! in scope when every value of every scoped label passes the scope's
//! matchers, out of scope when for some scoped label no value does, and
//! undecidable otherwise (label not fixed, fixed only by a real regex, or
//! fixed to several values of which the scope accepts only some).

use crate::lex;
use crate::scope::{MatchOp, Matcher, Scope};

/// What a rule or route says about one label.
#[derive(Debug, Clone, PartialEq)]
pub enum Fixed {
    /// One of these values (deduplicated).
    Values(Vec<String>),
    /// Only constrained by a regex that is not a list of literals.
    Regex(String),
    /// Not fixed; the string says why (e.g. which selector lacks it).
    Unfixed(String),
}

/// The outcome of a scope check.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Every value passes the scope.
    In,
    /// Some scoped label has no value the scope accepts; the string says which.
    Out(String),
    /// Cannot be decided; the string says why.
    Undecidable(String),
}

/// What the matchers on `label` among `matchers` fix it to. `what` names
/// the matcher set in the `Unfixed` reason (e.g. "selector `up`").
pub fn fixed_by_matchers<'a>(
    matchers: impl IntoIterator<Item = &'a Matcher>,
    label: &str,
    what: &str,
) -> Fixed {
    let on_label: Vec<&Matcher> = matchers.into_iter().filter(|m| m.name == label).collect();
    let candidates: Option<Vec<String>> = on_label
        .iter()
        .find(|m| m.op == MatchOp::Eq)
        .map(|m| vec![m.value.clone()])
        .or_else(|| on_label.iter().find_map(|m| m.literal_alternatives()));
    if let Some(values) = candidates {
        // Other matchers on the same label narrow the set further.
        let kept: Vec<String> = values
            .into_iter()
            .filter(|v| on_label.iter().all(|m| m.matches_value(v)))
            .collect();
        return Fixed::Values(kept);
    }
    if let Some(m) = on_label.iter().find(|m| m.op == MatchOp::Re) {
        return Fixed::Regex(format!("{m}"));
    }
    match on_label.first() {
        Some(m) => Fixed::Unfixed(format!("{what} only excludes values of {label} ({m})")),
        None => Fixed::Unfixed(format!("{what} does not fix {label}")),
    }
}

/// Merges what several selectors fix a label to: all must fix it, and the
/// values are their union.
pub fn union(all: impl IntoIterator<Item = Fixed>) -> Fixed {
    let mut values: Vec<String> = Vec::new();
    let mut regex = None;
    for f in all {
        match f {
            Fixed::Unfixed(why) => return Fixed::Unfixed(why),
            Fixed::Regex(r) => {
                regex.get_or_insert(r);
            }
            Fixed::Values(vs) => {
                for v in vs {
                    if !values.contains(&v) {
                        values.push(v);
                    }
                }
            }
        }
    }
    match regex {
        Some(r) => Fixed::Regex(r),
        None => Fixed::Values(values),
    }
}

/// How long a scope may be to be quoted whole in an item's reason.
const SCOPE_SHOWN: usize = 160;

/// `text`, cut to [`SCOPE_SHOWN`] characters: a wave's scope names
/// thousands of services, and every out-of-scope item says why it is out.
fn brief(text: &str) -> String {
    if text.chars().count() <= SCOPE_SHOWN {
        return text.to_string();
    }
    let head: String = text.chars().take(SCOPE_SHOWN - 40).collect();
    format!("{head}... ({} characters)", text.chars().count())
}

fn show(label: &str, v: &str) -> String {
    format!("{}={}", lex::label_name_text(label), lex::quote(v))
}

/// Decides `scope` for a thing whose scoped labels are described by `fixed`.
pub fn decide(scope: &Scope, mut fixed: impl FnMut(&str) -> Fixed) -> Decision {
    let mut unsure: Vec<String> = Vec::new();
    for label in scope.labels() {
        let scope_ms: Vec<&Matcher> = scope
            .matchers()
            .iter()
            .filter(|m| m.name == label)
            .collect();
        let accepts = |v: &str| scope_ms.iter().all(|m| m.matches_value(v));
        match fixed(label) {
            Fixed::Values(vs) => {
                let (yes, no): (Vec<&String>, Vec<&String>) = vs.iter().partition(|v| accepts(v));
                if yes.is_empty() {
                    let shown: Vec<String> = no.iter().map(|v| show(label, v)).collect();
                    let what = if shown.is_empty() {
                        format!("no value of {label} can match")
                    } else {
                        shown.join(" or ")
                    };
                    return Decision::Out(format!(
                        "{what} is outside the scope {}",
                        brief(&scope.to_string())
                    ));
                }
                if !no.is_empty() {
                    let yes: Vec<String> = yes.iter().map(|v| show(label, v)).collect();
                    let no: Vec<String> = no.iter().map(|v| show(label, v)).collect();
                    unsure.push(format!(
                        "{} is in the scope but {} is not",
                        yes.join(", "),
                        no.join(", ")
                    ));
                }
            }
            Fixed::Regex(m) => unsure.push(format!(
                "{label} is only constrained by the regex matcher {m}, which the scope may cover partly"
            )),
            Fixed::Unfixed(why) => unsure.push(why),
        }
    }
    if unsure.is_empty() {
        Decision::In
    } else {
        Decision::Undecidable(unsure.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, op: MatchOp, v: &str) -> Matcher {
        Matcher::new(name, op, v).unwrap()
    }

    #[test]
    fn a_long_scope_is_cut_in_reasons() {
        let names: Vec<String> = (0..500).map(|i| format!("svc-{i:05}")).collect();
        let scope = Scope::parse(&format!("{{service=~\"{}\"}}", names.join("|"))).unwrap();
        let Decision::Out(why) = decide(&scope, |_| Fixed::Values(vec!["other".into()])) else {
            panic!("out of scope")
        };
        assert!(why.len() < 250, "{why}");
        assert!(
            why.starts_with("service=\"other\" is outside the scope {service=~\"svc-00000|"),
            "{why}"
        );
        assert!(why.ends_with(" characters)"), "{why}");
    }

    #[test]
    fn fixed_values() {
        let ms = [m("team", MatchOp::Eq, "core"), m("job", MatchOp::Re, "a.*")];
        assert_eq!(
            fixed_by_matchers(&ms, "team", "x"),
            Fixed::Values(vec!["core".into()])
        );
        assert!(matches!(
            fixed_by_matchers(&ms, "job", "x"),
            Fixed::Regex(_)
        ));
        assert_eq!(
            fixed_by_matchers(&ms, "env", "selector `up`"),
            Fixed::Unfixed("selector `up` does not fix env".into())
        );
        let ms = [m("team", MatchOp::Re, "a|b|c"), m("team", MatchOp::Ne, "b")];
        assert_eq!(
            fixed_by_matchers(&ms, "team", "x"),
            Fixed::Values(vec!["a".into(), "c".into()])
        );
        let ms = [m("team", MatchOp::NotRe, "a")];
        assert!(
            matches!(fixed_by_matchers(&ms, "team", "x"), Fixed::Unfixed(w) if w.contains("only excludes"))
        );
    }

    #[test]
    fn decisions() {
        let scope = Scope::parse(r#"{team="core", env=~"prod|staging"}"#).unwrap();
        let fixed = |team: &'static str, env: Fixed| {
            move |l: &str| match l {
                "team" => Fixed::Values(vec![team.into()]),
                _ => env.clone(),
            }
        };
        assert_eq!(
            decide(&scope, fixed("core", Fixed::Values(vec!["prod".into()]))),
            Decision::In
        );
        let d = decide(&scope, fixed("infra", Fixed::Values(vec!["prod".into()])));
        assert_eq!(
            d,
            Decision::Out(format!("team=\"infra\" is outside the scope {scope}"))
        );
        // Out wins over undecidable.
        let d = decide(&scope, fixed("infra", Fixed::Unfixed("no env".into())));
        assert!(matches!(d, Decision::Out(_)));
        let d = decide(
            &scope,
            fixed("core", Fixed::Values(vec!["prod".into(), "dev".into()])),
        );
        assert!(
            matches!(&d, Decision::Undecidable(r) if r.contains("env=\"dev\" is not")),
            "{d:?}"
        );
        let d = decide(&scope, fixed("core", Fixed::Regex("env=~\"p.*\"".into())));
        assert!(
            matches!(&d, Decision::Undecidable(r) if r.contains("regex")),
            "{d:?}"
        );
        assert_eq!(
            decide(&Scope::All, |_| Fixed::Unfixed(String::new())),
            Decision::In
        );
    }

    #[test]
    fn unions() {
        let u = union([
            Fixed::Values(vec!["a".into()]),
            Fixed::Values(vec!["b".into(), "a".into()]),
        ]);
        assert_eq!(u, Fixed::Values(vec!["a".into(), "b".into()]));
        assert!(matches!(
            union([Fixed::Values(vec![]), Fixed::Unfixed("x".into())]),
            Fixed::Unfixed(_)
        ));
        assert!(matches!(
            union([Fixed::Regex("r".into()), Fixed::Values(vec![])]),
            Fixed::Regex(_)
        ));
    }
}
