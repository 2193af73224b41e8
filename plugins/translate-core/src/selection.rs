//! Selections: the union of several scopes. A migration wave covers what
//! the earlier waves moved plus its own scope, so a translator is asked for
//! "any of these scopes"; one scope is the common case.
//!
//! In JSON a selection is a scope string (`"{team=\"core\"}"`, `"*"`) or a
//! list of them (`["{team=\"web\"}", "{team=\"core\"}"]`).

use std::collections::BTreeMap;
use std::fmt;

use crate::decide::{self, Decision, Fixed};
use crate::scope::{Scope, ScopeError};

/// Any of the scopes (an empty selection selects nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    scopes: Vec<Scope>,
}

impl Selection {
    /// Everything (`*`).
    pub fn all() -> Selection {
        Selection {
            scopes: vec![Scope::All],
        }
    }

    /// The union of `scopes`; `*` among them selects everything.
    pub fn any(scopes: impl IntoIterator<Item = Scope>) -> Selection {
        let scopes: Vec<Scope> = scopes.into_iter().collect();
        if scopes.contains(&Scope::All) {
            return Selection::all();
        }
        let mut out: Vec<Scope> = Vec::new();
        for s in scopes {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        Selection { scopes: out }
    }

    /// Parses one scope, or each of a list.
    pub fn parse_all<'a>(
        texts: impl IntoIterator<Item = &'a str>,
    ) -> Result<Selection, (usize, ScopeError)> {
        let mut scopes = Vec::new();
        for (i, t) in texts.into_iter().enumerate() {
            scopes.push(Scope::parse(t).map_err(|e| (i, e))?);
        }
        Ok(Selection::any(scopes))
    }

    /// Whether it selects everything.
    pub fn is_all(&self) -> bool {
        self.scopes == [Scope::All]
    }

    /// The scopes of the union.
    pub fn scopes(&self) -> &[Scope] {
        &self.scopes
    }

    /// Whether a label set is selected (by any scope).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.scopes.iter().any(|s| s.matches(labels))
    }

    /// Decides a rule or route whose scoped labels `fixed` describes: in
    /// when some scope has it in, out when every scope has it out,
    /// undecidable otherwise.
    pub fn decide(&self, mut fixed: impl FnMut(&str) -> Fixed) -> Decision {
        let mut out = Vec::new();
        let mut unsure = Vec::new();
        for s in &self.scopes {
            match decide::decide(s, &mut fixed) {
                Decision::In => return Decision::In,
                Decision::Out(why) => out.push(why),
                Decision::Undecidable(why) => unsure.push(why),
            }
        }
        if unsure.is_empty() {
            if out.is_empty() {
                Decision::Out("the selection is empty".into())
            } else {
                Decision::Out(out.join("; "))
            }
        } else {
            Decision::Undecidable(unsure.join("; "))
        }
    }
}

impl From<Scope> for Selection {
    fn from(s: Scope) -> Selection {
        Selection::any([s])
    }
}

impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scopes.is_empty() {
            return f.write_str("nothing");
        }
        for (i, s) in self.scopes.iter().enumerate() {
            if i > 0 {
                f.write_str(" or ")?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

impl<'de> serde::Deserialize<'de> for Selection {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Selection, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Text {
            One(String),
            Many(Vec<String>),
        }
        let texts = match Text::deserialize(d)? {
            Text::One(t) => vec![t],
            Text::Many(ts) => ts,
        };
        Selection::parse_all(texts.iter().map(String::as_str)).map_err(|(i, e)| {
            serde::de::Error::custom(format!("invalid scope {:?}: {e}", texts[i]))
        })
    }
}

impl serde::Serialize for Selection {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.scopes.len()))?;
        for sc in &self.scopes {
            seq.serialize_element(&sc.to_string())?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::tests::labels;

    fn values(vs: &[&str]) -> Fixed {
        Fixed::Values(vs.iter().map(|v| v.to_string()).collect())
    }

    #[test]
    fn a_union_selects_what_any_scope_selects() {
        let s: Selection =
            serde_json::from_str(r#"["{team=\"web\"}", "{team=\"core\"}"]"#).unwrap();
        assert!(s.matches(&labels(&[("team", "web")])));
        assert!(s.matches(&labels(&[("team", "core")])));
        assert!(!s.matches(&labels(&[("team", "db")])));
        assert_eq!(s.to_string(), r#"{team="web"} or {team="core"}"#);
        assert_eq!(s.decide(|_| values(&["core"])), Decision::In);
        assert!(matches!(s.decide(|_| values(&["db"])), Decision::Out(_)));
        assert!(matches!(
            s.decide(|_| values(&["db", "core"])),
            Decision::Undecidable(_)
        ));
        let back: Selection = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn a_star_anywhere_selects_everything_and_one_string_is_one_scope() {
        let s: Selection = serde_json::from_str(r#"["{team=\"web\"}", "*"]"#).unwrap();
        assert!(s.is_all());
        let one: Selection = serde_json::from_str(r#""{team=\"web\"}""#).unwrap();
        assert_eq!(one.scopes().len(), 1);
        let err = serde_json::from_str::<Selection>(r#"["*", "{team=web}"]"#).unwrap_err();
        assert!(err.to_string().contains("{team=web}"), "{err}");
        assert!(matches!(
            Selection::any([]).decide(|_| values(&["x"])),
            Decision::Out(_)
        ));
    }
}
