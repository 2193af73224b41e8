//! Backups and restores of the file adapter's data: byte-equal round
//! trips, a failed type isolated from the others, a restore asking for
//! types the backup lacks, and names checked.

use std::path::Path;

use cutover_backup::{BackupError, BackupStore, RestoreStatus};
use cutover_state::Digest;

use super::*;

/// `restored` of `data` is as in `before` again; `changed` is not.
#[track_caller]
fn assert_only_restored(
    data: &Path,
    before: &BTreeMap<PathBuf, Vec<u8>>,
    restored: &str,
    changed: &str,
) {
    let now = snapshot(data);
    assert_eq!(now[Path::new(restored)], before[Path::new(restored)]);
    assert_ne!(now[Path::new(changed)], before[Path::new(changed)]);
}

#[test]
fn round_trip_restores_byte_equal() {
    let (rt, plugin, f, sb, store) = setup();
    let before = snapshot(&f.data);
    let m = store
        .backup(rt, plugin, &sb, "old", &strings(&TYPES), lineage())
        .unwrap();
    assert!(m.complete(), "{m:#?}");
    assert_eq!(m.results.len(), 4);
    assert_eq!(m.lineage, lineage());
    assert_eq!(m.adapter.digest, plugin.info().sha256);
    let user = &m.results[2];
    assert_eq!(user.size, before[Path::new("user_data.json")].len() as u64);
    assert_eq!(
        user.digest.as_deref(),
        Some(
            Digest::of(&before[Path::new("user_data.json")])
                .to_hex()
                .as_str()
        )
    );
    assert_eq!(store.show(&m.id).unwrap(), m);
    assert_eq!(store.list().unwrap(), vec![m.clone()]);
    assert!(store.verify(None).unwrap().iter().all(|i| i.ok));

    scribble(&f.data, "after-backup");
    fs::remove_file(f.data.join("user_data.json")).unwrap();
    assert_ne!(snapshot(&f.data), before);

    let report = store.restore(rt, plugin, &sb, &m.id, None).unwrap();
    assert!(report.ok(), "{report:#?}");
    assert_eq!(report.results.len(), 4);
    assert_eq!(snapshot(&f.data), before);

    // A selected subset restores only that type.
    scribble(&f.data, "again");
    let only = strings(&["alert_rules"]);
    let report = store.restore(rt, plugin, &sb, &m.id, Some(&only)).unwrap();
    assert_eq!(report.results.len(), 1);
    assert_only_restored(&f.data, &before, "alert_rules.yml", "configurations.yml");
}

#[test]
fn failed_type_is_isolated() {
    let (rt, plugin, f, sb, store) = setup();
    let types = strings(&["configurations", "no_such_kind", "alert_rules"]);
    let m = store
        .backup(rt, plugin, &sb, "old", &types, lineage())
        .unwrap();
    assert!(!m.complete());
    let ok: Vec<bool> = m.results.iter().map(|r| r.ok).collect();
    assert_eq!(ok, [true, false, true]);
    let err = m.results[1].error.as_deref().unwrap();
    assert!(err.contains("no_such_kind"), "{err}");
    assert!(m.results[1].digest.is_none());
    assert!(m.results[0].digest.is_some() && m.results[2].digest.is_some());
    // Nothing half-written: only the two exported blobs exist, no temp files.
    assert_eq!(store.blobs().list().unwrap().len(), 2);
    assert_eq!(file_blobs(&f.state).clean_temp().unwrap(), 0);

    scribble(&f.data, "x");
    let report = store.restore(rt, plugin, &sb, &m.id, None).unwrap();
    let kinds: Vec<&str> = report.results.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(kinds, ["configurations", "alert_rules"]);
    assert!(report.ok());
}

/// A restore asking for types the backup lacks fails those types, with the
/// reason, and still restores the others.
#[test]
fn restore_of_a_lacking_type_fails_that_type_only() {
    let (rt, plugin, f, sb, store) = setup();
    let types = strings(&["configurations", "no_such_kind"]);
    let m = store
        .backup(rt, plugin, &sb, "old", &types, lineage())
        .unwrap();
    let before = snapshot(&f.data);
    scribble(&f.data, "after-backup");

    let asked = strings(&["no_such_kind", "configurations", "user_data"]);
    let report = store.restore(rt, plugin, &sb, &m.id, Some(&asked)).unwrap();
    assert!(!report.ok());
    let got = statuses(&report.results);
    assert_eq!(
        got,
        [
            ("no_such_kind", RestoreStatus::Failed),
            ("configurations", RestoreStatus::Ok),
            ("user_data", RestoreStatus::Failed),
        ]
    );
    let reason = |i: usize| report.results[i].reason.clone().unwrap_or_default();
    assert!(
        reason(0).contains(&format!("backup {} did not store it", m.id))
            && reason(0).contains("no_such_kind"),
        "{}",
        reason(0)
    );
    assert_eq!(
        reason(2),
        format!(
            "backup {} does not contain it (it holds: configurations)",
            m.id
        )
    );
    let failed: Vec<&str> = report.failed().map(|r| r.kind.as_str()).collect();
    assert_eq!(failed, ["no_such_kind", "user_data"]);
    // configurations was restored; nothing else was touched.
    assert_only_restored(&f.data, &before, "configurations.yml", "user_data.json");
    // The report serialises each type with its status and reason.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["results"][0]["status"], "failed");
    assert_eq!(json["results"][1]["status"], "ok");
    assert_eq!(json["results"][2]["reason"], reason(2).as_str());
}

#[test]
fn names_are_checked() {
    let f = fixture();
    let store = BackupStore::open(&f.state).unwrap();
    for bad in ["", "../x", "a/b", ".hidden"] {
        assert!(
            matches!(store.show(bad), Err(BackupError::InvalidName { .. })),
            "{bad:?}"
        );
    }
    assert!(matches!(
        store.show("b-20260101T000000Z-abcdef"),
        Err(BackupError::NotFound { .. })
    ));
    assert!(matches!(
        store.verify(Some("nope")),
        Err(BackupError::NotFound { .. })
    ));
    assert!(matches!(
        store.verify(Some("point:nope")),
        Err(BackupError::NotFound { .. })
    ));
    assert!(matches!(
        store.verify(Some("point:../x")),
        Err(BackupError::InvalidName { .. })
    ));
}
