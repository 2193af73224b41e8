//! `hostile-translator`: a translator that misbehaves on purpose, for the
//! runtime's tests. Params `{"mode": "..."}` pick the misbehaviour; `echo`
//! (the default) behaves: every input document back, one `ok` item each.
//! It declares kinds `anything`, `other` and `alert_rules` (so that a plan
//! can put it in a migrate step).
//!
//! | mode | what it does |
//! |---|---|
//! | `echo` | documents back, one item per document |
//! | `bad-framing` | writes a line that is not a document |
//! | `bad-name` | writes a document named `../escape` |
//! | `dup-doc` | writes two documents with the same name |
//! | `flood` | writes 1 MiB chunks until the sink refuses, ignoring the refusal |
//! | `drop-item` | reports one item fewer than the documents it got |
//! | `dup-ids` | reports every item with the same id |
//! | `summary-lie` | reports a summary that disagrees with the items |
//! | `empty-id` | reports an item without an id |
//! | `big-report` | reports 200 000 items with long reasons |
//! | `snoop` | looks at environment, arguments and `/`; one item saying what it saw |
//! | `http` | GET `http://127.0.0.1:9/` (not granted) |
//! | `trap` | panics |
//! | `loop` | spins forever |
//! | `memory` | allocates 200 MiB |

use std::hint::black_box;

use cutover_plugin_sdk::{
    DataSink, DataSource, Document, ItemStatus, PluginError, SinkWriter, TranslationReport,
    TranslatorDescriptor, http, invalid_input, item, params, read_documents, report, translator,
    translator_descriptor, write_documents,
};
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Params {
    mode: String,
}

struct Hostile;

fn ok_items(docs: &[Document]) -> Vec<cutover_plugin_sdk::ReportItem> {
    docs.iter()
        .map(|d| item(d.name.clone(), "document", ItemStatus::Ok, "echoed"))
        .collect()
}

impl translator::Guest for Hostile {
    fn describe() -> TranslatorDescriptor {
        translator_descriptor(
            "hostile-translator",
            env!("CARGO_PKG_VERSION"),
            "Hostile test translator: params `mode` picks how it misbehaves.",
            &["anything", "other", "alert_rules"],
        )
    }

    fn translate(
        kind: String,
        params_json: String,
        source: &DataSource,
        sink: &DataSink,
    ) -> Result<TranslationReport, PluginError> {
        let ctx = cutover_plugin_sdk::Context {
            plan: String::new(),
            phase: String::new(),
            step: String::new(),
            run_id: String::new(),
            params: params_json,
        };
        let p: Params = params(&ctx)?;
        let docs = read_documents(source)?;
        let w = |bytes: &[u8]| {
            use std::io::Write;
            SinkWriter::new(sink)
                .write_all(bytes)
                .map_err(|e| PluginError::Failed(e.to_string()))
        };
        match p.mode.as_str() {
            "" | "echo" => {
                write_documents(sink, &docs)?;
                let mut items = ok_items(&docs);
                items.push(item(
                    "kind",
                    "request",
                    ItemStatus::Ok,
                    format!("kind {kind}"),
                ));
                Ok(report(items))
            }
            "bad-framing" => {
                write_documents(sink, &docs)?;
                w(b"this is not a document\n")?;
                Ok(report(ok_items(&docs)))
            }
            "bad-name" => {
                write_documents(sink, &[Document::new("../escape", "x")])?;
                Ok(report(ok_items(&docs)))
            }
            "dup-doc" => {
                write_documents(sink, &[Document::new("a", "1"), Document::new("a", "2")])?;
                Ok(report(ok_items(&docs)))
            }
            "flood" => {
                let chunk = vec![b'x'; 1 << 20];
                for _ in 0..4096 {
                    if sink.write(&chunk).is_err() {
                        break;
                    }
                }
                Ok(report(ok_items(&docs)))
            }
            "drop-item" => {
                let mut items = ok_items(&docs);
                items.pop();
                Ok(report(items))
            }
            "dup-ids" => {
                let items = docs
                    .iter()
                    .map(|_| item("same", "document", ItemStatus::Ok, ""))
                    .collect();
                Ok(report(items))
            }
            "summary-lie" => {
                let mut r = report(ok_items(&docs));
                r.summary.ok += 1;
                Ok(r)
            }
            "empty-id" => Ok(report(vec![item("", "document", ItemStatus::Ok, "")])),
            "big-report" => Ok(report(
                (0..200_000)
                    .map(|i| {
                        item(
                            format!("item-{i}"),
                            "document",
                            ItemStatus::Warning,
                            "a reason long enough to add up over many items ............",
                        )
                    })
                    .collect(),
            )),
            "snoop" => {
                let env = std::env::vars().count();
                let args = std::env::args().count();
                let root = match std::fs::read_dir("/") {
                    Ok(rd) => format!("{} entries", rd.count()),
                    Err(_) => "unreadable".to_owned(),
                };
                let passwd = std::fs::read_to_string("/etc/passwd").is_ok();
                Ok(report(vec![item(
                    "snoop",
                    "probe",
                    ItemStatus::Ok,
                    format!("env={env} args={args} root={root} passwd={passwd}"),
                )]))
            }
            "http" => {
                let r = http::get("http://127.0.0.1:9/", &[]);
                Ok(report(vec![item(
                    "http",
                    "probe",
                    ItemStatus::Ok,
                    format!("{:?}", r.map(|r| r.status)),
                )]))
            }
            "trap" => panic!("hostile translator trapped on purpose"),
            "loop" => loop {
                black_box(0u64);
            },
            "memory" => {
                let v = vec![1u8; 200 << 20];
                Ok(report(vec![item(
                    "memory",
                    "probe",
                    ItemStatus::Ok,
                    format!("{}", black_box(v).len()),
                )]))
            }
            other => Err(invalid_input(format!("unknown mode {other:?}"))),
        }
    }
}

cutover_plugin_sdk::export_translator!(Hostile);
