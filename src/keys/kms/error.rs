//! Why an AWS KMS request failed, in words a user can act on: the SDK's error is sorted into a
//! few causes (no credentials, access denied, key disabled, wrong region, ...) each with advice.

#[cfg(feature = "aws-kms")]
use super::Spec;
#[cfg(feature = "aws-kms")]
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
#[cfg(feature = "aws-kms")]
use std::error::Error;
use std::fmt;

pub use crate::keys::service::Operation;

/// What went wrong, as far as the user can do something about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// The `arn` is not a KMS key or alias ARN.
    BadArn,
    /// The stored `enc` is not base64.
    BadCiphertext,
    /// No credentials anywhere in the default chain (or the named profile).
    NoCredentials,
    /// AWS did not accept the credentials (unknown, expired, bad signature).
    CredentialsRejected,
    /// STS refused to let the credentials assume the key's role.
    AssumeRole,
    /// The credentials may not use this key.
    AccessDenied,
    /// No such key in the ARN's account and region.
    KeyNotFound,
    /// The key is disabled or pending deletion.
    KeyDisabled,
    /// The ciphertext was made by another key or with another encryption context.
    WrongKeyOrContext,
    /// The KMS endpoint could not be reached.
    Unreachable,
    /// The KMS endpoint did not answer within the time limit.
    Timeout,
    /// No trusted root certificate could be read, so no HTTPS endpoint can be verified.
    NoTrustedRoots,
    /// This build of sesame has no AWS client (built without the `aws-kms` feature).
    NotBuiltIn,
    /// Anything else; the detail says what.
    Other,
}

/// A failed KMS operation: which key, why, and what to try. Never holds key material.
#[derive(Debug, Clone)]
pub struct KmsError {
    pub op: Operation,
    pub arn: String,
    pub cause: Cause,
    /// The service's (or SDK's) own words.
    pub detail: String,
    /// The key's role, for the assume-role advice.
    pub role: String,
    /// The key's profile, for the credentials advice.
    pub profile: String,
}

impl KmsError {
    pub(super) fn new(op: Operation, arn: &str, cause: Cause, detail: String) -> KmsError {
        KmsError {
            op,
            arn: arn.to_string(),
            cause,
            detail,
            role: String::new(),
            profile: String::new(),
        }
    }

    /// What went wrong, in a few words.
    pub fn summary(&self) -> String {
        match self.cause {
            Cause::BadArn => format!("no valid ARN found in '{}'", self.arn),
            Cause::BadCiphertext => "error base64-decoding encrypted data key".into(),
            Cause::NoCredentials => "no AWS credentials were found".into(),
            Cause::CredentialsRejected => "the AWS credentials were rejected".into(),
            Cause::AssumeRole => format!("could not assume role '{}'", self.role),
            Cause::AccessDenied => "access denied".into(),
            Cause::KeyNotFound => "the key was not found in the ARN's account and region".into(),
            Cause::KeyDisabled => "the key is disabled or pending deletion".into(),
            Cause::WrongKeyOrContext => {
                "KMS refused the ciphertext: it was made by another key or with another encryption context".into()
            }
            Cause::Unreachable => "the AWS endpoint (KMS, or STS for a role) could not be reached".into(),
            Cause::Timeout => "the AWS endpoint (KMS, or STS for a role) did not answer in time".into(),
            Cause::NoTrustedRoots => "no trusted root certificate could be read to verify the AWS endpoint".into(),
            Cause::NotBuiltIn => "this sesame was built without AWS KMS support".into(),
            Cause::Other => "the request failed".into(),
        }
    }

    /// What the user can do about this cause.
    pub fn advice(&self) -> String {
        let profile = if self.profile.is_empty() {
            "set AWS_PROFILE (or the key's aws_profile)".to_string()
        } else {
            format!(
                "check that profile '{}' exists in ~/.aws/config or ~/.aws/credentials",
                self.profile
            )
        };
        match self.cause {
            Cause::BadArn => "use a key ARN like arn:aws:kms:<region>:<account>:key/<id> (or alias/<name>)".into(),
            Cause::BadCiphertext => "the file's kms entry is damaged; decrypt with another key of the file, then rotate".into(),
            Cause::NoCredentials => format!(
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or {profile}, or log in with `aws sso login`"
            ),
            Cause::CredentialsRejected => format!(
                "refresh the credentials (new session token, `aws sso login`), or {profile}"
            ),
            Cause::AssumeRole => "check the role ARN and that your base credentials may call sts:AssumeRole on it".into(),
            Cause::AccessDenied => format!(
                "use credentials allowed kms:{} on this key: {profile}, or add a role to the key (arn+role)",
                match self.op {
                    Operation::Encrypt => "Encrypt",
                    Operation::Decrypt => "Decrypt",
                }
            ),
            Cause::KeyNotFound => "check the account, region and key id in the ARN, and that the credentials belong to that account".into(),
            Cause::KeyDisabled => "enable the key (or cancel its deletion) in AWS KMS, or use another key of the file".into(),
            Cause::WrongKeyOrContext => "check the ARN and the key's encryption context (context:) against the ones the file was encrypted with".into(),
            Cause::Unreachable => "check the network, the region in the ARN and AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_KMS if set".into(),
            Cause::Timeout => "check the network and AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_KMS if set, or raise SESAME_SERVICE_TIMEOUT (seconds)".into(),
            Cause::NoTrustedRoots => "check SSL_CERT_FILE / SSL_CERT_DIR if set, or install the system's CA certificates (ca-certificates)".into(),
            Cause::NotBuiltIn => "use a sesame built with its default features (cargo feature aws-kms), or another key of the file".into(),
            Cause::Other => "check the AWS credentials, region and key policy".into(),
        }
    }
}

impl fmt::Display for KmsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.op {
            Operation::Encrypt => "failed to encrypt sops data key with AWS KMS key",
            Operation::Decrypt => "failed to decrypt sops data key with AWS KMS key",
        };
        write!(f, "{what} {}: {}", self.arn, self.summary())?;
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        write!(f, "; hint: {}", self.advice())
    }
}

impl std::error::Error for KmsError {}

/// Sorts an SDK error into a cause. Service errors go by their error code; everything else
/// (credentials, connection) by the SDK's error chain.
#[cfg(feature = "aws-kms")]
pub(super) fn classify<E, R>(op: Operation, spec: &Spec, err: SdkError<E, R>) -> KmsError
where
    E: ProvideErrorMetadata + Error + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    let chain = causes(&err);
    let cause = match &err {
        SdkError::ServiceError(_) => by_code(err.code().unwrap_or("")),
        SdkError::TimeoutError(_) => Cause::Timeout,
        _ => by_chain(&chain, spec),
    };
    let detail = match (&err, err.code(), err.message()) {
        (SdkError::ServiceError(_), Some(code), Some(msg)) => format!("{code}: {msg}"),
        (SdkError::ServiceError(_), Some(code), None) => code.to_string(),
        _ => chain,
    };
    KmsError {
        role: spec.role.to_string(),
        profile: spec.profile.to_string(),
        ..KmsError::new(op, spec.arn, cause, detail)
    }
}

/// The error and its sources in words, one line: the SDK nests the same failure several
/// levels deep, so repeated and empty levels are left out.
#[cfg(feature = "aws-kms")]
fn causes(err: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if !text.is_empty() && text != "other" && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

#[cfg(feature = "aws-kms")]
fn by_code(code: &str) -> Cause {
    match code {
        "AccessDeniedException" => Cause::AccessDenied,
        "NotFoundException" => Cause::KeyNotFound,
        "DisabledException" | "KMSInvalidStateException" => Cause::KeyDisabled,
        "IncorrectKeyException" | "InvalidCiphertextException" => Cause::WrongKeyOrContext,
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "ExpiredTokenException"
        | "ExpiredToken" => Cause::CredentialsRejected,
        _ => Cause::Other,
    }
}

#[cfg(feature = "aws-kms")]
fn by_chain(chain: &str, spec: &Spec) -> Cause {
    let credentials = chain.contains("credential");
    if credentials
        && (chain.contains("no providers in chain")
            || chain.contains("was not enabled")
            || chain.contains("not properly configured"))
    {
        Cause::NoCredentials
    } else if chain.contains("io error") || chain.contains("connect") || chain.contains("timed out")
    {
        Cause::Unreachable
    } else if credentials && !spec.role.is_empty() {
        // With a role, credentials come from STS: their failure is the assume-role call's.
        Cause::AssumeRole
    } else {
        Cause::Other
    }
}

#[cfg(all(test, feature = "aws-kms"))]
mod tests {
    use super::*;

    #[test]
    fn service_codes_map_to_causes() {
        assert_eq!(by_code("AccessDeniedException"), Cause::AccessDenied);
        assert_eq!(by_code("DisabledException"), Cause::KeyDisabled);
        assert_eq!(by_code("KMSInvalidStateException"), Cause::KeyDisabled);
        assert_eq!(by_code("NotFoundException"), Cause::KeyNotFound);
        assert_eq!(
            by_code("InvalidCiphertextException"),
            Cause::WrongKeyOrContext
        );
        assert_eq!(by_code("ExpiredTokenException"), Cause::CredentialsRejected);
        assert_eq!(by_code("ThrottlingException"), Cause::Other);
    }

    #[test]
    fn message_names_the_key_the_cause_and_what_to_do() {
        let arn = "arn:aws:kms:us-east-1:123456789012:key/k";
        let mut e = KmsError::new(
            Operation::Decrypt,
            arn,
            Cause::KeyDisabled,
            "DisabledException: off".into(),
        );
        let text = e.to_string();
        assert!(text.starts_with(&format!(
            "failed to decrypt sops data key with AWS KMS key {arn}: the key is disabled"
        )));
        assert!(
            text.contains("(DisabledException: off); hint: enable the key"),
            "{text}"
        );
        e.cause = Cause::AccessDenied;
        e.profile = "dev".into();
        assert!(e.advice().contains("kms:Decrypt") && e.advice().contains("profile 'dev'"));
        e.cause = Cause::AssumeRole;
        e.role = "arn:aws:iam::1:role/r".into();
        assert!(
            e.to_string()
                .contains("could not assume role 'arn:aws:iam::1:role/r'")
        );
    }
}
