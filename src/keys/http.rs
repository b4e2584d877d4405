//! What the key services that speak JSON over HTTPS share (Vault transit, GCP Cloud KMS, ...):
//! one agent with the call timeout, the proxy settings (`HTTPS_PROXY`, `NO_PROXY`) and the
//! trusted roots; a call that sorts transport failures from answers; and the few JSON pieces
//! the services need. Response bodies may hold key material, so they stay zeroized.

use crate::keys::service::Cause;
use crate::store::{self, Format};
use crate::tree::{Node, Scalar};
use std::time::Duration;
use zeroize::Zeroizing;

/// Which certificates an agent trusts.
pub enum Roots<'a> {
    /// The system's (honours `SSL_CERT_FILE` / `SSL_CERT_DIR`).
    System,
    /// Only the CA certificates in this PEM file; `setting` names where it came from.
    File { setting: &'a str, path: &'a str },
    /// None: no verification at all (`VAULT_SKIP_VERIFY`).
    Unverified,
}

/// An agent whose calls give up after `timeout`.
pub fn agent(timeout: Duration, roots: Roots) -> Result<ureq::Agent, String> {
    use ureq::tls::{Certificate, RootCerts, TlsConfig};
    let tls = match roots {
        Roots::System => TlsConfig::builder().root_certs(RootCerts::PlatformVerifier),
        Roots::File { setting, path } => {
            let pem = std::fs::read(path).map_err(|e| format!("{setting} {path}: {e}"))?;
            let cert = Certificate::from_pem(&pem).map_err(|e| format!("{setting} {path}: {e}"))?;
            TlsConfig::builder().root_certs(RootCerts::new_with_certs(&[cert]))
        }
        Roots::Unverified => TlsConfig::builder().disable_verification(true),
    };
    Ok(ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .tls_config(tls.build())
        .build()
        .into())
}

/// A service's answer: any HTTP status, with its body.
pub struct Reply {
    pub status: u16,
    pub body: Zeroizing<Vec<u8>>,
}

/// Why no answer came.
#[derive(Debug)]
pub enum Failure {
    Timeout,
    /// Connection, TLS or protocol failure, in ureq's words.
    Unreachable(String),
}

impl Failure {
    /// The failure as a service error's cause and detail.
    pub fn cause(self) -> (Cause, String) {
        match self {
            Failure::Timeout => (Cause::Timeout, String::new()),
            Failure::Unreachable(e) => (Cause::Unreachable, e),
        }
    }
}

impl From<ureq::Error> for Failure {
    fn from(e: ureq::Error) -> Failure {
        match e {
            ureq::Error::Timeout(_) => Failure::Timeout,
            other => Failure::Unreachable(other.to_string()),
        }
    }
}

/// Sends `body` (or nothing) and reads the whole answer.
pub fn send(
    request: ureq::RequestBuilder<ureq::typestate::WithBody>,
    body: &[u8],
) -> Result<Reply, Failure> {
    let failure = |e: ureq::Error| match e {
        ureq::Error::Timeout(_) => Failure::Timeout,
        other => Failure::Unreachable(other.to_string()),
    };
    let mut response = request.send(body).map_err(failure)?;
    let status = response.status().as_u16();
    let body = Zeroizing::new(response.body_mut().read_to_vec().map_err(failure)?);
    Ok(Reply { status, body })
}

/// Sends a GET and reads the whole answer.
pub fn get(request: ureq::RequestBuilder<ureq::typestate::WithoutBody>) -> Result<Reply, Failure> {
    let failure = |e: ureq::Error| match e {
        ureq::Error::Timeout(_) => Failure::Timeout,
        other => Failure::Unreachable(other.to_string()),
    };
    let mut response = request.call().map_err(failure)?;
    let status = response.status().as_u16();
    let body = Zeroizing::new(response.body_mut().read_to_vec().map_err(failure)?);
    Ok(Reply { status, body })
}

/// A JSON document's top-level value, if the text is JSON with an object at the top.
pub fn parse(body: &[u8]) -> Option<Node> {
    let parsed = store::parse_plain(Format::Json, body).ok()?;
    parsed.docs.into_iter().next().map(Node::Map)
}

/// The string at `path` (object keys) in `node`.
pub fn text(node: &Node, path: &[&str]) -> Option<Zeroizing<String>> {
    let mut at = node;
    for key in path {
        at = at.as_map()?.get(key)?;
    }
    match at.as_scalar()? {
        Scalar::Str(s) => Some(Zeroizing::new(s.to_lossy().into_owned())),
        _ => None,
    }
}

/// `text` as a JSON string literal.
pub use crate::gotext::json_quote as quote;

/// A short, one-line excerpt of a body that is not what was expected, for error details.
pub fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .chars()
        .take(200)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_pieces() {
        assert_eq!(quote("a\"b\\c\n\u{1}é"), r#""a\"b\\c\n\u0001é""#);
        let doc = parse(br#"{"data":{"ciphertext":"vault:v1:x","n":3},"list":[1]}"#).unwrap();
        assert_eq!(
            text(&doc, &["data", "ciphertext"]).unwrap().as_str(),
            "vault:v1:x"
        );
        assert!(text(&doc, &["data", "n"]).is_none());
        assert!(text(&doc, &["missing"]).is_none());
        assert!(parse(b"not json").is_none());
        assert_eq!(form_encode("a b/c=d&é"), "a+b%2Fc%3Dd%26%C3%A9");
        assert_eq!(excerpt(b"line\nbreak"), "line break");
    }
}
