//! `cutover state ...`: where a plan's state lives.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use cutover_engine::state_migrate;

use crate::exit;

/// State commands.
#[derive(Subcommand)]
pub enum StateCmd {
    /// Move a plan's state (journal, backups, rollback points) from its state
    /// directory into a PostgreSQL database, verified: the journal byte for
    /// byte, every blob by digest, every document read back. The directory
    /// keeps its files and a `moved.json` marker; runners refuse it from then
    /// on. The password comes from CUTOVER_STATE_PASSWORD,
    /// CUTOVER_STATE_PASSWORD_FILE or PGPASSWORD.
    Migrate(MigrateArgs),
}

/// `cutover state migrate`.
#[derive(Args)]
pub struct MigrateArgs {
    /// The state directory (the plan's `state_dir`).
    #[arg(long)]
    from: PathBuf,
    /// `postgres://USER@HOST:PORT/DATABASE` (no password).
    #[arg(long)]
    to: String,
    /// The plan's name, when the journal does not say it.
    #[arg(long)]
    plan: Option<String>,
    /// Print what was moved as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs one state command.
pub fn run(cmd: StateCmd) -> anyhow::Result<u8> {
    match cmd {
        StateCmd::Migrate(a) => {
            let moved = state_migrate::migrate(&a.from, &a.to, a.plan.as_deref())?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&moved)?);
            } else {
                println!(
                    "moved plan {:?} from {} to {}: {} journal records (head seq {}), {} blobs ({} bytes), {} documents; verified",
                    moved.plan,
                    moved.from.display(),
                    moved.to,
                    moved.records,
                    moved.head.map_or(0, |h| h.seq),
                    moved.blobs,
                    moved.blob_bytes,
                    moved.docs.len()
                );
                println!(
                    "next: set `state = \"{}\"` in the plan's [plan] table (or CUTOVER_STATE_URL); runners now refuse {}",
                    a.to,
                    a.from.display()
                );
            }
            Ok(exit::OK)
        }
    }
}
