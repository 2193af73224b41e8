//! Constructors of shared WIT records that plugins write often.

use crate::{Capabilities, Window};

impl Capabilities {
    /// Asks for nothing: no hosts, directories, config keys or secrets.
    pub fn none() -> Capabilities {
        Capabilities {
            hosts: Vec::new(),
            directories: Vec::new(),
            config_keys: Vec::new(),
            secrets: Vec::new(),
        }
    }
}

impl Window {
    /// From the epoch to `end` (Unix milliseconds, inclusive).
    pub fn until(end: i64) -> Window {
        Window { start: 0, end }
    }
}
