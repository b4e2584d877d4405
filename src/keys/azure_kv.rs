//! Azure Key Vault master keys (`azure_kv`: `vault_url`, `name`, `version`): the data key is
//! encrypted by `POST {vault}/keys/{name}/{version}/encrypt` with RSA-OAEP-256 and decrypted by
//! `…/decrypt`; the file stores the result in base64url without padding, as sops does. A key
//! named without a version gets its current one from a key GET first, as sops does.
//!
//! Authentication follows Key Vault's challenge: the first request to a vault goes without a
//! token, the 401 answer names the resource, and the vault's host must lie in that resource's
//! domain before a token for it is fetched. Credentials in the order of Azure's
//! DefaultAzureCredential, which sops uses: the environment (`AZURE_TENANT_ID` +
//! `AZURE_CLIENT_ID` + `AZURE_CLIENT_SECRET` or `AZURE_CLIENT_CERTIFICATE_PATH`), workload
//! identity (`AZURE_FEDERATED_TOKEN_FILE`), managed identity (`IDENTITY_ENDPOINT` +
//! `IDENTITY_HEADER`, or the instance metadata service on Azure machines), then the Azure CLI.
//! Tokens are fetched once per run and resource.

use crate::env::Environment;
use crate::keys::MasterKey;
use crate::keys::http::{self, Roots};
use crate::keys::jwt;
use crate::keys::service::{Availability, Cause, KeyService, Operation, ServiceError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;
use zeroize::Zeroizing;

const SERVICE: &str = "Azure Key Vault";
const API_VERSION: &str = "7.4";
const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
const IMDS: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

/// How a token is obtained.
enum Credential {
    ClientSecret {
        tenant: String,
        client_id: String,
        secret: Zeroizing<String>,
    },
    ClientCertificate {
        tenant: String,
        client_id: String,
        /// The PEM file holding the private key and the certificate.
        path: String,
    },
    WorkloadIdentity {
        tenant: String,
        client_id: String,
        token_file: String,
    },
    /// App Service / Container Apps style managed identity.
    IdentityEndpoint {
        endpoint: String,
        header: Zeroizing<String>,
        client_id: Option<String>,
    },
    /// The instance metadata service of an Azure machine.
    Imds { client_id: Option<String> },
    /// `az account get-access-token`.
    AzureCli { tenant: Option<String> },
}

type Failed = (Cause, String);

/// The Key Vault side of a process.
pub struct AzureKv {
    credential: Result<(Credential, String), String>,
    authority: String,
    agent: Result<ureq::Agent, String>,
    timeout: Duration,
    /// The scope each vault's challenge named.
    scopes: RefCell<HashMap<String, Result<String, Failed>>>,
    /// A token per scope.
    tokens: RefCell<HashMap<String, Result<Zeroizing<String>, Failed>>>,
}

impl AzureKv {
    /// Finds the credential in `env`; `timeout` bounds each call.
    pub fn new(env: &dyn Environment, timeout: Duration) -> AzureKv {
        AzureKv {
            credential: discover(env),
            authority: env
                .var("AZURE_AUTHORITY_HOST")
                .filter(|a| !a.is_empty())
                .map_or_else(
                    || DEFAULT_AUTHORITY.to_string(),
                    |a| a.trim_end_matches('/').to_string(),
                ),
            agent: http::agent(timeout, Roots::System),
            timeout,
            scopes: RefCell::new(HashMap::new()),
            tokens: RefCell::new(HashMap::new()),
        }
    }

    fn error(&self, op: Operation, key: &MasterKey, cause: Cause, detail: String) -> ServiceError {
        let source = match &self.credential {
            Ok((_, source)) => source.as_str(),
            Err(_) => "the environment",
        };
        let vault = key.text("vault_url");
        let (summary, advice) = match cause {
            Cause::BadKey => (
                "the key's vault URL, name or stored enc is not usable".to_string(),
                "use a key URL like https://VAULT.vault.azure.net/keys/NAME[/VERSION]".to_string(),
            ),
            Cause::NoCredentials => (
                "no Azure credentials were found".to_string(),
                "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or \
                 AZURE_CLIENT_CERTIFICATE_PATH), use a managed or workload identity, or run \
                 `az login`"
                    .to_string(),
            ),
            Cause::PermissionDenied => (
                format!("Azure refused the credentials from {source}"),
                "check the credentials, and that they may get, encrypt and decrypt keys in the \
                 vault (access policy or the Key Vault Crypto User role)"
                    .to_string(),
            ),
            Cause::KeyNotFound => (
                format!("{vault} has no such key or key version"),
                "check the vault URL, key name and version".to_string(),
            ),
            Cause::KeyDisabled => (
                "the key is disabled, expired or not yet valid".to_string(),
                "enable the key version in the vault, or use another key of the file".to_string(),
            ),
            Cause::Unreachable => (
                format!("{vault} could not be reached"),
                "check the vault URL, the network and proxy (HTTPS_PROXY)".to_string(),
            ),
            Cause::Timeout => (
                format!("{vault} did not answer in time"),
                "check the network, or raise SESAME_SERVICE_TIMEOUT (seconds)".to_string(),
            ),
            Cause::NotAllowed => (
                "the vault's authentication challenge names another domain".to_string(),
                "make sure the vault URL is the real vault's (no proxy or DNS rewrites it)"
                    .to_string(),
            ),
            Cause::NotBuiltIn | Cause::Other => (
                "the request failed".to_string(),
                "check the credentials, the key URL and the key's state in the vault".to_string(),
            ),
        };
        ServiceError::new(op, SERVICE, key, cause, (summary, advice), detail)
    }

    fn agent(&self) -> Result<&ureq::Agent, Failed> {
        self.agent
            .as_ref()
            .map_err(|e| (Cause::Unreachable, e.clone()))
    }

    /// The scope `vault`'s challenge names, asked once per vault.
    fn scope(&self, vault: &str, name: &str) -> Result<String, Failed> {
        if let Some(known) = self.scopes.borrow().get(vault) {
            return known.clone();
        }
        let found = self.challenge(vault, name);
        self.scopes
            .borrow_mut()
            .insert(vault.to_string(), found.clone());
        found
    }

    fn challenge(&self, vault: &str, name: &str) -> Result<String, Failed> {
        let url = format!("{vault}/keys/{name}?api-version={API_VERSION}");
        let mut response = self
            .agent()?
            .get(&url)
            .call()
            .map_err(|e| http::Failure::from(e).cause())?;
        let header = response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let _ = response.body_mut().read_to_vec();
        let Some(header) = header.filter(|_| response.status().as_u16() == 401) else {
            return Err((
                Cause::Other,
                format!(
                    "the vault answered HTTP {} without an authentication challenge",
                    response.status().as_u16()
                ),
            ));
        };
        let param = |name: &str| {
            let at = header.find(&format!("{name}=\""))? + name.len() + 2;
            let end = header[at..].find('"')? + at;
            Some(header[at..end].to_string())
        };
        let scope = match (param("scope"), param("resource")) {
            (Some(scope), _) => scope,
            (None, Some(resource)) => format!("{}/.default", resource.trim_end_matches('/')),
            (None, None) => {
                return Err((
                    Cause::Other,
                    "the vault's challenge names no resource".to_string(),
                ));
            }
        };
        // As Azure's clients: the vault must lie in the domain the challenge names.
        let resource_host = host_of(scope.trim_end_matches("/.default"));
        let vault_host = host_of(vault);
        let inside =
            vault_host == resource_host || vault_host.ends_with(&format!(".{resource_host}"));
        if resource_host.is_empty() || !inside {
            return Err((
                Cause::NotAllowed,
                format!("the challenge names {resource_host}, the vault is {vault_host}"),
            ));
        }
        Ok(scope)
    }

    /// A token for `scope`, fetched once.
    fn token(&self, scope: &str) -> Result<Zeroizing<String>, Failed> {
        if let Some(known) = self.tokens.borrow().get(scope) {
            return known.clone();
        }
        let fetched = self.fetch_token(scope);
        self.tokens
            .borrow_mut()
            .insert(scope.to_string(), fetched.clone());
        fetched
    }

    fn fetch_token(&self, scope: &str) -> Result<Zeroizing<String>, Failed> {
        let (credential, source) = self
            .credential
            .as_ref()
            .map_err(|why| (Cause::NoCredentials, why.clone()))?;
        let resource = scope.trim_end_matches("/.default");
        let agent = self.agent()?;
        let form = |tenant: &str, client_id: &str, secret_part: String| {
            let url = format!("{}/{tenant}/oauth2/v2.0/token", self.authority);
            let body = Zeroizing::new(format!(
                "grant_type=client_credentials&client_id={}&scope={}&{}",
                http::form_encode(client_id),
                http::form_encode(scope),
                secret_part
            ));
            let request = agent
                .post(&url)
                .header("Content-Type", "application/x-www-form-urlencoded");
            http::send(request, body.as_bytes())
        };
        let assertion = |assertion: &str| {
            format!(
                "client_assertion_type={}&client_assertion={}",
                http::form_encode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                http::form_encode(assertion)
            )
        };
        let reply = match credential {
            Credential::ClientSecret {
                tenant,
                client_id,
                secret,
            } => form(
                tenant,
                client_id,
                format!("client_secret={}", http::form_encode(secret)),
            ),
            Credential::ClientCertificate {
                tenant,
                client_id,
                path,
            } => {
                let url = format!("{}/{tenant}/oauth2/v2.0/token", self.authority);
                let signed = certificate_assertion(path, client_id, &url)
                    .map_err(|e| (Cause::NoCredentials, format!("{source}: {e}")))?;
                form(tenant, client_id, assertion(&signed))
            }
            Credential::WorkloadIdentity {
                tenant,
                client_id,
                token_file,
            } => {
                let federated = Zeroizing::new(
                    std::fs::read_to_string(token_file)
                        .map_err(|e| (Cause::NoCredentials, format!("{token_file}: {e}")))?,
                );
                form(tenant, client_id, assertion(federated.trim()))
            }
            Credential::IdentityEndpoint {
                endpoint,
                header,
                client_id,
            } => {
                let mut url = format!(
                    "{endpoint}?api-version=2019-08-01&resource={}",
                    http::form_encode(resource)
                );
                if let Some(id) = client_id {
                    url.push_str(&format!("&client_id={}", http::form_encode(id)));
                }
                http::get(agent.get(&url).header("X-IDENTITY-HEADER", header.as_str()))
            }
            Credential::Imds { client_id } => {
                let mut url = format!(
                    "{IMDS}?api-version=2018-02-01&resource={}",
                    http::form_encode(resource)
                );
                if let Some(id) = client_id {
                    url.push_str(&format!("&client_id={}", http::form_encode(id)));
                }
                http::get(agent.get(&url).header("Metadata", "true"))
            }
            Credential::AzureCli { tenant } => return self.cli_token(resource, tenant.as_deref()),
        };
        let reply = reply.map_err(|e| {
            let (cause, detail) = e.cause();
            (cause, format!("getting a token from {source}: {detail}"))
        })?;
        let doc = http::parse(&reply.body);
        match doc.as_ref().and_then(|d| http::text(d, &["access_token"])) {
            Some(token) if reply.status == 200 && !token.is_empty() => Ok(token),
            _ => {
                let said = doc
                    .as_ref()
                    .and_then(|d| {
                        http::text(d, &["error_description"]).or_else(|| http::text(d, &["error"]))
                    })
                    .map(|s| s.lines().next().unwrap_or_default().to_string())
                    .unwrap_or_else(|| http::excerpt(&reply.body));
                Err((
                    Cause::PermissionDenied,
                    format!("no token from {source} (HTTP {}: {said})", reply.status),
                ))
            }
        }
    }

    /// `az account get-access-token`, as the Azure CLI credential runs it.
    fn cli_token(&self, resource: &str, tenant: Option<&str>) -> Result<Zeroizing<String>, Failed> {
        let mut command =
            format!("az account get-access-token --output json --resource {resource}");
        if let Some(tenant) = tenant {
            command.push_str(&format!(" --tenant {tenant}"));
        }
        let out = crate::env::run_command(&command, Some(self.timeout))
            .map_err(|e| (Cause::NoCredentials, format!("the Azure CLI: {e}")))?;
        http::parse(&out)
            .and_then(|d| http::text(&d, &["accessToken"]))
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                (
                    Cause::NoCredentials,
                    "the Azure CLI gave no token; run `az login`".to_string(),
                )
            })
    }

    /// The key's version: its own, or the current one the vault names.
    fn version(&self, key: &MasterKey) -> Result<String, Failed> {
        let version = key.text("version");
        if !version.is_empty() {
            return Ok(version.to_string());
        }
        let (vault, name) = parts(key).ok_or((Cause::BadKey, String::new()))?;
        let reply = self.authorized(vault, name, "GET", &format!("/keys/{name}"), None)?;
        let doc = http::parse(&reply).ok_or((Cause::Other, "not a key bundle".to_string()))?;
        let kid = http::text(&doc, &["key", "kid"])
            .ok_or((Cause::Other, "the key bundle has no kid".to_string()))?;
        Ok(kid.rsplit('/').next().unwrap_or_default().to_string())
    }

    /// A request with the vault's token; the answer's body when it is 200.
    fn authorized(
        &self,
        vault: &str,
        name: &str,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Result<Zeroizing<Vec<u8>>, Failed> {
        let scope = self.scope(vault, name)?;
        let token = self.token(&scope)?;
        let bearer = Zeroizing::new(format!("Bearer {}", token.as_str()));
        let url = format!("{vault}{path}?api-version={API_VERSION}");
        let agent = self.agent()?;
        let reply = match body {
            Some(body) => http::send(
                agent
                    .post(&url)
                    .header("Authorization", bearer.as_str())
                    .header("Content-Type", "application/json"),
                body.as_bytes(),
            ),
            None if method == "GET" => {
                http::get(agent.get(&url).header("Authorization", bearer.as_str()))
            }
            None => return Err((Cause::Other, format!("no body for {method}"))),
        }
        .map_err(http::Failure::cause)?;
        if reply.status == 200 {
            return Ok(reply.body);
        }
        let doc = http::parse(&reply.body);
        let text = |path: &[&str]| {
            doc.as_ref()
                .and_then(|d| http::text(d, path))
                .map(|s| s.to_string())
                .unwrap_or_default()
        };
        let (code, inner, message) = (
            text(&["error", "code"]),
            text(&["error", "innererror", "code"]),
            text(&["error", "message"]),
        );
        let lower = message.to_ascii_lowercase();
        let cause = match reply.status {
            403 if inner == "KeyDisabled"
                || lower.contains("disabled")
                || lower.contains("expired") =>
            {
                Cause::KeyDisabled
            }
            401 | 403 => Cause::PermissionDenied,
            404 => Cause::KeyNotFound,
            _ => Cause::Other,
        };
        let said = if message.is_empty() {
            http::excerpt(&reply.body)
        } else {
            format!("{code}: {}", message.replace('\n', " "))
        };
        Err((cause, format!("HTTP {}: {said}", reply.status)))
    }
}

/// The bytes of a key operation's result (`{"kid": …, "value": base64url}`).
fn result_value(reply: &[u8]) -> Result<Zeroizing<Vec<u8>>, Failed> {
    let value = http::parse(reply)
        .and_then(|d| http::text(&d, &["value"]))
        .ok_or((Cause::Other, "the response has no value".to_string()))?;
    BASE64URL
        .decode(value.trim_end_matches('='))
        .map(Zeroizing::new)
        .map_err(|_| (Cause::Other, "the value is not base64url".to_string()))
}

fn host_of(url: &str) -> String {
    url.split_once("://")
        .map_or(url, |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The vault URL and key name, checked as sops checks a key URL (https, plain names).
fn parts(key: &MasterKey) -> Option<(&str, &str)> {
    let vault = key.text("vault_url").trim_end_matches('/');
    let name = key.text("name");
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'))
    };
    let host = vault.strip_prefix("https://")?;
    (plain(host.split(':').next()?) && plain(name) && plain_or_empty(key.text("version")))
        .then_some((vault, name))
}

fn plain_or_empty(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A client assertion signed with the certificate's key, naming the certificate by its SHA-1
/// thumbprint (`x5t`), for the token endpoint `audience`.
fn certificate_assertion(
    path: &str,
    client_id: &str,
    audience: &str,
) -> Result<Zeroizing<String>, String> {
    use sha1::Digest;
    let pem = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?);
    let cert = jwt::pem_block(&pem, "CERTIFICATE")
        .and_then(|b| jwt::pem_der(&b))
        .ok_or_else(|| format!("{path} holds no PEM certificate"))?;
    let thumbprint = BASE64URL.encode(sha1::Sha1::digest(&cert));
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let header = format!(r#"{{"alg":"RS256","typ":"JWT","x5t":"{thumbprint}"}}"#);
    let claims = format!(
        r#"{{"aud":{},"iss":{},"sub":{},"jti":"{}","nbf":{now},"iat":{now},"exp":{}}}"#,
        http::quote(audience),
        http::quote(client_id),
        http::quote(client_id),
        hex::encode(rand::random::<[u8; 16]>()),
        now + 600
    );
    jwt::rs256(&header, &claims, &pem).map_err(|e| format!("{path}: {e}"))
}

/// The credential DefaultAzureCredential would use, and where it was found.
fn discover(env: &dyn Environment) -> Result<(Credential, String), String> {
    let var = |name: &str| env.var(name).filter(|v| !v.is_empty());
    let tenant = var("AZURE_TENANT_ID");
    let client_id = var("AZURE_CLIENT_ID");
    if let (Some(tenant), Some(client_id)) = (&tenant, &client_id) {
        if let Some(secret) = var("AZURE_CLIENT_SECRET") {
            return Ok((
                Credential::ClientSecret {
                    tenant: tenant.clone(),
                    client_id: client_id.clone(),
                    secret: Zeroizing::new(secret),
                },
                "AZURE_CLIENT_SECRET".to_string(),
            ));
        }
        if let Some(path) = var("AZURE_CLIENT_CERTIFICATE_PATH") {
            if var("AZURE_CLIENT_CERTIFICATE_PASSWORD").is_some() {
                return Err(
                    "AZURE_CLIENT_CERTIFICATE_PATH: sesame reads unencrypted PEM certificates \
                     only (a password is set)"
                        .to_string(),
                );
            }
            return Ok((
                Credential::ClientCertificate {
                    tenant: tenant.clone(),
                    client_id: client_id.clone(),
                    path: path.clone(),
                },
                format!("AZURE_CLIENT_CERTIFICATE_PATH ({path})"),
            ));
        }
        if let Some(token_file) = var("AZURE_FEDERATED_TOKEN_FILE") {
            return Ok((
                Credential::WorkloadIdentity {
                    tenant: tenant.clone(),
                    client_id: client_id.clone(),
                    token_file,
                },
                "AZURE_FEDERATED_TOKEN_FILE".to_string(),
            ));
        }
    }
    if let (Some(endpoint), Some(header)) = (var("IDENTITY_ENDPOINT"), var("IDENTITY_HEADER")) {
        return Ok((
            Credential::IdentityEndpoint {
                endpoint,
                header: Zeroizing::new(header),
                client_id,
            },
            "the managed identity (IDENTITY_ENDPOINT)".to_string(),
        ));
    }
    if on_azure() {
        return Ok((
            Credential::Imds { client_id },
            "the managed identity (instance metadata)".to_string(),
        ));
    }
    let path = var("PATH").unwrap_or_default();
    if std::env::split_paths(&path).any(|dir| dir.join("az").is_file()) {
        return Ok((Credential::AzureCli { tenant }, "the Azure CLI".to_string()));
    }
    Err(
        "no client secret, certificate, workload or managed identity in the environment, and \
         no Azure CLI on PATH"
            .to_string(),
    )
}

/// Azure machines say so in their DMI vendor and asset tag.
fn on_azure() -> bool {
    std::fs::read_to_string("/sys/class/dmi/id/chassis_asset_tag")
        .is_ok_and(|tag| tag.trim() == "7783-7084-3265-9085-8269-3286-77")
}

impl KeyService for AzureKv {
    fn prepare(&self, key: &mut MasterKey) -> Result<(), ServiceError> {
        if key.text("version").is_empty() {
            let version = self
                .version(key)
                .map_err(|(cause, detail)| self.error(Operation::Encrypt, key, cause, detail))?;
            key.set_text("version", version);
        }
        Ok(())
    }

    fn wrap(&self, key: &MasterKey, secret: &[u8]) -> Result<String, ServiceError> {
        let op = Operation::Encrypt;
        let fail = |(cause, detail): Failed| self.error(op, key, cause, detail);
        let (vault, name) = parts(key).ok_or_else(|| fail((Cause::BadKey, String::new())))?;
        let version = self.version(key).map_err(fail)?;
        let body = Zeroizing::new(format!(
            r#"{{"alg":"RSA-OAEP-256","value":"{}"}}"#,
            BASE64URL.encode(secret)
        ));
        let path = format!("/keys/{name}/{version}/encrypt");
        let reply = self
            .authorized(vault, name, "POST", &path, Some(&body))
            .map_err(fail)?;
        let raw = result_value(&reply).map_err(fail)?;
        Ok(BASE64URL.encode(raw))
    }

    fn unwrap(&self, key: &MasterKey) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        let op = Operation::Decrypt;
        let fail = |(cause, detail): Failed| self.error(op, key, cause, detail);
        let (vault, name) = parts(key).ok_or_else(|| fail((Cause::BadKey, String::new())))?;
        let enc = key.enc().trim();
        if enc.is_empty() || BASE64URL.decode(enc).is_err() {
            return Err(fail((Cause::BadKey, "the enc is not base64url".into())));
        }
        let version = self.version(key).map_err(fail)?;
        let body = format!(r#"{{"alg":"RSA-OAEP-256","value":"{enc}"}}"#);
        let path = format!("/keys/{name}/{version}/decrypt");
        let reply = self
            .authorized(vault, name, "POST", &path, Some(&body))
            .map_err(fail)?;
        result_value(&reply).map_err(fail)
    }

    fn availability(&self, key: &MasterKey) -> Availability {
        if parts(key).is_none() {
            return Availability::Missing("not an https Key Vault key URL".into());
        }
        match &self.credential {
            Ok((_, source)) => Availability::Unknown(format!(
                "Azure credentials from {source}; checked when used"
            )),
            Err(why) if why.starts_with("no client secret") => {
                Availability::Missing("no Azure credentials found".into())
            }
            Err(why) => Availability::Missing(why.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::FixedEnv;

    #[test]
    fn credentials_follow_default_azure_credential() {
        let base = [
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("PATH", ""),
        ];
        let with = |extra: &[(&str, &str)]| {
            let mut vars = base.to_vec();
            vars.extend_from_slice(extra);
            discover(&FixedEnv::new(&vars)).map(|(_, source)| source)
        };
        assert_eq!(
            with(&[("AZURE_CLIENT_SECRET", "s")]).unwrap(),
            "AZURE_CLIENT_SECRET"
        );
        assert!(
            with(&[("AZURE_CLIENT_CERTIFICATE_PATH", "/c.pem")])
                .unwrap()
                .contains("/c.pem")
        );
        assert_eq!(
            with(&[("AZURE_FEDERATED_TOKEN_FILE", "/t")]).unwrap(),
            "AZURE_FEDERATED_TOKEN_FILE"
        );
        assert!(
            with(&[("IDENTITY_ENDPOINT", "http://x"), ("IDENTITY_HEADER", "h")])
                .unwrap()
                .contains("managed identity")
        );
        assert!(
            with(&[
                ("AZURE_CLIENT_CERTIFICATE_PATH", "/c.p12"),
                ("AZURE_CLIENT_CERTIFICATE_PASSWORD", "p")
            ])
            .unwrap_err()
            .contains("unencrypted PEM")
        );
    }

    #[test]
    fn key_urls_are_checked_and_hosts_compared() {
        let ok = MasterKey::azure_kv("https://v.vault.azure.net", "k-1", "abc123");
        assert_eq!(parts(&ok), Some(("https://v.vault.azure.net", "k-1")));
        for bad in [
            MasterKey::azure_kv("http://v.vault.azure.net", "k", ""),
            MasterKey::azure_kv("https://v.vault.azure.net", "k/x", ""),
            MasterKey::azure_kv("https://v.vault.azure.net", "k", "v?x"),
        ] {
            assert_eq!(parts(&bad), None);
        }
        assert_eq!(
            host_of("https://V.vault.azure.net:443/x"),
            "v.vault.azure.net"
        );
    }
}
