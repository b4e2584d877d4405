//! The physical floor of a workload: the steps it cannot skip, each by the crate sesame uses
//! for it, in-process on one thread (best of 5). For encrypting a 10 MiB binary file: AES-256-GCM
//! over the bytes, base64 of the ciphertext, and the SHA-512 MAC over the bytes. For decrypting
//! a file of 100,000 values (the benchmark's YAML and JSON files): base64-decoding each value's
//! data, IV and tag, AES-256-GCM with sops's 32-byte IVs, and the SHA-512 MAC over the
//! plaintexts; reading, parsing and writing the text come on top.
//!
//! `cargo run --release --example floor` prints the times; `--json` one JSON object (for
//! scripts/bench.py).

use aes_gcm::aead::consts::U32;
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::aes::Aes256;
use aes_gcm::{Aes256Gcm, AesGcm, Nonce};
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
    let values = values_decrypt();
    if json {
        println!(
            "{{\"aes_gcm_10mib_s\": {aes:.6}, \"base64_10mib_s\": {b64:.6}, \
             \"sha512_10mib_s\": {sha:.6}, \"binary_encrypt_10mib_s\": {total:.6}, \
             \"values_decrypt_100k_s\": {values:.6}}}"
        );
    } else {
        println!(
            "10 MiB: AES-256-GCM {:.1} ms, base64 {:.1} ms, SHA-512 {:.1} ms; binary encrypt floor {:.1} ms",
            aes * 1e3,
            b64 * 1e3,
            sha * 1e3,
            total * 1e3
        );
        println!("100,000 values: decrypt floor {:.1} ms", values * 1e3);
    }
}

/// The benchmark file's 100,000 values, encrypted as sops stores them (base64 data, IV and
/// tag), then timed: decode, decrypt and hash every one.
fn values_decrypt() -> f64 {
    let b64 = base64::engine::general_purpose::STANDARD;
    let cipher = AesGcm::<Aes256, U32>::new(&[7u8; 32].into());
    let stored: Vec<(String, String, String)> = (0..100_000usize)
        .map(|k| {
            let mut value = match k % 10 {
                3 => (8000 + k).to_string(),
                5 => if k % 2 == 1 { "True" } else { "False" }.to_string(),
                _ => format!("value-{k}-{}", "x".repeat(k % 24)),
            }
            .into_bytes();
            let iv = [(k % 251) as u8; 32];
            let tag = cipher
                .encrypt_in_place_detached(
                    GenericArray::from_slice(&iv),
                    b"service:secret:",
                    &mut value,
                )
                .expect("encrypts");
            (b64.encode(&value), b64.encode(iv), b64.encode(tag))
        })
        .collect();
    best(|| {
        let mut mac = Sha512::new();
        for (data, iv, tag) in &stored {
            let mut plain = b64.decode(data).expect("base64");
            let mut iv_buf = [0u8; 33];
            let iv_len = b64.decode_slice(iv, &mut iv_buf).expect("base64");
            let mut tag_buf = [0u8; 17];
            let tag_len = b64.decode_slice(tag, &mut tag_buf).expect("base64");
            cipher
                .decrypt_in_place_detached(
                    GenericArray::from_slice(&iv_buf[..iv_len]),
                    b"service:secret:",
                    &mut plain,
                    GenericArray::from_slice(&tag_buf[..tag_len]),
                )
                .expect("decrypts");
            mac.update(&plain);
        }
        mac.finalize()
    })
}
