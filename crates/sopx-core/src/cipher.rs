//! The value cipher: AES-256-GCM with 32-byte IVs, written as
//! `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`.

use aes_gcm::aead::consts::{U12, U16, U32};
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{AesGcm, aes::Aes256};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rand::RngCore;
use std::collections::HashMap;
use zeroize::Zeroizing;

use crate::value::{Kind, Plain};

/// The per-file 32-byte data key. Zeroed on drop, never printed, never
/// copied (not `Clone`), and never handed out by the library's front door.
pub struct DataKey(Zeroizing<[u8; 32]>, Gcm32);

/// AES-256-GCM with sops's 32-byte IVs, key schedule computed once per key.
type Gcm32 = AesGcm<Aes256, U32>;

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

impl DataKey {
    /// A fresh key from the OS RNG.
    pub fn generate() -> DataKey {
        let mut k = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(&mut k[..]);
        let gcm = Gcm32::new(GenericArray::from_slice(&k[..]));
        DataKey(k, gcm)
    }

    pub fn from_slice(b: &[u8]) -> Option<DataKey> {
        let arr: [u8; 32] = b.try_into().ok()?;
        let gcm = Gcm32::new(GenericArray::from_slice(&arr));
        Some(DataKey(Zeroizing::new(arr), gcm))
    }

    pub(crate) fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Does this string look like a sops ciphertext? (sops's regex is anchored at
/// the start only.)
pub fn is_encrypted(s: &str) -> bool {
    s.starts_with("ENC[AES256_GCM,data:")
}

/// Why a token cannot be read or opened. No variant carries value text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`.
    #[error("value does not match the sops format ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]")]
    Malformed,
    /// A field appears twice (sops's pattern cannot match that).
    #[error("the token holds its `{0}` field twice")]
    Repeated(&'static str),
    /// A `type:` sops does not know.
    #[error("unknown data type {0:?}")]
    UnknownType(String),
    /// A field is not base64 (as `sopx check` words it).
    #[error("its {field} is not base64: {msg}")]
    NotBase64 {
        /// `data`, `iv` or `tag`.
        field: &'static str,
        /// The decoder's message.
        msg: String,
    },
    /// A field is not base64 (as sops words it when decrypting).
    #[error("error base64-decoding {field}: {msg}")]
    Base64 {
        /// `data`, `iv` or `tag`.
        field: &'static str,
        /// The decoder's message.
        msg: String,
    },
    /// The IV or tag length is not what sops writes.
    #[error("its iv has {iv} bytes and its tag {tag} (sops writes 32 and 16)")]
    Lengths {
        /// Bytes of IV.
        iv: usize,
        /// Bytes of tag.
        tag: usize,
    },
    /// A tag that is not 16 bytes.
    #[error("tag must be 16 bytes, not {0}")]
    TagLength(usize),
    /// An IV length no sops version wrote.
    #[error("unsupported IV length {0}")]
    IvLength(usize),
    /// AES-GCM refused: wrong key, or the value or its path changed.
    #[error("authentication failed (wrong key, or the value or its path was changed)")]
    Authentication,
}

fn seal(key: &DataKey, iv: &[u8; 32], ad: &[u8], buf: &mut [u8]) -> [u8; 16] {
    key.1
        .encrypt_in_place_detached(GenericArray::from_slice(iv), ad, buf)
        .expect("AES-GCM encrypts any length sops values have")
        .into()
}

fn open<N: aes_gcm::aead::generic_array::ArrayLength<u8>>(
    key: &DataKey,
    iv: &[u8],
    ad: &[u8],
    buf: &mut [u8],
    tag: &[u8],
) -> Result<(), TokenError>
where
    AesGcm<Aes256, N>: AeadInPlace,
{
    let c = AesGcm::<Aes256, N>::new(GenericArray::from_slice(key.as_bytes()));
    c.decrypt_in_place_detached(
        GenericArray::from_slice(iv),
        ad,
        buf,
        GenericArray::from_slice(tag),
    )
    .map_err(|_| TokenError::Authentication)
}

/// Encrypts `plain` with `iv` (32 bytes) and returns the token.
pub fn encrypt_with_iv(plain: &Plain, key: &DataKey, ad: &str, iv: &[u8; 32]) -> String {
    let mut buf = Zeroizing::new(plain.text.clone());
    let tag = seal(key, iv, ad.as_bytes(), &mut buf);
    // One allocation for the whole token: at most 111 bytes of field
    // names, IV, tag and type around the data's base64.
    let mut out = String::with_capacity(112 + buf.len().div_ceil(3) * 4);
    out.push_str("ENC[AES256_GCM,data:");
    B64.encode_string(&buf[..], &mut out);
    out.push_str(",iv:");
    B64.encode_string(iv, &mut out);
    out.push_str(",tag:");
    B64.encode_string(tag, &mut out);
    out.push_str(",type:");
    out.push_str(plain.kind.tag());
    out.push(']');
    out
}

/// The IV a value was encrypted with (sops writes 32 bytes; readers accept
/// 12 and 16 too).
#[derive(Clone, Copy)]
pub struct Iv {
    bytes: [u8; 32],
    len: usize,
}

impl Iv {
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The four fields of a token, still base64.
fn token_fields(s: &str) -> Result<[&str; 4], TokenError> {
    let bad = || TokenError::Malformed;
    let inner = s.strip_prefix("ENC[AES256_GCM,").ok_or_else(bad)?;
    let inner = &inner[..inner.rfind(']').ok_or_else(bad)?];
    let mut f: [Option<&str>; 4] = [None; 4];
    // Split with memchr: `str::split` costs several times more on the many
    // short tokens of a large file.
    let bytes = inner.as_bytes();
    let mut start = 0;
    while start <= bytes.len() {
        let end = memchr::memchr(b',', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        let part = &inner[start..end];
        start = end + 1;
        let colon = memchr::memchr(b':', part.as_bytes()).ok_or_else(bad)?;
        let (k, v) = (&part[..colon], &part[colon + 1..]);
        let (slot, name) = match k {
            "data" => (0, "data"),
            "iv" => (1, "iv"),
            "tag" => (2, "tag"),
            "type" => (3, "type"),
            _ => return Err(bad()),
        };
        // sops's pattern cannot match a token with a field twice.
        if f[slot].replace(v).is_some() {
            return Err(TokenError::Repeated(name));
        }
    }
    match f {
        [Some(d), Some(i), Some(t), Some(k)] => Ok([d, i, t, k]),
        _ => Err(bad()),
    }
}

/// Checks a token's form without a key: its fields, type, base64, the
/// IV's and the tag's lengths. For `sopx check`, which runs without keys.
pub fn check_token(token: &str) -> Result<(), TokenError> {
    let [data, iv, tag, kind] = token_fields(token)?;
    Kind::from_tag(kind).ok_or_else(|| TokenError::UnknownType(kind.to_string()))?;
    let not_b64 = |field| {
        move |e: base64::DecodeError| TokenError::NotBase64 {
            field,
            msg: e.to_string(),
        }
    };
    B64.decode(data).map_err(not_b64("data"))?;
    let iv = B64.decode(iv).map_err(not_b64("iv"))?;
    let tag = B64.decode(tag).map_err(not_b64("tag"))?;
    if iv.len() != 32 || tag.len() != 16 {
        return Err(TokenError::Lengths {
            iv: iv.len(),
            tag: tag.len(),
        });
    }
    Ok(())
}

/// Decrypts a token. Returns the plaintext and the IV it used.
pub fn decrypt(token: &str, key: &DataKey, ad: &str) -> Result<(Plain, Iv), TokenError> {
    let [data, iv_b64, tag_b64, kind] = token_fields(token)?;
    let kind = Kind::from_tag(kind).ok_or_else(|| TokenError::UnknownType(kind.to_string()))?;
    let b64 = |field| {
        move |e: base64::DecodeSliceError| TokenError::Base64 {
            field,
            msg: e.to_string(),
        }
    };
    let mut iv = Iv {
        bytes: [0; 32],
        len: 0,
    };
    iv.len = B64.decode_slice(iv_b64, &mut iv.bytes).map_err(b64("iv"))?;
    let mut tag = [0u8; 16];
    let n = B64.decode_slice(tag_b64, &mut tag).map_err(b64("tag"))?;
    if n != 16 {
        return Err(TokenError::TagLength(n));
    }
    // The decoded ciphertext is decrypted in place and becomes the value.
    let mut buf = B64.decode(data).map_err(|e| TokenError::Base64 {
        field: "data",
        msg: e.to_string(),
    })?;
    let ad = ad.as_bytes();
    match iv.len {
        32 => key
            .1
            .decrypt_in_place_detached(
                GenericArray::from_slice(iv.as_slice()),
                ad,
                &mut buf,
                GenericArray::from_slice(&tag),
            )
            .map_err(|_| TokenError::Authentication)?,
        16 => open::<U16>(key, iv.as_slice(), ad, &mut buf, &tag)?,
        12 => open::<U12>(key, iv.as_slice(), ad, &mut buf, &tag)?,
        n => return Err(TokenError::IvLength(n)),
    }
    Ok((Plain::new(kind, buf), iv))
}

/// Encrypts values, reusing the IV of a value that was decrypted earlier with
/// the same plaintext and path, so unchanged values keep their ciphertext
/// (as sops's cipher stash does).
#[derive(Default)]
pub struct Stash {
    /// IVs of decrypted values, per (additional data, kind, plaintext), in
    /// document order: the n-th equal value at a path takes the n-th IV, so
    /// equal values never share an IV and each keeps its own ciphertext.
    ivs: std::cell::RefCell<StashedIvs>,
    /// Fresh IVs read from the OS RNG in batches (one syscall for many).
    fresh: std::cell::RefCell<Vec<[u8; 32]>>,
    /// Only files about to be re-encrypted need their IVs remembered.
    recording: bool,
}

/// IVs per (additional data, kind, plaintext), oldest first.
type StashedIvs = HashMap<(String, u8, SecretBytes), (Vec<[u8; 32]>, usize)>;

/// Plaintext used as a map key: zeroed on drop.
#[derive(Clone, PartialEq, Eq, Hash, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
struct SecretBytes(Vec<u8>);

fn kind_id(k: Kind) -> u8 {
    k as u8
}

impl Stash {
    /// A stash that remembers the IVs of decrypted values.
    pub fn recording() -> Stash {
        Stash {
            recording: true,
            ..Stash::default()
        }
    }

    pub fn remember(&mut self, plain: &Plain, ad: &str, iv: &[u8]) {
        if !self.recording {
            return;
        }
        if let Ok(iv) = <[u8; 32]>::try_from(iv) {
            self.ivs
                .get_mut()
                .entry((
                    ad.to_string(),
                    kind_id(plain.kind),
                    SecretBytes(plain.text.clone()),
                ))
                .or_default()
                .0
                .push(iv);
        }
    }

    pub fn encrypt(&self, plain: &Plain, key: &DataKey, ad: &str) -> String {
        encrypt_with_iv(plain, key, ad, &self.iv_for(plain, ad))
    }

    /// The IV a value decrypted earlier had (each stashed IV is handed out
    /// once), or a fresh one. Call in document order.
    pub fn iv_for(&self, plain: &Plain, ad: &str) -> [u8; 32] {
        let mut ivs = self.ivs.borrow_mut();
        let stashed = if ivs.is_empty() {
            None
        } else {
            let k = (
                ad.to_string(),
                kind_id(plain.kind),
                SecretBytes(plain.text.clone()),
            );
            ivs.get_mut(&k).and_then(|(q, next)| {
                let iv = q.get(*next).copied();
                *next += 1;
                iv
            })
        };
        stashed.unwrap_or_else(|| self.fresh_iv())
    }

    /// Adds the IVs `other` remembered for values this stash has none for
    /// (a merge: values that came from the other side keep its ciphertext
    /// when both sides share the data key).
    pub fn absorb(&mut self, other: &Stash) {
        let mine = self.ivs.get_mut();
        for (k, (ivs, _)) in other.ivs.borrow().iter() {
            mine.entry(k.clone()).or_insert_with(|| (ivs.clone(), 0));
        }
        self.recording = true;
    }

    /// Hands every remembered IV out again, from the first: for a second
    /// encryption of the same values (the canonical layout after the
    /// lossless one was refused).
    pub fn rewind(&self) {
        for (_, next) in self.ivs.borrow_mut().values_mut() {
            *next = 0;
        }
    }

    fn fresh_iv(&self) -> [u8; 32] {
        let mut fresh = self.fresh.borrow_mut();
        if fresh.is_empty() {
            let mut buf = vec![0u8; 32 * 256];
            rand::rngs::OsRng.fill_bytes(&mut buf);
            fresh.extend(
                buf.chunks_exact(32)
                    .map(|c| <[u8; 32]>::try_from(c).expect("32-byte chunk")),
            );
        }
        fresh.pop().expect("refilled above")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_tamper() {
        let key = DataKey::generate();
        let stash = Stash::default();
        let p = Plain::new(Kind::Str, "hello");
        let tok = stash.encrypt(&p, &key, "a:b:");
        assert!(tok.starts_with("ENC[AES256_GCM,data:"));
        assert!(tok.ends_with(",type:str]"));
        let (back, iv) = decrypt(&tok, &key, "a:b:").unwrap();
        assert_eq!(back, p);
        assert_eq!(iv.as_slice().len(), 32);
        assert!(decrypt(&tok, &key, "a:c:").is_err());
        assert!(decrypt(&tok, &DataKey::generate(), "a:b:").is_err());
    }

    #[test]
    fn stash_keeps_ciphertext_of_unchanged_values() {
        let key = DataKey::generate();
        let mut stash = Stash::recording();
        let p = Plain::new(Kind::Int, "42");
        let tok = stash.encrypt(&p, &key, "x:");
        let (_, iv) = decrypt(&tok, &key, "x:").unwrap();
        stash.remember(&p, "x:", iv.as_slice());
        assert_eq!(stash.encrypt(&p, &key, "x:"), tok);
        assert_ne!(stash.encrypt(&Plain::new(Kind::Int, "43"), &key, "x:"), tok);
    }

    #[test]
    fn equal_values_keep_their_own_ciphertexts() {
        let key = DataKey::generate();
        let mut stash = Stash::recording();
        let p = Plain::new(Kind::Str, "same");
        let toks: Vec<String> = (0..3)
            .map(|_| Stash::default().encrypt(&p, &key, "l:"))
            .collect();
        for t in &toks {
            let (_, iv) = decrypt(t, &key, "l:").unwrap();
            stash.remember(&p, "l:", iv.as_slice());
        }
        let again: Vec<String> = (0..4).map(|_| stash.encrypt(&p, &key, "l:")).collect();
        assert_eq!(&again[..3], &toks[..]);
        // A fourth equal value gets a fresh IV, never a reused one.
        assert!(!toks.contains(&again[3]));
        // After a rewind the same values get the same IVs again.
        stash.rewind();
        assert_eq!(stash.encrypt(&p, &key, "l:"), toks[0]);
    }

    #[test]
    fn decrypts_a_known_vector() {
        // Fixed key and IV: the token must be stable across releases.
        let key = DataKey::from_slice(&[7u8; 32]).unwrap();
        let tok = encrypt_with_iv(&Plain::new(Kind::Str, "secret"), &key, "k:", &[1u8; 32]);
        let (p, _) = decrypt(&tok, &key, "k:").unwrap();
        assert_eq!(p.text, b"secret");
    }
}
