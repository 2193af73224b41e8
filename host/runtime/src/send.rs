//! Sending one granted outgoing request to the network.
//!
//! Modelled on wasmtime-wasi-http 48's `default_send_request` (same
//! timeouts, HTTP/1.1 over hyper, same error codes), with two differences:
//! HTTPS trusts the sandbox's roots (the public web PKI, or only the CAs the
//! plan grants, see [`crate::TlsCa`]), and a failed TLS handshake reaches the
//! guest as a typed `error-code` (`TLS-certificate-error`,
//! `TLS-alert-received`, `TLS-protocol-error`) instead of a generic one.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use http::uri::Scheme;
use http_body_util::BodyExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

/// Drives the connection after the response head arrived; resolves with
/// the connection's outcome.
pub(crate) type IoFuture = Box<dyn Future<Output = Result<(), Error>> + Send>;

trait Stream: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static> Stream for T {}

const NO_TIMEOUT: Duration = Duration::from_secs(600);

/// Sends `req` (its origin is already granted) and returns the response
/// with a future that finishes the connection. `tls` is the client
/// configuration for `https` (or why none could be built).
pub(crate) async fn send(
    mut req: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    tls: Result<Arc<rustls::ClientConfig>, String>,
    plugin: Arc<str>,
) -> Result<(http::Response<WasiBody>, IoFuture), Error> {
    let uri = req.uri();
    let authority = uri.authority().ok_or(Error::HttpRequestUriInvalid)?;
    let use_tls = uri.scheme() == Some(&Scheme::HTTPS);
    let authority = if authority.port().is_some() {
        authority.to_string()
    } else {
        let port = if use_tls { 443 } else { 80 };
        format!("{authority}:{port}")
    };
    let connect_timeout = options
        .and_then(|o| o.connect_timeout)
        .unwrap_or(NO_TIMEOUT);
    let first_byte_timeout = options
        .and_then(|o| o.first_byte_timeout)
        .unwrap_or(NO_TIMEOUT);
    // Tokio panics on a zero `interval`: clamp to 1 ns.
    let between_bytes_timeout = options
        .and_then(|o| o.between_bytes_timeout)
        .unwrap_or(NO_TIMEOUT)
        .max(Duration::from_nanos(1));

    let connected = connect(&authority, use_tls, connect_timeout, tls, &plugin).await;
    let (mut sender, conn) = match connected {
        Ok(c) => c,
        Err(e) => {
            // The guest writes the request body while this runs: dropping
            // the body now would fail its write ("connection reset") and,
            // depending on timing, hide this error. Take the body first so
            // the guest reliably sees the typed error code.
            drain(req.into_body()).await;
            return Err(e);
        }
    };

    // The request line carries only the path and query (no proxy here).
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .to_owned();
    *req.uri_mut() = http::Uri::builder()
        .path_and_query(path)
        .build()
        .map_err(|_| Error::HttpRequestUriInvalid)?;

    let send = async move {
        let res = tokio::time::timeout(first_byte_timeout, sender.send_request(req))
            .await
            .map_err(|_| Error::ConnectionReadTimeout)?
            .map_err(Error::from)?;
        let mut timeout = tokio::time::interval(between_bytes_timeout);
        timeout.reset();
        Ok(res.map(|incoming| IncomingBody { incoming, timeout }.boxed_unsync()))
    };
    let mut send = pin!(send);
    let mut conn = Some(conn);
    // Wait for the response head while driving the connection's I/O.
    let res = poll_fn(|cx| match send.as_mut().poll(cx) {
        Poll::Ready(r) => Poll::Ready(r),
        Poll::Pending => {
            let Some(fut) = conn.as_mut() else {
                return Poll::Pending;
            };
            let res = ready!(Pin::new(fut).poll(cx));
            conn = None;
            match res {
                Ok(()) => send.as_mut().poll(cx),
                Err(e) => Poll::Ready(Err(Error::from(e))),
            }
        }
    })
    .await?;
    let io: IoFuture = Box::new(async move {
        let Some(conn) = conn.take() else {
            return Ok(());
        };
        match conn.await {
            Ok(()) => Ok(()),
            Err(e) if e.is_timeout() => Err(Error::HttpResponseTimeout),
            Err(e) => Err(e.into()),
        }
    });
    Ok((res, io))
}

type Connected = (
    hyper::client::conn::http1::SendRequest<WasiBody>,
    hyper::client::conn::http1::Connection<TokioIo<Box<dyn Stream>>, WasiBody>,
);

/// TCP, then TLS for `https` (with the sandbox's roots), then the HTTP/1.1
/// handshake, each bounded by `timeout`.
async fn connect(
    authority: &str,
    use_tls: bool,
    timeout: Duration,
    tls: Result<Arc<rustls::ClientConfig>, String>,
    plugin: &str,
) -> Result<Connected, Error> {
    let tcp = match tokio::time::timeout(timeout, TcpStream::connect(authority)).await {
        Ok(stream) => stream.map_err(Error::Connect)?,
        Err(_) => return Err(Error::ConnectionTimeout),
    };
    let stream: Box<dyn Stream> = if use_tls {
        let config = tls.map_err(|detail| {
            tracing::warn!(target: "cutover::sandbox", plugin, %detail, "no TLS configuration");
            Error::ConfigurationError
        })?;
        let name = server_name(authority)?;
        let connector = tokio_rustls::TlsConnector::from(config);
        match tokio::time::timeout(timeout, connector.connect(name, tcp)).await {
            Ok(Ok(s)) => Box::new(s),
            Ok(Err(e)) => return Err(tls_error(plugin, authority, &e)),
            Err(_) => return Err(Error::ConnectionTimeout),
        }
    } else {
        Box::new(tcp)
    };
    tokio::time::timeout(
        timeout,
        hyper::client::conn::http1::Builder::new().handshake(TokioIo::new(stream)),
    )
    .await
    .map_err(|_| Error::ConnectionTimeout)?
    .map_err(Error::from)
}

/// How long, and how much, of a request body is read and thrown away when
/// the request failed before it could be sent.
const DRAIN_TIME: Duration = Duration::from_secs(2);
const DRAIN_BYTES: usize = 8 << 20;

/// Reads the guest's request body to its end (bounded), discarding it.
pub(crate) async fn drain(mut body: WasiBody) {
    let until = tokio::time::Instant::now() + DRAIN_TIME;
    let mut seen = 0usize;
    while seen < DRAIN_BYTES {
        match tokio::time::timeout_at(until, body.frame()).await {
            Ok(Some(Ok(frame))) => seen += frame.data_ref().map_or(0, |d| d.len()),
            _ => break,
        }
    }
}

/// A response body that fails when no frame arrives within the
/// between-bytes timeout.
struct IncomingBody {
    incoming: hyper::body::Incoming,
    timeout: tokio::time::Interval,
}

impl http_body::Body for IncomingBody {
    type Data = bytes::Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        match Pin::new(&mut self.incoming).poll_frame(cx) {
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(if e.is_timeout() {
                Error::HttpResponseTimeout
            } else {
                Error::from(e)
            }))),
            Poll::Ready(Some(Ok(frame))) => {
                self.timeout.reset();
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                ready!(self.timeout.poll_tick(cx));
                Poll::Ready(Some(Err(Error::ConnectionReadTimeout)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.incoming.size_hint()
    }
}

/// The name the server certificate must carry: an IP literal or a DNS name
/// (`authority` is `host:port`, IPv6 in brackets).
fn server_name(authority: &str) -> Result<rustls::pki_types::ServerName<'static>, Error> {
    use rustls::pki_types::ServerName;
    if let Ok(addr) = authority.parse::<std::net::SocketAddr>() {
        return Ok(ServerName::from(addr.ip()));
    }
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(host, _port)| host);
    ServerName::try_from(host.to_owned()).map_err(Error::InvalidDnsNameError)
}

/// Classifies a failed handshake for the guest; the reason goes to the log.
fn tls_error(plugin: &str, authority: &str, e: &std::io::Error) -> Error {
    let rustls_error = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    tracing::warn!(
        target: "cutover::sandbox",
        plugin,
        server = authority,
        reason = %e,
        "TLS handshake failed"
    );
    match rustls_error {
        Some(
            rustls::Error::InvalidCertificate(_)
            | rustls::Error::NoCertificatesPresented
            | rustls::Error::InvalidCertRevocationList(_),
        ) => Error::TlsCertificateError,
        Some(rustls::Error::AlertReceived(alert)) => Error::TlsAlertReceived {
            alert_id: Some(u8::from(*alert)),
            alert_message: Some(format!("{alert:?}")),
        },
        Some(_) => Error::TlsProtocolError,
        // The peer went away during the handshake (not TLS, or reset).
        None => Error::ConnectionTerminated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::ServerName;

    #[test]
    fn server_names_from_authorities() {
        assert_eq!(
            server_name("127.0.0.1:15665").unwrap(),
            ServerName::from(std::net::Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            server_name("[::1]:443").unwrap(),
            ServerName::from(std::net::Ipv6Addr::LOCALHOST)
        );
        assert_eq!(
            server_name("icinga.example:5665").unwrap(),
            ServerName::try_from("icinga.example").unwrap()
        );
        assert!(server_name("bad name!:1").is_err());
    }

    #[test]
    fn handshake_errors_are_typed() {
        let cert = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert!(matches!(
            tls_error("p", "h:1", &cert),
            Error::TlsCertificateError
        ));
        let alert = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::BadCertificate),
        );
        assert!(matches!(
            tls_error("p", "h:1", &alert),
            Error::TlsAlertReceived {
                alert_id: Some(42),
                ..
            }
        ));
        let other =
            std::io::Error::new(std::io::ErrorKind::InvalidData, rustls::Error::DecryptError);
        assert!(matches!(
            tls_error("p", "h:1", &other),
            Error::TlsProtocolError
        ));
        let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        assert!(matches!(
            tls_error("p", "h:1", &eof),
            Error::ConnectionTerminated
        ));
    }
}
