//! A small ordered YAML value on top of `serde-saphyr`, which (unlike the
//! deprecated `serde_yaml`) deserializes straight into Rust types and has no
//! value tree of its own. [`Yaml`] keeps mapping order, so configurations
//! are written back in the order they were read, and it carries fields this
//! crate does not model (unknown rule fields, receiver configurations,
//! `global`, `time_intervals`, ...) through unchanged.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::TranslateError;

/// An ordered mapping with string keys (non-string scalar keys are kept as
/// their text).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Map(pub Vec<(String, Yaml)>);

/// A YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Yaml>),
    Map(Map),
}

impl Map {
    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Mutable value under `key`.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Yaml> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key` (in place when present, appended otherwise).
    pub fn insert(&mut self, key: &str, value: Yaml) {
        match self.get_mut(key) {
            Some(v) => *v = value,
            None => self.0.push((key.to_owned(), value)),
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Yaml> {
        let pos = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(pos).1)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// Whether the mapping is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Yaml {
    /// The scalar as text (`None` for null, sequences and mappings).
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            Yaml::Bool(b) => Some(b.to_string()),
            Yaml::Int(i) => Some(i.to_string()),
            Yaml::UInt(u) => Some(u.to_string()),
            Yaml::Float(f) => Some(float_text(*f)),
            Yaml::Str(s) => Some(s.clone()),
            Yaml::Null | Yaml::Seq(_) | Yaml::Map(_) => None,
        }
    }

    /// The string, when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Yaml::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The mapping, when this is one.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Yaml::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The sequence, when this is one.
    pub fn as_seq(&self) -> Option<&[Yaml]> {
        match self {
            Yaml::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// A short name of the value's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Yaml::Null => "null",
            Yaml::Bool(_) => "a boolean",
            Yaml::Int(_) | Yaml::UInt(_) | Yaml::Float(_) => "a number",
            Yaml::Str(_) => "a string",
            Yaml::Seq(_) => "a sequence",
            Yaml::Map(_) => "a mapping",
        }
    }
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        ".nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { ".inf" } else { "-.inf" }.into()
    } else {
        format!("{f:?}")
    }
}

struct YamlVisitor;

impl<'de> Visitor<'de> for YamlVisitor {
    type Value = Yaml;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Yaml, E> {
        Ok(Yaml::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Yaml, E> {
        Ok(Yaml::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Yaml, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => Yaml::Int(i),
            Err(_) => Yaml::UInt(v),
        })
    }
    fn visit_f64<E>(self, v: f64) -> Result<Yaml, E> {
        Ok(Yaml::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Yaml, E> {
        Ok(Yaml::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Yaml, E> {
        Ok(Yaml::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }
    fn visit_none<E>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Yaml, D::Error> {
        Yaml::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Yaml, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Yaml::Seq(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Yaml, A::Error> {
        let mut out = Map::default();
        while let Some(k) = map.next_key::<Yaml>()? {
            let key = k.scalar_text().ok_or_else(|| {
                de::Error::custom(format!("unsupported mapping key: {}", k.kind()))
            })?;
            let v = map.next_value()?;
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key {key:?}")));
            }
            out.0.push((key, v));
        }
        Ok(Yaml::Map(out))
    }
}

impl<'de> Deserialize<'de> for Yaml {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Yaml, D::Error> {
        d.deserialize_any(YamlVisitor)
    }
}

impl<'de> Deserialize<'de> for Map {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Map, D::Error> {
        match Yaml::deserialize(d)? {
            Yaml::Map(m) => Ok(m),
            Yaml::Null => Ok(Map::default()),
            other => Err(de::Error::custom(format!(
                "expected a mapping, found {}",
                other.kind()
            ))),
        }
    }
}

/// Whether a multi-line string can be written as a literal block (`|`)
/// and read back unchanged.
fn literal_block_ok(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\t', '\n'])
        && s.chars().all(|c| c == '\n' || !c.is_control())
        && !s.lines().any(|l| l.ends_with([' ', '\t']))
}

impl Serialize for Yaml {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Yaml::Null => s.serialize_unit(),
            Yaml::Bool(b) => s.serialize_bool(*b),
            Yaml::Int(i) => s.serialize_i64(*i),
            Yaml::UInt(u) => s.serialize_u64(*u),
            Yaml::Float(f) => s.serialize_f64(*f),
            Yaml::Str(v) if literal_block_ok(v) => serde_saphyr::LitStr(v).serialize(s),
            Yaml::Str(v) => s.serialize_str(v),
            Yaml::Seq(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Yaml::Map(m) => m.serialize(s),
        }
    }
}

impl Serialize for Map {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Parses a YAML document; errors name `file` with line and column.
pub fn parse<'de, T: Deserialize<'de>>(file: &str, text: &'de str) -> Result<T, TranslateError> {
    serde_saphyr::from_str(text).map_err(|e| yaml_error(file, &e))
}

/// Converts a `serde-saphyr` error into a [`TranslateError::Yaml`].
pub fn yaml_error(file: &str, e: &serde_saphyr::Error) -> TranslateError {
    let bare = e.without_snippet();
    let loc = bare.location().filter(|l| l.line() > 0);
    let message = bare.to_string();
    // The rendered message repeats the position; keep only the text.
    let message = match message.split_once(" at line ") {
        Some((head, _)) if loc.is_some() => head.to_owned(),
        _ => message,
    };
    TranslateError::Yaml {
        file: file.to_owned(),
        line: loc.map_or(0, |l| l.line()),
        column: loc.map_or(0, |l| l.column()),
        message,
    }
}

/// Writes a value as YAML text.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, TranslateError> {
    let mut options = serde_saphyr::SerializerOptions::default();
    // Long single-line expressions stay on one line: folding them (`>`) is
    // legal but makes PromQL hard to read and review. Multi-line strings
    // still become literal blocks (see `Serialize for Yaml`).
    options.prefer_block_scalars = false;
    serde_saphyr::to_string_with_options(value, options)
        .map_err(|e| TranslateError::Internal(format!("YAML output: {e}")))
}
