//! HuaweiCloud KMS master keys (`hckms`, key id `REGION:KEY_UUID`): the data key is encrypted by
//! `POST /v1.0/{project_id}/kms/encrypt-data` and decrypted by `…/decrypt-data`, as sops's
//! `hckms` key source does through the official SDK; requests are signed with the SDK's
//! `SDK-HMAC-SHA256` scheme. Credentials and endpoints are read as the SDK reads them:
//! `HUAWEICLOUD_SDK_AK`, `HUAWEICLOUD_SDK_SK` (+ `HUAWEICLOUD_SDK_SECURITY_TOKEN`,
//! `HUAWEICLOUD_SDK_PROJECT_ID`), else the `[basic]` profile of `~/.huaweicloud/credentials`
//! (`HUAWEICLOUD_SDK_CREDENTIALS_FILE`); the endpoint is `HUAWEICLOUD_SDK_REGION_KMS_<REGION>`,
//! else the region's public one.

use crate::env::Environment;
use crate::keys::MasterKey;
use crate::keys::http::{self, Roots};
use crate::keys::service::{Availability, Cause, KeyService, Operation, ServiceError};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::time::Duration;
use zeroize::Zeroizing;

const SERVICE: &str = "HuaweiCloud KMS";
const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// An access key pair and the project it works in.
struct Credentials {
    access_key: String,
    secret_key: Zeroizing<String>,
    security_token: Option<Zeroizing<String>>,
    project_id: Option<String>,
    /// Where they were found, for messages.
    source: String,
}

/// The HuaweiCloud KMS side of a process.
pub struct Hckms {
    credentials: Result<Credentials, String>,
    /// `HUAWEICLOUD_SDK_REGION_KMS_*` overrides, read once.
    endpoints: Vec<(String, String)>,
    agent: Result<ureq::Agent, String>,
}

impl Hckms {
    /// Reads the credentials and endpoint overrides from `env`; `timeout` bounds each call.
    pub fn new(env: &dyn Environment, timeout: Duration) -> Hckms {
        Hckms {
            credentials: discover(env),
            endpoints: env
                .vars_with_prefix("HUAWEICLOUD_SDK_REGION_KMS_")
                .into_iter()
                .collect(),
            agent: http::agent(timeout, Roots::System),
        }
    }

    /// The KMS endpoint of `region`: the SDK's override variable (its first URL), else the
    /// public endpoint.
    fn endpoint(&self, region: &str) -> String {
        let name = format!(
            "HUAWEICLOUD_SDK_REGION_KMS_{}",
            region.replace('-', "_").to_ascii_uppercase()
        );
        let configured = self
            .endpoints
            .iter()
            .find(|(k, _)| *k == name)
            .and_then(|(_, v)| v.split(',').map(str::trim).find(|u| !u.is_empty()));
        match configured {
            Some(url) => url.trim_end_matches('/').to_string(),
            // The SDK's list: every region is kms.REGION.myhuaweicloud.com but Europe's.
            None if region.starts_with("eu-west-1") => {
                format!("https://kms.{region}.myhuaweicloud.eu")
            }
            None => format!("https://kms.{region}.myhuaweicloud.com"),
        }
    }

    fn error(&self, op: Operation, key: &MasterKey, cause: Cause, detail: String) -> ServiceError {
        let source = match &self.credentials {
            Ok(c) => c.source.as_str(),
            Err(_) => "the environment",
        };
        let region = split_key_id(key.text("key_id")).map_or("", |(r, _)| r);
        let (summary, advice) = match cause {
            Cause::BadKey => (
                "the key id or stored enc is not usable".to_string(),
                "use a key id like cn-north-4:0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0".to_string(),
            ),
            Cause::NoCredentials => (
                "no HuaweiCloud credentials were found".to_string(),
                "set HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK and HUAWEICLOUD_SDK_PROJECT_ID, or \
                 write them to ~/.huaweicloud/credentials"
                    .to_string(),
            ),
            Cause::PermissionDenied => (
                format!("HuaweiCloud KMS refused the access key from {source}"),
                "check the access key pair and project, and that the user may use the key \
                 (kms:cmk:crypto)"
                    .to_string(),
            ),
            Cause::KeyNotFound => (
                format!("HuaweiCloud KMS in {region} has no such key"),
                "check the region and key id".to_string(),
            ),
            Cause::KeyDisabled => (
                "HuaweiCloud KMS cannot use the key now (disabled or pending deletion)".to_string(),
                "enable the key, or use another key of the file".to_string(),
            ),
            Cause::Unreachable => (
                format!(
                    "HuaweiCloud KMS at {} could not be reached",
                    self.endpoint(region)
                ),
                format!(
                    "check the network, or HUAWEICLOUD_SDK_REGION_KMS_{}",
                    region.replace('-', "_").to_ascii_uppercase()
                ),
            ),
            Cause::Timeout => (
                format!(
                    "HuaweiCloud KMS at {} did not answer in time",
                    self.endpoint(region)
                ),
                "check the network, or raise SESAME_SERVICE_TIMEOUT (seconds)".to_string(),
            ),
            Cause::NotAllowed | Cause::NotBuiltIn | Cause::Other => (
                "the request failed".to_string(),
                "check the credentials, the key id and the key's state".to_string(),
            ),
        };
        ServiceError::new(op, SERVICE, key, cause, (summary, advice), detail)
    }

    /// POSTs `body` to `{endpoint}/v1.0/{project}/kms/{action}`, signed; the answer's `field`.
    fn call(
        &self,
        op: Operation,
        key: &MasterKey,
        body: &str,
        field: &str,
    ) -> Result<Zeroizing<String>, ServiceError> {
        let fail = |cause, detail: String| self.error(op, key, cause, detail);
        let (region, _) =
            split_key_id(key.text("key_id")).ok_or_else(|| fail(Cause::BadKey, String::new()))?;
        let credentials = self
            .credentials
            .as_ref()
            .map_err(|why| fail(Cause::NoCredentials, why.clone()))?;
        let project = credentials.project_id.as_deref().ok_or_else(|| {
            fail(
                Cause::NoCredentials,
                format!(
                    "{} has no project id; set HUAWEICLOUD_SDK_PROJECT_ID to the project of {region}",
                    credentials.source
                ),
            )
        })?;
        let agent = self
            .agent
            .as_ref()
            .map_err(|e| fail(Cause::Unreachable, e.clone()))?;
        let action = match op {
            Operation::Encrypt => "encrypt-data",
            Operation::Decrypt => "decrypt-data",
        };
        let endpoint = self.endpoint(region);
        let host = endpoint
            .split_once("://")
            .map_or(endpoint.as_str(), |(_, rest)| rest)
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let path = format!("/v1.0/{project}/kms/{action}");
        let date = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .unwrap_or_default();
        let mut headers = vec![
            ("content-type", "application/json".to_string()),
            ("host", host),
            ("x-project-id", project.to_string()),
            ("x-sdk-date", date),
        ];
        if let Some(token) = &credentials.security_token {
            headers.push(("x-security-token", token.to_string()));
        }
        let authorization = authorization(
            &credentials.access_key,
            &credentials.secret_key,
            "POST",
            &path,
            &headers,
            body.as_bytes(),
        );
        let url = format!("{}{path}", endpoint.trim_end_matches('/'));
        let mut request = agent.post(&url).header("Authorization", authorization);
        for (name, value) in &headers {
            request = request.header(*name, value.as_str());
        }
        let reply = http::send(request, body.as_bytes()).map_err(|e| {
            let (cause, detail) = e.cause();
            fail(cause, detail)
        })?;
        let doc = http::parse(&reply.body);
        if reply.status != 200 {
            let said = |name: &str| {
                doc.as_ref().and_then(|d| {
                    http::text(d, &["error", name]).or_else(|| http::text(d, &[name]))
                })
            };
            let code = said("error_code")
                .map(|c| c.to_string())
                .unwrap_or_default();
            let message = said("error_msg")
                .map(|m| m.replace('\n', " "))
                .unwrap_or_else(|| http::excerpt(&reply.body));
            let lower = message.to_ascii_lowercase();
            let cause = match reply.status {
                401 | 403 => Cause::PermissionDenied,
                404 => Cause::KeyNotFound,
                400 if lower.contains("disabled") || lower.contains("pending deletion") => {
                    Cause::KeyDisabled
                }
                400 if lower.contains("does not exist") => Cause::KeyNotFound,
                _ => Cause::Other,
            };
            let code = if code.is_empty() {
                String::new()
            } else {
                format!("{code} ")
            };
            return Err(fail(
                cause,
                format!("HTTP {}: {code}{message}", reply.status),
            ));
        }
        doc.as_ref()
            .and_then(|d| http::text(d, &[field]))
            .ok_or_else(|| fail(Cause::Other, format!("the response has no {field}")))
    }
}

/// `REGION:KEY_UUID`, split as sops splits it (both parts trimmed, neither empty).
fn split_key_id(id: &str) -> Option<(&str, &str)> {
    let (region, key) = id.split_once(':')?;
    let (region, key) = (region.trim(), key.trim());
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    (plain(region) && plain(key)).then_some((region, key))
}

/// The `Authorization` header of the SDK's `SDK-HMAC-SHA256` scheme for a request with these
/// (lower-case) headers, all of them signed.
pub fn authorization(
    access_key: &str,
    secret_key: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> String {
    let mut signed: Vec<(&str, &str)> = headers
        .iter()
        .map(|(name, value)| (*name, value.trim()))
        .collect();
    signed.sort();
    let names: Vec<&str> = signed.iter().map(|(name, _)| *name).collect();
    let names = names.join(";");
    let mut canonical_uri: String = path
        .split('/')
        .map(uri_encode)
        .collect::<Vec<_>>()
        .join("/");
    if !canonical_uri.ends_with('/') {
        canonical_uri.push('/');
    }
    let canonical_headers: String = signed
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect();
    let canonical_request = format!(
        "{method}\n{canonical_uri}\n\n{canonical_headers}\n{names}\n{}",
        hex::encode(Sha256::digest(body))
    );
    let date = signed
        .iter()
        .find(|(name, _)| *name == "x-sdk-date")
        .map_or("", |(_, v)| v);
    let string_to_sign = format!(
        "{ALGORITHM}\n{date}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret_key.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(string_to_sign.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    format!("{ALGORITHM} Access={access_key}, SignedHeaders={names}, Signature={signature}")
}

/// Percent-encoding of a path segment, keeping only unreserved characters (the SDK's
/// `quote(s, safe='~')`).
fn uri_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The credentials the SDK's basic chain finds: environment, then the profile file.
fn discover(env: &dyn Environment) -> Result<Credentials, String> {
    let var = |name: &str| env.var(name).filter(|v| !v.is_empty());
    if let (Some(ak), Some(sk)) = (var("HUAWEICLOUD_SDK_AK"), var("HUAWEICLOUD_SDK_SK")) {
        return Ok(Credentials {
            access_key: ak,
            secret_key: Zeroizing::new(sk),
            security_token: var("HUAWEICLOUD_SDK_SECURITY_TOKEN").map(Zeroizing::new),
            project_id: var("HUAWEICLOUD_SDK_PROJECT_ID"),
            source: "HUAWEICLOUD_SDK_AK".to_string(),
        });
    }
    let path = match var("HUAWEICLOUD_SDK_CREDENTIALS_FILE") {
        Some(p) => std::path::PathBuf::from(p),
        None => env
            .home()
            .ok_or("HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK are not set")?
            .join(".huaweicloud/credentials"),
    };
    let text = Zeroizing::new(std::fs::read_to_string(&path).map_err(|_| {
        format!(
            "HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK are not set and {} cannot be read",
            path.display()
        )
    })?);
    let basic = ini_section(&text, "basic");
    let get = |name: &str| {
        basic
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
            .filter(|v| !v.is_empty())
    };
    match (get("ak"), get("sk")) {
        (Some(ak), Some(sk)) => Ok(Credentials {
            access_key: ak,
            secret_key: Zeroizing::new(sk),
            security_token: get("security_token").map(Zeroizing::new),
            project_id: get("project_id").or_else(|| var("HUAWEICLOUD_SDK_PROJECT_ID")),
            source: path.display().to_string(),
        }),
        _ => Err(format!("{} has no [basic] ak and sk", path.display())),
    }
}

/// The `key = value` lines of one `[section]` of an INI text.
fn ini_section<'a>(text: &'a str, section: &str) -> Vec<(&'a str, &'a str)> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') && line.ends_with(']') {
            inside = line[1..line.len() - 1].trim().eq_ignore_ascii_case(section);
        } else if inside
            && !line.starts_with(['#', ';'])
            && let Some((k, v)) = line.split_once('=').or_else(|| line.split_once(':'))
        {
            out.push((k.trim(), v.trim()));
        }
    }
    out
}

impl KeyService for Hckms {
    fn wrap(&self, key: &MasterKey, secret: &[u8]) -> Result<String, ServiceError> {
        use base64::Engine;
        let (_, uuid) = split_key_id(key.text("key_id"))
            .ok_or_else(|| self.error(Operation::Encrypt, key, Cause::BadKey, String::new()))?;
        // As sops: the data key travels base64-encoded as the "plain text".
        let plain = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(secret));
        let body = Zeroizing::new(format!(
            r#"{{"key_id":{},"plain_text":"{}","encryption_algorithm":"SYMMETRIC_DEFAULT"}}"#,
            http::quote(uuid),
            plain.as_str()
        ));
        let enc = self.call(Operation::Encrypt, key, &body, "cipher_text")?;
        Ok(enc.to_string())
    }

    fn unwrap(&self, key: &MasterKey) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        use base64::Engine;
        let enc = key.enc().trim();
        if enc.is_empty() {
            return Err(self.error(
                Operation::Decrypt,
                key,
                Cause::BadKey,
                "the enc is empty".into(),
            ));
        }
        let body = format!(
            r#"{{"cipher_text":{},"encryption_algorithm":"SYMMETRIC_DEFAULT"}}"#,
            http::quote(enc)
        );
        let plain = self.call(Operation::Decrypt, key, &body, "plain_text")?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(plain.as_bytes())
            .map_err(|_| {
                self.error(
                    Operation::Decrypt,
                    key,
                    Cause::Other,
                    "the decrypted data key is not base64".into(),
                )
            })?;
        Ok(Zeroizing::new(decoded))
    }

    fn availability(&self, key: &MasterKey) -> Availability {
        if split_key_id(key.text("key_id")).is_none() {
            return Availability::Missing("not a REGION:KEY_ID key id".into());
        }
        match &self.credentials {
            Ok(c) if c.project_id.is_none() => {
                Availability::Missing(format!("{} has no project id", c.source))
            }
            Ok(c) => Availability::Unknown(format!(
                "a HuaweiCloud access key from {}; checked when used",
                c.source
            )),
            Err(why) => Availability::Missing(why.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::FixedEnv;

    #[test]
    fn key_ids_split_as_sops_does() {
        assert_eq!(
            split_key_id("cn-north-4:0b1c2d3e-4f50"),
            Some(("cn-north-4", "0b1c2d3e-4f50"))
        );
        assert_eq!(
            split_key_id(" cn-north-4 : abc "),
            Some(("cn-north-4", "abc"))
        );
        for bad in ["nocolon", ":abc", "cn-north-4:", "cn/x:abc", "cn:a\"b"] {
            assert_eq!(split_key_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn endpoints_follow_the_sdk() {
        let kms = Hckms::new(
            &FixedEnv::new(&[(
                "HUAWEICLOUD_SDK_REGION_KMS_CN_NORTH_4",
                "https://127.0.0.1:9443/, https://other",
            )]),
            Duration::from_secs(1),
        );
        assert_eq!(kms.endpoint("cn-north-4"), "https://127.0.0.1:9443");
        assert_eq!(
            kms.endpoint("ap-southeast-1"),
            "https://kms.ap-southeast-1.myhuaweicloud.com"
        );
        assert_eq!(
            kms.endpoint("eu-west-101"),
            "https://kms.eu-west-101.myhuaweicloud.eu"
        );
    }

    #[test]
    fn credentials_come_from_the_environment_then_the_profile() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("credentials");
        std::fs::write(
            &file,
            "[global]\nak = G\nsk = GS\n[basic]\nak = PAK\nsk = PSK\nproject_id = p1\n",
        )
        .unwrap();
        let file = file.display().to_string();
        let env = FixedEnv::new(&[("HUAWEICLOUD_SDK_CREDENTIALS_FILE", file.as_str())]);
        let found = discover(&env).unwrap();
        assert_eq!(
            (found.access_key.as_str(), found.project_id.as_deref()),
            ("PAK", Some("p1"))
        );
        let env = FixedEnv::new(&[
            ("HUAWEICLOUD_SDK_CREDENTIALS_FILE", file.as_str()),
            ("HUAWEICLOUD_SDK_AK", "EAK"),
            ("HUAWEICLOUD_SDK_SK", "ESK"),
        ]);
        let found = discover(&env).unwrap();
        assert_eq!((found.access_key.as_str(), found.project_id), ("EAK", None));
        let env = FixedEnv::new(&[("HOME", "/nonexistent")]);
        assert!(discover(&env).err().unwrap().contains("cannot be read"));
    }
}
