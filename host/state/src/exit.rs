//! Which exit class of the `cutover` binary each state error belongs to:
//! every one is a state problem (a journal, lease, blob or state file that
//! is damaged, held, or cannot be read or written).

use cutover_base::exit::{ExitClass, HasExitClass};

use crate::{BlobError, DigestParseError, FileError, JournalError, LeaseError, SnapshotError};

impl HasExitClass for JournalError {
    fn exit_class(&self) -> ExitClass {
        match self {
            JournalError::Corrupt { .. }
            | JournalError::Io { .. }
            | JournalError::RecordTooLarge { .. }
            | JournalError::ConcurrentWriter { .. }
            | JournalError::Poisoned
            | JournalError::NotRepairable(_)
            | JournalError::Db(_)
            | JournalError::Fenced { .. }
            | JournalError::CorruptRow { .. } => ExitClass::State,
        }
    }
}

impl HasExitClass for LeaseError {
    fn exit_class(&self) -> ExitClass {
        match self {
            LeaseError::Held { .. }
            | LeaseError::Lost { .. }
            | LeaseError::Corrupt { .. }
            | LeaseError::Io { .. }
            | LeaseError::Db(_) => ExitClass::State,
        }
    }
}

impl HasExitClass for SnapshotError {
    fn exit_class(&self) -> ExitClass {
        match self {
            SnapshotError::Journal(_)
            | SnapshotError::File(_)
            | SnapshotError::JournalBehind { .. } => ExitClass::State,
        }
    }
}

impl HasExitClass for BlobError {
    fn exit_class(&self) -> ExitClass {
        match self {
            BlobError::Io { .. }
            | BlobError::NotFound { .. }
            | BlobError::DigestMismatch { .. }
            | BlobError::Db(_)
            | BlobError::Fenced { .. }
            | BlobError::Source { .. } => ExitClass::State,
        }
    }
}

impl HasExitClass for FileError {
    fn exit_class(&self) -> ExitClass {
        match self {
            FileError::Io { .. }
            | FileError::Json { .. }
            | FileError::ChecksumMismatch { .. }
            | FileError::Serialize { .. } => ExitClass::State,
        }
    }
}

impl HasExitClass for crate::DbError {
    fn exit_class(&self) -> ExitClass {
        ExitClass::State
    }
}

impl HasExitClass for crate::DocError {
    fn exit_class(&self) -> ExitClass {
        match self {
            crate::DocError::BadName { .. }
            | crate::DocError::Io { .. }
            | crate::DocError::Db(_)
            | crate::DocError::Fenced { .. } => ExitClass::State,
        }
    }
}

/// A digest read back from state that is not a sha256 hex digest.
impl HasExitClass for DigestParseError {
    fn exit_class(&self) -> ExitClass {
        ExitClass::State
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_errors_are_state_problems() {
        let lease = LeaseError::Corrupt {
            path: "lease.json".into(),
            detail: "not JSON".into(),
        };
        assert_eq!(lease.exit_class(), ExitClass::State);
        assert_eq!(JournalError::Poisoned.exit_class(), ExitClass::State);
        let digest = crate::Digest::from_hex("xyz").unwrap_err();
        assert_eq!(digest.exit_class(), ExitClass::State);
    }
}
