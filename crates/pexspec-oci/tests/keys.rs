//! API key loading: every PEM form OpenSSL writes, pass phrases, fingerprints, clear errors,
//! and no key material in Debug output.

use std::path::Path;

use pexspec_oci::{ApiKey, OciError};

const FP: &str = "49:91:d7:c4:f7:a0:55:b7:b3:5e:e8:f8:fc:9d:a2:11";
const PASS: &str = "pexspec-test-passphrase";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

fn load(name: &str, pass: Option<&str>) -> Result<ApiKey, OciError> {
    ApiKey::from_pem(&fixture(name), pass, Path::new(name))
}

#[test]
fn every_supported_format_yields_the_same_key() {
    let expected_public = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/key_public_pkcs1.der"),
    )
    .unwrap();
    for (file, pass) in [
        ("key_pkcs1.pem", None),
        ("key_pkcs8.pem", None),
        ("key_pkcs8_encrypted_aes256.pem", Some(PASS)),
        ("key_pkcs8_encrypted_aes128.pem", Some(PASS)),
        ("key_legacy_aes128.pem", Some(PASS)),
        ("key_legacy_aes256.pem", Some(PASS)),
        // A pass phrase for an unencrypted key is ignored, as the SDK does.
        ("key_pkcs8.pem", Some(PASS)),
    ] {
        let key = load(file, pass).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(key.fingerprint(), FP, "{file}");
        assert_eq!(key.public_key_pkcs1_der(), &expected_public[..], "{file}");
    }
}

#[test]
fn openssl3_genpkey_default_encryption_loads() {
    let key = load("key_genpkey_aes256_default.pem", Some(PASS)).unwrap();
    assert_eq!(
        key.fingerprint(),
        "b2:36:f5:82:1a:b7:63:c7:e6:bd:45:20:31:a0:68:6b"
    );
}

#[test]
fn the_spki_is_what_openssl_prints() {
    let key = load("key_pkcs1.pem", None).unwrap();
    let spki = key.public_key_spki_der();
    // SEQUENCE { SEQUENCE { rsaEncryption, NULL }, BIT STRING { 0, RSAPublicKey } }
    assert_eq!(&spki[..4], &[0x30, 0x82, 0x01, 0x22]);
    assert_eq!(spki.len(), 294);
}

#[test]
fn missing_and_wrong_pass_phrases_are_clear_errors() {
    for file in ["key_pkcs8_encrypted_aes256.pem", "key_legacy_aes128.pem"] {
        let err = load(file, None).unwrap_err();
        assert!(
            err.to_string().contains("set `pass_phrase`"),
            "{file}: {err}"
        );
        let err = load(file, Some("not the pass phrase")).unwrap_err();
        assert!(
            err.to_string().contains("wrong `pass_phrase`"),
            "{file}: {err}"
        );
        assert!(err.to_string().contains(file), "names the key: {err}");
        assert!(
            !err.to_string().contains("not the pass phrase"),
            "never echoes the pass phrase: {err}"
        );
    }
}

#[test]
fn unsupported_keys_say_what_to_do() {
    let err = load("key_legacy_des3.pem", Some(PASS)).unwrap_err();
    assert!(err.to_string().contains("DES-EDE3-CBC"), "{err}");
    assert!(err.to_string().contains("openssl pkcs8 -topk8"), "{err}");
    let err = load("key_ec_p256.pem", None).unwrap_err();
    assert!(err.to_string().contains("EC key"), "{err}");
    let public_pem = "-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n";
    let err = ApiKey::from_pem(public_pem, None, Path::new("pub.pem")).unwrap_err();
    assert!(err.to_string().contains("public key"), "{err}");
    let err = ApiKey::from_pem("just text", None, Path::new("x.pem")).unwrap_err();
    assert!(err.to_string().contains("not a PEM key file"), "{err}");
}

#[test]
fn the_oci_api_key_label_line_after_the_key_is_ignored() {
    let text = format!("{}OCI_API_KEY\n", fixture("key_pkcs8.pem"));
    let key = ApiKey::from_pem(&text, None, Path::new("k")).unwrap();
    assert_eq!(key.fingerprint(), FP);
}

#[test]
fn debug_output_never_shows_key_material() {
    let key = load("key_pkcs1.pem", None).unwrap();
    let dbg = format!("{key:?}");
    assert!(dbg.contains("<redacted>") && dbg.contains(FP), "{dbg}");
    assert!(dbg.len() < 200, "{dbg}");
}

#[test]
fn corrupted_keys_never_panic() {
    let good = fixture("key_pkcs8_encrypted_aes256.pem");
    let lines: Vec<&str> = good.lines().collect();
    // Flip one base64 character in every body line, one at a time.
    for i in 1..lines.len() - 1 {
        let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        let first = l[i].chars().next().unwrap();
        let replacement = if first == 'A' { 'B' } else { 'A' };
        l[i].replace_range(0..1, &replacement.to_string());
        let text = l.join("\n");
        let _ = ApiKey::from_pem(&text, Some(PASS), Path::new("k"));
    }
    // Truncations.
    let der_text = fixture("key_pkcs1.pem");
    for cut in (0..der_text.len()).step_by(97) {
        let _ = ApiKey::from_pem(&der_text[..cut], None, Path::new("k"));
    }
}
