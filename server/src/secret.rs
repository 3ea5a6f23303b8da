//! The secrets the server hands out (enrolment codes, device tokens) and the hashes it keeps
//! of them instead: a copy of the database lets no one enrol or sync.

use rand::Rng;
use sha2::{Digest, Sha256};

/// No 0/O, 1/I/L: codes are read aloud and typed on a till.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 10;

pub(crate) fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

pub(crate) fn new_code() -> String {
    let mut rng = rand::rng();
    (0..CODE_LEN).map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char).collect()
}

/// People type codes with spaces, dashes or in lower case.
pub(crate) fn normalize_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

pub(crate) fn new_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// 128 random bits, as unguessable as a link needs and half as long as a token: a reminder's
/// link is printed on a letter, on one line, and may be typed from it.
pub(crate) fn new_link_token() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// For a device that must never authenticate (the server's own): the hash of a random text
/// that is kept nowhere, so no one can present a token that matches it.
pub(crate) fn unusable_token_hash() -> String {
    sha256_hex(&format!("server:{}", hex::encode(rand::random::<[u8; 32]>())))
}
