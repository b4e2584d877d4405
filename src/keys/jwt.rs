//! JSON Web Tokens signed RS256 with a PEM private key: the assertions that trade a GCP
//! service-account key or an Azure client certificate for an access token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use zeroize::Zeroizing;

/// `header.claims.signature`, each part base64url; `header` and `claims` are JSON texts.
pub fn rs256(
    header: &str,
    claims: &str,
    private_key_pem: &str,
) -> Result<Zeroizing<String>, String> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};
    let pem = pem_block(private_key_pem, "PRIVATE KEY")
        .or_else(|| pem_block(private_key_pem, "RSA PRIVATE KEY"))
        .ok_or("no private key in PEM form")?;
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(&pem)
        .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(&pem))
        .map_err(|_| "the private key is not an unencrypted RSA key".to_string())?;
    let signing_input = format!("{}.{}", BASE64URL.encode(header), BASE64URL.encode(claims));
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key);
    let signature = signer.sign(signing_input.as_bytes());
    Ok(Zeroizing::new(format!(
        "{signing_input}.{}",
        BASE64URL.encode(signature.to_bytes())
    )))
}

/// The first `-----BEGIN {label}-----` block of a PEM text, markers included.
pub fn pem_block(text: &str, label: &str) -> Option<Zeroizing<String>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)?;
    let stop = text[start..].find(&end)? + start + end.len();
    Some(Zeroizing::new(text[start..stop].to_string()))
}

/// The DER bytes inside a PEM block.
pub fn pem_der(block: &str) -> Option<Vec<u8>> {
    let body: String = block
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.trim().chars())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_with_pkcs8_and_finds_blocks() {
        use rsa::pkcs8::EncodePrivateKey;
        use rsa::signature::Verifier;
        let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
        let pem = key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        let text = format!(
            "junk\n{}\n-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n",
            pem.as_str()
        );
        let jwt = rs256(r#"{"alg":"RS256"}"#, r#"{"iss":"x"}"#, &text).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(BASE64URL.decode(parts[1]).unwrap(), br#"{"iss":"x"}"#);
        let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.to_public_key());
        let signature =
            rsa::pkcs1v15::Signature::try_from(BASE64URL.decode(parts[2]).unwrap().as_slice())
                .unwrap();
        verifier
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .unwrap();
        let cert = pem_block(&text, "CERTIFICATE").unwrap();
        assert_eq!(pem_der(&cert).unwrap(), [0, 1, 2]);
        assert!(rs256("{}", "{}", "no key here").is_err());
    }
}
