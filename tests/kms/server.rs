//! The local KMS server the KMS tests talk to (moto, started by `scripts/test.sh`): its address,
//! the environment both tools need to reach it, and helpers that create keys and read back
//! which roles were assumed.
#![allow(dead_code)] // each test crate that includes it uses a part

use aws_sdk_kms::Client;
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::runtime::Runtime;

/// Test credentials: moto accepts any.
pub const ACCESS_KEY: &str = "AKIASESAMETEST000001";
pub const SECRET_KEY: &str = "sesame-test-secret";
pub const REGION: &str = "us-east-1";

/// The server's URL. Missing is a failure, not a skip: KMS tests that do not run prove nothing.
pub fn endpoint() -> String {
    std::env::var("SESAME_TEST_KMS_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "SESAME_TEST_KMS_ENDPOINT is not set: the KMS tests need the local KMS server; run ./scripts/test.sh (it installs and starts moto_server)"
        )
    })
}

/// A client of the server, for the tests' own setup.
pub struct Server {
    pub endpoint: String,
    runtime: Runtime,
    client: Client,
}

impl Server {
    pub fn connect() -> Server {
        let endpoint = endpoint();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let conf = aws_sdk_kms::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&endpoint)
            .credentials_provider(Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "test"))
            .http_client(sesame::keys::kms::https_client())
            .build();
        Server {
            endpoint,
            runtime,
            client: Client::from_conf(conf),
        }
    }

    /// Creates a symmetric key and returns its ARN.
    pub fn create_key(&self) -> String {
        let out = self
            .runtime
            .block_on(self.client.create_key().description("sesame test").send())
            .unwrap_or_else(|e| panic!("CreateKey on {}: {e:?}", self.endpoint));
        out.key_metadata.unwrap().arn.unwrap()
    }

    /// Every role session the server handed out: (role ARN, session name).
    pub fn assumed_roles(&self) -> Vec<(String, String)> {
        let json = self.get("/moto-api/data.json");
        let mut out = Vec::new();
        // The STS backend lists each session as an object with "role_arn" and "session_name".
        for obj in json.split('{').skip(1) {
            if let (Some(role), Some(session)) = (
                string_field(obj, "role_arn"),
                string_field(obj, "session_name"),
            ) {
                out.push((role, session));
            }
        }
        out
    }

    fn get(&self, path: &str) -> String {
        let addr = self.endpoint.trim_start_matches("http://");
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
        let mut body = String::new();
        s.read_to_string(&mut body).unwrap();
        assert!(body.starts_with("HTTP/1."), "bad reply from {path}");
        body
    }
}

fn string_field(obj: &str, name: &str) -> Option<String> {
    let at = obj.find(&format!("\"{name}\": \""))? + name.len() + 5;
    let len = obj[at..].find('"')?;
    Some(obj[at..at + len].to_string())
}

/// A name no other test uses (roles, profiles).
pub fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
