//! HTTPS: a local certificate authority and a server certificate signed by it, made on first
//! start and kept in a directory, because real portals answer only over HTTPS and official
//! SDKs build `https://` URLs themselves. Clients trust the CA file (`SSL_CERT_FILE` for
//! Python/OpenSSL, `NODE_EXTRA_CA_CERTS` for Node, `curl --cacert`).
//!
//! | file | what |
//! |---|---|
//! | `ca.pem` | the CA certificate: the file to trust |
//! | `ca-key.pem` | its key (kept to sign a new server certificate when the names change) |
//! | `server.pem`, `server-key.pem` | the server certificate and key |
//! | `server-names.txt` | the names the server certificate covers |
//!
//! The server certificate covers `localhost`, `127.0.0.1`, `::1` and the public URL's host;
//! it is made again (by the same CA) when that list changes. One directory serves one
//! sandbox at a time (a second one starting at the same moment could replace the CA).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// Why HTTPS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// What a sandbox serving HTTPS holds.
#[derive(Clone)]
pub(crate) struct Tls {
    pub acceptor: TlsAcceptor,
    /// The CA certificate clients trust.
    pub ca_file: PathBuf,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

/// The names every server certificate covers, plus `extra` (the public URL's host).
pub(crate) fn names(extra: Option<&str>) -> Vec<String> {
    let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if let Some(host) = extra {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if !host.is_empty() && !names.iter().any(|n| n == host) {
            names.push(host.to_string());
        }
    }
    names
}

/// Loads the certificates in `dir`, making what is missing.
pub(crate) fn load_or_create(dir: &Path, names: &[String]) -> Result<Tls, TlsError> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    let (ca_pem, ca_key) = ca(dir)?;
    let (server_pem, server_key) = server(dir, names, &ca_key)?;
    let chain = [server_pem.as_str(), ca_pem.as_str()]
        .iter()
        .map(|pem| der_of(pem))
        .collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        ca_file: dir.join("ca.pem"),
    })
}

/// The CA certificate and key, made on first use.
fn ca(dir: &Path) -> Result<(String, KeyPair), TlsError> {
    let (cert_path, key_path) = (dir.join("ca.pem"), dir.join("ca-key.pem"));
    if cert_path.exists() && key_path.exists() {
        let key = KeyPair::from_pem(&read(&key_path)?)?;
        return Ok((read(&cert_path)?, key));
    }
    let key = KeyPair::generate()?;
    let cert = ca_params()?.self_signed(&key)?;
    write_secret(&key_path, &key.serialize_pem())?;
    write(&cert_path, &cert.pem())?;
    tracing::info!(path = %cert_path.display(), "made the sandbox's local CA");
    Ok((cert.pem(), key))
}

/// Always the same, so the CA can sign again with its kept key.
fn ca_params() -> Result<CertificateParams, TlsError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "b24pay sandbox local CA");
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2044, 1, 1);
    Ok(params)
}

/// The server certificate for `names`, made again when the names changed.
fn server(dir: &Path, names: &[String], ca_key: &KeyPair) -> Result<(String, KeyPair), TlsError> {
    let cert_path = dir.join("server.pem");
    let key_path = dir.join("server-key.pem");
    let names_path = dir.join("server-names.txt");
    let wanted = names.join("\n");
    if cert_path.exists() && key_path.exists() && read(&names_path).ok().as_deref() == Some(&wanted)
    {
        let key = KeyPair::from_pem(&read(&key_path)?)?;
        return Ok((read(&cert_path)?, key));
    }
    let issuer = ca_params()?.self_signed(ca_key)?;
    let mut params = CertificateParams::new(names.to_vec())?;
    params
        .distinguished_name
        .push(DnType::CommonName, "b24pay sandbox portal");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2044, 1, 1);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer, ca_key)?;
    write_secret(&key_path, &key.serialize_pem())?;
    write(&cert_path, &cert.pem())?;
    write(&names_path, &wanted)?;
    Ok((cert.pem(), key))
}

fn der_of(pem_text: &str) -> Result<CertificateDer<'static>, TlsError> {
    CertificateDer::from_pem_slice(pem_text.as_bytes())
        .map_err(|_| TlsError::Certificate(rcgen::Error::CouldNotParseCertificate))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn read(path: &Path) -> Result<String, TlsError> {
    fs::read_to_string(path).map_err(io(path))
}

fn write(path: &Path, text: &str) -> Result<(), TlsError> {
    fs::write(path, text).map_err(io(path))
}

/// A key file readable by its owner only.
fn write_secret(path: &Path, text: &str) -> Result<(), TlsError> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).map_err(io(path))?;
    file.write_all(text.as_bytes()).map_err(io(path))
}
