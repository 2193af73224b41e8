//! Prometheus rule files: `groups: [{name, interval?, limit?, rules: [...]}]`
//! with alerting (`alert`) and recording (`record`) rules.
//!
//! Parsing keeps rule and label order, carries fields this crate does not
//! model (`query_offset`, group `labels`, vmalert's `eval_offset`, ...) in
//! `extra`, and reports errors with the file name, line and column.
//! Scalars are read as their text, like Go's YAML libraries read them into
//! string fields (`n: 3` is the label value `"3"`, `on: yes` stays `yes`).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use crate::TranslateError;
use crate::yaml::{self, Map, Yaml};

/// Ordered string pairs (rule `labels` and `annotations`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Labels(pub Vec<(String, String)>);

impl Labels {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Sets `key` in place, or appends it.
    pub fn insert(&mut self, key: &str, value: &str) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value.to_owned(),
            None => self.0.push((key.to_owned(), value.to_owned())),
        }
    }

    /// Renames `old` to `new` in place; false when `old` is absent.
    pub fn rename(&mut self, old: &str, new: &str) -> bool {
        match self.0.iter_mut().find(|(k, _)| k == old) {
            Some((k, _)) => {
                *k = new.to_owned();
                true
            }
            None => false,
        }
    }

    fn to_yaml(&self) -> Yaml {
        Yaml::Map(Map(self
            .0
            .iter()
            .map(|(k, v)| (k.clone(), Yaml::Str(v.clone())))
            .collect()))
    }
}

/// One rule. Exactly one of `alert` and `record` is set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rule {
    pub alert: Option<String>,
    pub record: Option<String>,
    pub expr: String,
    pub for_: Option<String>,
    pub keep_firing_for: Option<String>,
    pub labels: Labels,
    pub annotations: Labels,
    /// Fields not modelled above, in order.
    pub extra: Map,
}

impl Rule {
    /// The alert or record name.
    pub fn name(&self) -> &str {
        self.alert
            .as_deref()
            .or(self.record.as_deref())
            .unwrap_or("")
    }

    /// Whether this is an alerting rule.
    pub fn is_alert(&self) -> bool {
        self.alert.is_some()
    }

    /// The rule as YAML, known fields first in the usual order.
    pub fn to_yaml(&self) -> Yaml {
        let mut m = Map::default();
        if let Some(a) = &self.alert {
            m.insert("alert", Yaml::Str(a.clone()));
        }
        if let Some(r) = &self.record {
            m.insert("record", Yaml::Str(r.clone()));
        }
        m.insert("expr", Yaml::Str(self.expr.clone()));
        if let Some(f) = &self.for_ {
            m.insert("for", Yaml::Str(f.clone()));
        }
        if let Some(k) = &self.keep_firing_for {
            m.insert("keep_firing_for", Yaml::Str(k.clone()));
        }
        if !self.labels.0.is_empty() {
            m.insert("labels", self.labels.to_yaml());
        }
        if !self.annotations.0.is_empty() {
            m.insert("annotations", self.annotations.to_yaml());
        }
        m.0.extend(self.extra.0.iter().cloned());
        Yaml::Map(m)
    }
}

/// A rule group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Group {
    pub name: String,
    pub interval: Option<String>,
    pub limit: Option<u64>,
    pub rules: Vec<Rule>,
    pub extra: Map,
}

impl Group {
    pub fn to_yaml(&self) -> Yaml {
        let mut m = Map::default();
        m.insert("name", Yaml::Str(self.name.clone()));
        if let Some(i) = &self.interval {
            m.insert("interval", Yaml::Str(i.clone()));
        }
        if let Some(l) = self.limit {
            m.insert("limit", Yaml::UInt(l));
        }
        m.0.extend(self.extra.0.iter().cloned());
        m.insert(
            "rules",
            Yaml::Seq(self.rules.iter().map(Rule::to_yaml).collect()),
        );
        Yaml::Map(m)
    }
}

/// A rule file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleFile {
    pub groups: Vec<Group>,
    pub extra: Map,
}

impl RuleFile {
    /// Parses rule file text; errors name `file`, line and column.
    pub fn parse(file: &str, text: &str) -> Result<RuleFile, TranslateError> {
        if text.trim().is_empty() {
            return Ok(RuleFile::default());
        }
        yaml::parse(file, text)
    }

    pub fn to_yaml(&self) -> Yaml {
        let mut m = Map::default();
        m.insert(
            "groups",
            Yaml::Seq(self.groups.iter().map(Group::to_yaml).collect()),
        );
        m.0.extend(self.extra.0.iter().cloned());
        Yaml::Map(m)
    }

    /// The file as YAML text.
    pub fn to_text(&self) -> Result<String, TranslateError> {
        yaml::to_string(&self.to_yaml())
    }
}

/// A label/annotation map read with string keys and values.
impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Labels, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Labels;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of names to strings")
            }
            fn visit_unit<E>(self) -> Result<Labels, E> {
                Ok(Labels::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Labels, A::Error> {
                let mut out = Labels::default();
                while let Some(k) = map.next_key::<String>()? {
                    let v: Option<String> = map.next_value()?;
                    if out.get(&k).is_some() {
                        return Err(de::Error::custom(format!("duplicate key {k:?}")));
                    }
                    out.0.push((k, v.unwrap_or_default()));
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

macro_rules! struct_visitor {
    ($ty:ident, $expecting:literal, |$map:ident, $out:ident, $key:ident| $body:block, |$fin:ident| $check:block) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut $map: A) -> Result<$ty, A::Error> {
                        let mut $out = $ty::default();
                        let mut seen: Vec<String> = Vec::new();
                        while let Some($key) = $map.next_key::<String>()? {
                            if seen.contains(&$key) {
                                return Err(de::Error::custom(format!("duplicate field `{}`", $key)));
                            }
                            seen.push($key.clone());
                            $body
                        }
                        let $fin = (&$out, &seen);
                        $check
                        Ok($out)
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}

struct_visitor!(
    RuleFile,
    "a rule file (a mapping with `groups`)",
    |map, out, key| {
        match key.as_str() {
            "groups" => out.groups = map.next_value::<Option<Vec<Group>>>()?.unwrap_or_default(),
            _ => {
                let v = map.next_value::<Yaml>()?;
                out.extra.0.push((key, v));
            }
        }
    },
    |_fin| {}
);

struct_visitor!(
    Group,
    "a rule group (a mapping with `name` and `rules`)",
    |map, out, key| {
        match key.as_str() {
            "name" => out.name = map.next_value()?,
            "interval" => out.interval = map.next_value()?,
            "limit" => out.limit = map.next_value()?,
            "rules" => out.rules = map.next_value::<Option<Vec<Rule>>>()?.unwrap_or_default(),
            _ => {
                let v = map.next_value::<Yaml>()?;
                out.extra.0.push((key, v));
            }
        }
    },
    |fin| {
        if !fin.1.iter().any(|k| k == "name") || fin.0.name.is_empty() {
            return Err(de::Error::custom("rule group without `name`"));
        }
    }
);

struct_visitor!(
    Rule,
    "a rule (a mapping with `alert` or `record`, and `expr`)",
    |map, out, key| {
        match key.as_str() {
            "alert" => out.alert = Some(map.next_value()?),
            "record" => out.record = Some(map.next_value()?),
            "expr" => out.expr = map.next_value()?,
            "for" => out.for_ = map.next_value()?,
            "keep_firing_for" => out.keep_firing_for = map.next_value()?,
            "labels" => out.labels = map.next_value()?,
            "annotations" => out.annotations = map.next_value()?,
            _ => {
                let v = map.next_value::<Yaml>()?;
                out.extra.0.push((key, v));
            }
        }
    },
    |fin| {
        let (rule, seen) = fin;
        match (&rule.alert, &rule.record) {
            (Some(_), Some(_)) => {
                return Err(de::Error::custom("rule has both `alert` and `record`"));
            }
            (None, None) => {
                return Err(de::Error::custom("rule has neither `alert` nor `record`"));
            }
            _ => {}
        }
        if !seen.iter().any(|k| k == "expr") || rule.expr.trim().is_empty() {
            return Err(de::Error::custom(format!(
                "rule {:?} has no `expr`",
                rule.name()
            )));
        }
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
groups:
  - name: g1
    interval: 30s
    limit: 10
    query_offset: 1m
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: B
        expr: |
          x{team=\"core\"}
            > 3
        for: 5m
        keep_firing_for: 10m
        labels: {severity: page, n: 3, on: yes, z: }
        annotations:
          summary: '{{ $labels.instance }} down'
        custom: [1, 2]
      - alert: A
        expr: 1
";

    #[test]
    fn parses_in_order_with_extras() {
        let f = RuleFile::parse("f.yml", TEXT).unwrap();
        let g = &f.groups[0];
        assert_eq!(g.name, "g1");
        assert_eq!(g.interval.as_deref(), Some("30s"));
        assert_eq!(g.limit, Some(10));
        assert_eq!(g.extra.keys().collect::<Vec<_>>(), vec!["query_offset"]);
        let names: Vec<&str> = g.rules.iter().map(Rule::name).collect();
        assert_eq!(names, vec!["job:up:sum", "B", "A"]);
        let b = &g.rules[1];
        assert_eq!(b.expr, "x{team=\"core\"}\n  > 3\n");
        assert_eq!(b.for_.as_deref(), Some("5m"));
        assert_eq!(b.keep_firing_for.as_deref(), Some("10m"));
        assert_eq!(
            b.labels.0,
            vec![
                ("severity".into(), "page".into()),
                ("n".into(), "3".into()),
                ("on".into(), "yes".into()),
                ("z".into(), String::new()),
            ]
        );
        assert_eq!(
            b.annotations.get("summary"),
            Some("{{ $labels.instance }} down")
        );
        assert_eq!(b.extra.keys().collect::<Vec<_>>(), vec!["custom"]);
        assert_eq!(g.rules[2].expr, "1");
        assert!(!g.rules[0].is_alert() && g.rules[1].is_alert());
    }

    #[test]
    fn round_trips_through_text() {
        let f = RuleFile::parse("f.yml", TEXT).unwrap();
        let text = f.to_text().unwrap();
        assert_eq!(RuleFile::parse("out.yml", &text).unwrap(), f);
        assert!(text.contains("  - alert: B\n"), "{text}");
        assert!(text.contains("\"yes\""), "{text}");
    }

    fn err(text: &str) -> String {
        RuleFile::parse("bad.yml", text).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let e = err("groups:\n  - name: g\n    rules: [ {alert: A}\n");
        assert!(e.starts_with("bad.yml: line 3, column "), "{e}");
        let e = err("groups:\n  - name: g\n    rules:\n      - expr: x\n");
        assert!(
            e.starts_with("bad.yml: line 4") && e.contains("neither `alert` nor `record`"),
            "{e}"
        );
        let e = err(
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        record: b\n        expr: x\n",
        );
        assert!(e.contains("both `alert` and `record`"), "{e}");
        let e = err("groups:\n  - name: g\n    rules:\n      - alert: A\n");
        assert!(e.contains("rule \"A\" has no `expr`"), "{e}");
        let e = err("groups:\n  - rules: []\n");
        assert!(e.contains("without `name`"), "{e}");
        let e = err("groups:\n  - name: g\n    limit: lots\n    rules: []\n");
        assert!(e.starts_with("bad.yml: line 3, column 12"), "{e}");
        let e = err(
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: x\n        labels: {a: 1, a: 2}\n",
        );
        assert!(e.contains("duplicate"), "{e}");
        let e = err(
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: x\n        labels: [a]\n",
        );
        assert!(e.starts_with("bad.yml: line 6"), "{e}");
        let e = err("groups: 3\n");
        assert!(e.starts_with("bad.yml: line 1"), "{e}");
    }

    #[test]
    fn empty_file_has_no_groups() {
        assert!(RuleFile::parse("e.yml", "").unwrap().groups.is_empty());
        assert!(
            RuleFile::parse("e.yml", "groups:\n")
                .unwrap()
                .groups
                .is_empty()
        );
    }
}
