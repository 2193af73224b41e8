//! Where a plan's state database is, how to log in, and how driver errors
//! become [`DbError`]s that say where, what and why.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use postgres::config::SslMode;
use postgres::error::SqlState;
use postgres::{Client, NoTls};

use super::tls::{TlsMode, connector};
use sha2::{Digest as _, Sha256};

use crate::db::{DbError, DbErrorKind};

/// Environment variable holding the state database password.
pub const PASSWORD_ENV: &str = "CUTOVER_STATE_PASSWORD";
/// Environment variable naming a file that holds the password.
pub const PASSWORD_FILE_ENV: &str = "CUTOVER_STATE_PASSWORD_FILE";
/// libpq's password variable, read last.
pub const PGPASSWORD_ENV: &str = "PGPASSWORD";

/// How long a connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection unused for longer than this is checked before use.
const IDLE_CHECK: Duration = Duration::from_millis(500);

const DEFAULT_PORT: u16 = 5432;
const KEY_PREFIX_LEN: usize = 24;

/// Where a plan's state lives in PostgreSQL: the server, the database, the
/// user, the password (from the environment, never the plan) and the plan.
#[derive(Clone)]
pub struct PgConfig {
    host: String,
    port: u16,
    user: String,
    dbname: String,
    password: Option<String>,
    connect_timeout: Duration,
    tls: TlsMode,
    plan: String,
    key: String,
    target: String,
}

impl fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConfig")
            .field("target", &self.target)
            .field("user", &self.user)
            .field("plan", &self.plan)
            .field("tls", &self.tls)
            .field(
                "password",
                &if self.password.is_some() {
                    "<set>"
                } else {
                    "<none>"
                },
            )
            .finish()
    }
}

fn config_err(target: &str, detail: String) -> DbError {
    DbError {
        target: target.to_string(),
        op: "reading the state URL",
        kind: DbErrorKind::Config,
        detail,
    }
}

/// Decodes `%XX` escapes of a URL part.
fn percent_decode(part: &str, what: &str, url_target: &str) -> Result<String, DbError> {
    let bytes = part.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = part
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| config_err(url_target, format!("bad %-escape in the {what}")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| config_err(url_target, format!("the {what} is not UTF-8")))
}

/// The password from the environment: `CUTOVER_STATE_PASSWORD`, else the
/// file named by `CUTOVER_STATE_PASSWORD_FILE` (without its trailing
/// newline), else `PGPASSWORD`, else none. `var` reads a variable.
pub fn password_from(
    var: impl Fn(&str) -> Option<String>,
    target: &str,
) -> Result<Option<String>, DbError> {
    if let Some(pw) = var(PASSWORD_ENV).filter(|p| !p.is_empty()) {
        return Ok(Some(pw));
    }
    if let Some(file) = var(PASSWORD_FILE_ENV).filter(|p| !p.is_empty()) {
        let text = std::fs::read_to_string(&file).map_err(|e| {
            config_err(
                target,
                format!("cannot read the password file {file} ({PASSWORD_FILE_ENV}): {e}"),
            )
        })?;
        let pw = text.strip_suffix('\n').unwrap_or(&text);
        let pw = pw.strip_suffix('\r').unwrap_or(pw);
        return Ok(Some(pw.to_string()));
    }
    Ok(var(PGPASSWORD_ENV).filter(|p| !p.is_empty()))
}

/// The per-plan key of table names: the plan name lowercased, anything but
/// `[a-z0-9]` as `_`, cut to 24 characters, then `_` and the first 8 hex
/// digits of the sha256 of the plan name (so distinct plans never share).
pub fn plan_key(plan: &str) -> String {
    let mut key: String = plan
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '_'
            }
        })
        .take(KEY_PREFIX_LEN)
        .collect();
    let digest = Sha256::digest(plan.as_bytes());
    key.push('_');
    key.push_str(&hex::encode(&digest[..4]));
    key
}

impl PgConfig {
    /// Parses `postgres://user@host:port/dbname` (or `postgresql://`; port
    /// 5432 by default) for plan `plan`. The password comes from the
    /// environment ([`password_from`]); one inside the URL is refused, as is
    /// a TLS `sslmode` that would not verify the server (see [`TlsMode`]).
    pub fn from_url(url: &str, plan: &str) -> Result<PgConfig, DbError> {
        let mut cfg = Self::parse(url, plan)?;
        cfg.password = password_from(|k| std::env::var(k).ok(), &cfg.target)?;
        Ok(cfg)
    }

    /// Parses the URL without reading the environment (no password).
    pub fn parse(url: &str, plan: &str) -> Result<PgConfig, DbError> {
        let url = url.trim();
        let shown = "(state URL)";
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .ok_or_else(|| {
                config_err(
                    shown,
                    "expected postgres://user@host:port/dbname (or postgresql://)".to_string(),
                )
            })?;
        let (authority, path_query) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(at) => (&authority[..at], &authority[at + 1..]),
            None => ("", authority),
        };
        let (host, port) = parse_host_port(hostport)?;
        let path_query = path_query.strip_prefix('/').unwrap_or(path_query);
        let (path, query) = match path_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_query, None),
        };
        let target = format!("{host}:{port}/{}", path);
        if userinfo.contains(':') {
            return Err(config_err(
                &target,
                "the URL holds a password: passwords come from CUTOVER_STATE_PASSWORD, \
                 CUTOVER_STATE_PASSWORD_FILE or PGPASSWORD, never the plan"
                    .to_string(),
            ));
        }
        if userinfo.is_empty() {
            return Err(config_err(
                &target,
                "no user: expected postgres://user@host:port/dbname".to_string(),
            ));
        }
        let user = percent_decode(userinfo, "user", &target)?;
        if path.is_empty() {
            return Err(config_err(
                &target,
                "no database name: expected postgres://user@host:port/dbname".to_string(),
            ));
        }
        let dbname = percent_decode(path, "database name", &target)?;
        let mut connect_timeout = CONNECT_TIMEOUT;
        let mut sslmode = "disable";
        let mut sslrootcert = None;
        for pair in query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .filter(|p| !p.is_empty())
        {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match (k, v) {
                ("sslmode", mode @ ("disable" | "require" | "verify-full")) => sslmode = mode,
                ("sslmode", other @ ("allow" | "prefer" | "verify-ca")) => {
                    return Err(config_err(
                        &target,
                        format!(
                            "sslmode={other} is not supported: cutover either connects without TLS \
                             (sslmode=disable, on a trusted network) or verifies the server's \
                             certificate and name (sslmode=verify-full, or require)"
                        ),
                    ));
                }
                ("sslmode", other) => {
                    return Err(config_err(
                        &target,
                        format!("sslmode={other}: expected disable, require or verify-full"),
                    ));
                }
                ("sslrootcert", path) if !path.is_empty() => {
                    sslrootcert = Some(std::path::PathBuf::from(percent_decode(
                        path,
                        "sslrootcert",
                        &target,
                    )?));
                }
                ("connect_timeout", secs) => {
                    let secs: u64 = secs.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                        config_err(
                            &target,
                            format!(
                                "connect_timeout={secs}: expected a positive number of seconds"
                            ),
                        )
                    })?;
                    connect_timeout = Duration::from_secs(secs);
                }
                ("password", _) => {
                    return Err(config_err(
                        &target,
                        "the URL holds a password: passwords come from CUTOVER_STATE_PASSWORD, \
                         CUTOVER_STATE_PASSWORD_FILE or PGPASSWORD, never the plan"
                            .to_string(),
                    ));
                }
                (other, _) => {
                    return Err(config_err(
                        &target,
                        format!(
                            "unknown URL parameter {other:?} (known: sslmode, sslrootcert, connect_timeout)"
                        ),
                    ));
                }
            }
        }
        let tls = match (sslmode, sslrootcert) {
            ("disable", Some(_)) => {
                return Err(config_err(
                    &target,
                    "sslrootcert without TLS: add sslmode=verify-full".to_string(),
                ));
            }
            ("disable", None) => TlsMode::Off,
            (_, ca) => TlsMode::Verify { ca },
        };
        Ok(PgConfig {
            tls,
            target: format!("{host}:{port}/{dbname}"),
            host,
            port,
            user,
            dbname,
            password: None,
            connect_timeout,
            key: plan_key(plan),
            plan: plan.to_string(),
        })
    }

    /// The same location with `password` (tests, and callers holding a secret).
    pub fn with_password(mut self, password: Option<String>) -> PgConfig {
        self.password = password;
        self
    }

    /// `host:port/dbname`, for messages.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The plan whose state this is.
    pub fn plan(&self) -> &str {
        &self.plan
    }

    /// The user name.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The table holding this plan's journal (`cutover_journal_<key>`).
    pub fn journal_table(&self) -> String {
        format!("cutover_journal_{}", self.key)
    }

    /// Opens a connection.
    pub(crate) fn connect(&self, op: &'static str) -> Result<Client, DbError> {
        let mut c = postgres::Config::new();
        c.host(&self.host)
            .port(self.port)
            .user(&self.user)
            .dbname(&self.dbname)
            .application_name("cutover")
            .connect_timeout(self.connect_timeout)
            .keepalives_idle(Duration::from_secs(30));
        if let Some(pw) = &self.password {
            c.password(pw.as_bytes());
        }
        match &self.tls {
            TlsMode::Off => c.connect(NoTls),
            TlsMode::Verify { ca } => {
                let tls = connector(ca.as_deref()).map_err(|detail| DbError {
                    target: self.target.clone(),
                    op,
                    kind: DbErrorKind::Config,
                    detail,
                })?;
                c.ssl_mode(SslMode::Require).connect(tls)
            }
        }
        .map_err(|e| db_error(self, op, &e, true))
    }
}

fn parse_host_port(hostport: &str) -> Result<(String, u16), DbError> {
    let bad = |why: String| config_err("(state URL)", why);
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let end = rest
            .find(']')
            .ok_or_else(|| bad("unclosed [ in the host".to_string()))?;
        (&rest[..end], rest[end + 1..].strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(bad(
            "no host: expected postgres://user@host:port/dbname".to_string()
        ));
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad(format!("port {p:?} is not a number from 1 to 65535")))?,
    };
    Ok((host.to_string(), port))
}

/// Classifies a driver error. `connecting`: the error came from opening the
/// connection (so an I/O failure means the server cannot be reached).
pub(crate) fn db_error(
    cfg: &PgConfig,
    op: &'static str,
    e: &postgres::Error,
    connecting: bool,
) -> DbError {
    let lost = if connecting {
        DbErrorKind::Connect
    } else {
        DbErrorKind::ConnectionLost
    };
    let (kind, detail) = match e.as_db_error() {
        Some(db) => {
            let code = db.code();
            let kind = if *code == SqlState::INVALID_PASSWORD
                || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
            {
                DbErrorKind::Auth
            } else if *code == SqlState::UNDEFINED_TABLE {
                DbErrorKind::MissingTable
            } else if *code == SqlState::INVALID_CATALOG_NAME {
                DbErrorKind::Config
            } else if code.code().starts_with("08") || code.code().starts_with("57P") {
                lost
            } else {
                DbErrorKind::Query
            };
            let mut detail = format!("{} {}: {}", db.severity(), code.code(), db.message());
            if let Some(d) = db.detail() {
                detail.push_str(&format!(" ({d})"));
            }
            (kind, detail)
        }
        None => {
            let mut detail = e.to_string();
            let mut source = std::error::Error::source(e);
            let mut io = false;
            while let Some(s) = source {
                io |= s.downcast_ref::<std::io::Error>().is_some();
                detail.push_str(&format!(": {s}"));
                source = s.source();
            }
            let kind = if detail.starts_with("authentication error")
                || detail.contains("password missing")
            {
                DbErrorKind::Auth
            } else if connecting || e.is_closed() || io || detail.starts_with("timeout") {
                lost
            } else {
                DbErrorKind::Query
            };
            (kind, detail)
        }
    };
    DbError {
        target: cfg.target.clone(),
        op,
        kind,
        detail,
    }
}

/// One connection of a backend component, opened on first use and opened
/// again when the server closed it (so a run goes on once the database is
/// back).
pub(crate) struct Conn {
    cfg: Arc<PgConfig>,
    client: Option<Box<Client>>,
    last_used: Instant,
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn")
            .field("target", &self.cfg.target)
            .field("open", &self.client.is_some())
            .finish()
    }
}

impl Conn {
    /// A connection to be opened on first use.
    pub(crate) fn lazy(cfg: Arc<PgConfig>) -> Conn {
        Conn {
            cfg,
            client: None,
            last_used: Instant::now(),
        }
    }

    /// A connection opened now.
    pub(crate) fn open(cfg: Arc<PgConfig>, op: &'static str) -> Result<Conn, DbError> {
        let client = cfg.connect(op)?;
        Ok(Conn {
            cfg,
            client: Some(Box::new(client)),
            last_used: Instant::now(),
        })
    }

    /// The client, connecting (again) when needed; with the config for
    /// error mapping.
    pub(crate) fn client(&mut self, op: &'static str) -> Result<(&mut Client, &PgConfig), DbError> {
        // A connection idle for a while may have been closed by the server
        // meanwhile (a restart): it is checked with a round trip first, so
        // the operation runs on a live one.
        let idle = self.last_used.elapsed() > IDLE_CHECK;
        self.last_used = Instant::now();
        let dead = match self.client.as_mut() {
            None => true,
            Some(c) => c.is_closed() || (idle && c.is_valid(self.cfg.connect_timeout).is_err()),
        };
        if dead {
            self.client = None;
            self.client = Some(Box::new(self.cfg.connect(op)?));
        }
        match self.client.as_mut() {
            Some(c) => Ok((c, &self.cfg)),
            None => Err(DbError {
                target: self.cfg.target.clone(),
                op,
                kind: DbErrorKind::Connect,
                detail: "no connection".to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn kind_of(url: &str) -> DbErrorKind {
        PgConfig::parse(url, "p").unwrap_err().kind
    }

    #[test]
    fn urls_parse_and_bad_ones_are_refused() {
        let c = PgConfig::parse("postgres://ana@db.example:6543/cutover", "Plan A").unwrap();
        assert_eq!(c.target(), "db.example:6543/cutover");
        assert_eq!(c.user(), "ana");
        let c = PgConfig::parse("postgresql://ana@db/state?sslmode=disable", "p").unwrap();
        assert_eq!(c.target(), "db:5432/state");
        let c = PgConfig::parse("postgres://a%40b@[::1]:7/d%2Fx", "p").unwrap();
        assert_eq!((c.user(), c.target()), ("a@b", "::1:7/d/x"));
        for bad in [
            "mysql://ana@db/x",
            "postgres://ana@db:0/x",
            "postgres://ana@db:99999/x",
            "postgres://ana@db:5432",
            "postgres://db:5432/x",
            "postgres://ana@:5432/x",
            "postgres://ana@db/x?foo=1",
            "postgres://ana@db/x?connect_timeout=0",
        ] {
            assert_eq!(kind_of(bad), DbErrorKind::Config, "{bad}");
        }
        let e = PgConfig::parse("postgres://ana:s3cret@db/x", "p").unwrap_err();
        assert_eq!(e.kind, DbErrorKind::Config);
        assert!(e.to_string().contains("CUTOVER_STATE_PASSWORD"), "{e}");
        assert!(!e.to_string().contains("s3cret"), "{e}");
        for weak in ["prefer", "allow", "verify-ca"] {
            let e =
                PgConfig::parse(&format!("postgres://ana@db/x?sslmode={weak}"), "p").unwrap_err();
            assert_eq!(e.kind, DbErrorKind::Config);
            assert!(e.to_string().contains(&format!("sslmode={weak}")), "{e}");
        }
        let e = PgConfig::parse("postgres://ana@db/x?sslrootcert=/ca.pem", "p").unwrap_err();
        assert!(e.to_string().contains("verify-full"), "{e}");
        for (url, ca) in [
            ("postgres://ana@db/x?sslmode=require", None),
            (
                "postgres://ana@db/x?sslmode=verify-full&sslrootcert=/etc/ca%20file.pem",
                Some("/etc/ca file.pem"),
            ),
        ] {
            let c = PgConfig::parse(url, "p").unwrap();
            assert_eq!(
                c.tls,
                TlsMode::Verify {
                    ca: ca.map(std::path::PathBuf::from)
                },
                "{url}"
            );
        }
    }

    #[test]
    fn password_sources_in_order_and_never_printed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "from-file\n").unwrap();
        let env = |pairs: &[(&str, &str)]| {
            let m: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            move |k: &str| m.get(k).cloned()
        };
        let f = file.to_str().unwrap();
        let all = env(&[
            (PASSWORD_ENV, "direct"),
            (PASSWORD_FILE_ENV, f),
            (PGPASSWORD_ENV, "pg"),
        ]);
        assert_eq!(password_from(all, "t").unwrap().as_deref(), Some("direct"));
        let no_direct = env(&[(PASSWORD_FILE_ENV, f), (PGPASSWORD_ENV, "pg")]);
        assert_eq!(
            password_from(no_direct, "t").unwrap().as_deref(),
            Some("from-file")
        );
        let pg = env(&[(PGPASSWORD_ENV, "pg")]);
        assert_eq!(password_from(pg, "t").unwrap().as_deref(), Some("pg"));
        assert_eq!(password_from(env(&[]), "t").unwrap(), None);
        let missing = env(&[(PASSWORD_FILE_ENV, "/nonexistent/pw")]);
        assert_eq!(
            password_from(missing, "t").unwrap_err().kind,
            DbErrorKind::Config
        );
        let c = PgConfig::parse("postgres://ana@db/x", "p")
            .unwrap()
            .with_password(Some("hunter2".into()));
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("<set>"),
            "{shown}"
        );
    }

    #[test]
    fn plan_keys_are_safe_short_and_distinct() {
        let k = plan_key("Payments: EU-West / 2026 migration of everything");
        assert!(k.starts_with("payments__eu_west___2026_"), "{k}");
        assert_eq!(k.len(), 24 + 1 + 8);
        assert!(
            k.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        );
        assert_ne!(plan_key("a-b"), plan_key("a_b"));
        assert_eq!(plan_key("a-b"), plan_key("a-b"));
    }
}
