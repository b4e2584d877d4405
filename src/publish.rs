//! `sesame publish`: the upload of a file's decrypted values to the Vault (or OpenBao) KV
//! engine a `.sops.yaml` destination rule names, over its HTTP API.

use crate::config::destination::VaultKv;
use crate::env::Environment;
use crate::store::{self, Format};
use crate::tree::{Map, Node};
use zeroize::Zeroizing;

/// Writes `doc` (the decrypted values) as the secret `name` of `kv`, unless the secret already
/// holds exactly these values. Returns whether a new version was written.
pub fn upload(kv: &VaultKv, env: &dyn Environment, name: &str, doc: &Map) -> Result<bool, String> {
    let token = vault_token(env)?;
    let url = kv.url(env, name);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let data = store::emit_plain(
        Format::Json,
        std::slice::from_ref(doc),
        &store::EmitOptions::default(),
    )
    .map_err(|e| e.to_string())?;
    // Compare through JSON on both sides, so number and string types are read alike.
    let ours = store::parse_plain(Format::Json, &data)
        .map_err(|e| e.to_string())?
        .docs;
    if let Ok(mut response) = authorized(agent.get(&url), &token, env).call()
        && response.status() == 200
        && let Ok(body) = response.body_mut().read_to_vec()
    {
        let body = Zeroizing::new(body);
        if let (Some(theirs), Some(ours)) = (stored_data(kv, &body), ours.first())
            && same_map(ours, &theirs)
        {
            return Ok(false);
        }
    }
    let mut body = Zeroizing::new(Vec::with_capacity(data.len() + 16));
    if kv.version() == 2 {
        body.extend_from_slice(b"{\"data\":");
        body.extend_from_slice(&data);
        body.push(b'}');
    } else {
        body.extend_from_slice(&data);
    }
    let mut response = authorized(agent.put(&url), &token, env)
        .header("Content-Type", "application/json")
        .send(&body[..])
        .map_err(|e| format!("could not reach Vault at {url}: {e}"))?;
    let status = response.status();
    if status.is_success() {
        return Ok(true);
    }
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Err(format!(
        "Vault refused the write to {url} ({status}): {}",
        text.trim()
    ))
}

/// The values of a stored secret in a read response (`data`, or `data.data` for v2).
fn stored_data(kv: &VaultKv, body: &[u8]) -> Option<Map> {
    let parsed = store::parse_plain(Format::Json, body).ok()?;
    let data = parsed.docs.first()?.get("data")?.as_map()?;
    let data = match kv.version() {
        1 => data,
        _ => data.get("data")?.as_map()?,
    };
    Some(data.clone())
}

/// Whether two maps hold the same values, whatever the key order (Vault sorts keys).
fn same_map(a: &Map, b: &Map) -> bool {
    a.entries().count() == b.entries().count()
        && a.entries()
            .all(|e| b.get(&e.key).is_some_and(|v| same_node(&e.value, v)))
}

fn same_node(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::Map(x), Node::Map(y)) => same_map(x, y),
        (Node::List(x), Node::List(y)) => {
            x.values().count() == y.values().count()
                && x.values().zip(y.values()).all(|(p, q)| same_node(p, q))
        }
        (Node::Leaf(x), Node::Leaf(y)) => x.value == y.value,
        _ => false,
    }
}

/// Adds the token and, when set, the namespace (`VAULT_NAMESPACE`) to a request.
fn authorized<B>(
    req: ureq::RequestBuilder<B>,
    token: &str,
    env: &dyn Environment,
) -> ureq::RequestBuilder<B> {
    let req = req.header("X-Vault-Token", token);
    match env.var("VAULT_NAMESPACE").filter(|n| !n.is_empty()) {
        Some(ns) => req.header("X-Vault-Namespace", ns),
        None => req,
    }
}

/// `VAULT_TOKEN`, else the token file the vault CLI writes (`~/.vault-token`).
fn vault_token(env: &dyn Environment) -> Result<Zeroizing<String>, String> {
    if let Some(t) = env.var("VAULT_TOKEN").filter(|t| !t.is_empty()) {
        return Ok(Zeroizing::new(t));
    }
    if let Some(home) = env.home() {
        let file = home.join(".vault-token");
        if let Ok(t) = std::fs::read_to_string(&file) {
            return Ok(Zeroizing::new(t.trim().to_string()));
        }
    }
    Err("no Vault token: set VAULT_TOKEN or log in with `vault login` (~/.vault-token)".into())
}
