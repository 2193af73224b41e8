//! Translators (`translator` world, contract 0.1.1) in the sandbox: the
//! first-party ones on real input, `hostile-translator` for everything a
//! translator can get wrong, and hand-written components
//! (`translator-template.wat`) for limits at `describe()`.

use cutover_runtime::{
    Denied, Descriptor, Document, ItemStatus, LoadError, PluginError, Summary, TranslateError,
    TranslateRequest, Translation, World,
};
use cutover_test_kit::translator_sample;

use super::*;

fn translate(
    name: &str,
    sb: &Sandbox,
    kind: &str,
    params: &str,
    docs: &[Document],
) -> Result<Translation, TranslateError> {
    let p = load(name);
    rt().translate(&p, sb, &TranslateRequest::new(kind, params, docs))
}

/// The limit a translation ran into, when that is how it failed.
fn call_limit(err: &TranslateError) -> Option<Limit> {
    match err {
        TranslateError::Call(e) => limit_of(e),
        _ => None,
    }
}

fn statuses(t: &Translation) -> Vec<(&str, ItemStatus)> {
    t.report
        .items
        .iter()
        .map(|i| (i.kind.as_str(), i.status))
        .collect()
}

#[test]
fn first_party_translators_describe_themselves() {
    for (name, kind) in [
        ("prometheus-rules", "alert_rules"),
        ("alertmanager-routes", "routes"),
        ("alertmanager-silences", "silences"),
    ] {
        let p = load(name);
        assert_eq!(p.world(), World::Translator, "{name}");
        assert_eq!(p.name(), name);
        let info = p.info();
        assert_eq!(info.contract_version.as_deref(), Some("0.1.3"), "{name}");
        assert_eq!(info.host_contract_version, "0.1.3");
        assert!(info.exports.iter().any(|e| e == "translate"), "{name}");
        let d: &Descriptor = p.descriptor();
        assert_eq!(d.kind, World::Translator);
        assert_eq!(d.kinds, vec![kind.to_string()], "{name}");
        assert!(d.translates(kind));
        let c = &d.capabilities;
        assert!(
            c.hosts.is_empty() && c.directories.is_empty() && c.secrets.is_empty(),
            "{name} asks for nothing"
        );
        let again = rt().describe(&p, &Sandbox::default()).expect("describe");
        assert_eq!(again.kinds, d.kinds);
    }
}

#[test]
fn prometheus_rules_translates_in_scope_and_accounts_for_every_rule() {
    let docs = [Document::new("node.yml", translator_sample("rules.yml"))];
    let p = load("prometheus-rules");
    let params = r#"{"scope": "{team=\"core\"}", "renames": {"NodeDown": "HostDown"},
                     "label_renames": {"job": "service"}}"#;
    let t = rt()
        .translate(
            &p,
            &Sandbox::default(),
            &TranslateRequest::new("alert_rules", params, &docs).expecting(3),
        )
        .expect("translate");
    assert_eq!(
        statuses(&t),
        vec![
            ("alert_rule", ItemStatus::Ok),
            ("alert_rule", ItemStatus::Ok),
            ("recording_rule", ItemStatus::Ok),
        ]
    );
    assert_eq!(
        t.report.summary,
        Summary {
            ok: 3,
            warning: 0,
            untranslatable: 0
        }
    );
    assert!(t.report.items[1].reason.contains("out of scope"));
    assert_eq!(t.documents.len(), 1);
    let out = &t.documents[0];
    assert_eq!(out.name, "node.yml");
    assert!(out.text.contains("alert: HostDown"), "{}", out.text);
    assert!(out.text.contains("service="), "{}", out.text);
    assert!(!out.text.contains("WebDown"), "{}", out.text);
    // Bad params are the translator's typed `invalid-input`, named by path.
    let err = rt()
        .translate(
            &p,
            &Sandbox::default(),
            &TranslateRequest::new("alert_rules", r#"{"scope": "{team=}"}"#, &docs),
        )
        .unwrap_err();
    assert!(err.is_bad_input(), "{err:?}");
    assert!(matches!(
        &err,
        TranslateError::Call(CallError::Plugin { plugin, error: PluginError::InvalidInput(m) })
            if plugin == "prometheus-rules" && m.contains("scope")
    ));
}

#[test]
fn alertmanager_routes_merges_old_into_new() {
    let docs = [
        Document::new("old", translator_sample("routes-old.yml")),
        Document::new("new", translator_sample("routes-new.yml")),
    ];
    let t = translate(
        "alertmanager-routes",
        &Sandbox::default(),
        "routes",
        r#"{"scope": "{team=\"core\"}"}"#,
        &docs,
    )
    .expect("translate");
    assert_eq!(t.report.items.len(), 5, "2 routes + 3 receivers");
    assert_eq!(t.report.summary.total(), 5);
    assert_eq!(t.documents.len(), 1);
    assert_eq!(t.documents[0].name, "new");
    assert!(t.documents[0].text.contains("core-pager"));
    assert!(!t.documents[0].text.contains("web-mail"));
}

#[test]
fn alertmanager_silences_keeps_the_scope() {
    let docs = [Document::new(
        "silences.json",
        translator_sample("silences.json"),
    )];
    let t = translate(
        "alertmanager-silences",
        &Sandbox::default(),
        "silences",
        r#"{"scope": "{team=\"core\"}"}"#,
        &docs,
    )
    .expect("translate");
    let ids: Vec<&str> = t.report.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, vec!["s1", "s2"]);
    assert!(t.report.items.iter().all(|i| i.kind == "silence"));
    assert!(t.documents[0].text.contains("core maintenance"));
    assert!(!t.documents[0].text.contains("web maintenance"));
}

fn hostile_translate(mode: &str, sb: &Sandbox) -> Result<Translation, TranslateError> {
    let docs = [Document::new("a.yml", "1"), Document::new("b.yml", "2")];
    translate(
        "hostile-translator",
        sb,
        "anything",
        &format!(r#"{{"mode": "{mode}"}}"#),
        &docs,
    )
}

#[test]
fn a_well_behaved_translator_gets_its_documents_kind_and_params() {
    let t = hostile_translate("echo", &Sandbox::default()).expect("echo");
    assert_eq!(
        t.documents,
        vec![Document::new("a.yml", "1"), Document::new("b.yml", "2")]
    );
    assert_eq!(t.report.items[2].reason, "kind anything");
}

#[test]
fn malformed_output_is_typed_and_names_the_translator() {
    let sb = Sandbox::default();
    let err = hostile_translate("bad-framing", &sb).unwrap_err();
    assert!(
        matches!(&err, TranslateError::MalformedOutput { plugin, line: 3, name: None, .. }
            if plugin == "hostile-translator"),
        "{err:?}"
    );
    let err = hostile_translate("bad-name", &sb).unwrap_err();
    assert!(
        matches!(&err, TranslateError::MalformedOutput { line: 1, name: Some(n), .. } if n == "../escape"),
        "{err:?}"
    );
    let err = hostile_translate("dup-doc", &sb).unwrap_err();
    assert!(
        matches!(&err, TranslateError::MalformedOutput { line: 2, name: Some(n), .. } if n == "a"),
        "{err:?}"
    );
    assert!(!err.is_bad_input());
}

#[test]
fn reports_that_do_not_add_up_are_typed_and_name_the_item() {
    let sb = Sandbox::default();
    let err = hostile_translate("dup-ids", &sb).unwrap_err();
    assert!(
        matches!(&err, TranslateError::DuplicateItem { plugin, id, first: 0, second: 1 }
            if plugin == "hostile-translator" && id == "same"),
        "{err:?}"
    );
    let err = hostile_translate("summary-lie", &sb).unwrap_err();
    assert!(
        matches!(
            &err,
            TranslateError::SummaryMismatch {
                reported: Summary { ok: 3, .. },
                counted: Summary { ok: 2, .. },
                ..
            }
        ),
        "{err:?}"
    );
    let err = hostile_translate("empty-id", &sb).unwrap_err();
    assert!(
        matches!(&err, TranslateError::InvalidItem { index: 0, .. }),
        "{err:?}"
    );
    // One item for two documents passes unless the caller counted them.
    let docs = [Document::new("a.yml", "1"), Document::new("b.yml", "2")];
    let p = load("hostile-translator");
    let req = TranslateRequest::new("anything", r#"{"mode": "drop-item"}"#, &docs);
    assert_eq!(
        rt().translate(&p, &sb, &req)
            .expect("uncounted")
            .report
            .items
            .len(),
        1
    );
    let err = rt().translate(&p, &sb, &req.expecting(2)).unwrap_err();
    assert!(
        matches!(
            &err,
            TranslateError::MissingItems {
                reported: 1,
                expected: 2,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn translators_get_nothing_that_is_not_granted() {
    let t = hostile_translate("snoop", &Sandbox::default()).expect("snoop");
    assert_eq!(
        t.report.items[0].reason,
        "env=0 args=0 root=unreadable passwd=false"
    );
    let err = hostile_translate("http", &Sandbox::default()).unwrap_err();
    assert!(
        matches!(&err, TranslateError::Call(CallError::Denied { plugin, denied: Denied::Http(o) })
            if plugin == "hostile-translator" && o.contains("127.0.0.1:9")),
        "{err:?}"
    );
    assert_healthy();
}

#[test]
fn translator_limits_are_typed() {
    let err = hostile_translate("loop", &quick(200)).unwrap_err();
    assert!(
        matches!(
            &err,
            TranslateError::Call(CallError::Deadline {
                deadline_ms: 200,
                ..
            })
        ),
        "{err:?}"
    );
    let err = hostile_translate("memory", &Sandbox::default()).unwrap_err();
    assert_eq!(call_limit(&err), Some(Limit::Memory), "{err:?}");
    let err = hostile_translate("trap", &Sandbox::default()).unwrap_err();
    assert!(
        matches!(&err, TranslateError::Call(CallError::Trap { plugin, .. }) if plugin == "hostile-translator"),
        "{err:?}"
    );
    let err = hostile_translate("big-report", &Sandbox::default()).unwrap_err();
    assert_eq!(call_limit(&err), Some(Limit::Output), "{err:?}");
    let mut capped = Sandbox::default();
    capped.limits.max_translation_bytes = 3 << 20;
    let err = hostile_translate("flood", &capped).unwrap_err();
    assert_eq!(call_limit(&err), Some(Limit::Output), "{err:?}");
    assert_healthy();
}

#[test]
fn requests_are_checked_before_the_call() {
    let p = load("hostile-translator");
    let sb = Sandbox::default();
    let docs = [Document::new("a", "")];
    let err = rt()
        .translate(&p, &sb, &TranslateRequest::new("routes", "{}", &docs))
        .unwrap_err();
    assert!(
        matches!(&err, TranslateError::UnsupportedKind { kind, supported, .. }
            if kind == "routes" && supported == &["anything", "other", "alert_rules"]),
        "{err:?}"
    );
    assert!(err.is_bad_input());
    for bad in [
        vec![Document::new("../x", "")],
        vec![Document::new("a", ""), Document::new("a", "")],
    ] {
        let err = rt()
            .translate(&p, &sb, &TranslateRequest::new("anything", "{}", &bad))
            .unwrap_err();
        assert!(matches!(&err, TranslateError::Input { .. }), "{err:?}");
        assert!(err.is_bad_input());
    }
    // Other worlds are not translators, and translators nothing else.
    let noop = load("noop-action");
    let err = rt()
        .translate(&noop, &sb, &TranslateRequest::new("anything", "{}", &docs))
        .unwrap_err();
    assert!(matches!(
        err,
        TranslateError::Call(CallError::WorldMismatch {
            expected: World::Translator,
            found: World::Action,
            ..
        })
    ));
    assert!(matches!(
        rt().run_action(&p, &sb, &ctx("{}")),
        Err(CallError::WorldMismatch {
            expected: World::Action,
            found: World::Translator,
            ..
        })
    ));
}

fn load_translator_wat(
    name: &str,
    describe: &str,
    body: &str,
    kinds: u8,
) -> Result<Plugin, LoadError> {
    rt().load(
        wat::translator(name, describe, body, kinds).as_bytes(),
        name,
    )
}

#[test]
fn a_hand_written_0_1_1_translator_loads_and_runs() {
    let p = load_translator_wat("wat-translator", "", "", 1).expect("loads");
    assert_eq!(p.world(), World::Translator);
    assert_eq!(p.info().contract_version.as_deref(), Some("0.1.1"));
    assert_eq!(p.descriptor().kinds, vec!["alert_rules".to_string()]);
    let t = rt()
        .translate(
            &p,
            &Sandbox::default(),
            &TranslateRequest::new("alert_rules", "{}", &[]),
        )
        .expect("translate");
    assert_eq!(t.documents, vec![]);
    assert_eq!(t.report.summary.total(), 0);
    // The same component, spinning in translate: the deadline stops it.
    let spin = wat::hostile("infinite-loop.body.wat");
    let p = load_translator_wat("wat-spin", "", &spin, 1).expect("loads");
    let err = rt()
        .translate(
            &p,
            &quick(100),
            &TranslateRequest::new("alert_rules", "{}", &[]),
        )
        .unwrap_err();
    assert!(
        matches!(&err, TranslateError::Call(CallError::Deadline { plugin, .. }) if plugin == "wat-spin"),
        "{err:?}"
    );
}

#[test]
fn describe_runs_under_the_same_limits() {
    let describe_err = |name: &str, describe: &str, kinds: u8| match load_translator_wat(
        name, describe, "", kinds,
    ) {
        Err(LoadError::Describe { cause, .. }) => cause,
        Err(other) => panic!("{name}: expected a describe() error, got {other:?}"),
        Ok(_) => panic!("{name}: loaded"),
    };
    let memory = "(drop (memory.grow (i32.const 2000)))";
    let err = describe_err("wat-describe-memory", memory, 1);
    assert_eq!(limit_of(&err), Some(Limit::Memory), "{err:?}");
    assert!(matches!(
        describe_err("wat-describe-trap", "unreachable", 1),
        CallError::Trap { .. }
    ));
    // A 16 MiB description is more than the 8 MiB output cap.
    let flood =
        "(drop (memory.grow (i32.const 300))) (i32.store (i32.const 308) (i32.const 0x1000000))";
    let err = describe_err("wat-describe-flood", flood, 1);
    assert_eq!(limit_of(&err), Some(Limit::Output), "{err:?}");
    // A translator must say which data kinds it translates.
    assert!(matches!(
        describe_err("wat-no-kinds", "", 0),
        CallError::InvalidOutput { .. }
    ));
    assert_healthy();
}
