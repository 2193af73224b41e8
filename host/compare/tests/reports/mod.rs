//! Report renderings: Markdown, HTML (escaping, charts, a real browser) and
//! the documentation of the JSON format.

mod chromium;
mod cli;
mod docs;
mod html;
mod large;
mod markdown;

pub(crate) use crate::{T0, alert, fixture};
use cutover_compare::{Alert, CompareOptions, InputInfo, Inputs, Report, compare, parse_file};

/// The report of the reference scenario (old vs new Alertmanager dumps,
/// `instance` ignored, broken down by `service`): 6 old, 4 new, 3 matched,
/// missing DiskAlmostFull, HighQueueDepth{queue="orders"} and ServiceDown,
/// extra InstanceDown.
pub(crate) fn reference_report() -> Report {
    let old_path = fixture("reference/old_alertmanager.json");
    let new_path = fixture("reference/new_alertmanager.json");
    let old = parse_file(&old_path, None).unwrap();
    let new = parse_file(&new_path, None).unwrap();
    let opts = CompareOptions {
        ignore_labels: vec!["instance".into()],
        breakdown_label: Some("service".into()),
        ..CompareOptions::default()
    };
    let inputs = Inputs {
        old: InputInfo::new("old_alertmanager.json", &old),
        new: InputInfo::new("new_alertmanager.json", &new),
    };
    compare(&old.alerts, &new.alerts, &opts).with_inputs(inputs)
}

/// Label values a hostile or careless rule author could produce.
pub(crate) const HOSTILE: &str = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">|`x`*_[a](https://evil.example/)&amp;";

/// A report whose missing, extra and matched alerts carry [`HOSTILE`] text
/// in alertnames, label names and label values.
pub(crate) fn hostile_report() -> Report {
    let evil_name = format!("Evil{HOSTILE}");
    let old = vec![
        alert("Watchdog", &[("note", HOSTILE)], T0),
        alert(&evil_name, &[("severity", "critical")], T0 + 60_000),
        alert("Other", &[(HOSTILE, "v")], T0 + 120_000),
    ];
    let new = vec![
        alert("Watchdog", &[("note", HOSTILE)], T0 + 2_000),
        alert("NewOnly", &[("service", HOSTILE)], T0 + 180_000),
    ];
    let opts = CompareOptions {
        breakdown_label: Some("service".into()),
        ..CompareOptions::default()
    };
    compare(&old, &new, &opts)
}
