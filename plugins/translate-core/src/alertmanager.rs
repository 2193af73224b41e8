//! Alertmanager configuration pieces needed by the route merge: the
//! configuration as an ordered YAML tree, route and inhibition matchers
//! (`matchers: ['team="core"']` and the deprecated `match`/`match_re`),
//! referenced receivers and time intervals, and the `global` settings a
//! receiver falls back to.

use crate::TranslateError;
use crate::lex::{self, LexError};
use crate::scope::{MatchOp, Matcher};
use crate::yaml::{self, Map, Yaml};

/// A parsed `alertmanager.yml`, kept as an ordered tree so that everything
/// not touched by the merge is written back as it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct AmConfig {
    pub root: Map,
}

fn invalid(file: &str, message: impl Into<String>) -> TranslateError {
    TranslateError::Invalid {
        file: file.to_owned(),
        message: message.into(),
    }
}

impl AmConfig {
    /// Parses and checks the shape the merge relies on: a `route` mapping
    /// with a `receiver`, child `routes` as mappings, and `receivers` with
    /// unique names.
    pub fn parse(file: &str, text: &str) -> Result<AmConfig, TranslateError> {
        let root: Map = yaml::parse(file, text)?;
        let Some(route) = root.get("route").and_then(Yaml::as_map) else {
            return Err(invalid(file, "no `route` mapping"));
        };
        if route.get("receiver").and_then(Yaml::as_str).is_none() {
            return Err(invalid(file, "the root route has no `receiver`"));
        }
        check_routes(file, route, "route")?;
        let mut names: Vec<&str> = Vec::new();
        for (i, r) in seq(&root, "receivers").iter().enumerate() {
            let Some(name) = r
                .as_map()
                .and_then(|m| m.get("name"))
                .and_then(Yaml::as_str)
            else {
                return Err(invalid(file, format!("receivers[{i}] has no `name`")));
            };
            if names.contains(&name) {
                return Err(invalid(file, format!("receiver {name:?} is defined twice")));
            }
            names.push(name);
        }
        Ok(AmConfig { root })
    }

    /// The root route.
    pub fn route(&self) -> &Map {
        self.root
            .get("route")
            .and_then(Yaml::as_map)
            .expect("checked by parse")
    }

    /// The root route, mutable.
    pub fn route_mut(&mut self) -> &mut Map {
        match self.root.get_mut("route") {
            Some(Yaml::Map(m)) => m,
            _ => unreachable!("checked by parse"),
        }
    }

    /// The root route's direct children.
    pub fn children(&self) -> &[Yaml] {
        seq(self.route(), "routes")
    }

    /// The receiver definition named `name`.
    pub fn receiver(&self, name: &str) -> Option<&Yaml> {
        seq(&self.root, "receivers")
            .iter()
            .find(|r| receiver_name(r) == Some(name))
    }

    /// Receiver definitions.
    pub fn receivers(&self) -> &[Yaml] {
        seq(&self.root, "receivers")
    }

    /// Names defined in `time_intervals` and the older `mute_time_intervals`.
    pub fn time_interval_names(&self) -> Vec<&str> {
        ["time_intervals", "mute_time_intervals"]
            .iter()
            .flat_map(|k| seq(&self.root, k))
            .filter_map(|t| t.as_map()?.get("name")?.as_str())
            .collect()
    }

    /// The `global` section (empty when absent).
    pub fn global(&self) -> Map {
        self.root
            .get("global")
            .and_then(Yaml::as_map)
            .cloned()
            .unwrap_or_default()
    }

    /// Appends `value` to the sequence under `key` of `map`, creating it.
    pub fn push(map: &mut Map, key: &str, value: Yaml) {
        match map.get_mut(key) {
            Some(Yaml::Seq(s)) => s.push(value),
            _ => map.insert(key, Yaml::Seq(vec![value])),
        }
    }
}

fn check_routes(file: &str, route: &Map, at: &str) -> Result<(), TranslateError> {
    match route.get("routes") {
        None | Some(Yaml::Null) => Ok(()),
        Some(Yaml::Seq(children)) => {
            for (i, c) in children.iter().enumerate() {
                let here = format!("{at}.routes[{i}]");
                let m = c
                    .as_map()
                    .ok_or_else(|| invalid(file, format!("{here} is not a mapping")))?;
                check_routes(file, m, &here)?;
            }
            Ok(())
        }
        Some(other) => Err(invalid(
            file,
            format!("{at}.routes is {}, not a list", other.kind()),
        )),
    }
}

/// The sequence under `key` (empty when absent or not a sequence).
pub fn seq<'a>(map: &'a Map, key: &str) -> &'a [Yaml] {
    map.get(key).and_then(Yaml::as_seq).unwrap_or(&[])
}

/// A receiver's `name`.
pub fn receiver_name(r: &Yaml) -> Option<&str> {
    r.as_map()?.get("name")?.as_str()
}

/// Parses one entry of a `matchers` list: `a="b"`, `a=~"x|y", b!=c`,
/// `{a="b"}`; values may be quoted or bare, as Alertmanager allows.
pub fn parse_matchers_line(src: &str) -> Result<Vec<Matcher>, String> {
    matchers_line(src).map_err(|e| {
        format!(
            "matcher {src:?}: column {}: {}",
            lex::line_col(src, e.offset).1,
            e.message
        )
    })
}

fn matchers_line(src: &str) -> Result<Vec<Matcher>, LexError> {
    let bytes = src.as_bytes();
    let mut i = lex::skip_ws(src, 0);
    let braces = bytes.get(i) == Some(&b'{');
    if braces {
        i += 1;
    }
    let mut out = Vec::new();
    loop {
        i = lex::skip_ws(src, i);
        if (braces && bytes.get(i) == Some(&b'}')) || (!braces && i == src.len() && !out.is_empty())
        {
            break;
        }
        let (name, after) = if bytes.get(i) == Some(&b'"') {
            lex::parse_string(src, i)?
        } else {
            let n = lex::ident_len(src, i, true);
            if n == 0 {
                return Err(LexError::new(i, "expected a label name"));
            }
            (src[i..i + n].to_owned(), i + n)
        };
        i = lex::skip_ws(src, after);
        let (op, len) = MatchOp::lex(src, i)
            .ok_or_else(|| LexError::new(i, "expected '=', '!=', '=~' or '!~' after label name"))?;
        i = lex::skip_ws(src, i + len);
        let value_at = i;
        let value = if bytes.get(i) == Some(&b'"') {
            let (v, end) = lex::parse_string(src, i)?;
            i = end;
            v
        } else {
            let end = src[i..]
                .find(|c| c == ',' || (braces && c == '}'))
                .map_or(src.len(), |p| i + p);
            let v = src[i..end].trim().to_owned();
            i = end;
            v
        };
        out.push(Matcher::new(&name, op, &value).map_err(|e| LexError::new(value_at, e))?);
        i = lex::skip_ws(src, i);
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b'}') if braces => break,
            None if !braces => break,
            _ => return Err(LexError::new(i, "expected ',' after matcher")),
        }
    }
    if braces {
        let end = lex::skip_ws(src, i + 1);
        if end < src.len() {
            return Err(LexError::new(end, "unexpected text after '}'"));
        }
    }
    Ok(out)
}

/// Matchers of a route (`matchers`, `match`, `match_re`) or of one side of
/// an inhibition rule (`prefix` = `"source_"` / `"target_"`).
pub fn matchers_of(map: &Map, prefix: &str) -> Result<Vec<Matcher>, String> {
    let mut out = Vec::new();
    match map.get(&format!("{prefix}matchers")) {
        None | Some(Yaml::Null) => {}
        Some(Yaml::Seq(lines)) => {
            for l in lines {
                let text = l.scalar_text().ok_or_else(|| {
                    format!("{prefix}matchers: expected strings, found {}", l.kind())
                })?;
                out.extend(parse_matchers_line(&text)?);
            }
        }
        Some(other) => return Err(format!("{prefix}matchers is {}, not a list", other.kind())),
    }
    for (key, op) in [("match", MatchOp::Eq), ("match_re", MatchOp::Re)] {
        let key = format!("{prefix}{key}");
        match map.get(&key) {
            None | Some(Yaml::Null) => {}
            Some(Yaml::Map(m)) => {
                for (name, v) in &m.0 {
                    let value = v.scalar_text().ok_or_else(|| {
                        format!("{key}.{name}: expected a string, found {}", v.kind())
                    })?;
                    out.push(
                        Matcher::new(name, op, &value).map_err(|e| format!("{key}.{name}: {e}"))?,
                    );
                }
            }
            Some(other) => return Err(format!("{key} is {}, not a mapping", other.kind())),
        }
    }
    Ok(out)
}

/// Matchers in a canonical order and spelling, for comparing routes.
pub fn canonical(matchers: &[Matcher]) -> String {
    let mut shown: Vec<String> = matchers.iter().map(ToString::to_string).collect();
    shown.sort();
    shown.dedup();
    format!("{{{}}}", shown.join(", "))
}

/// Receiver names used by `route` and its descendants.
pub fn receivers_in(route: &Map, out: &mut Vec<String>) {
    if let Some(r) = route.get("receiver").and_then(Yaml::as_str)
        && !out.iter().any(|o| o == r)
    {
        out.push(r.to_owned());
    }
    for c in seq(route, "routes") {
        if let Some(m) = c.as_map() {
            receivers_in(m, out);
        }
    }
}

/// Time interval names used by `route` and its descendants.
pub fn time_intervals_in(route: &Map, out: &mut Vec<String>) {
    for key in ["mute_time_intervals", "active_time_intervals"] {
        for t in seq(route, key) {
            if let Some(name) = t.as_str()
                && !out.iter().any(|o| o == name)
            {
                out.push(name.to_owned());
            }
        }
    }
    for c in seq(route, "routes") {
        if let Some(m) = c.as_map() {
            time_intervals_in(m, out);
        }
    }
}

/// Integrations whose settings fall back to `global`: (config list, local
/// keys that make the global one unnecessary, global keys of which one is
/// needed otherwise).
const GLOBAL_FALLBACKS: [(&str, &[&str], &[&str]); 7] = [
    (
        "slack_configs",
        &["api_url", "api_url_file"],
        &["slack_api_url", "slack_api_url_file"],
    ),
    ("email_configs", &["smarthost"], &["smtp_smarthost"]),
    ("email_configs", &["from"], &["smtp_from"]),
    (
        "opsgenie_configs",
        &["api_key", "api_key_file"],
        &["opsgenie_api_key", "opsgenie_api_key_file"],
    ),
    (
        "victorops_configs",
        &["api_key", "api_key_file"],
        &["victorops_api_key", "victorops_api_key_file"],
    ),
    ("wechat_configs", &["api_secret"], &["wechat_api_secret"]),
    ("wechat_configs", &["corp_id"], &["wechat_api_corp_id"]),
];

/// The `global` settings `receiver` relies on that `global` lacks, as
/// `global.key` (alternatives joined with " or ").
pub fn missing_globals(receiver: &Map, global: &Map) -> Vec<String> {
    let mut out = Vec::new();
    for (list, local, globals) in GLOBAL_FALLBACKS {
        for cfg in seq(receiver, list) {
            let Some(cfg) = cfg.as_map() else { continue };
            let needs = !local.iter().any(|k| cfg.contains_key(k));
            if needs && !globals.iter().any(|g| global.contains_key(g)) {
                let want: Vec<String> = globals.iter().map(|g| format!("global.{g}")).collect();
                let want = want.join(" or ");
                if !out.contains(&want) {
                    out.push(want);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> Vec<String> {
        parse_matchers_line(s)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn matcher_lines() {
        assert_eq!(line(r#"team="core""#), vec![r#"team="core""#]);
        assert_eq!(line("team = core"), vec![r#"team="core""#]);
        assert_eq!(
            line(r#"{severity=~"crit|warn", team!=infra}"#),
            vec![r#"severity=~"crit|warn""#, r#"team!="infra""#]
        );
        assert_eq!(
            line(r#"a="x,y", b=~c.*"#),
            vec![r#"a="x,y""#, r#"b=~"c.*""#]
        );
        assert_eq!(line(r#""dotted.name"="v""#), vec![r#""dotted.name"="v""#]);
        let e = parse_matchers_line("team core").unwrap_err();
        assert!(
            e.contains("column 6: expected '=', '!=', '=~' or '!~'"),
            "{e}"
        );
        assert!(
            parse_matchers_line("")
                .unwrap_err()
                .contains("expected a label name")
        );
        assert!(
            parse_matchers_line(r#"a=~"(""#)
                .unwrap_err()
                .contains("invalid regular expression")
        );
        assert!(
            parse_matchers_line(r#"{a="b"} c"#)
                .unwrap_err()
                .contains("unexpected text")
        );
    }

    #[test]
    fn route_matchers_from_all_syntaxes() {
        let m: Map = yaml::parse(
            "t",
            "matchers: ['team=\"core\"', 'env=~\"prod|stage\"']\nmatch: {svc: cart}\nmatch_re: {zone: 'eu-.*'}\n",
        )
        .unwrap();
        let ms = matchers_of(&m, "").unwrap();
        assert_eq!(
            canonical(&ms),
            r#"{env=~"prod|stage", svc="cart", team="core", zone=~"eu-.*"}"#
        );
        let m: Map = yaml::parse("t", "match: [a]\n").unwrap();
        assert!(matchers_of(&m, "").unwrap_err().contains("not a mapping"));
        let m: Map = yaml::parse(
            "t",
            "source_match: {severity: critical}\ntarget_matchers: [severity=warning]\n",
        )
        .unwrap();
        assert_eq!(
            canonical(&matchers_of(&m, "source_").unwrap()),
            r#"{severity="critical"}"#
        );
        assert_eq!(
            canonical(&matchers_of(&m, "target_").unwrap()),
            r#"{severity="warning"}"#
        );
    }

    #[test]
    fn config_shape_errors() {
        let e = AmConfig::parse("c.yml", "receivers: []\n").unwrap_err();
        assert_eq!(e.to_string(), "c.yml: no `route` mapping");
        let e = AmConfig::parse("c.yml", "route: {}\n").unwrap_err();
        assert!(e.to_string().contains("no `receiver`"));
        let e = AmConfig::parse(
            "c.yml",
            "route: {receiver: a, routes: [1]}\nreceivers: [{name: a}]\n",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("route.routes[0] is not a mapping"),
            "{e}"
        );
        let e = AmConfig::parse(
            "c.yml",
            "route: {receiver: a}\nreceivers: [{name: a}, {name: a}]\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("defined twice"));
        let e = AmConfig::parse("c.yml", "route:\n  receiver: [a\n").unwrap_err();
        assert!(e.to_string().starts_with("c.yml: line 2, column"), "{e}");
    }

    #[test]
    fn globals_needed() {
        let r: Map = yaml::parse("t", "name: s\nslack_configs: [{channel: '#x'}]\nemail_configs: [{to: a@b, smarthost: 'h:25'}]\n").unwrap();
        let g = Map::default();
        assert_eq!(
            missing_globals(&r, &g),
            vec![
                "global.slack_api_url or global.slack_api_url_file",
                "global.smtp_from"
            ]
        );
        let g: Map = yaml::parse("t", "slack_api_url: http://x\nsmtp_from: a@b\n").unwrap();
        assert!(missing_globals(&r, &g).is_empty());
    }
}
