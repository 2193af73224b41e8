//! TLS to the state database (`sslmode=require` or `verify-full` in the
//! URL): rustls, always verifying the server's certificate chain and its
//! name, against the CA file given with `sslrootcert=PATH` or else the public
//! web PKI roots. cutover never sends a password over a connection whose
//! server it has not verified.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_postgres_rustls::MakeRustlsConnect;

/// How to reach the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP (`sslmode=disable`, the default on a trusted network).
    Off,
    /// TLS with the server's chain and name verified, against `ca` (a PEM
    /// file) or the public roots.
    Verify {
        /// `sslrootcert`: the CA certificates the server must chain to.
        ca: Option<PathBuf>,
    },
}

/// The rustls connector for `ca` (or the public roots). Errors say which
/// file and why.
pub(crate) fn connector(ca: Option<&Path>) -> Result<MakeRustlsConnect, String> {
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?
                .collect::<Result<_, _>>()
                .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!(
                    "sslrootcert {}: no PEM certificate in the file",
                    path.display()
                ));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}
