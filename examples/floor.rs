//! The physical floor of a workload: the steps it cannot skip, each by the crate sesame uses
//! for it, in-process on one thread (best of 5). For encrypting a 10 MiB binary file: AES-256-GCM
//! over the bytes, base64 of the ciphertext, and the SHA-512 MAC over the bytes.
//!
//! `cargo run --release --example floor` prints the times; `--json` one JSON object (for
//! scripts/bench.py).

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use sha2::{Digest, Sha512};
use std::time::Instant;

fn best<T>(mut f: impl FnMut() -> T) -> f64 {
    (0..5)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    let data: Vec<u8> = (0..10 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let cipher = Aes256Gcm::new(&[7u8; 32].into());
    let nonce = Nonce::from([1u8; 12]);
    let mut buf = data.clone();
    let aes = best(|| {
        buf.copy_from_slice(&data);
        cipher
            .encrypt_in_place_detached(&nonce, b"data:", &mut buf)
            .expect("encrypts")
    });
    let b64 = best(|| base64::engine::general_purpose::STANDARD.encode(&buf));
    let sha = best(|| Sha512::digest(&data));
    let total = aes + b64 + sha;
    if json {
        println!(
            "{{\"aes_gcm_10mib_s\": {aes:.6}, \"base64_10mib_s\": {b64:.6}, \
             \"sha512_10mib_s\": {sha:.6}, \"binary_encrypt_10mib_s\": {total:.6}}}"
        );
    } else {
        println!(
            "10 MiB: AES-256-GCM {:.1} ms, base64 {:.1} ms, SHA-512 {:.1} ms; binary encrypt floor {:.1} ms",
            aes * 1e3,
            b64 * 1e3,
            sha * 1e3,
            total * 1e3
        );
    }
}
