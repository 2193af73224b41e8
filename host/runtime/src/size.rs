//! Approximate in-memory size of values a plugin returns, for the output cap.

use crate::bindings::wit::{
    Alert, Capabilities, Descriptor, ExportInfo, HealthReport, Outcome, PluginError, RangeSeries,
    TranslationReport, TranslatorDescriptor, Verdict,
};

/// Bytes a returned value occupies (strings and lists counted by content).
pub(crate) trait OutputSize {
    fn output_size(&self) -> usize;
}

fn pairs(p: &[(String, String)]) -> usize {
    p.iter().map(|(k, v)| k.len() + v.len() + 16).sum()
}

fn strings(s: &[String]) -> usize {
    s.iter().map(|x| x.len() + 8).sum()
}

fn capabilities(c: &Capabilities) -> usize {
    strings(&c.hosts)
        + strings(&c.config_keys)
        + strings(&c.secrets)
        + c.directories
            .iter()
            .map(|d| d.name.len() + 8)
            .sum::<usize>()
}

impl OutputSize for Descriptor {
    fn output_size(&self) -> usize {
        self.name.len()
            + self.version.len()
            + self.description.len()
            + capabilities(&self.capabilities)
    }
}

impl OutputSize for TranslatorDescriptor {
    fn output_size(&self) -> usize {
        self.name.len()
            + self.version.len()
            + self.description.len()
            + capabilities(&self.capabilities)
            + strings(&self.kinds)
    }
}

impl OutputSize for TranslationReport {
    fn output_size(&self) -> usize {
        12 + self
            .items
            .iter()
            .map(|i| i.id.len() + i.kind.len() + i.reason.len() + 28)
            .sum::<usize>()
    }
}

impl OutputSize for Outcome {
    fn output_size(&self) -> usize {
        self.summary.len() + pairs(&self.details)
    }
}

impl OutputSize for Verdict {
    fn output_size(&self) -> usize {
        self.message.len()
            + self
                .measurements
                .iter()
                .map(|m| m.name.len() + 16)
                .sum::<usize>()
    }
}

impl OutputSize for Alert {
    fn output_size(&self) -> usize {
        pairs(&self.labels) + pairs(&self.annotations) + self.fingerprint.len() + 32
    }
}

impl OutputSize for RangeSeries {
    fn output_size(&self) -> usize {
        // A sample is an s64 and an f64.
        pairs(&self.labels) + self.samples.len() * 16 + 16
    }
}

impl OutputSize for HealthReport {
    fn output_size(&self) -> usize {
        self.message.len() + 8
    }
}

impl OutputSize for ExportInfo {
    fn output_size(&self) -> usize {
        self.content_type.len() + pairs(&self.metadata)
    }
}

impl OutputSize for PluginError {
    fn output_size(&self) -> usize {
        match self {
            PluginError::InvalidInput(s)
            | PluginError::Unavailable(s)
            | PluginError::Denied(s)
            | PluginError::Unsupported(s)
            | PluginError::Failed(s) => s.len(),
        }
    }
}

/// The count `collect-alerts-into` returns.
impl OutputSize for u64 {
    fn output_size(&self) -> usize {
        8
    }
}

impl<T: OutputSize> OutputSize for Vec<T> {
    fn output_size(&self) -> usize {
        self.iter().map(OutputSize::output_size).sum()
    }
}

impl<T: OutputSize, E: OutputSize> OutputSize for Result<T, E> {
    fn output_size(&self) -> usize {
        match self {
            Ok(v) => v.output_size(),
            Err(e) => e.output_size(),
        }
    }
}

impl<A: OutputSize, B> OutputSize for (A, B) {
    fn output_size(&self) -> usize {
        self.0.output_size()
    }
}
