//! AWS KMS master keys: wrap and unwrap the data key (or a Shamir share) with a KMS key, as sops's
//! `kms` key source does. The async AWS SDK stays inside this module and its `error` child: one
//! current-thread runtime and one client per (region, profile, role), both made on first use.

mod error;

pub use error::{Cause, KmsError, Operation};

use crate::keys::service::{self, Availability, KeyService, ServiceError};

impl KeyService for Kms {
    fn wrap(&self, key: &MasterKey, secret: &[u8]) -> Result<String, ServiceError> {
        Kms::wrap(self, key, secret).map_err(ServiceError::from)
    }

    fn unwrap(&self, key: &MasterKey) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        Kms::unwrap(self, key).map_err(ServiceError::from)
    }

    fn availability(&self, _key: &MasterKey) -> Availability {
        Availability::Unknown("needs AWS credentials; checked when used".into())
    }
}

impl From<KmsError> for ServiceError {
    fn from(e: KmsError) -> ServiceError {
        ServiceError {
            op: e.op,
            service: "AWS KMS",
            key: e.arn.clone(),
            cause: match e.cause {
                Cause::BadArn | Cause::BadCiphertext => service::Cause::BadKey,
                Cause::NoCredentials => service::Cause::NoCredentials,
                Cause::CredentialsRejected | Cause::AssumeRole | Cause::AccessDenied => {
                    service::Cause::PermissionDenied
                }
                Cause::KeyNotFound => service::Cause::KeyNotFound,
                Cause::KeyDisabled => service::Cause::KeyDisabled,
                Cause::Unreachable | Cause::NoTrustedRoots => service::Cause::Unreachable,
                Cause::Timeout => service::Cause::Timeout,
                Cause::NotBuiltIn => service::Cause::NotBuiltIn,
                Cause::WrongKeyOrContext | Cause::Other => service::Cause::Other,
            },
            summary: e.summary(),
            detail: e.detail.clone(),
            advice: e.advice(),
        }
    }
}

use crate::keys::{Field, MasterKey};
#[cfg(feature = "aws-kms")]
use aws_config::{BehaviorVersion, sts::AssumeRoleProvider};
#[cfg(feature = "aws-kms")]
use aws_sdk_kms::{Client, config::Region, primitives::Blob};
#[cfg(feature = "aws-kms")]
use base64::Engine;
#[cfg(feature = "aws-kms")]
use base64::engine::general_purpose::STANDARD as BASE64;
use regex::Regex;
#[cfg(feature = "aws-kms")]
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::sync::LazyLock;
#[cfg(feature = "aws-kms")]
use tokio::runtime::Runtime;
use zeroize::Zeroizing;

/// sops compat: the ARN shape sops accepts; the region comes from the ARN, not the environment.
static ARN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^arn:aws[0-9A-Za-z_-]*:kms:(.+):[0-9]+:(key|alias)/.+$").expect("valid regex")
});

/// One KMS master key's settings, read from its fields.
#[cfg_attr(not(feature = "aws-kms"), allow(dead_code))]
struct Spec<'a> {
    arn: &'a str,
    role: &'a str,
    profile: &'a str,
    region: String,
    context: Option<HashMap<String, String>>,
}

impl<'a> Spec<'a> {
    fn of(key: &'a MasterKey, op: Operation) -> Result<Spec<'a>, KmsError> {
        let arn = key.text("arn");
        let region = ARN
            .captures(arn)
            .map(|c| c[1].to_string())
            .ok_or_else(|| KmsError::new(op, arn, Cause::BadArn, String::new()))?;
        let context = match key.fields.get("context") {
            Some(Field::Map(ctx)) if !ctx.is_empty() => {
                Some(ctx.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            }
            _ => None,
        };
        Ok(Spec {
            arn,
            role: key.text("role"),
            profile: key.text("aws_profile"),
            region,
            context,
        })
    }

    #[cfg(feature = "aws-kms")]
    fn client_id(&self) -> ClientId {
        ClientId {
            region: self.region.clone(),
            profile: self.profile.to_string(),
            role: self.role.to_string(),
        }
    }
}

#[cfg(feature = "aws-kms")]
/// What a client is configured by: keys that share these share a client (and its credentials).
#[derive(Clone, PartialEq, Eq, Hash)]
struct ClientId {
    region: String,
    profile: String,
    role: String,
}

/// The KMS side of a process: a runtime and the clients made so far.
#[cfg(feature = "aws-kms")]
pub struct Kms {
    runtime: OnceCell<Result<Runtime, String>>,
    clients: RefCell<HashMap<ClientId, Client>>,
    /// The limit for one KMS (or STS) call, retries included.
    timeout: std::time::Duration,
}

#[cfg(feature = "aws-kms")]
impl Kms {
    /// Nothing is set up until the first key is used; each call gives up after `timeout`.
    pub fn new(timeout: std::time::Duration) -> Self {
        Kms {
            runtime: OnceCell::new(),
            clients: RefCell::new(HashMap::new()),
            timeout,
        }
    }

    /// Encrypts `secret` with the key's ARN (and encryption context) and returns the base64 of
    /// the ciphertext blob, the `enc` text sops stores.
    pub fn wrap(&self, key: &MasterKey, secret: &[u8]) -> Result<String, KmsError> {
        let op = Operation::Encrypt;
        let spec = Spec::of(key, op)?;
        let client = self.client(&spec, op)?;
        let runtime = self.runtime(&spec, op)?;
        // The SDK keeps its own (non-zeroizing) copy of the plaintext for the request body;
        // that copy lives only as long as the request.
        let request = client
            .encrypt()
            .key_id(spec.arn)
            .plaintext(Blob::new(secret.to_vec()))
            .set_encryption_context(spec.context.clone());
        let out = runtime
            .block_on(request.send())
            .map_err(|e| error::classify(op, &spec, e))?;
        let blob = out.ciphertext_blob.ok_or_else(|| {
            KmsError::new(
                op,
                spec.arn,
                Cause::Other,
                "KMS returned no ciphertext".into(),
            )
        })?;
        Ok(BASE64.encode(blob.as_ref()))
    }

    /// Decrypts the key's `enc` with its ARN (and encryption context).
    pub fn unwrap(&self, key: &MasterKey) -> Result<Zeroizing<Vec<u8>>, KmsError> {
        let op = Operation::Decrypt;
        let spec = Spec::of(key, op)?;
        let blob = BASE64
            .decode(key.enc().trim())
            .map_err(|e| KmsError::new(op, spec.arn, Cause::BadCiphertext, e.to_string()))?;
        let client = self.client(&spec, op)?;
        let runtime = self.runtime(&spec, op)?;
        let request = client
            .decrypt()
            .key_id(spec.arn)
            .ciphertext_blob(Blob::new(blob))
            .set_encryption_context(spec.context.clone());
        let out = runtime
            .block_on(request.send())
            .map_err(|e| error::classify(op, &spec, e))?;
        let plain = out.plaintext.ok_or_else(|| {
            KmsError::new(
                op,
                spec.arn,
                Cause::Other,
                "KMS returned no plaintext".into(),
            )
        })?;
        Ok(Zeroizing::new(plain.into_inner()))
    }

    fn runtime(&self, spec: &Spec, op: Operation) -> Result<&Runtime, KmsError> {
        self.runtime
            .get_or_init(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("could not start the async runtime: {e}"))
            })
            .as_ref()
            .map_err(|e| KmsError::new(op, spec.arn, Cause::Other, e.clone()))
    }

    /// The client for the key's region, profile and role, made (and remembered) on first use.
    fn client(&self, spec: &Spec, op: Operation) -> Result<Client, KmsError> {
        let id = spec.client_id();
        if let Some(c) = self.clients.borrow().get(&id) {
            return Ok(c.clone());
        }
        // The SDK's HTTPS client panics on its first request when it finds no root
        // certificate; that is an error to report, not a crash.
        if !plain_http_endpoint() && !has_trusted_roots() {
            return Err(KmsError::new(
                op,
                spec.arn,
                Cause::NoTrustedRoots,
                String::new(),
            ));
        }
        let runtime = self.runtime(spec, op)?;
        let client = runtime.block_on(make_client(&id, self.timeout));
        self.clients.borrow_mut().insert(id, client.clone());
        Ok(client)
    }
}

#[cfg(feature = "aws-kms")]
/// Whether the KMS endpoint is set to plain HTTP (a local test server), which needs no roots.
fn plain_http_endpoint() -> bool {
    ["AWS_ENDPOINT_URL_KMS", "AWS_ENDPOINT_URL"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
        .is_some_and(|u| u.starts_with("http://"))
}

#[cfg(feature = "aws-kms")]
/// Whether the system's root certificates (or SSL_CERT_FILE / SSL_CERT_DIR) hold any, as the
/// SDK's HTTPS client reads them.
fn has_trusted_roots() -> bool {
    !rustls_native_certs::load_native_certs().certs.is_empty()
}

#[cfg(feature = "aws-kms")]
/// The AWS SDK's HTTPS client (HTTP too, for local endpoints), on rustls with ring.
pub fn https_client() -> aws_sdk_kms::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

#[cfg(feature = "aws-kms")]
/// Loads the standard AWS configuration (environment, `~/.aws/config` and `credentials`, SSO,
/// `AWS_ENDPOINT_URL[_KMS]`) for a region and optional profile, assuming `role` if set.
async fn make_client(id: &ClientId, timeout: std::time::Duration) -> Client {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .operation_timeout(timeout)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(id.region.clone()))
        .timeout_config(timeouts)
        .http_client(https_client());
    if !id.profile.is_empty() {
        loader = loader.profile_name(&id.profile);
    }
    let sdk = loader.load().await;
    if id.role.is_empty() {
        return Client::new(&sdk);
    }
    // The role is assumed lazily, on the first request, with the base credentials above.
    let provider = AssumeRoleProvider::builder(&id.role)
        .session_name(session_name(&hostname()))
        .configure(&sdk)
        .build()
        .await;
    let conf = aws_sdk_kms::config::Builder::from(&sdk)
        .credentials_provider(provider)
        .build();
    Client::from_conf(conf)
}

#[cfg(feature = "aws-kms")]
/// sops compat: the STS session name is `sops@<hostname>`, with every character outside
/// sops's class `[a-zA-Z0-9=,.@-_]` removed (in that class `@-_` is a range, so `-` itself is
/// removed), cut to 64 bytes.
fn session_name(host: &str) -> String {
    let kept: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '=' | ',' | '.' | '@'..='_'))
        .collect();
    let mut name = format!("sops@{kept}");
    name.truncate(64);
    name
}

#[cfg(feature = "aws-kms")]
#[allow(unsafe_code)]
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Without the `aws-kms` feature: KMS keys stay in files untouched, and using one says that
/// this build cannot.
#[cfg(not(feature = "aws-kms"))]
pub struct Kms;

#[cfg(not(feature = "aws-kms"))]
impl Kms {
    pub fn new(_timeout: std::time::Duration) -> Self {
        Kms
    }

    pub fn wrap(&self, key: &MasterKey, _secret: &[u8]) -> Result<String, KmsError> {
        Err(not_built_in(key, Operation::Encrypt))
    }

    pub fn unwrap(&self, key: &MasterKey) -> Result<Zeroizing<Vec<u8>>, KmsError> {
        Err(not_built_in(key, Operation::Decrypt))
    }
}

#[cfg(not(feature = "aws-kms"))]
fn not_built_in(key: &MasterKey, op: Operation) -> KmsError {
    match Spec::of(key, op) {
        Ok(spec) => KmsError::new(op, spec.arn, Cause::NotBuiltIn, String::new()),
        Err(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "aws-kms")]
    #[test]
    fn session_name_matches_sops() {
        assert_eq!(session_name("my-host.example_1"), "sops@myhost.example_1");
        assert_eq!(session_name("a+b c[d]"), "sops@abc[d]");
        assert_eq!(session_name(&"h".repeat(80)).len(), 64);
    }

    #[test]
    fn region_comes_from_the_arn() {
        let mut key = MasterKey::new(crate::keys::KeyKind::Kms);
        key.set_text("arn", "arn:aws:kms:eu-west-3:123456789012:alias/sops");
        let spec = Spec::of(&key, Operation::Decrypt).unwrap();
        assert_eq!(spec.region, "eu-west-3");
        key.set_text("arn", "arn:aws-cn:kms:cn-north-1:123456789012:key/1234");
        assert_eq!(
            Spec::of(&key, Operation::Decrypt).unwrap().region,
            "cn-north-1"
        );
        key.set_text("arn", "not-an-arn");
        let err = Spec::of(&key, Operation::Decrypt).err().unwrap();
        assert_eq!(err.cause, Cause::BadArn);
        assert!(
            err.to_string()
                .contains("no valid ARN found in 'not-an-arn'")
        );
    }
}
