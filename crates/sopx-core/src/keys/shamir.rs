//! Shamir secret sharing over GF(2^8), compatible with sops (whose package
//! follows HashiCorp Vault's): the field polynomial is x^8+x^4+x^3+x+1
//! (0x11B); each share is one y byte per secret byte followed by its x
//! coordinate, so a 32-byte data key gives 33-byte shares.

use rand::RngCore;
use zeroize::Zeroizing;

/// Why a secret could not be split or shares combined. Shares and secrets
/// are never part of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShamirError {
    /// A threshold and share count [`split`] cannot use.
    #[error(
        "invalid Shamir parameters: {threshold} of {parts} (need 2 <= threshold <= parts <= 255)"
    )]
    Parameters {
        /// Shares needed to recover the secret.
        threshold: usize,
        /// Shares made.
        parts: usize,
    },
    /// [`split`] was given no bytes.
    #[error("cannot split an empty secret")]
    EmptySecret,
    /// [`combine`] was given fewer than two shares.
    #[error("at least two shares are needed")]
    TooFewShares,
    /// Shares of unequal length, or too short to hold a byte and an x.
    #[error("shares have different or invalid lengths")]
    Lengths,
    /// A share with x = 0, or two with the same x.
    #[error("shares have invalid or duplicate x coordinates")]
    Coordinates,
}

/// Multiplication in GF(2^8) without tables or secret-dependent branches.
fn mul(mut a: u8, mut b: u8) -> u8 {
    let mut p = 0u8;
    for _ in 0..8 {
        p ^= a & 0u8.wrapping_sub(b & 1);
        let carry = 0u8.wrapping_sub(a >> 7);
        a = (a << 1) ^ (0x1B & carry);
        b >>= 1;
    }
    p
}

/// a^254 = a^-1 (for a ≠ 0).
fn inv(a: u8) -> u8 {
    let mut r = 1u8;
    let mut base = a;
    let mut e = 254u8;
    while e > 0 {
        if e & 1 == 1 {
            r = mul(r, base);
        }
        base = mul(base, base);
        e >>= 1;
    }
    r
}

/// Splits `secret` into `parts` shares, any `threshold` of which recover it.
/// Shares get x = 1..=parts (sops 3.11 writes them in that order too).
pub fn split(
    secret: &[u8],
    parts: usize,
    threshold: usize,
) -> Result<Vec<Zeroizing<Vec<u8>>>, ShamirError> {
    if threshold < 2 || parts < threshold || parts > 255 {
        return Err(ShamirError::Parameters { threshold, parts });
    }
    if secret.is_empty() {
        return Err(ShamirError::EmptySecret);
    }
    let mut shares: Vec<Zeroizing<Vec<u8>>> = (1..=parts)
        .map(|x| {
            let mut v = Zeroizing::new(vec![0u8; secret.len() + 1]);
            v[secret.len()] = x as u8;
            v
        })
        .collect();
    let mut coeffs = Zeroizing::new(vec![0u8; threshold - 1]);
    for (i, &byte) in secret.iter().enumerate() {
        rand::rngs::OsRng.fill_bytes(&mut coeffs);
        for share in shares.iter_mut() {
            let x = share[secret.len()];
            // Horner: byte + c1 x + c2 x^2 + …
            let mut y = 0u8;
            for &c in coeffs.iter().rev() {
                y = mul(y ^ c, x);
            }
            share[i] = y ^ byte;
        }
    }
    Ok(shares)
}

/// Recovers the secret from at least `threshold` shares (Lagrange
/// interpolation at x = 0).
pub fn combine(shares: &[&[u8]]) -> Result<Zeroizing<Vec<u8>>, ShamirError> {
    if shares.len() < 2 {
        return Err(ShamirError::TooFewShares);
    }
    let len = shares[0].len();
    if len < 2 || shares.iter().any(|s| s.len() != len) {
        return Err(ShamirError::Lengths);
    }
    let xs: Vec<u8> = shares.iter().map(|s| s[len - 1]).collect();
    for (i, x) in xs.iter().enumerate() {
        if *x == 0 || xs[..i].contains(x) {
            return Err(ShamirError::Coordinates);
        }
    }
    let mut out = Zeroizing::new(vec![0u8; len - 1]);
    for (i, share) in shares.iter().enumerate() {
        // basis_i(0) = Π_{j≠i} x_j / (x_i + x_j)
        let mut basis = 1u8;
        for (j, xj) in xs.iter().enumerate() {
            if i != j {
                basis = mul(basis, mul(*xj, inv(xs[i] ^ xj)));
            }
        }
        for (o, y) in out.iter_mut().zip(share.iter()) {
            *o ^= mul(*y, basis);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_arithmetic() {
        assert_eq!(mul(0x57, 0x83), 0xC1); // FIPS-197's worked example
        for a in 1..=255u8 {
            assert_eq!(mul(a, inv(a)), 1);
        }
    }

    #[test]
    fn any_threshold_subset_recovers_the_secret() {
        let secret: Vec<u8> = (0..32).collect();
        let shares = split(&secret, 3, 2).unwrap();
        assert!(shares.iter().all(|s| s.len() == 33));
        for (a, b) in [(0, 1), (0, 2), (1, 2), (2, 0)] {
            let got = combine(&[&shares[a], &shares[b]]).unwrap();
            assert_eq!(&got[..], &secret[..]);
        }
        let all = combine(&[&shares[0], &shares[1], &shares[2]]).unwrap();
        assert_eq!(&all[..], &secret[..]);
        assert!(split(&secret, 2, 3).is_err());
    }

    #[test]
    fn one_share_reveals_nothing_useful() {
        let shares = split(&[42u8; 32], 3, 3).unwrap();
        // Two of three shares of a 3-of-3 split do not give the secret.
        let got = combine(&[&shares[0], &shares[1]]).unwrap();
        assert_ne!(&got[..], &[42u8; 32][..]);
    }
}
