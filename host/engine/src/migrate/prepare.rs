//! The read-only half of a migrate step: export from both systems, translate
//! in scope, build what the target would be sent. `cutover plan` stops here;
//! the runner goes on to import only when every type prepared cleanly.

use cutover_plan::{Plan, Selection, Step, StepAction, SystemSide};
use cutover_runtime::{
    Document, ItemStatus, ReportItem, Runtime, Summary, TranslateRequest, TranslationReport,
};
use serde::Serialize;

use super::codec::Codec;
use crate::bridge::Loaded;
use crate::plugins::Plugins;

/// Why a type could not be prepared (nothing was changed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrepareError {
    /// A plugin could not be loaded.
    #[error("{0}")]
    Load(String),
    /// The export failed.
    #[error("exporting {data_type} from the {side} system (adapter `{adapter}`): {detail}")]
    Export {
        data_type: String,
        side: SystemSide,
        adapter: String,
        detail: String,
    },
    /// The translator failed or returned something unusable.
    #[error("translator `{translator}` on {data_type}: {detail}")]
    Translate {
        data_type: String,
        translator: String,
        detail: String,
    },
    /// The data could not be framed or rebuilt.
    #[error("{data_type}: {detail}")]
    Data { data_type: String, detail: String },
}

/// One data type, ready to import.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// `alert_rules`, `routes`, `silences`.
    pub data_type: String,
    /// How the type travels (decided once, from `data_type`).
    pub codec: Codec,
    /// What the step covers for this type.
    pub selection: Selection,
    /// One item per input item.
    pub report: TranslationReport,
    /// The translated documents (what must land on the target).
    pub output: Vec<Document>,
    /// What the target is sent.
    pub payload: Vec<u8>,
    /// What the target has now.
    pub current: Vec<u8>,
    /// The target already holds the payload.
    pub in_place: bool,
    /// Items the output moves (rules, silences); `None` when uncounted.
    pub moved: Option<u64>,
}

/// A migrate step's preview: per type, prepared or why not.
#[derive(Debug, Clone, Serialize)]
pub struct StepPreview {
    /// Phase id.
    pub phase: String,
    /// Step id.
    pub step: String,
    /// Per data type.
    pub types: Vec<TypePreview>,
}

impl StepPreview {
    /// The scope selects nothing to move in any type: the step would end
    /// `no-data`.
    pub fn no_data(&self) -> bool {
        !self.types.is_empty() && self.types.iter().all(|t| t.moved == Some(0))
    }
}

/// One type of a [`StepPreview`].
#[derive(Debug, Clone, Serialize)]
pub struct TypePreview {
    /// Data type.
    pub data_type: String,
    /// The selection, as written (`{team="web"} or {team="core"}`).
    pub scope: String,
    /// The report (absent when preparation failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<TranslationReport>,
    /// The target already holds the result.
    pub in_place: bool,
    /// Items the translation moves (rules, silences), when counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved: Option<u64>,
    /// Why it could not be prepared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl StepPreview {
    /// Whether the step would fail: a type that did not prepare, or an
    /// untranslatable item the step does not allow.
    pub fn blocked(&self, allow_untranslatable: bool) -> bool {
        self.no_data()
            || self.types.iter().any(|t| {
                t.error.is_some()
                    || (!allow_untranslatable
                        && t.report.as_ref().is_some_and(|r| r.has_untranslatable()))
            })
    }
}

/// What a migrate step needs: the plugins of both systems and its translator.
pub(crate) struct Parts {
    pub source: (String, Loaded),
    pub target: (String, Loaded),
    pub translator: Option<(String, Loaded)>,
}

impl Parts {
    pub(crate) fn load(
        plugins: &mut Plugins<'_>,
        plan: &Plan,
        step: &Step,
    ) -> Result<Parts, PrepareError> {
        let StepAction::Migrate {
            from,
            to,
            translate,
            ..
        } = &step.action
        else {
            return Err(PrepareError::Load(format!(
                "step `{}` is not a migrate step",
                step.id
            )));
        };
        let mut get = |id: String| {
            plugins
                .get(&id)
                .map(|l| (id, l))
                .map_err(|e| PrepareError::Load(e.to_string()))
        };
        Ok(Parts {
            source: get(plan.systems.side(*from).adapter.clone())?,
            target: get(plan.systems.side(*to).adapter.clone())?,
            translator: match translate {
                Some(t) => Some(get(t.clone())?),
                None => None,
            },
        })
    }
}

/// Exports `kind` through `adapter` into memory.
pub(crate) fn export(rt: &Runtime, adapter: &Loaded, kind: &str) -> Result<Vec<u8>, String> {
    rt.export_data(&adapter.plugin, &adapter.sandbox, kind, Vec::new())
        .map(|e| e.writer)
        .map_err(|e| e.to_string())
}

/// The translator's parameters: the step's, with the scope the plan gives.
fn params_with_scope(params: &serde_json::Value, selection: &Selection) -> String {
    let mut p = match params {
        serde_json::Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    if !selection.is_all() {
        p.insert("scope".into(), serde_json::json!(selection));
    }
    serde_json::Value::Object(p).to_string()
}

/// A report for data copied unchanged (no translator): one item per document.
fn copied(docs: &[Document]) -> TranslationReport {
    let items: Vec<ReportItem> = docs
        .iter()
        .map(|d| ReportItem {
            id: d.name.clone(),
            kind: "document".into(),
            status: ItemStatus::Ok,
            reason: "copied unchanged (no translator)".into(),
        })
        .collect();
    TranslationReport {
        summary: Summary::of(&items),
        items,
    }
}

/// Prepares `data_type` of migrate step `step`.
pub(crate) fn prepare(
    rt: &Runtime,
    plan: &Plan,
    step: &Step,
    parts: &Parts,
    data_type: &str,
) -> Result<Prepared, PrepareError> {
    let StepAction::Migrate {
        from, to, params, ..
    } = &step.action
    else {
        return Err(PrepareError::Load(format!(
            "step `{}` is not a migrate step",
            step.id
        )));
    };
    let data_err = |detail: String| PrepareError::Data {
        data_type: data_type.to_string(),
        detail,
    };
    let codec = Codec::of(data_type)
        .ok_or_else(|| data_err("cutover does not migrate this data type".into()))?;
    let selection = plan
        .migration_selection(&step.id, data_type)
        .ok_or_else(|| data_err(format!("step `{}` does not migrate it", step.id)))?;
    let exp = |side: SystemSide, (id, l): &(String, Loaded)| {
        export(rt, l, data_type).map_err(|detail| PrepareError::Export {
            data_type: data_type.to_string(),
            side,
            adapter: id.clone(),
            detail,
        })
    };
    let source = exp(*from, &parts.source)?;
    let current = exp(*to, &parts.target)?;
    let inputs = codec.inputs(&source, &current).map_err(data_err)?;
    let (output, report) = match &parts.translator {
        Some((id, tr)) => {
            let params = params_with_scope(params, &selection);
            // The host counts what it sends: a report with fewer items is
            // refused (an item the translator dropped without a word).
            let pairs: Vec<(String, String)> = inputs
                .iter()
                .map(|d| (d.name.clone(), d.text.clone()))
                .collect();
            let expected = translate_core::input_items(data_type, &pairs)
                .ok()
                .flatten();
            let t = rt
                .translate(
                    &tr.plugin,
                    &tr.sandbox,
                    &match expected {
                        Some(n) => {
                            TranslateRequest::new(data_type, &params, &inputs).expecting(n as u64)
                        }
                        None => TranslateRequest::new(data_type, &params, &inputs),
                    },
                )
                .map_err(|e| PrepareError::Translate {
                    data_type: data_type.to_string(),
                    translator: id.clone(),
                    detail: e.to_string(),
                })?;
            (t.documents, t.report)
        }
        None if !selection.is_all() => {
            return Err(data_err(format!(
                "the scope {selection} needs a translator to select what moves: add translate = \"...\" to step `{}`",
                step.id
            )));
        }
        None if codec == Codec::Routes => {
            return Err(data_err(
                "routes are merged into the target's configuration by a translator: add translate = \"alertmanager-routes\"".into(),
            ));
        }
        None => {
            let r = copied(&inputs);
            (inputs, r)
        }
    };
    let payload = codec.payload(&output, &current).map_err(data_err)?;
    let in_place = codec
        .in_place(&output, &payload, &current)
        .map_err(data_err)?;
    let moved = codec.moved(&output);
    Ok(Prepared {
        codec,
        moved,
        data_type: data_type.to_string(),
        selection,
        report,
        output,
        payload,
        current,
        in_place,
    })
}

/// Previews every migrate step of the plan, read-only: each type exported
/// from both systems and translated, nothing imported.
pub fn preview(rt: &Runtime, loaded: &cutover_plan::LoadedPlan) -> Vec<StepPreview> {
    let mut plugins = Plugins::new(rt, loaded);
    let plan = &loaded.plan;
    let mut out = Vec::new();
    for phase in &plan.phases {
        for step in &phase.steps {
            let StepAction::Migrate { types, .. } = &step.action else {
                continue;
            };
            let parts = Parts::load(&mut plugins, plan, step);
            let types = types
                .iter()
                .map(|t| {
                    let scope = plan
                        .migration_selection(&step.id, t)
                        .map_or_else(String::new, |s| s.to_string());
                    let prepared = parts
                        .as_ref()
                        .map_err(Clone::clone)
                        .and_then(|p| prepare(rt, plan, step, p, t));
                    match prepared {
                        Ok(p) => TypePreview {
                            data_type: t.clone(),
                            scope,
                            report: Some(p.report),
                            in_place: p.in_place,
                            moved: p.moved,
                            error: None,
                        },
                        Err(e) => TypePreview {
                            data_type: t.clone(),
                            scope,
                            report: None,
                            in_place: false,
                            moved: None,
                            error: Some(e.to_string()),
                        },
                    }
                })
                .collect();
            out.push(StepPreview {
                phase: phase.id.clone(),
                step: step.id.clone(),
                types,
            });
        }
    }
    out
}
