mod common;

use common::*;
use translate_core::alertmanager::AmConfig;
use translate_core::yaml::{self, Map, Yaml};
use translate_core::{ItemKind, Scope, Status, TranslateError, merge_routes};

fn core() -> Scope {
    Scope::parse(r#"{team="core"}"#).unwrap()
}

fn children_summary(config: &str) -> Vec<String> {
    let c = AmConfig::parse("out", config).unwrap();
    c.children()
        .iter()
        .map(|r| {
            let m = r.as_map().unwrap();
            let ms = translate_core::alertmanager::matchers_of(m, "").unwrap();
            format!(
                "{} -> {}",
                translate_core::alertmanager::canonical(&ms),
                m.get("receiver").and_then(Yaml::as_str).unwrap_or("-")
            )
        })
        .collect()
}

fn receiver_names(config: &str) -> Vec<String> {
    AmConfig::parse("out", config)
        .unwrap()
        .receivers()
        .iter()
        .map(|r| {
            translate_core::alertmanager::receiver_name(r)
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn merges_in_scope_routes_with_their_receivers() {
    let out = merge_routes(AM_OLD, AM_NEW, &core()).unwrap();
    let items = &out.items;
    // 8 top-level routes + 2 inhibition rules + 9 receivers.
    assert_eq!(items.len(), 19);
    assert_eq!(
        items.iter().filter(|i| i.kind == ItemKind::Route).count(),
        8
    );
    assert_eq!(
        items
            .iter()
            .filter(|i| i.kind == ItemKind::Receiver)
            .count(),
        9
    );
    assert_eq!(
        items
            .iter()
            .filter(|i| i.kind == ItemKind::InhibitRule)
            .count(),
        2
    );

    let r0 = r#"routes[0] {severity="critical", team="core"} -> core-pager"#;
    expect(
        items,
        r0,
        Status::Ok,
        "copied to the end of the new root route's children",
    );
    expect(
        items,
        r0,
        Status::Ok,
        "group_wait: 30s (inherited from the old root route) set explicitly",
    );
    expect(
        items,
        r#"routes[1] {team="core"} -> core-email"#,
        Status::Ok,
        "copied",
    );
    expect(
        items,
        r#"routes[2] {team="infra"} -> infra-slack"#,
        Status::Ok,
        "out of scope (team=\"infra\" is outside the scope {team=\"core\"}); not copied",
    );
    expect(
        items,
        r#"routes[3] {team=~"core|infra"} -> shared-webhook"#,
        Status::Warning,
        "not copied: the scope splits this route (team=\"core\" is in the scope but team=\"infra\" is not)",
    );
    expect(
        items,
        r#"routes[4] {severity="critical"} -> default-pager"#,
        Status::Warning,
        "the route does not fix team",
    );
    expect(
        items,
        r#"routes[5] {service=~"checkout|cart", team=~"core"} -> shop"#,
        Status::Ok,
        "copied",
    );
    expect(
        items,
        r#"routes[6] {env="staging", team="core"} -> sink"#,
        Status::Untranslatable,
        "a receiver named \"sink\" with different content exists in the new config",
    );
    expect(
        items,
        r#"routes[7] {env="dev", team="core"} -> default-pager"#,
        Status::Ok,
        "receiver default-pager (inherited from the old root route) set explicitly",
    );

    expect(
        items,
        r#"inhibit_rules[0] {severity="critical", team="core"} => {severity="warning", team="core"}"#,
        Status::Ok,
        "copied",
    );
    expect(
        items,
        r#"inhibit_rules[1] {severity="critical"} => {severity="warning"}"#,
        Status::Warning,
        "not copied",
    );

    expect(
        items,
        "receiver default-pager",
        Status::Ok,
        "copied (used by routes[7])",
    );
    expect(
        items,
        "receiver core-pager",
        Status::Ok,
        "already in the new config (identical)",
    );
    expect(
        items,
        "receiver core-email",
        Status::Ok,
        "copied (used by routes[1])",
    );
    expect(
        items,
        "receiver core-tickets",
        Status::Ok,
        "copied (used by routes[1])",
    );
    expect(
        items,
        "receiver infra-slack",
        Status::Ok,
        "not used by any in-scope route",
    );
    expect(
        items,
        "receiver shared-webhook",
        Status::Warning,
        "used only by routes that need review (routes[3])",
    );
    expect(items, "receiver shop", Status::Ok, "copied");
    expect(
        items,
        "receiver sink",
        Status::Untranslatable,
        "needed by routes[6]",
    );
    expect(
        items,
        "receiver unused",
        Status::Ok,
        "not used by any in-scope route",
    );

    // Existing routes first and in their order, then the copies in old order.
    assert_eq!(
        children_summary(&out.config),
        vec![
            r#"{team="payments"} -> payments"#,
            r#"{severity="none"} -> sink"#,
            r#"{severity="critical", team="core"} -> core-pager"#,
            r#"{team="core"} -> core-email"#,
            r#"{service=~"checkout|cart", team=~"core"} -> shop"#,
            r#"{env="dev", team="core"} -> default-pager"#,
        ]
    );
    assert_eq!(
        receiver_names(&out.config),
        vec![
            "sink",
            "payments",
            "core-pager",
            "core-email",
            "core-tickets",
            "shop",
            "default-pager"
        ]
    );
    // The nested route and `continue` came along; global, templates and
    // time_intervals are the new config's.
    let merged: Map = yaml::parse("out", &out.config).unwrap();
    let new: Map = yaml::parse("new", AM_NEW).unwrap();
    for key in ["global", "templates", "time_intervals"] {
        assert_eq!(merged.get(key), new.get(key), "{key}");
    }
    assert!(out.config.contains("continue: true"));
    assert!(out.config.contains("mute_time_intervals:"));
    let root = merged.get("route").unwrap().as_map().unwrap();
    assert_eq!(root.get("group_wait"), Some(&Yaml::Str("10s".into())));
    assert_eq!(
        merged
            .get("inhibit_rules")
            .and_then(Yaml::as_seq)
            .map(<[Yaml]>::len),
        Some(1)
    );
}

#[test]
fn merging_twice_gives_the_same_text() {
    let once = merge_routes(AM_OLD, AM_NEW, &core()).unwrap();
    let twice = merge_routes(AM_OLD, &once.config, &core()).unwrap();
    assert_eq!(once.config, twice.config);
    expect(
        &twice.items,
        r#"routes[1] {team="core"} -> core-email"#,
        Status::Ok,
        "already present in the new config; not duplicated",
    );
    expect(
        &twice.items,
        "receiver core-tickets",
        Status::Ok,
        "already in the new config (identical)",
    );
    expect(
        &twice.items,
        r#"inhibit_rules[0] {severity="critical", team="core"} => {severity="warning", team="core"}"#,
        Status::Ok,
        "already present",
    );
    assert_eq!(once.items.len(), twice.items.len());
    let thrice = merge_routes(AM_OLD, &twice.config, &core()).unwrap();
    assert_eq!(thrice.config, once.config);
}

#[test]
fn reference_fixture_configs() {
    // a -> b: no child routes; `sink` is the old root receiver and differs.
    let out = merge_routes(AM_A, AM_B, &Scope::All).unwrap();
    assert_eq!(out.items.len(), 1);
    expect(
        &out.items,
        "receiver sink",
        Status::Warning,
        "the old root route's receiver",
    );
    let merged: Map = yaml::parse("out", &out.config).unwrap();
    let b: Map = yaml::parse("b", AM_B).unwrap();
    assert_eq!(merged, b, "nothing to merge: the new config is unchanged");
    // Identical configs: the root receiver is identical, nothing to do.
    let out = merge_routes(AM_B, AM_B, &Scope::All).unwrap();
    expect(
        &out.items,
        "receiver sink",
        Status::Ok,
        "already in the new config (identical)",
    );
}

#[test]
fn scope_everything_copies_every_route_that_can_be() {
    let out = merge_routes(AM_OLD, AM_NEW, &Scope::All).unwrap();
    let c = counts(&out.items);
    assert_eq!(c.total(), 19);
    expect(
        &out.items,
        r#"routes[2] {team="infra"} -> infra-slack"#,
        Status::Ok,
        "copied",
    );
    expect(
        &out.items,
        r#"routes[4] {severity="critical"} -> default-pager"#,
        Status::Ok,
        "copied",
    );
    expect(
        &out.items,
        r#"routes[6] {env="staging", team="core"} -> sink"#,
        Status::Untranslatable,
        "different content",
    );
    expect(
        &out.items,
        r#"inhibit_rules[1] {severity="critical"} => {severity="warning"}"#,
        Status::Ok,
        "copied",
    );
}

#[test]
fn missing_globals_and_time_intervals_make_routes_untranslatable() {
    let mut new: Map = yaml::parse("new", AM_NEW).unwrap();
    new.remove("global");
    new.remove("time_intervals");
    let new_text = yaml::to_string(&new).unwrap();
    let out = merge_routes(AM_OLD, &new_text, &core()).unwrap();
    let id = r#"routes[1] {team="core"} -> core-email"#;
    expect(
        &out.items,
        id,
        Status::Untranslatable,
        "receiver \"core-email\" relies on global.smtp_smarthost, global.smtp_from",
    );
    expect(
        &out.items,
        id,
        Status::Untranslatable,
        "time interval \"weekends\" is not defined in the new config",
    );
    expect(
        &out.items,
        "receiver core-tickets",
        Status::Ok,
        "not used by any in-scope route",
    );
    assert!(!receiver_names(&out.config).contains(&"core-email".to_owned()));
}

#[test]
fn existing_route_is_not_duplicated() {
    let new = AM_NEW.replace(
        "    - matchers: ['severity=\"none\"']\n      receiver: sink\n",
        "    - matchers: ['severity=\"none\"']\n      receiver: sink\n    - match: {team: core, severity: critical}\n      receiver: core-pager\n",
    );
    assert_ne!(new, AM_NEW);
    let out = merge_routes(AM_OLD, &new, &core()).unwrap();
    expect(
        &out.items,
        r#"routes[0] {severity="critical", team="core"} -> core-pager"#,
        Status::Ok,
        "already present",
    );
    let children = children_summary(&out.config);
    assert_eq!(
        children
            .iter()
            .filter(|c| c.ends_with("-> core-pager"))
            .count(),
        1,
        "{children:?}"
    );
    assert_eq!(
        children[2], r#"{severity="critical", team="core"} -> core-pager"#,
        "kept in place"
    );
}

#[test]
fn other_scopes() {
    let out = merge_routes(
        AM_OLD,
        AM_NEW,
        &Scope::parse(r#"{team="payments"}"#).unwrap(),
    )
    .unwrap();
    assert!(
        out.items
            .iter()
            .filter(|i| i.kind == ItemKind::Route)
            .all(|i| i.status != Status::Ok || i.reason.contains("out of scope"))
    );
    let new: Map = yaml::parse("new", AM_NEW).unwrap();
    assert_eq!(yaml::parse::<Map>("out", &out.config).unwrap(), new);
    // A regex scope that fully covers a literal alternation.
    let out = merge_routes(
        AM_OLD,
        AM_NEW,
        &Scope::parse(r#"{team=~"core|infra"}"#).unwrap(),
    )
    .unwrap();
    expect(
        &out.items,
        r#"routes[3] {team=~"core|infra"} -> shared-webhook"#,
        Status::Ok,
        "copied",
    );
    expect(
        &out.items,
        r#"routes[2] {team="infra"} -> infra-slack"#,
        Status::Ok,
        "copied",
    );
}

#[test]
fn errors() {
    let e = merge_routes("route: [\n", AM_NEW, &core()).unwrap_err();
    assert!(
        matches!(&e, TranslateError::Yaml { file, line: 1, .. } if file == "old config"),
        "{e:?}"
    );
    let e = merge_routes(AM_OLD, "receivers: []\n", &core()).unwrap_err();
    assert_eq!(e.to_string(), "new config: no `route` mapping");
    // A bad matcher in one old route only affects that route.
    let old = AM_OLD.replace(
        "- matchers: ['team=\"core\"']\n",
        "- matchers: ['team=~\"(\"']\n",
    );
    let out = merge_routes(&old, AM_NEW, &core()).unwrap();
    expect(
        &out.items,
        "routes[1] {?} -> core-email",
        Status::Untranslatable,
        "invalid regular expression",
    );
    assert_eq!(out.items.len(), 19);
}

/// Found by fuzzing (`scripts/fuzz.sh`, target `alertmanager_config`): an
/// old child route with `receiver:` left empty (null) inherits the root's
/// receiver, and was copied with a second `receiver` key, which the merged
/// configuration then refused as a duplicate key.
#[test]
fn a_null_child_receiver_is_inherited_once() {
    let old = include_str!("data/fuzz/am-null-child-receiver.yml");
    let all = translate_core::Selection::all();
    let once = translate_core::merge_routes_in(old, AM_NEW, &all).unwrap();
    let merged =
        AmConfig::parse("merged", &once.config).unwrap_or_else(|e| panic!("{e}\n{}", once.config));
    let web = merged
        .children()
        .iter()
        .filter_map(Yaml::as_map)
        .find(|m| {
            translate_core::alertmanager::matchers_of(m, "")
                .is_ok_and(|ms| translate_core::alertmanager::canonical(&ms) == r#"{team="web"}"#)
        })
        .expect("the team=\"web\" route is copied");
    let receivers: Vec<_> = web.0.iter().filter(|(k, _)| k == "receiver").collect();
    assert_eq!(receivers.len(), 1, "{}", once.config);
    assert_eq!(receivers[0].1.as_str(), Some("default"));
    let twice = translate_core::merge_routes_in(old, &once.config, &all).unwrap();
    assert_eq!(twice.config, once.config);
}

/// A child route whose `receiver` is neither a name nor empty is not copied
/// (nor given the root's receiver in its place).
#[test]
fn a_child_receiver_that_is_not_a_name_is_untranslatable() {
    let old = "route:\n  receiver: default\n  routes:\n  - matchers: ['team=\"web\"']\n    receiver: [a, b]\nreceivers:\n- name: default\n";
    let all = translate_core::Selection::all();
    let out = translate_core::merge_routes_in(old, AM_NEW, &all).unwrap();
    let route = out
        .items
        .iter()
        .find(|i| i.kind == ItemKind::Route)
        .expect("one route item");
    assert_eq!(route.status, Status::Untranslatable, "{route:?}");
    assert!(route.reason.contains("not a receiver name"), "{route:?}");
    assert!(
        !out.config.contains("[a, b]") && !out.config.contains("- a\n"),
        "{}",
        out.config
    );
}
