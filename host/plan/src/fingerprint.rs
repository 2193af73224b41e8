//! Plan fingerprint over a normalized (canonical JSON) form, and a diff of two
//! normalized forms naming what changed.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::model::Plan;

/// Rebuilds every object with its keys in sorted order.
pub fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<String, Value> =
                map.into_iter().map(|(k, v)| (k, sort_keys(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

impl Plan {
    /// Canonical JSON (sorted keys, no whitespace) of the plan and the plugin
    /// digests; independent of TOML layout, comments, key order and how
    /// durations are spelled.
    pub fn normalized(&self, plugin_digests: &BTreeMap<String, String>) -> String {
        let value = serde_json::json!({
            "plan": serde_json::to_value(self).unwrap_or(Value::Null),
            "plugin_digests": plugin_digests,
        });
        sort_keys(value).to_string()
    }

    /// `sha256:<hex>` of [`Plan::normalized`].
    pub fn fingerprint(&self, plugin_digests: &BTreeMap<String, String>) -> String {
        let digest = Sha256::digest(self.normalized(plugin_digests).as_bytes());
        format!("sha256:{}", hex::encode(digest))
    }
}

/// Names what differs between two normalized plans (from [`Plan::normalized`]):
/// metadata, systems, plugins (spec or binary), phases and their steps,
/// checklists, gates and rollback points. Empty when they are equal.
pub fn fingerprint_diff(old_normalized: &str, new_normalized: &str) -> Vec<String> {
    let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
    let (old, new) = (parse(old_normalized), parse(new_normalized));
    if old.is_null() || new.is_null() {
        return if old_normalized == new_normalized {
            Vec::new()
        } else {
            vec!["the stored normalized plan could not be read".to_string()]
        };
    }
    let mut out = Vec::new();
    let (op, np) = (&old["plan"], &new["plan"]);
    for key in ["meta", "systems", "risks", "emergency"] {
        if op[key] != np[key] {
            out.push(format!("{key} changed"));
        }
    }
    diff_map(&op["plugins"], &np["plugins"], "plugin", &mut out);
    for (id, o, n) in keyed(&old["plugin_digests"], &new["plugin_digests"]) {
        if let (Some(o), Some(n)) = (o, n)
            && o != n
        {
            out.push(format!(
                "plugin `{id}`: binary changed ({} -> {})",
                short(o),
                short(n)
            ));
        }
    }
    diff_phases(&op["phases"], &np["phases"], &mut out);
    out
}

fn short(v: &Value) -> String {
    v.as_str()
        .map_or(String::new(), |s| s.chars().take(12).collect())
}

/// (key, old, new) for every key of two objects.
fn keyed<'a>(
    old: &'a Value,
    new: &'a Value,
) -> Vec<(String, Option<&'a Value>, Option<&'a Value>)> {
    let o = old.as_object();
    let n = new.as_object();
    let mut keys: Vec<String> = o
        .into_iter()
        .flat_map(|m| m.keys())
        .chain(n.into_iter().flat_map(|m| m.keys()))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| {
            let ov = o.and_then(|m| m.get(&k));
            let nv = n.and_then(|m| m.get(&k));
            (k, ov, nv)
        })
        .collect()
}

fn diff_map(old: &Value, new: &Value, what: &str, out: &mut Vec<String>) {
    for (id, o, n) in keyed(old, new) {
        match (o, n) {
            (Some(_), None) => out.push(format!("{what} `{id}` removed")),
            (None, Some(_)) => out.push(format!("{what} `{id}` added")),
            (Some(o), Some(n)) if o != n => out.push(format!("{what} `{id}` changed")),
            _ => {}
        }
    }
}

fn by_id(list: &Value) -> Vec<(String, &Value)> {
    list.as_array()
        .map(|a| {
            a.iter()
                .map(|v| (v["id"].as_str().unwrap_or("").to_string(), v))
                .collect()
        })
        .unwrap_or_default()
}

fn diff_phases(old: &Value, new: &Value, out: &mut Vec<String>) {
    let o = by_id(old);
    let n = by_id(new);
    let o_ids: Vec<&str> = o.iter().map(|(id, _)| id.as_str()).collect();
    let n_ids: Vec<&str> = n.iter().map(|(id, _)| id.as_str()).collect();
    for id in &o_ids {
        if !n_ids.contains(id) {
            out.push(format!("phase `{id}` removed"));
        }
    }
    for id in &n_ids {
        if !o_ids.contains(id) {
            out.push(format!("phase `{id}` added"));
        }
    }
    let common_old: Vec<&&str> = o_ids.iter().filter(|id| n_ids.contains(id)).collect();
    let common_new: Vec<&&str> = n_ids.iter().filter(|id| o_ids.contains(id)).collect();
    if common_old != common_new {
        out.push("phase order changed".to_string());
    }
    for (id, ov) in &o {
        let Some((_, nv)) = n.iter().find(|(nid, _)| nid == id) else {
            continue;
        };
        for key in [
            "name",
            "description",
            "duration_ms",
            "duration_max_ms",
            "risk",
            "max_risk",
        ] {
            if ov[key] != nv[key] {
                out.push(format!("phase `{id}`: {key} changed"));
            }
        }
        for key in ["checklist", "gate", "rollback_point"] {
            if ov[key] != nv[key] {
                out.push(format!("phase `{id}`: {} changed", key.replace('_', " ")));
            }
        }
        let os = by_id(&ov["steps"]);
        let ns = by_id(&nv["steps"]);
        for (sid, sv) in &os {
            match ns.iter().find(|(nid, _)| nid == sid) {
                None => out.push(format!("phase `{id}`: step `{sid}` removed")),
                Some((_, nsv)) if nsv != sv => {
                    out.push(format!("phase `{id}`: step `{sid}` changed"))
                }
                _ => {}
            }
        }
        for (sid, _) in &ns {
            if !os.iter().any(|(oid, _)| oid == sid) {
                out.push(format!("phase `{id}`: step `{sid}` added"));
            }
        }
        let order = |v: &[(String, &Value)]| v.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>();
        let (oo, no) = (order(&os), order(&ns));
        let oc: Vec<&String> = oo.iter().filter(|s| no.contains(s)).collect();
        let nc: Vec<&String> = no.iter().filter(|s| oo.contains(s)).collect();
        if oc != nc {
            out.push(format!("phase `{id}`: step order changed"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(phases: serde_json::Value, digest: &str) -> String {
        serde_json::json!({
            "plan": { "meta": {"name": "p"}, "plugins": {"a": {"path": "a.wasm"}}, "phases": phases },
            "plugin_digests": { "a": digest },
        })
        .to_string()
    }

    #[test]
    fn names_added_removed_reordered_and_changed_parts() {
        let old = doc(
            serde_json::json!([
                {"id": "one", "steps": [{"id": "s1"}, {"id": "s2"}]},
                {"id": "two", "steps": []},
            ]),
            "aa",
        );
        let new = doc(
            serde_json::json!([
                {"id": "three", "steps": []},
                {"id": "one", "steps": [{"id": "s2"}, {"id": "s1", "x": 1}], "gate": {"approvers": ["x"]}},
            ]),
            "bb",
        );
        let diff = fingerprint_diff(&old, &new);
        assert_eq!(
            diff,
            vec![
                "plugin `a`: binary changed (aa -> bb)",
                "phase `two` removed",
                "phase `three` added",
                "phase `one`: gate changed",
                "phase `one`: step `s1` changed",
                "phase `one`: step order changed",
            ]
        );
        assert!(fingerprint_diff(&old, &old).is_empty());
        assert_eq!(fingerprint_diff("junk", &old).len(), 1);
    }

    #[test]
    fn sort_keys_is_recursive() {
        let v = serde_json::json!({"b": [{"d": 1, "c": 2}], "a": 0});
        assert_eq!(sort_keys(v).to_string(), r#"{"a":0,"b":[{"c":2,"d":1}]}"#);
    }
}
