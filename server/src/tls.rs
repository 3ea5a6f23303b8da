//! TLS through rustls with the ring provider, from PEM files.

use std::path::{Path, PathBuf};

use anyhow::Context;
use axum_server::tls_rustls::RustlsConfig;

/// The certificate chain and private key files of `serve --tls-cert --tls-key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// rustls needs a process-wide crypto provider; installing it twice is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub async fn load(files: &TlsFiles) -> anyhow::Result<RustlsConfig> {
    install_crypto_provider();
    RustlsConfig::from_pem_file(&files.cert, &files.key)
        .await
        .with_context(|| format!("loading TLS from {} and {}", shown(&files.cert), shown(&files.key)))
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}
