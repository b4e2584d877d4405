//! GCP Cloud KMS master keys (`gcp_kms`): the data key is encrypted by
//! `POST /v1/{resource_id}:encrypt` and decrypted by `…:decrypt` on Cloud KMS's REST API; the
//! file stores the raw ciphertext in standard base64, as sops does. sops uses the gRPC mapping
//! of the same methods; the two are interchangeable (same keys, same ciphertext).
//!
//! Credentials in sops's order: `GOOGLE_CREDENTIALS` (a path, or the JSON itself), then
//! `GOOGLE_OAUTH_ACCESS_TOKEN`, then Application Default Credentials
//! (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud's `application_default_credentials.json`, the
//! metadata server on Google Cloud). A token is fetched once per process. The endpoint is
//! `SOPS_GCP_KMS_ENDPOINT`, else `cloudkms.{SOPS_GCP_KMS_UNIVERSE_DOMAIN}`, else
//! `cloudkms.googleapis.com`; `HTTPS_PROXY` / `NO_PROXY` apply.

use crate::env::Environment;
use crate::keys::MasterKey;
use crate::keys::http::{self, Roots};
use crate::keys::jwt;
use crate::keys::service::{Availability, Cause, KeyService, Operation, ServiceError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::cell::OnceCell;
use std::path::PathBuf;
use std::time::Duration;
use zeroize::Zeroizing;

const SERVICE: &str = "GCP KMS";
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
const SCOPE: &str = "https://www.googleapis.com/auth/cloudkms";
const METADATA_HOST: &str = "169.254.169.254";

/// Where a token comes from.
enum Credentials {
    /// A bearer token as given (`GOOGLE_OAUTH_ACCESS_TOKEN`).
    Token(Zeroizing<String>),
    /// A service-account key: a signed JWT is exchanged for a token.
    ServiceAccount {
        email: String,
        key_id: String,
        private_key: Zeroizing<String>,
        token_uri: String,
    },
    /// gcloud user credentials: the refresh token is exchanged for a token.
    AuthorizedUser {
        client_id: String,
        client_secret: Zeroizing<String>,
        refresh_token: Zeroizing<String>,
        token_uri: String,
    },
    /// The metadata server of a Google Cloud machine.
    Metadata { host: String },
}

/// The Cloud KMS side of a process.
pub struct GcpKms {
    /// The credentials and where they were found ("GOOGLE_CREDENTIALS", ...), or why none.
    credentials: Result<(Credentials, String), String>,
    endpoint: String,
    agent: Result<ureq::Agent, String>,
    /// The access token, fetched on first use; a failure is kept too, so a run asks once.
    token: OnceCell<Result<Zeroizing<String>, (Cause, String)>>,
}

impl GcpKms {
    /// Finds the credentials and endpoint in `env`; `timeout` bounds each call.
    pub fn new(env: &dyn Environment, timeout: Duration) -> GcpKms {
        let endpoint = match env.var("SOPS_GCP_KMS_ENDPOINT").filter(|e| !e.is_empty()) {
            Some(e) if e.contains("://") => e.trim_end_matches('/').to_string(),
            Some(e) => format!("https://{}", e.trim_end_matches('/')),
            None => match env
                .var("SOPS_GCP_KMS_UNIVERSE_DOMAIN")
                .filter(|d| !d.is_empty())
            {
                Some(domain) => format!("https://cloudkms.{domain}"),
                None => "https://cloudkms.googleapis.com".to_string(),
            },
        };
        GcpKms {
            credentials: discover(env),
            endpoint,
            agent: http::agent(timeout, Roots::System),
            token: OnceCell::new(),
        }
    }

    fn error(&self, op: Operation, key: &MasterKey, cause: Cause, detail: String) -> ServiceError {
        let source = match &self.credentials {
            Ok((_, source)) => source.as_str(),
            Err(_) => "the environment",
        };
        let (summary, advice) = match cause {
            Cause::BadKey => (
                "the key's resource id or stored enc is not usable".to_string(),
                "use a resource id like projects/P/locations/L/keyRings/R/cryptoKeys/K".to_string(),
            ),
            Cause::NoCredentials => (
                "no Google credentials were found".to_string(),
                "set GOOGLE_CREDENTIALS (a service-account key file) or GOOGLE_OAUTH_ACCESS_TOKEN, \
                 or run `gcloud auth application-default login`"
                    .to_string(),
            ),
            Cause::PermissionDenied => (
                format!("Cloud KMS refused the credentials from {source}"),
                format!(
                    "grant roles/cloudkms.cryptoKeyEncrypterDecrypter on the key to that account, \
                     or renew the credentials (from {source})"
                ),
            ),
            Cause::KeyNotFound => (
                "Cloud KMS has no such key".to_string(),
                "check the project, location, key ring and key name in the resource id".to_string(),
            ),
            Cause::KeyDisabled => (
                "Cloud KMS cannot use the key now (its primary version is disabled or destroyed)"
                    .to_string(),
                "enable the key's primary version, or use another key of the file".to_string(),
            ),
            Cause::Unreachable => (
                format!("Cloud KMS at {} could not be reached", self.endpoint),
                "check the network and proxy (HTTPS_PROXY), or SOPS_GCP_KMS_ENDPOINT".to_string(),
            ),
            Cause::Timeout => (
                format!("Cloud KMS at {} did not answer in time", self.endpoint),
                "check the network, or raise SESAME_SERVICE_TIMEOUT (seconds)".to_string(),
            ),
            Cause::NotAllowed | Cause::NotBuiltIn | Cause::Other => (
                "the request failed".to_string(),
                "check the credentials, the resource id and the key's state in Cloud KMS"
                    .to_string(),
            ),
        };
        ServiceError::new(op, SERVICE, key, cause, (summary, advice), detail)
    }

    fn agent(&self) -> Result<&ureq::Agent, (Cause, String)> {
        self.agent
            .as_ref()
            .map_err(|e| (Cause::Unreachable, e.clone()))
    }

    /// The access token, fetched once.
    fn token(&self) -> Result<&Zeroizing<String>, (Cause, String)> {
        self.token
            .get_or_init(|| self.fetch_token())
            .as_ref()
            .map_err(Clone::clone)
    }

    fn fetch_token(&self) -> Result<Zeroizing<String>, (Cause, String)> {
        let (credentials, source) = self
            .credentials
            .as_ref()
            .map_err(|why| (Cause::NoCredentials, why.clone()))?;
        let agent = self.agent()?;
        let reply = match credentials {
            Credentials::Token(token) => return Ok(token.clone()),
            Credentials::ServiceAccount {
                email,
                key_id,
                private_key,
                token_uri,
            } => {
                let assertion = signed_jwt(email, key_id, private_key, token_uri)
                    .map_err(|e| (Cause::NoCredentials, format!("{source}: {e}")))?;
                let form = Zeroizing::new(format!(
                    "grant_type={}&assertion={}",
                    http::form_encode("urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    assertion.as_str()
                ));
                post_form(agent, token_uri, &form)
            }
            Credentials::AuthorizedUser {
                client_id,
                client_secret,
                refresh_token,
                token_uri,
            } => {
                let form = Zeroizing::new(format!(
                    "grant_type=refresh_token&client_id={}&client_secret={}&refresh_token={}",
                    http::form_encode(client_id),
                    http::form_encode(client_secret),
                    http::form_encode(refresh_token)
                ));
                post_form(agent, token_uri, &form)
            }
            Credentials::Metadata { host } => {
                let url = format!(
                    "http://{host}/computeMetadata/v1/instance/service-accounts/default/token"
                );
                http::get(agent.get(&url).header("Metadata-Flavor", "Google"))
            }
        };
        let reply = reply.map_err(|e| match e {
            http::Failure::Timeout => (Cause::Timeout, format!("getting a token from {source}")),
            http::Failure::Unreachable(e) => (
                Cause::Unreachable,
                format!("getting a token from {source}: {e}"),
            ),
        })?;
        let doc = http::parse(&reply.body);
        let token = doc.as_ref().and_then(|d| http::text(d, &["access_token"]));
        match token {
            Some(token) if reply.status == 200 && !token.is_empty() => Ok(token),
            _ => {
                let said = doc
                    .as_ref()
                    .and_then(|d| {
                        let error = http::text(d, &["error"])?;
                        let description = http::text(d, &["error_description"]);
                        Some(match description {
                            Some(d) => format!("{}: {}", error.as_str(), d.as_str()),
                            None => error.to_string(),
                        })
                    })
                    .unwrap_or_else(|| http::excerpt(&reply.body));
                Err((
                    Cause::PermissionDenied,
                    format!("no token from {source} (HTTP {}: {said})", reply.status),
                ))
            }
        }
    }

    /// `POST {endpoint}/v1/{resource_id}:{method}` with `body`; the response's `field`.
    fn call(
        &self,
        op: Operation,
        key: &MasterKey,
        body: &str,
        field: &str,
    ) -> Result<Zeroizing<String>, ServiceError> {
        let fail = |(cause, detail): (Cause, String)| self.error(op, key, cause, detail);
        let resource = key.text("resource_id");
        if !valid_resource_id(resource) {
            return Err(fail((Cause::BadKey, String::new())));
        }
        let token = self.token().map_err(fail)?;
        let agent = self.agent().map_err(fail)?;
        let method = match op {
            Operation::Encrypt => "encrypt",
            Operation::Decrypt => "decrypt",
        };
        let url = format!("{}/v1/{resource}:{method}", self.endpoint);
        let bearer = Zeroizing::new(format!("Bearer {}", token.as_str()));
        let request = agent
            .post(&url)
            .header("Content-Type", "application/json")
            .header("Authorization", bearer.as_str());
        let reply = http::send(request, body.as_bytes()).map_err(|e| fail(e.cause()))?;
        let doc = http::parse(&reply.body);
        if reply.status != 200 {
            let status = doc
                .as_ref()
                .and_then(|d| http::text(d, &["error", "status"]));
            let message = doc
                .as_ref()
                .and_then(|d| http::text(d, &["error", "message"]));
            let status = status.as_deref().map_or("", |s| s.as_str());
            let cause = match (reply.status, status) {
                (401, _) | (_, "UNAUTHENTICATED") => Cause::PermissionDenied,
                (403, _) | (_, "PERMISSION_DENIED") => Cause::PermissionDenied,
                (404, _) | (_, "NOT_FOUND") => Cause::KeyNotFound,
                (_, "FAILED_PRECONDITION") => Cause::KeyDisabled,
                _ => Cause::Other,
            };
            let said = match message {
                Some(m) => m.replace('\n', " "),
                None => http::excerpt(&reply.body),
            };
            return Err(fail((cause, format!("HTTP {}: {said}", reply.status))));
        }
        doc.as_ref()
            .and_then(|d| http::text(d, &[field]))
            .ok_or_else(|| fail((Cause::Other, format!("the response has no {field}"))))
    }
}

/// sops's check of a resource id (and nothing a URL path would misread).
fn valid_resource_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('/').collect();
    parts.len() == 8
        && parts[0] == "projects"
        && parts[2] == "locations"
        && parts[4] == "keyRings"
        && parts[6] == "cryptoKeys"
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
}

fn post_form(agent: &ureq::Agent, url: &str, form: &str) -> Result<http::Reply, http::Failure> {
    let request = agent
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded");
    http::send(request, form.as_bytes())
}

/// A JWT for the OAuth 2.0 JWT-bearer grant, signed RS256 with the service account's key.
fn signed_jwt(
    email: &str,
    key_id: &str,
    private_key: &str,
    token_uri: &str,
) -> Result<Zeroizing<String>, String> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let header = format!(
        r#"{{"alg":"RS256","typ":"JWT","kid":{}}}"#,
        http::quote(key_id)
    );
    let claims = format!(
        r#"{{"iss":{},"scope":{},"aud":{},"iat":{now},"exp":{}}}"#,
        http::quote(email),
        http::quote(SCOPE),
        http::quote(token_uri),
        now + 3600
    );
    jwt::rs256(&header, &claims, private_key)
        .map_err(|e| format!("the service account's private_key: {e}"))
}

/// The credentials sops would use, in its order, and where they were found.
fn discover(env: &dyn Environment) -> Result<(Credentials, String), String> {
    if let Some(value) = env.var("GOOGLE_CREDENTIALS").filter(|v| !v.is_empty()) {
        // sops: a path when such a file exists, else the JSON itself.
        let (json, source) = match std::fs::read(&value) {
            Ok(bytes) => (
                Zeroizing::new(bytes),
                format!("GOOGLE_CREDENTIALS ({value})"),
            ),
            Err(_) => (
                Zeroizing::new(value.into_bytes()),
                "GOOGLE_CREDENTIALS".to_string(),
            ),
        };
        return from_json(&json, &source).map(|c| (c, source));
    }
    if let Some(token) = env
        .var("GOOGLE_OAUTH_ACCESS_TOKEN")
        .filter(|t| !t.is_empty())
    {
        return Ok((
            Credentials::Token(Zeroizing::new(token)),
            "GOOGLE_OAUTH_ACCESS_TOKEN".to_string(),
        ));
    }
    if let Some(path) = env
        .var("GOOGLE_APPLICATION_CREDENTIALS")
        .filter(|p| !p.is_empty())
    {
        let source = format!("GOOGLE_APPLICATION_CREDENTIALS ({path})");
        let json = std::fs::read(&path).map_err(|e| format!("{source}: {e}"))?;
        return from_json(&Zeroizing::new(json), &source).map(|c| (c, source));
    }
    if let Some(path) = gcloud_adc_file(env)
        && let Ok(json) = std::fs::read(&path)
    {
        let source = path.display().to_string();
        return from_json(&Zeroizing::new(json), &source).map(|c| (c, source));
    }
    if let Some(host) = env.var("GCE_METADATA_HOST").filter(|h| !h.is_empty()) {
        return Ok((
            Credentials::Metadata { host: host.clone() },
            format!("the metadata server at {host}"),
        ));
    }
    if on_google_cloud() {
        return Ok((
            Credentials::Metadata {
                host: METADATA_HOST.to_string(),
            },
            "the metadata server".to_string(),
        ));
    }
    Err(
        "none of GOOGLE_CREDENTIALS, GOOGLE_OAUTH_ACCESS_TOKEN, GOOGLE_APPLICATION_CREDENTIALS \
         or gcloud's application default credentials is set, and this is not a Google Cloud \
         machine"
            .to_string(),
    )
}

/// gcloud's application default credentials file.
fn gcloud_adc_file(env: &dyn Environment) -> Option<PathBuf> {
    let dir = match env.var("CLOUDSDK_CONFIG").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => env.home()?.join(".config/gcloud"),
    };
    Some(dir.join("application_default_credentials.json"))
}

/// Google Cloud machines say so in their DMI product name, as Google's clients check.
fn on_google_cloud() -> bool {
    std::fs::read_to_string("/sys/class/dmi/id/product_name")
        .is_ok_and(|name| name.trim().starts_with("Google"))
}

/// Credentials from a JSON credentials file.
fn from_json(json: &[u8], source: &str) -> Result<Credentials, String> {
    let doc =
        http::parse(json).ok_or_else(|| format!("{source} is not a JSON credentials file"))?;
    let field = |name: &str| http::text(&doc, &[name]).filter(|v| !v.is_empty());
    let need = |name: &str| field(name).ok_or_else(|| format!("{source} has no {name}"));
    let token_uri =
        field("token_uri").map_or_else(|| DEFAULT_TOKEN_URI.to_string(), |u| u.to_string());
    let kind = field("type").map(|t| t.to_string()).unwrap_or_default();
    match kind.as_str() {
        "service_account" => Ok(Credentials::ServiceAccount {
            email: need("client_email")?.to_string(),
            key_id: field("private_key_id")
                .map(|k| k.to_string())
                .unwrap_or_default(),
            private_key: need("private_key")?,
            token_uri,
        }),
        "authorized_user" => Ok(Credentials::AuthorizedUser {
            client_id: need("client_id")?.to_string(),
            client_secret: need("client_secret")?,
            refresh_token: need("refresh_token")?,
            token_uri,
        }),
        "" => Err(format!("{source} has no type")),
        other => Err(format!(
            "{source} holds {other} credentials, which sesame cannot use; \
             use a service-account key, or GOOGLE_OAUTH_ACCESS_TOKEN=$(gcloud auth print-access-token)"
        )),
    }
}

impl KeyService for GcpKms {
    fn wrap(&self, key: &MasterKey, secret: &[u8]) -> Result<String, ServiceError> {
        let body = Zeroizing::new(format!(r#"{{"plaintext":"{}"}}"#, BASE64.encode(secret)));
        let ciphertext = self.call(Operation::Encrypt, key, &body, "ciphertext")?;
        // Normalised to standard base64 with padding, as sops stores it.
        let raw = BASE64.decode(ciphertext.as_bytes()).map_err(|_| {
            self.error(
                Operation::Encrypt,
                key,
                Cause::Other,
                "the ciphertext is not base64".into(),
            )
        })?;
        Ok(BASE64.encode(raw))
    }

    fn unwrap(&self, key: &MasterKey) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        let enc = key.enc().trim();
        if enc.is_empty() || BASE64.decode(enc).is_err() {
            return Err(self.error(
                Operation::Decrypt,
                key,
                Cause::BadKey,
                "the enc is not base64".into(),
            ));
        }
        let body = format!(r#"{{"ciphertext":"{enc}"}}"#);
        let plaintext = self.call(Operation::Decrypt, key, &body, "plaintext")?;
        let decoded = BASE64.decode(plaintext.as_bytes()).map_err(|_| {
            self.error(
                Operation::Decrypt,
                key,
                Cause::Other,
                "the plaintext is not base64".into(),
            )
        })?;
        Ok(Zeroizing::new(decoded))
    }

    fn availability(&self, key: &MasterKey) -> Availability {
        if !valid_resource_id(key.text("resource_id")) {
            return Availability::Missing("not a Cloud KMS resource id".into());
        }
        match &self.credentials {
            Ok((_, source)) => Availability::Unknown(format!(
                "Google credentials from {source}; checked when used"
            )),
            Err(why) if why.starts_with("none of") => {
                Availability::Missing("no Google credentials found".into())
            }
            Err(why) => Availability::Missing(why.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::FixedEnv;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;

    #[test]
    fn resource_ids_are_checked_as_sops_does() {
        assert!(valid_resource_id(
            "projects/p-1/locations/global/keyRings/r_1/cryptoKeys/k.1"
        ));
        for bad in [
            "projects/p/locations/global/keyRings/r",
            "projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1",
            "projects//locations/global/keyRings/r/cryptoKeys/k",
            "projects/p/locations/global/keyRings/r/cryptoKeys/k?x",
            "projects/p/locations/global/keyRings/r/cryptoKeys/k\"",
        ] {
            assert!(!valid_resource_id(bad), "{bad}");
        }
    }

    #[test]
    fn credentials_follow_sops_order() {
        let env = FixedEnv::new(&[
            ("GOOGLE_OAUTH_ACCESS_TOKEN", "tok"),
            (
                "GOOGLE_CREDENTIALS",
                r#"{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"r"}"#,
            ),
        ]);
        let (found, source) = discover(&env).unwrap();
        assert!(
            matches!(found, Credentials::AuthorizedUser { ref token_uri, .. } if token_uri == DEFAULT_TOKEN_URI)
        );
        assert_eq!(source, "GOOGLE_CREDENTIALS");
        let env = FixedEnv::new(&[
            ("GOOGLE_OAUTH_ACCESS_TOKEN", "tok"),
            ("HOME", "/nonexistent"),
        ]);
        assert!(matches!(discover(&env).unwrap().0, Credentials::Token(_)));
        let env = FixedEnv::new(&[
            ("GCE_METADATA_HOST", "127.0.0.1:1"),
            ("HOME", "/nonexistent"),
        ]);
        assert!(matches!(
            discover(&env).unwrap().0,
            Credentials::Metadata { .. }
        ));
        let env = FixedEnv::new(&[("GOOGLE_CREDENTIALS", r#"{"type":"external_account"}"#)]);
        assert!(
            discover(&env)
                .err()
                .unwrap()
                .contains("external_account credentials")
        );
        let env = FixedEnv::new(&[("GOOGLE_CREDENTIALS", r#"{"type":"service_account"}"#)]);
        assert!(
            discover(&env)
                .err()
                .unwrap()
                .contains("has no client_email")
        );
    }

    #[test]
    fn endpoints_follow_sops() {
        let timeout = Duration::from_secs(1);
        let at = |vars: &[(&str, &str)]| GcpKms::new(&FixedEnv::new(vars), timeout).endpoint;
        assert_eq!(at(&[]), "https://cloudkms.googleapis.com");
        assert_eq!(
            at(&[("SOPS_GCP_KMS_ENDPOINT", "127.0.0.1:8443")]),
            "https://127.0.0.1:8443"
        );
        assert_eq!(
            at(&[("SOPS_GCP_KMS_UNIVERSE_DOMAIN", "s3nsapis.fr")]),
            "https://cloudkms.s3nsapis.fr"
        );
    }

    #[test]
    fn a_jwt_is_signed_with_the_service_account_key() {
        use rsa::pkcs8::EncodePrivateKey;
        use rsa::signature::Verifier;
        let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
        let pem = key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        let jwt = signed_jwt("sa@p.iam", "kid1", &pem, "https://t/token").unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        let header = String::from_utf8(BASE64URL.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header, r#"{"alg":"RS256","typ":"JWT","kid":"kid1"}"#);
        let claims = String::from_utf8(BASE64URL.decode(parts[1]).unwrap()).unwrap();
        assert!(
            claims.contains(r#""iss":"sa@p.iam""#) && claims.contains(r#""aud":"https://t/token""#)
        );
        let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.to_public_key());
        let signature =
            rsa::pkcs1v15::Signature::try_from(BASE64URL.decode(parts[2]).unwrap().as_slice())
                .unwrap();
        let signed = format!("{}.{}", parts[0], parts[1]);
        verifier.verify(signed.as_bytes(), &signature).unwrap();
    }
}
