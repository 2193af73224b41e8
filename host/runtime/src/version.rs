//! The contract version this host implements, and semver compatibility.

/// The WIT package of the contract.
pub const CONTRACT_PACKAGE: &str = "cutover:plugin";

/// The contract version this host implements (0.1.1: the `translator`
/// world; 0.1.2: the `history-adapter` world, `query-range`; 0.1.3: the
/// `streaming-adapter` world, `collect-alerts-into`). Plugins built against
/// any 0.1.x up to this one load.
pub const CONTRACT_VERSION: Version = Version {
    major: 0,
    minor: 1,
    patch: 3,
};

/// A `major.minor.patch` version (pre-release tags are not used by the contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Patch.
    pub patch: u64,
}

impl Version {
    /// Parses `1.2.3`.
    pub fn parse(s: &str) -> Option<Self> {
        let mut it = s.split('.');
        let v = Self {
            major: it.next()?.parse().ok()?,
            minor: it.next()?.parse().ok()?,
            patch: it.next()?.parse().ok()?,
        };
        it.next().is_none().then_some(v)
    }

    /// Same semver track: same major, and for 0.x the same minor.
    pub fn compatible_with(&self, other: &Version) -> bool {
        self.major == other.major && (self.major > 0 || self.minor == other.minor)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_0_1_track_is_compatible_and_others_are_not() {
        let v = |s| Version::parse(s).expect(s);
        assert!(v("0.1.0").compatible_with(&CONTRACT_VERSION));
        assert!(v("0.1.1").compatible_with(&CONTRACT_VERSION));
        assert!(v("0.1.2").compatible_with(&CONTRACT_VERSION));
        assert!(v("0.1.3").compatible_with(&CONTRACT_VERSION));
        assert!(v("0.1.9").compatible_with(&CONTRACT_VERSION));
        assert!(!v("0.2.0").compatible_with(&CONTRACT_VERSION));
        assert!(!v("1.1.1").compatible_with(&CONTRACT_VERSION));
        assert_eq!(Version::parse("0.1"), None);
        assert_eq!(Version::parse("0.1.1.1"), None);
    }
}
