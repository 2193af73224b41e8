//! `migrate` steps: which systems, which data types, which translator, and
//! the scope that narrows the phase's.

use toml::Spanned;

use super::steps::table_to_json;
use super::{Checker, span_of};
use crate::diagnostics::Diagnostic;
use crate::model::{MIGRATE_TYPES, StepAction, SystemSide};
use crate::raw::RawStep;
use crate::resolver::PluginKind;

impl Checker<'_> {
    pub(super) fn migrate(&mut self, sid: &str, st: &RawStep) -> StepAction {
        let from = self.migrate_side(sid, st.from.as_ref(), "from", SystemSide::Old);
        let to = self.migrate_side(sid, st.to.as_ref(), "to", SystemSide::New);
        if let (Some(f), Some(t)) = (&st.from, &st.to)
            && from == to
            && f.get_ref() == t.get_ref()
        {
            self.err(
                Diagnostic::at(
                    span_of(t),
                    format!("step `{sid}` migrates the {to} system into itself"),
                    "same system as `from`",
                )
                .help("migrate from = \"old\" to = \"new\" (or back, to undo)"),
            );
        }
        let types = self.migrate_types(sid, st.types.as_ref());
        let translate = st.translate.as_ref().map(|t| {
            self.plugin_use(
                t,
                PluginKind::Translator,
                &format!("the translator of step `{sid}`"),
            );
            self.translator_kinds(sid, t, &types);
            t.get_ref().clone()
        });
        let scope = st
            .scope
            .as_ref()
            .and_then(|s| self.matcher_field(&format!("step `{sid}`"), "scope", s));
        StepAction::Migrate {
            from,
            to,
            types,
            translate,
            params: st
                .params
                .as_ref()
                .map_or(serde_json::json!({}), |p| table_to_json(p.get_ref())),
            scope,
            allow_untranslatable: st
                .allow_untranslatable
                .as_ref()
                .is_some_and(|a| *a.get_ref()),
        }
    }

    /// Each migrated type must be a kind the translator declares.
    fn translator_kinds(&mut self, sid: &str, t: &Spanned<String>, types: &[String]) {
        let Some(info) = self
            .infos
            .get(t.get_ref())
            .filter(|i| i.kind == PluginKind::Translator)
        else {
            return;
        };
        let kinds = info.kinds.clone();
        for ty in types.iter().filter(|ty| !kinds.contains(ty)) {
            self.err(
                Diagnostic::at(
                    span_of(t),
                    format!(
                        "step `{sid}`: translator `{}` does not translate `{ty}` (it declares: {})",
                        t.get_ref(),
                        if kinds.is_empty() {
                            "nothing".to_string()
                        } else {
                            kinds.join(", ")
                        }
                    ),
                    "wrong translator for this data type",
                )
                .help("split the step: one migrate step per translator, each with the types it declares"),
            );
        }
    }

    fn migrate_side(
        &mut self,
        sid: &str,
        v: Option<&Spanned<String>>,
        field: &str,
        default: SystemSide,
    ) -> SystemSide {
        match v.map(|s| s.get_ref().as_str()) {
            Some("old") => SystemSide::Old,
            Some("new") => SystemSide::New,
            Some(other) => {
                if let Some(s) = v {
                    self.err(
                        Diagnostic::at(
                            span_of(s),
                            format!("step `{sid}`: {field} = `{other}` is not a system"),
                            "not a system",
                        )
                        .help("use \"old\" or \"new\""),
                    );
                }
                default
            }
            None => default,
        }
    }

    fn migrate_types(&mut self, sid: &str, types: Option<&Spanned<Vec<String>>>) -> Vec<String> {
        let Some(types) = types else {
            return Vec::new();
        };
        let list = types.get_ref();
        if list.is_empty() {
            self.err(
                Diagnostic::at(
                    span_of(types),
                    format!("step `{sid}` migrates no data type"),
                    "empty",
                )
                .help(format!(
                    "name at least one of: {}",
                    MIGRATE_TYPES.join(", ")
                )),
            );
        }
        let mut seen: Vec<&str> = Vec::new();
        for t in list {
            if !MIGRATE_TYPES.contains(&t.as_str()) {
                self.err(
                    Diagnostic::at(
                        span_of(types),
                        format!("step `{sid}`: `{t}` is not a data type cutover migrates"),
                        "unknown data type",
                    )
                    .help(format!("migrate steps move: {}", MIGRATE_TYPES.join(", "))),
                );
            } else if seen.contains(&t.as_str()) {
                self.err(
                    Diagnostic::at(
                        span_of(types),
                        format!("step `{sid}` lists `{t}` twice"),
                        "duplicate",
                    )
                    .help("name each data type once"),
                );
            }
            seen.push(t);
        }
        list.clone()
    }
}
