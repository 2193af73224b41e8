//! Merging the in-scope part of an old Alertmanager configuration into a
//! new one.
//!
//! Each top-level child route of the old configuration is decided against
//! the scope from its matchers (`matchers`, `match`, `match_re`):
//! - in scope: copied, with its subtree, to the end of the new root route's
//!   children, unless a child with the same matchers and receiver is already
//!   there (so merging twice gives the same text as merging once). Settings
//!   it inherited from the old root (`receiver`, `group_by`, `group_wait`,
//!   `group_interval`, `repeat_interval`) are written into the copy when the
//!   new root would give it different ones. The receivers it uses are copied
//!   too; a receiver of the same name with different content in the new
//!   configuration, a time interval the new configuration does not define or
//!   a `global` setting it lacks make the route `Untranslatable`;
//! - out of scope: `Ok`, not copied;
//! - split by the scope (a scoped label not fixed, a regex, or values the
//!   scope accepts only partly): `Warning`, not copied.
//!
//! Old inhibition rules are handled the same way (both `source_*` and
//! `target_*` matchers must be in scope). Existing routes, receivers and
//! inhibition rules of the new configuration are never dropped or
//! reordered, and its `global`, `templates` and `time_intervals` are kept
//! as they are. Comments are not kept: the output is re-serialized.

use serde::Deserialize;

use crate::alertmanager::{self as am, AmConfig};
use crate::decide::{self, Decision};
use crate::scope::Matcher;
use crate::selection::Selection;
use crate::yaml::{self, Map, Yaml};
use crate::{Item, ItemKind, Scope, Status, TranslateError};

/// Parameters of the route merge as a translator takes them (JSON, unknown
/// fields rejected).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoutesParams {
    /// `None` (or `*`): every route is in scope. One scope or a list.
    pub scope: Option<Selection>,
}

impl RoutesParams {
    /// Parses JSON params; errors name the JSON path.
    pub fn from_json(text: &str) -> Result<RoutesParams, TranslateError> {
        crate::params_from_json(text)
    }
}

/// The merged configuration and one item per old top-level child route,
/// old receiver and old inhibition rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutesOutput {
    pub config: String,
    pub items: Vec<Item>,
}

/// Settings a child route inherits from its parent, with Alertmanager's
/// defaults at the root.
const INHERITED: [(&str, Option<&str>); 4] = [
    ("group_by", None),
    ("group_wait", Some("30s")),
    ("group_interval", Some("5m")),
    ("repeat_interval", Some("4h")),
];

fn effective(root: &Map, key: &str, default: Option<&str>) -> Yaml {
    root.get(key).cloned().unwrap_or_else(|| match default {
        Some(d) => Yaml::Str(d.to_owned()),
        None => Yaml::Seq(Vec::new()),
    })
}

/// How the merge used an old receiver.
#[derive(Default)]
struct ReceiverUse {
    copied_for: Vec<String>,
    present_for: Vec<String>,
    conflict_for: Vec<String>,
    review_for: Vec<String>,
}

struct Merge<'a> {
    old: &'a AmConfig,
    new: AmConfig,
    scope: &'a Selection,
    keys: Vec<String>,
    added_receivers: Vec<String>,
    uses: Vec<(String, ReceiverUse)>,
}

impl Merge<'_> {
    fn usage(&mut self, name: &str) -> &mut ReceiverUse {
        let pos = match self.uses.iter().position(|(n, _)| n == name) {
            Some(p) => p,
            None => {
                self.uses.push((name.to_owned(), ReceiverUse::default()));
                self.uses.len() - 1
            }
        };
        &mut self.uses[pos].1
    }

    fn decide(&self, matchers: &[Matcher], what: &str) -> Decision {
        self.scope
            .decide(|l| decide::fixed_by_matchers(matchers, l, what))
    }

    /// One old top-level child route.
    fn route(&mut self, index: usize, child: &Yaml) -> Item {
        let old_root_receiver = self
            .old
            .route()
            .get("receiver")
            .and_then(Yaml::as_str)
            .unwrap_or("");
        let child = child.as_map().cloned().unwrap_or_default();
        let own_receiver = child.get("receiver").and_then(Yaml::as_str);
        let receiver = own_receiver.unwrap_or(old_root_receiver).to_owned();
        let matchers = am::matchers_of(&child, "");
        let shown = matchers
            .as_ref()
            .map_or_else(|_| "{?}".to_owned(), |m| am::canonical(m));
        let id = format!("routes[{index}] {shown} -> {receiver}");
        let item = |status, reason: String| Item {
            id: id.clone(),
            kind: ItemKind::Route,
            status,
            reason,
        };
        let matchers = match matchers {
            Ok(m) => m,
            Err(e) => return item(Status::Untranslatable, e),
        };
        if let Some(r) = child.get("receiver")
            && !matches!(r, Yaml::Null | Yaml::Str(_))
        {
            let why = "its `receiver` is not a receiver name";
            return item(Status::Untranslatable, why.to_owned());
        }
        let mut names = Vec::new();
        am::receivers_in(&child, &mut names);
        if own_receiver.is_none() {
            names.insert(0, receiver.clone());
        }
        match self.decide(&matchers, "the route") {
            Decision::Out(why) => {
                return item(Status::Ok, format!("out of scope ({why}); not copied"));
            }
            Decision::Undecidable(why) => {
                for n in &names {
                    self.usage(n).review_for.push(format!("routes[{index}]"));
                }
                return item(
                    Status::Warning,
                    format!(
                        "not copied: the scope splits this route ({why}); copy it by hand if wanted"
                    ),
                );
            }
            Decision::In => {}
        }
        // The copy, with what it inherited from the old root made explicit.
        let mut copy = child.clone();
        let mut notes = Vec::new();
        if own_receiver.is_none() {
            // `receiver: null` inherits too: replace it, or the copy would
            // have the key twice.
            copy.remove("receiver");
            copy.0
                .insert(0, ("receiver".into(), Yaml::Str(receiver.clone())));
            notes.push(format!(
                "receiver {receiver} (inherited from the old root route) set explicitly"
            ));
        }
        for (key, default) in INHERITED {
            let old_value = effective(self.old.route(), key, default);
            if !copy.contains_key(key) && old_value != effective(self.new.route(), key, default) {
                let shown = yaml::to_string(&old_value).unwrap_or_default();
                notes.push(format!(
                    "{key}: {} (inherited from the old root route) set explicitly",
                    shown.trim()
                ));
                let at = copy
                    .0
                    .iter()
                    .position(|(k, _)| k == "routes")
                    .unwrap_or(copy.0.len());
                copy.0.insert(at, (key.to_owned(), old_value));
            }
        }
        let key = format!("{} -> {receiver}", am::canonical(&matchers));
        let mut problems = Vec::new();
        let mut differing = Vec::new();
        let global = self.new.global();
        for n in &names {
            match (self.old.receiver(n), self.new.receiver(n)) {
                (None, _) => {
                    problems.push(format!("receiver {n:?} is not defined in the old config"))
                }
                (Some(o), Some(nw)) if o != nw => differing.push(n.clone()),
                (Some(_), Some(_)) => {}
                (Some(o), None) => {
                    let missing =
                        am::missing_globals(o.as_map().unwrap_or(&Map::default()), &global);
                    if !missing.is_empty() {
                        problems.push(format!(
                            "receiver {n:?} relies on {}, which the new config's global section does not set",
                            missing.join(", ")
                        ));
                    }
                }
            }
        }
        let present = self.keys.contains(&key);
        for d in &differing {
            let what = format!("routes[{index}]");
            if present {
                self.usage(d).present_for.push(what);
            } else {
                self.usage(d).conflict_for.push(what);
            }
        }
        if present {
            for n in names.iter().filter(|n| !differing.contains(n)) {
                self.usage(n).present_for.push(format!("routes[{index}]"));
            }
            if !differing.is_empty() {
                return item(
                    Status::Warning,
                    format!(
                        "already present in the new config, but receiver(s) {} differ there; not duplicated",
                        differing.join(", ")
                    ),
                );
            }
            return item(
                Status::Ok,
                "already present in the new config; not duplicated".into(),
            );
        }
        for d in &differing {
            problems.push(format!(
                "a receiver named {d:?} with different content exists in the new config"
            ));
        }
        let defined = self.new.time_interval_names();
        let mut intervals = Vec::new();
        am::time_intervals_in(&child, &mut intervals);
        for t in intervals.iter().filter(|t| !defined.contains(&t.as_str())) {
            problems.push(format!(
                "time interval {t:?} is not defined in the new config (its time_intervals are left untouched)"
            ));
        }
        if !problems.is_empty() {
            return item(
                Status::Untranslatable,
                format!("not copied: {}", problems.join("; ")),
            );
        }
        for n in &names {
            if self.new.receiver(n).is_none() {
                let def = self.old.receiver(n).cloned().expect("checked above");
                AmConfig::push(&mut self.new.root, "receivers", def);
                self.added_receivers.push(n.clone());
            }
            self.usage(n).copied_for.push(format!("routes[{index}]"));
        }
        AmConfig::push(self.new.route_mut(), "routes", Yaml::Map(copy));
        self.keys.push(key);
        let mut reason = "copied to the end of the new root route's children".to_owned();
        for n in notes {
            reason.push_str("; ");
            reason.push_str(&n);
        }
        item(Status::Ok, reason)
    }

    /// One old inhibition rule.
    fn inhibit_rule(&mut self, index: usize, rule: &Yaml) -> Item {
        let map = rule.as_map().cloned().unwrap_or_default();
        let sides = am::matchers_of(&map, "source_")
            .and_then(|s| Ok((s, am::matchers_of(&map, "target_")?)));
        let id_of = |s: &[Matcher], t: &[Matcher]| {
            format!(
                "inhibit_rules[{index}] {} => {}",
                am::canonical(s),
                am::canonical(t)
            )
        };
        let (source, target) = match sides {
            Ok(st) => st,
            Err(e) => {
                return Item {
                    id: format!("inhibit_rules[{index}]"),
                    kind: ItemKind::InhibitRule,
                    status: Status::Untranslatable,
                    reason: e,
                };
            }
        };
        let id = id_of(&source, &target);
        let decisions = [
            self.decide(&source, "the source side"),
            self.decide(&target, "the target side"),
        ];
        let (status, reason) = if let Some(Decision::Out(why)) =
            decisions.iter().find(|d| matches!(d, Decision::Out(_)))
        {
            (Status::Ok, format!("out of scope ({why}); not copied"))
        } else if let Some(Decision::Undecidable(why)) = decisions
            .iter()
            .find(|d| matches!(d, Decision::Undecidable(_)))
        {
            (
                Status::Warning,
                format!("not copied: the scope splits this inhibition rule ({why})"),
            )
        } else if am::seq(&self.new.root, "inhibit_rules").contains(rule) {
            (
                Status::Ok,
                "already present in the new config; not duplicated".to_owned(),
            )
        } else {
            AmConfig::push(&mut self.new.root, "inhibit_rules", rule.clone());
            (
                Status::Ok,
                "copied to the end of the new config's inhibit_rules".to_owned(),
            )
        };
        Item {
            id,
            kind: ItemKind::InhibitRule,
            status,
            reason,
        }
    }

    /// One old receiver, after all routes were handled.
    fn receiver(&self, r: &Yaml) -> Item {
        let name = am::receiver_name(r).unwrap_or("").to_owned();
        let empty = ReceiverUse::default();
        let usage = self
            .uses
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(&empty, |(_, u)| u);
        let new_def = self.new.receiver(&name);
        let identical = new_def == Some(r);
        let old_root =
            self.old.route().get("receiver").and_then(Yaml::as_str) == Some(name.as_str());
        let (status, reason) = if !usage.conflict_for.is_empty() {
            (
                Status::Untranslatable,
                format!(
                    "not copied: a receiver named {name:?} with different content exists in the new config (needed by {})",
                    usage.conflict_for.join(", ")
                ),
            )
        } else if self.added_receivers.contains(&name) {
            (
                Status::Ok,
                format!("copied (used by {})", usage.copied_for.join(", ")),
            )
        } else if !usage.present_for.is_empty() && !identical {
            (
                Status::Warning,
                format!(
                    "not copied: the new config defines {name:?} differently, and the routes using it ({}) are already there",
                    usage.present_for.join(", ")
                ),
            )
        } else if identical {
            (
                Status::Ok,
                "already in the new config (identical)".to_owned(),
            )
        } else if !usage.review_for.is_empty() {
            (
                Status::Warning,
                format!(
                    "not copied: used only by routes that need review ({})",
                    usage.review_for.join(", ")
                ),
            )
        } else if old_root {
            let new_root = self
                .new
                .route()
                .get("receiver")
                .and_then(Yaml::as_str)
                .unwrap_or("");
            (
                Status::Warning,
                format!(
                    "not copied: the old root route's receiver; in-scope alerts that matched no old child route went \
                     here and now reach the new root receiver {new_root:?}"
                ),
            )
        } else {
            (
                Status::Ok,
                "not copied: not used by any in-scope route".to_owned(),
            )
        };
        Item {
            id: format!("receiver {name}"),
            kind: ItemKind::Receiver,
            status,
            reason,
        }
    }
}

/// Merges the in-scope routes of `old_config` into `new_config` (both
/// `alertmanager.yml` text). Errors: a configuration that does not parse or
/// lacks a root route/receiver.
pub fn merge_routes(
    old_config: &str,
    new_config: &str,
    scope: &Scope,
) -> Result<RoutesOutput, TranslateError> {
    merge_routes_in(old_config, new_config, &Selection::from(scope.clone()))
}

/// [`merge_routes`] for a selection: the routes any of its scopes has in.
pub fn merge_routes_in(
    old_config: &str,
    new_config: &str,
    scope: &Selection,
) -> Result<RoutesOutput, TranslateError> {
    let old = AmConfig::parse("old config", old_config)?;
    let new = AmConfig::parse("new config", new_config)?;
    let keys = new
        .children()
        .iter()
        .filter_map(|c| {
            let m = c.as_map()?;
            let ms = am::matchers_of(m, "").ok()?;
            let receiver = m
                .get("receiver")
                .and_then(Yaml::as_str)
                .or_else(|| new.route().get("receiver").and_then(Yaml::as_str))?;
            Some(format!("{} -> {receiver}", am::canonical(&ms)))
        })
        .collect();
    let mut merge = Merge {
        old: &old,
        new,
        scope,
        keys,
        added_receivers: Vec::new(),
        uses: Vec::new(),
    };
    let mut items = Vec::new();
    for (i, child) in old.children().iter().enumerate() {
        items.push(merge.route(i, child));
    }
    for (i, rule) in am::seq(&old.root, "inhibit_rules").iter().enumerate() {
        items.push(merge.inhibit_rule(i, rule));
    }
    for r in old.receivers() {
        items.push(merge.receiver(r));
    }
    let config = yaml::to_string(&merge.new.root)?;
    Ok(RoutesOutput { config, items })
}
