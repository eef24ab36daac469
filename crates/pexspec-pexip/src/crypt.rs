//! SHA-512 crypt (`$6$`, Drepper's specification, 5000 rounds by default): the form in which
//! the `worker_vm` API takes a Conferencing Node's SSH password, so the clear password is
//! never sent.

use sha2::{Digest, Sha512};

use crate::secret::Secret;

const ITOA64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const DEFAULT_ROUNDS: u32 = 5000;

/// Repeats `digest` over `len` bytes.
fn stretch(digest: &[u8], len: usize) -> Vec<u8> {
    digest.iter().copied().cycle().take(len).collect()
}

/// `$6$[rounds=N$]salt$hash` for `key`. The salt is cut to 16 characters; rounds are clamped
/// to 1000..=999_999_999 as the specification says.
pub fn sha512_crypt(key: &[u8], salt: &str, rounds: Option<u32>) -> String {
    let salt: String = salt.chars().take(16).collect();
    let s = salt.as_bytes();
    let rounds_n = rounds.unwrap_or(DEFAULT_ROUNDS).clamp(1000, 999_999_999);

    let b = Sha512::new()
        .chain_update(key)
        .chain_update(s)
        .chain_update(key)
        .finalize();
    let mut a = Sha512::new().chain_update(key).chain_update(s);
    let mut n = key.len();
    while n > 64 {
        a.update(b);
        n -= 64;
    }
    a.update(&b[..n]);
    let mut n = key.len();
    while n > 0 {
        if n & 1 != 0 {
            a.update(b);
        } else {
            a.update(key);
        }
        n >>= 1;
    }
    let a = a.finalize();

    let mut dp = Sha512::new();
    for _ in 0..key.len() {
        dp.update(key);
    }
    let p = stretch(&dp.finalize(), key.len());
    let mut ds = Sha512::new();
    for _ in 0..(16 + usize::from(a[0])) {
        ds.update(s);
    }
    let sb = stretch(&ds.finalize(), s.len());

    let mut c = a.to_vec();
    for i in 0..rounds_n {
        let mut ctx = Sha512::new();
        if i % 2 == 1 {
            ctx.update(&p);
        } else {
            ctx.update(&c);
        }
        if i % 3 != 0 {
            ctx.update(&sb);
        }
        if i % 7 != 0 {
            ctx.update(&p);
        }
        if i % 2 == 1 {
            ctx.update(&c);
        } else {
            ctx.update(&p);
        }
        c = ctx.finalize().to_vec();
    }

    const ORDER: [(usize, usize, usize); 21] = [
        (0, 21, 42),
        (22, 43, 1),
        (44, 2, 23),
        (3, 24, 45),
        (25, 46, 4),
        (47, 5, 26),
        (6, 27, 48),
        (28, 49, 7),
        (50, 8, 29),
        (9, 30, 51),
        (31, 52, 10),
        (53, 11, 32),
        (12, 33, 54),
        (34, 55, 13),
        (56, 14, 35),
        (15, 36, 57),
        (37, 58, 16),
        (59, 17, 38),
        (18, 39, 60),
        (40, 61, 19),
        (62, 20, 41),
    ];
    let mut out = String::from("$6$");
    if rounds.is_some_and(|r| r != DEFAULT_ROUNDS) {
        out.push_str(&format!("rounds={rounds_n}$"));
    }
    out.push_str(&salt);
    out.push('$');
    let mut emit = |w: u32, chars: usize| {
        let mut w = w;
        for _ in 0..chars {
            out.push(char::from(ITOA64[(w & 0x3f) as usize]));
            w >>= 6;
        }
    };
    for (x, y, z) in ORDER {
        emit(
            (u32::from(c[x]) << 16) | (u32::from(c[y]) << 8) | u32::from(c[z]),
            4,
        );
    }
    emit(u32::from(c[63]), 2);
    out
}

/// Hashes an SSH password with a fresh random 16-character salt, 5000 rounds.
pub fn hash_password(password: &Secret) -> Secret {
    let salt: String = (0..16)
        .map(|_| char::from(ITOA64[usize::from(rand::random::<u8>() & 0x3f)]))
        .collect();
    Secret::new(sha512_crypt(password.expose().as_bytes(), &salt, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors of Drepper's "Unix crypt using SHA-256 and SHA-512" specification.
    #[test]
    fn specification_vectors() {
        assert_eq!(
            sha512_crypt(b"Hello world!", "saltstring", None),
            "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
        );
        assert_eq!(
            sha512_crypt(b"Hello world!", "saltstringsaltstring", Some(10_000)),
            "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."
        );
        // Checked against libxcrypt; a count under 1000 is clamped to 1000.
        let at_min = "$6$rounds=1000$roundstoolow$yjTuW7RnC.d35QcVTFIb6uvh/7IQ1.GFtFN3i/.jwmeWEhzjf4uD/OPCb4jRl6atJGYhLst8IyR6YAtTrriMU1";
        let key = b"we have a short salt string but not a short password";
        assert_eq!(sha512_crypt(key, "roundstoolow", Some(1000)), at_min);
        assert_eq!(sha512_crypt(key, "roundstoolow", Some(10)), at_min);
    }

    #[test]
    fn hashes_are_salted_and_hide_the_password() {
        let pw = Secret::new("s3cret-pass");
        let a = hash_password(&pw);
        let b = hash_password(&pw);
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with("$6$"));
        assert!(!a.expose().contains("s3cret"));
        assert_eq!(a.expose().len(), 3 + 16 + 1 + 86);
    }
}
