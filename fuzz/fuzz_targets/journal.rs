//! The journal reader: `journal.log` bytes are verified (checksums, chain,
//! batches) and read back, or refused naming the offset; reading writes
//! nothing, and repair touches only a torn tail (anything else is refused
//! and the state directory is left as it was).
//!
//! First byte odd: the lines are re-sealed first (trailer and `prev`
//! recomputed), so the fuzzer gets past the checksums to the records.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use cutover_state::{FileJournal, Journal, JournalError, fold};
use libfuzzer_sys::fuzz_target;

static DIR: LazyLock<PathBuf> = LazyLock::new(|| cutover_fuzz::scratch("journal"));

fuzz_target!(|data: &[u8]| {
    let (reseal, rest) = cutover_fuzz::mode(data);
    let bytes = if reseal {
        cutover_fuzz::reseal_journal(rest)
    } else {
        rest.to_vec()
    };
    // One directory for every input (creating one fsyncs its parent).
    let dir = &*DIR;
    let path = dir.join(FileJournal::FILE_NAME);
    std::fs::write(&path, &bytes).unwrap();
    let before = cutover_fuzz::tree(dir);
    match FileJournal::open(dir) {
        Ok(journal) => {
            let records: Vec<_> = journal
                .records()
                .unwrap()
                .collect::<Result<_, _>>()
                .expect("an opened journal reads back");
            let count = fold(&journal, 0usize, |n, _| n + 1).expect("folds");
            assert_eq!(count, records.len());
            assert_eq!(journal.len_bytes(), bytes.len() as u64);
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            assert_eq!(
                cutover_fuzz::tree(dir),
                before,
                "a refused journal was changed"
            );
            match FileJournal::repair_truncated_tail(dir) {
                Ok((journal, Some(report))) => {
                    assert!(e.is_torn_tail(), "repaired {e}");
                    assert!(report.offset <= bytes.len() as u64);
                    drop(journal);
                    FileJournal::open(dir).expect("a repaired journal opens");
                    std::fs::remove_file(&report.saved_to).unwrap();
                }
                Ok((_, None)) => panic!("open refused ({e}) but repair found nothing"),
                Err(JournalError::NotRepairable(_) | JournalError::Corrupt { .. }) => {
                    assert_eq!(
                        cutover_fuzz::tree(dir),
                        before,
                        "an unrepairable journal was changed"
                    );
                }
                Err(other) => panic!("repair: {other}"),
            }
        }
    }
});
