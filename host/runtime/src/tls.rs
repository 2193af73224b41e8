//! Which certificate authorities a plugin's outgoing HTTPS trusts.
//!
//! Without a grant: the public web PKI roots (`webpki-roots`), as the stock
//! wasi-http client does. With the plan's `tls_ca` grant: **only** the granted
//! CAs. Replacing the public roots, rather than adding to them, is the safer
//! choice: a plugin pointed at an internal system with a private CA cannot be
//! served by a certificate that any public CA issued for that name. A plugin
//! that also needs public roots is granted a bundle that contains them (e.g.
//! `/etc/ssl/certs/ca-certificates.crt`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::{PemObject, SectionKind};

/// Why granted CA certificates could not be used. Every variant names the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsCaError {
    /// The file could not be read.
    #[error("cannot read CA certificate file {}: {detail}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        detail: String,
    },
    /// The file is not PEM, holds no certificate, or holds a private key.
    #[error("CA certificate file {}: {reason}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A PEM certificate block is not a usable X.509 certificate.
    #[error("CA certificate file {}: certificate {index} is not a usable X.509 CA certificate: {detail}", path.display())]
    Certificate {
        /// The file.
        path: PathBuf,
        /// 1-based position of the certificate in the file.
        index: usize,
        /// The parser's reason.
        detail: String,
    },
    /// The TLS client could not be configured with these roots.
    #[error("cannot configure TLS with the CA certificates of {files}: {detail}")]
    Config {
        /// The files, comma-separated.
        files: String,
        /// rustls' reason.
        detail: String,
    },
}

/// Granted CA certificates, parsed and ready: the only roots a plugin's
/// HTTPS requests trust. Load once (plan load / sandbox build) and share.
#[derive(Clone)]
pub struct TlsCa {
    files: Vec<PathBuf>,
    certificates: usize,
    pub(crate) config: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for TlsCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsCa")
            .field("files", &self.files)
            .field("certificates", &self.certificates)
            .finish_non_exhaustive()
    }
}

impl TlsCa {
    /// Reads PEM files of CA certificates (each may hold several). A file
    /// that cannot be read, holds no `CERTIFICATE` block, holds a private
    /// key, or a block that is not an X.509 certificate is an error naming
    /// the file.
    pub fn load(files: &[PathBuf]) -> Result<Self, TlsCaError> {
        let mut pems = Vec::with_capacity(files.len());
        for path in files {
            let bytes = std::fs::read(path).map_err(|e| TlsCaError::Read {
                path: path.clone(),
                detail: e.to_string(),
            })?;
            pems.push((path.clone(), bytes));
        }
        Self::from_pem(pems)
    }

    /// As [`TlsCa::load`], from PEM texts already in memory, each named by
    /// the path reported in errors.
    pub fn from_pem(pems: Vec<(PathBuf, Vec<u8>)>) -> Result<Self, TlsCaError> {
        let mut roots = rustls::RootCertStore::empty();
        let mut files = Vec::with_capacity(pems.len());
        for (path, bytes) in pems {
            for (i, der) in certificates(&path, &bytes)?.into_iter().enumerate() {
                roots.add(der).map_err(|e| TlsCaError::Certificate {
                    path: path.clone(),
                    index: i + 1,
                    detail: e.to_string(),
                })?;
            }
            files.push(path);
        }
        let certificates = roots.len();
        if certificates == 0 {
            return Err(TlsCaError::Config {
                files: "(none)".into(),
                detail: "no CA certificate files were given".into(),
            });
        }
        let config = client_config(roots).map_err(|detail| TlsCaError::Config {
            files: files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            detail,
        })?;
        Ok(Self {
            files,
            certificates,
            config,
        })
    }

    /// The files the certificates came from.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// How many CA certificates are trusted.
    pub fn certificates(&self) -> usize {
        self.certificates
    }
}

/// The `CERTIFICATE` blocks of one PEM file, refusing files without any and
/// files that carry private keys (a grant must never hand key material
/// around by accident).
fn certificates(path: &Path, bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsCaError> {
    let pem_err = |reason: String| TlsCaError::Pem {
        path: path.to_path_buf(),
        reason,
    };
    let mut certs = Vec::new();
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(bytes) {
        let (kind, der) = section.map_err(|e| pem_err(format!("malformed PEM: {e}")))?;
        match kind {
            SectionKind::Certificate => certs.push(CertificateDer::from(der)),
            SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey => {
                return Err(pem_err(
                    "holds a private key; grant only the CA certificate".into(),
                ));
            }
            _ => {}
        }
    }
    if certs.is_empty() {
        return Err(pem_err(
            "no PEM certificate (expected -----BEGIN CERTIFICATE----- blocks)".into(),
        ));
    }
    Ok(certs)
}

fn client_config(roots: rustls::RootCertStore) -> Result<Arc<rustls::ClientConfig>, String> {
    // An explicit provider: never depends on (or panics over) a process-wide default.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The client configuration trusting the public web PKI roots (no grant).
pub(crate) fn public_roots() -> Result<Arc<rustls::ClientConfig>, String> {
    static PUBLIC: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    PUBLIC
        .get_or_init(|| {
            client_config(rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.into(),
            })
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_problems_name_the_file() {
        let p = PathBuf::from("/x/ca.pem");
        let err = TlsCa::from_pem(vec![(p.clone(), b"hello".to_vec())]).unwrap_err();
        assert!(err.to_string().contains("/x/ca.pem"), "{err}");
        assert!(err.to_string().contains("no PEM certificate"), "{err}");

        let key = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_vec();
        let err = TlsCa::from_pem(vec![(p.clone(), key)]).unwrap_err();
        assert!(err.to_string().contains("private key"), "{err}");

        let junk = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec();
        let err = TlsCa::from_pem(vec![(p.clone(), junk)]).unwrap_err();
        assert!(
            matches!(&err, TlsCaError::Certificate { index: 1, .. }),
            "{err:?}"
        );

        let open = b"-----BEGIN CERTIFICATE-----\nAAAA\n".to_vec();
        let err = TlsCa::from_pem(vec![(p, open)]).unwrap_err();
        assert!(err.to_string().contains("malformed PEM"), "{err}");

        let err = TlsCa::load(&[PathBuf::from("/nonexistent/ca.crt")]).unwrap_err();
        assert!(
            matches!(&err, TlsCaError::Read { path, .. } if path.ends_with("ca.crt")),
            "{err:?}"
        );
        assert!(TlsCa::load(&[]).is_err());
    }

    #[test]
    fn public_roots_are_available() {
        assert!(public_roots().is_ok());
    }
}
