//! Starting and stopping the real-systems fixture by PID.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Why the fixture could not be started or read.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// `start.sh` could not be run at all.
    #[error("cannot run {script}: {source}")]
    Spawn {
        /// The script.
        script: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// `start.sh` exited non-zero (missing packages, busy ports, timeout).
    #[error("{script} failed ({status}):\n{stderr}")]
    Start {
        /// The script.
        script: PathBuf,
        /// Its exit status.
        status: String,
        /// Its standard error (the reason).
        stderr: String,
    },
    /// A fixture process could not be found, killed or started again.
    #[error("fixture process {name}: {reason}")]
    Process {
        /// Its name in `pids` (`am-b`, `prom-a`, ...).
        name: String,
        /// What went wrong.
        reason: String,
    },
    /// `fixture.env` is missing or malformed.
    #[error("{path}: {reason}")]
    Env {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// A running fixture; stopped (by the PIDs `start.sh` recorded) on drop.
#[derive(Debug)]
pub struct Fixture {
    scripts: PathBuf,
    run_dir: PathBuf,
    env: BTreeMap<String, String>,
    stopped: bool,
}

impl Fixture {
    /// Runs `<scripts>/start.sh` with `FIXTURE_RUN_DIR=<run_dir>` and waits for
    /// it (it returns once the expected alerts are visible).
    pub fn start(scripts: &Path, run_dir: &Path) -> Result<Self, FixtureError> {
        Self::start_with(scripts, run_dir, &[])
    }

    /// As [`Fixture::start`], with extra environment for `start.sh`: ports
    /// (`FIXTURE_AM_B_PORT`, ...), `FIXTURE_NEW_RULES=v1`, ...
    pub fn start_with(
        scripts: &Path,
        run_dir: &Path,
        env: &[(&str, &str)],
    ) -> Result<Self, FixtureError> {
        let script = scripts.join("start.sh");
        let out = Command::new("bash")
            .arg(&script)
            .env("FIXTURE_RUN_DIR", run_dir)
            .envs(env.iter().copied())
            .output()
            .map_err(|source| FixtureError::Spawn {
                script: script.clone(),
                source,
            })?;
        // From here on the guard owns whatever was started, even on error.
        let mut fixture = Self {
            scripts: scripts.to_path_buf(),
            run_dir: run_dir.to_path_buf(),
            env: BTreeMap::new(),
            stopped: false,
        };
        if !out.status.success() {
            return Err(FixtureError::Start {
                script,
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        fixture.env = read_env(&run_dir.join("fixture.env"))?;
        Ok(fixture)
    }

    /// A value of `fixture.env` (ports, directories), e.g. `FIXTURE_AM_A_PORT`.
    pub fn var(&self, key: &str) -> Option<&str> {
        self.env.get(key).map(String::as_str)
    }

    /// The run directory.
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// The PID `start.sh` (or [`Fixture::respawn`]) recorded last for
    /// process `name` (`node`, `am-a`, `am-b`, `prom-a`, `prom-b`).
    pub fn pid(&self, name: &str) -> Result<u32, FixtureError> {
        let err = |reason: String| FixtureError::Process {
            name: name.to_string(),
            reason,
        };
        let pids = std::fs::read_to_string(self.run_dir.join("pids"))
            .map_err(|e| err(format!("reading pids: {e}")))?;
        pids.lines()
            .filter_map(|l| l.split_once(' '))
            .rfind(|(n, _)| *n == name)
            .ok_or_else(|| err("not in the pids file".to_string()))?
            .1
            .trim()
            .parse()
            .map_err(|e| err(format!("bad pid: {e}")))
    }

    /// Kills process `name` with SIGKILL (an outage, not a shutdown) and
    /// returns its command line, for [`Fixture::respawn`].
    pub fn kill(&self, name: &str) -> Result<Vec<String>, FixtureError> {
        let err = |reason: String| FixtureError::Process {
            name: name.to_string(),
            reason,
        };
        let pid = self.pid(name)?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map_err(|e| err(format!("pid {pid} is not running: {e}")))?;
        let argv: Vec<String> = cmdline
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let status = Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .map_err(|e| err(format!("kill -9 {pid}: {e}")))?;
        if !status.success() {
            return Err(err(format!("kill -9 {pid}: {status}")));
        }
        // Wait until it is gone, so its port is free for a respawn.
        for _ in 0..100 {
            let gone = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map_or(true, |st| st.split(' ').nth(2) == Some("Z"));
            if gone {
                return Ok(argv);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Err(err(format!("pid {pid} still alive 2 s after SIGKILL")))
    }

    /// Starts process `name` again with `argv` (as [`Fixture::kill`]
    /// returned it), logging to `logs/<name>.log`; recorded in `pids`, so
    /// stopping the fixture stops it too.
    pub fn respawn(&self, name: &str, argv: &[String]) -> Result<u32, FixtureError> {
        use std::io::Write;
        let err = |reason: String| FixtureError::Process {
            name: name.to_string(),
            reason,
        };
        let (prog, args) = argv
            .split_first()
            .ok_or_else(|| err("empty command line".to_string()))?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.run_dir.join("logs").join(format!("{name}.log")))
            .map_err(|e| err(format!("log file: {e}")))?;
        let log2 = log.try_clone().map_err(|e| err(format!("log file: {e}")))?;
        let child = Command::new(prog)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| err(format!("starting {prog}: {e}")))?;
        let pid = child.id();
        let mut pids = std::fs::OpenOptions::new()
            .append(true)
            .open(self.run_dir.join("pids"))
            .map_err(|e| err(format!("pids file: {e}")))?;
        writeln!(pids, "{name} {pid}").map_err(|e| err(format!("pids file: {e}")))?;
        Ok(pid)
    }

    /// The command that stops this fixture (for a watchdog thread).
    pub fn stop_command(&self) -> Command {
        let mut c = Command::new("bash");
        c.arg(self.scripts.join("stop.sh"))
            .env("FIXTURE_RUN_DIR", &self.run_dir);
        c
    }

    /// Stops the fixture now; returns what `stop.sh` printed.
    pub fn stop(&mut self) -> String {
        self.stopped = true;
        match self.stop_command().output() {
            Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
            Err(e) => format!("stop.sh could not run: {e}"),
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if !self.stopped {
            self.stop();
        }
    }
}

fn read_env(path: &Path) -> Result<BTreeMap<String, String>, FixtureError> {
    let text = std::fs::read_to_string(path).map_err(|e| FixtureError::Env {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut env = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (k, v) = line.split_once('=').ok_or_else(|| FixtureError::Env {
            path: path.to_path_buf(),
            reason: format!("line {}: expected KEY=VALUE", i + 1),
        })?;
        env.insert(k.trim().to_owned(), v.trim().to_owned());
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_file_parsing() {
        let dir = std::env::temp_dir().join(format!("systest-env-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("fixture.env");
        std::fs::write(&p, "A=1\nB = x=y\n\n").unwrap();
        let env = read_env(&p).unwrap();
        assert_eq!(env["A"], "1");
        assert_eq!(env["B"], "x=y");
        std::fs::write(&p, "A=1\nnope\n").unwrap();
        let err = read_env(&p).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
