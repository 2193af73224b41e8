use super::*;

/// A sink that records every write call.
#[derive(Default)]
struct Recorder {
    bytes: Vec<u8>,
    calls: Vec<usize>,
}

impl Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.calls.push(buf.len());
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    (dir, store)
}

fn meta(info: &ExportInfo, key: &str) -> String {
    info.metadata
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

#[test]
fn export_streams_file_in_chunks() {
    let (dir, store) = store();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    fs::write(dir.path().join("alert_rules.yaml"), &data).unwrap();
    let mut sink = Recorder::default();
    let info = store.export("alert_rules", &mut sink).unwrap();
    assert_eq!(sink.bytes, data);
    assert!(sink.calls.iter().all(|&n| n <= CHUNK), "{:?}", sink.calls);
    assert_eq!(info.content_type, "application/yaml");
    assert_eq!(meta(&info, "file"), "alert_rules.yaml");
    assert_eq!(meta(&info, "size"), "200000");
}

#[test]
fn export_prefers_bare_name_then_json() {
    let (dir, store) = store();
    fs::write(dir.path().join("cfg.json"), b"{}").unwrap();
    fs::write(dir.path().join("cfg.yml"), b"a: 1").unwrap();
    let info = store.export("cfg", &mut Recorder::default()).unwrap();
    assert_eq!(meta(&info, "file"), "cfg.json");
    fs::write(dir.path().join("cfg"), b"raw").unwrap();
    let mut sink = Recorder::default();
    let info = store.export("cfg", &mut sink).unwrap();
    assert_eq!(
        (meta(&info, "file").as_str(), sink.bytes.as_slice()),
        ("cfg", &b"raw"[..])
    );
    assert_eq!(info.content_type, "application/octet-stream");
}

#[test]
fn export_rejects_unknown_and_escaping_kinds() {
    let (_dir, store) = store();
    assert!(matches!(
        store.export("nope", &mut Recorder::default()),
        Err(PluginError::Unsupported(_))
    ));
    for bad in ["../etc/passwd", "", "..", ".hidden", "a/b"] {
        assert!(
            matches!(
                store.export(bad, &mut Recorder::default()),
                Err(PluginError::InvalidInput(_))
            ),
            "{bad}"
        );
    }
}

#[test]
fn import_replaces_existing_or_creates_json() {
    let (dir, store) = store();
    fs::write(dir.path().join("rules.yaml"), b"old").unwrap();
    let out = store.import("rules", &mut &b"new: yes"[..]).unwrap();
    assert_eq!(
        fs::read(dir.path().join("rules.yaml")).unwrap(),
        b"new: yes"
    );
    assert!(out.details.contains(&("size".into(), "8".into())));
    store.import("users", &mut &b"[1,2]"[..]).unwrap();
    assert_eq!(fs::read(dir.path().join("users.json")).unwrap(), b"[1,2]");
}

#[test]
fn import_of_bad_json_keeps_original_and_no_temp() {
    let (dir, store) = store();
    fs::write(dir.path().join("users.json"), b"[]").unwrap();
    let err = store.import("users", &mut &b"{\n oops"[..]).unwrap_err();
    assert!(
        matches!(&err, PluginError::InvalidInput(m) if m.contains("line 2")),
        "{err:?}"
    );
    assert_eq!(fs::read(dir.path().join("users.json")).unwrap(), b"[]");
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("users.json")]);
}

#[test]
fn capture_active_alerts_filters_alerts_json() {
    let (dir, store) = store();
    let mut sink = Recorder::default();
    store.capture("active_alerts", &mut sink).unwrap();
    assert_eq!(sink.bytes, b"[]");
    fs::write(
        dir.path().join("alerts.json"),
        r#"[{"state":"active","fingerprint":"a"},{"state":"resolved","fingerprint":"b"}]"#,
    )
    .unwrap();
    let mut sink = Recorder::default();
    let info = store.capture("active_alerts", &mut sink).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&sink.bytes).unwrap();
    assert_eq!(v, serde_json::json!([{"state":"active","fingerprint":"a"}]));
    assert_eq!(info.content_type, "application/json");
}

#[test]
fn restore_then_capture_round_trips() {
    let (dir, store) = store();
    let mut sink = Recorder::default();
    store.capture("configurations", &mut sink).unwrap();
    assert_eq!(sink.bytes, b"{}");
    store
        .restore("configurations", &mut &br#"{"a":1}"#[..])
        .unwrap();
    assert!(dir.path().join("state/configurations.json").is_file());
    let mut sink = Recorder::default();
    store.capture("configurations", &mut sink).unwrap();
    assert_eq!(sink.bytes, br#"{"a":1}"#);
}

#[test]
fn unknown_category_is_unsupported() {
    let (_dir, store) = store();
    assert!(matches!(
        store.capture("secrets", &mut Recorder::default()),
        Err(PluginError::Unsupported(_))
    ));
    assert!(matches!(
        store.restore("../x", &mut &b"{}"[..]),
        Err(PluginError::Unsupported(_))
    ));
}

#[test]
fn active_alerts_are_capture_only() {
    let (dir, store) = store();
    store
        .capture("active_alerts", &mut Recorder::default())
        .unwrap();
    assert!(matches!(
        store.restore("active_alerts", &mut &b"[]"[..]),
        Err(PluginError::Unsupported(_))
    ));
    assert!(!dir.path().join("state/active_alerts.json").exists());
}

#[test]
fn alerts_without_dump_are_empty_and_bad_dump_fails() {
    let (dir, store) = store();
    let w = Window {
        start: 0,
        end: i64::MAX,
    };
    assert!(store.alerts(&w).unwrap().is_empty());
    fs::write(dir.path().join("alerts.json"), "{").unwrap();
    assert!(matches!(store.alerts(&w), Err(PluginError::Failed(m)) if m.contains("alerts.json")));
}

#[test]
fn readable_reports_missing_root() {
    let (dir, store) = store();
    assert!(store.readable().is_ok());
    let missing = Store::new(dir.path().join("nope"));
    assert!(missing.readable().unwrap_err().contains("nope"));
}

#[test]
fn migrated_kinds_roll_back_as_their_data_file_and_start_empty() {
    let (dir, s) = store();
    let mut out = Vec::new();
    s.export("alert_rules", &mut out).unwrap();
    assert_eq!(out, b"{}", "no rules yet: an empty bundle");
    let mut out = Vec::new();
    s.export("silences", &mut out).unwrap();
    assert_eq!(out, b"[]");
    assert!(
        s.export("routes", &mut Vec::new()).is_err(),
        "no configuration to merge into"
    );
    fs::write(
        dir.path().join("alert_rules.json"),
        br#"{"a.yml":"groups: []\n"}"#,
    )
    .unwrap();
    let mut point = Vec::new();
    s.capture("alert_rules", &mut point).unwrap();
    s.import("alert_rules", &mut &br#"{"b.yml":"groups: []\n"}"#[..])
        .unwrap();
    s.restore("alert_rules", &mut point.as_slice()).unwrap();
    let back = fs::read(dir.path().join("alert_rules.json")).unwrap();
    assert_eq!(back, br#"{"a.yml":"groups: []\n"}"#);
    assert!(!dir.path().join("state/alert_rules.json").exists());
}
