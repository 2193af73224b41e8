//! Short constructors for [`PluginError`].

use crate::PluginError;

/// `plugin-error::invalid-input`.
pub fn invalid_input(msg: impl Into<String>) -> PluginError {
    PluginError::InvalidInput(msg.into())
}

/// `plugin-error::unavailable`.
pub fn unavailable(msg: impl Into<String>) -> PluginError {
    PluginError::Unavailable(msg.into())
}

/// `plugin-error::denied`.
pub fn denied(msg: impl Into<String>) -> PluginError {
    PluginError::Denied(msg.into())
}

/// `plugin-error::unsupported`.
pub fn unsupported(msg: impl Into<String>) -> PluginError {
    PluginError::Unsupported(msg.into())
}

/// `plugin-error::failed`.
pub fn failed(msg: impl Into<String>) -> PluginError {
    PluginError::Failed(msg.into())
}
