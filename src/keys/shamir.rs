//! Shamir's secret sharing over GF(2^8), share layout compatible with sops (HashiCorp Vault's
//! scheme): each share is the polynomial values followed by its x-coordinate.

use rand::RngCore;
use zeroize::Zeroizing;

/// Why shares could not be made or combined.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShamirError {
    #[error("threshold must be at least 2")]
    ThresholdTooSmall,
    #[error("parts cannot be less than threshold")]
    TooFewParts,
    #[error("parts or threshold cannot exceed 255")]
    TooManyParts,
    #[error("cannot split an empty secret")]
    EmptySecret,
    #[error("less than two parts cannot be used to reconstruct the secret")]
    NotEnoughShares,
    #[error("all parts must be the same length")]
    LengthMismatch,
    #[error("duplicate part detected")]
    DuplicatePart,
}

/// Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1.
fn mul(mut a: u8, mut b: u8) -> u8 {
    let mut product = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            product ^= a;
        }
        let carry = a & 0x80;
        a <<= 1;
        if carry != 0 {
            a ^= 0x1b;
        }
        b >>= 1;
    }
    product
}

/// The multiplicative inverse, a^254.
fn inv(a: u8) -> u8 {
    let mut result = 1u8;
    let mut base = a;
    let mut exp = 254u8;
    while exp != 0 {
        if exp & 1 != 0 {
            result = mul(result, base);
        }
        base = mul(base, base);
        exp >>= 1;
    }
    result
}

/// Splits `secret` into `parts` shares of which any `threshold` recover it.
pub fn split(
    secret: &[u8],
    parts: usize,
    threshold: usize,
) -> Result<Vec<Zeroizing<Vec<u8>>>, ShamirError> {
    if parts < threshold {
        return Err(ShamirError::TooFewParts);
    }
    if parts > 255 || threshold > 255 {
        return Err(ShamirError::TooManyParts);
    }
    if threshold < 2 {
        return Err(ShamirError::ThresholdTooSmall);
    }
    if secret.is_empty() {
        return Err(ShamirError::EmptySecret);
    }
    let mut shares: Vec<Zeroizing<Vec<u8>>> = (0..parts)
        .map(|_| Zeroizing::new(Vec::with_capacity(secret.len() + 1)))
        .collect();
    let mut coefficients = Zeroizing::new(vec![0u8; threshold - 1]);
    for &byte in secret {
        rand::rngs::OsRng.fill_bytes(&mut coefficients);
        for (i, share) in shares.iter_mut().enumerate() {
            let x = (i + 1) as u8;
            // Horner's rule: byte + c1 x + c2 x^2 + ...
            let mut y = 0u8;
            for &c in coefficients.iter().rev() {
                y = mul(y ^ c, x);
            }
            share.push(y ^ byte);
        }
    }
    for (i, share) in shares.iter_mut().enumerate() {
        share.push((i + 1) as u8);
    }
    Ok(shares)
}

/// Recovers the secret from shares (the last byte of each is its x-coordinate).
pub fn combine(shares: &[&[u8]]) -> Result<Zeroizing<Vec<u8>>, ShamirError> {
    if shares.len() < 2 {
        return Err(ShamirError::NotEnoughShares);
    }
    let len = shares[0].len();
    if len < 2 || shares.iter().any(|s| s.len() != len) {
        return Err(ShamirError::LengthMismatch);
    }
    let xs: Vec<u8> = shares.iter().map(|s| s[len - 1]).collect();
    for (i, x) in xs.iter().enumerate() {
        if xs[..i].contains(x) {
            return Err(ShamirError::DuplicatePart);
        }
    }
    // Lagrange basis at x = 0: prod over j != i of x_j / (x_i + x_j).
    let basis: Vec<u8> = (0..xs.len())
        .map(|i| {
            (0..xs.len())
                .filter(|&j| j != i)
                .fold(1u8, |acc, j| mul(acc, mul(xs[j], inv(xs[i] ^ xs[j]))))
        })
        .collect();
    let mut secret = Zeroizing::new(vec![0u8; len - 1]);
    for (pos, out) in secret.iter_mut().enumerate() {
        *out = shares
            .iter()
            .zip(&basis)
            .fold(0u8, |acc, (s, &b)| acc ^ mul(s[pos], b));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_worked_example() {
        // SOPS-SPEC 8.2: secret 00 01 fe ff, t = 2, n = 3.
        let s1 = [0x53, 0xcb, 0xee, 0x88, 0x01];
        let s2 = [0xa6, 0x8e, 0xde, 0x11, 0x02];
        let s3 = [0xf5, 0x44, 0xce, 0x66, 0x03];
        let secret = [0x00, 0x01, 0xfe, 0xff];
        assert_eq!(&combine(&[&s1, &s3]).unwrap()[..], &secret);
        assert_eq!(&combine(&[&s2, &s3]).unwrap()[..], &secret);
        assert_eq!(&combine(&[&s1, &s2, &s3]).unwrap()[..], &secret);
    }

    #[test]
    fn every_pair_recovers_a_split_key() {
        let secret: Vec<u8> = (0..32).collect();
        let shares = split(&secret, 3, 2).unwrap();
        assert!(shares.iter().all(|s| s.len() == 33));
        for i in 0..3 {
            for j in 0..3 {
                if i != j {
                    assert_eq!(
                        &combine(&[&shares[i], &shares[j]]).unwrap()[..],
                        &secret[..]
                    );
                }
            }
        }
        // One share alone reveals nothing usable.
        assert_eq!(combine(&[&shares[0]]), Err(ShamirError::NotEnoughShares));
    }

    #[test]
    fn field_inverse() {
        for a in 1..=255u8 {
            assert_eq!(mul(a, inv(a)), 1);
        }
    }

    #[test]
    fn rejects_bad_parameters() {
        assert_eq!(split(b"k", 2, 3).unwrap_err(), ShamirError::TooFewParts);
        assert_eq!(
            split(b"k", 3, 1).unwrap_err(),
            ShamirError::ThresholdTooSmall
        );
        assert_eq!(
            combine(&[&[1, 1], &[2, 1]]).unwrap_err(),
            ShamirError::DuplicatePart
        );
    }
}
