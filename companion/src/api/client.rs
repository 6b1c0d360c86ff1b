//! Who is asking: the client's address, for the per-client limits. The peer's address from the
//! connection, or — behind a reverse proxy that the configuration names (`limits.client_ip_header`)
//! — the last address in that header, the one the proxy itself saw.

use super::error::ApiError;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The header a trusted proxy puts the client's address in, when there is one.
#[derive(Clone, Debug, Default)]
pub struct ClientIpSource {
    pub header: Option<axum::http::HeaderName>,
}

pub struct ClientIp(pub IpAddr);

fn from_header(parts: &Parts, name: &axum::http::HeaderName) -> Option<IpAddr> {
    let value = parts
        .headers
        .get_all(name)
        .iter()
        .next_back()?
        .to_str()
        .ok()?;
    value.rsplit(',').next()?.trim().parse().ok()
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let source = parts.extensions.get::<ClientIpSource>();
        if let Some(ip) = source
            .and_then(|s| s.header.as_ref())
            .and_then(|h| from_header(parts, h))
        {
            return Ok(ClientIp(ip));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientIp(peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))))
    }
}
