//! Which certificate authorities an `https://` webhook must chain to: the
//! public web PKI roots (webpki-roots, compiled in: a fresh machine needs no
//! system store) or the CA certificates of PEM files named in the plan.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, parse_pem};

use crate::error::NotifyError;

/// Trust anchors of HTTPS deliveries.
#[derive(Debug, Clone, Default)]
pub enum TrustRoots {
    /// The public web PKI roots (Mozilla's, from webpki-roots).
    #[default]
    Public,
    /// Only these CA certificates, read from `files`.
    Files {
        /// The PEM files, as resolved.
        files: Vec<PathBuf>,
        /// Every certificate found in them.
        certs: Arc<Vec<Certificate<'static>>>,
    },
}

impl TrustRoots {
    /// The public roots when `files` is empty, else the CA certificates of
    /// the PEM files `files` (which replace the public roots). A file that
    /// cannot be read, is not PEM or holds no certificate is an error.
    pub fn from_pem_files(files: &[PathBuf]) -> Result<TrustRoots, NotifyError> {
        if files.is_empty() {
            return Ok(TrustRoots::Public);
        }
        let mut certs = Vec::new();
        for f in files {
            certs.extend(read_certificates(f)?);
        }
        Ok(TrustRoots::Files {
            files: files.to_vec(),
            certs: Arc::new(certs),
        })
    }

    /// What the roots are, for error messages.
    pub fn describe(&self) -> String {
        match self {
            TrustRoots::Public => "the public web PKI roots".to_string(),
            TrustRoots::Files { files, .. } => {
                let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
                format!("the CA file(s) {}", names.join(", "))
            }
        }
    }

    pub(crate) fn tls_config(&self) -> TlsConfig {
        let roots = match self {
            TrustRoots::Public => RootCerts::WebPki,
            TrustRoots::Files { certs, .. } => RootCerts::Specific(certs.clone()),
        };
        TlsConfig::builder().root_certs(roots).build()
    }
}

fn read_certificates(path: &Path) -> Result<Vec<Certificate<'static>>, NotifyError> {
    let bad = |reason: String| NotifyError::CaFile {
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let mut certs = Vec::new();
    for item in parse_pem(&bytes) {
        match item.map_err(|e| bad(format!("malformed PEM ({e})")))? {
            PemItem::Certificate(c) => certs.push(c),
            PemItem::PrivateKey(_) => {
                return Err(bad(
                    "it holds a private key; name only the CA certificate".into()
                ));
            }
            _ => {}
        }
    }
    if certs.is_empty() {
        return Err(bad(
            "no PEM certificate in it (expected -----BEGIN CERTIFICATE----- blocks)".into(),
        ));
    }
    Ok(certs)
}
