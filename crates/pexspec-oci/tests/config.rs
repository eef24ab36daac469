//! OCI CLI configuration: profiles with DEFAULT inheritance, env overrides (injected, never the
//! process environment), key file resolution, fingerprint check and clear errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pexspec_oci::{ErrorClass, LoadOptions, OciConfig, OciError};

const TENANCY: &str =
    "ocid1.tenancy.oc1..aaaaaaaaba3pv6wkcr4jqae5f15p2b2m2yt2j6rx32uzr4h25vqstifsfdsq";
const USER: &str = "ocid1.user.oc1..aaaaaaaat5nvwcna5j6aqzjcaty5eqbb6qt2jvpkanghtgdaqedqw3rynjq";
const FP: &str = "49:91:d7:c4:f7:a0:55:b7:b3:5e:e8:f8:fc:9d:a2:11";
const PASS: &str = "pexspec-test-passphrase";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A temporary home with `.oci/config` holding `text` and the encrypted key beside it.
fn home_with(text: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".oci")).unwrap();
    std::fs::write(home.path().join(".oci/config"), text).unwrap();
    std::fs::copy(
        fixture("key_pkcs8_encrypted_aes256.pem"),
        home.path().join(".oci/oci_api_key.pem"),
    )
    .unwrap();
    std::fs::copy(fixture("key_pkcs8.pem"), home.path().join(".oci/plain.pem")).unwrap();
    home
}

fn standard_config() -> String {
    format!(
        "# comment\n[DEFAULT]\nuser={USER}\nfingerprint={FP}\ntenancy={TENANCY}\nregion=eu-frankfurt-1\nkey_file=~/.oci/oci_api_key.pem\npass_phrase={PASS}\n\n[ZURICH]\nregion = eu-zurich-1\n\n[PLAIN]\nkey_file: plain.pem\npass_phrase =\n"
    )
}

#[test]
fn default_profile_from_home_with_tilde_expansion() {
    let home = home_with(&standard_config());
    let e = env(&[("HOME", home.path().to_str().unwrap())]);
    let cfg = OciConfig::load(&LoadOptions::default(), &e).unwrap();
    assert_eq!(cfg.profile, "DEFAULT");
    assert_eq!(cfg.config_file, home.path().join(".oci/config"));
    assert_eq!(cfg.region, "eu-frankfurt-1");
    assert_eq!(cfg.key_file, home.path().join(".oci/oci_api_key.pem"));
    assert_eq!(cfg.line_of("region"), Some(6));
    let signer = cfg.signer().unwrap();
    assert_eq!(signer.key_id(), format!("{TENANCY}/{USER}/{FP}"));
}

#[test]
fn profiles_inherit_from_default_and_relative_key_files_sit_beside_the_config() {
    let home = home_with(&standard_config());
    let e = env(&[("HOME", home.path().to_str().unwrap())]);
    let z = OciConfig::load(
        &LoadOptions {
            profile: Some("ZURICH".into()),
            ..LoadOptions::default()
        },
        &e,
    )
    .unwrap();
    assert_eq!(z.region, "eu-zurich-1");
    assert_eq!(z.user, USER, "inherited from DEFAULT");
    let p = OciConfig::load(
        &LoadOptions {
            profile: Some("PLAIN".into()),
            ..LoadOptions::default()
        },
        &e,
    )
    .unwrap();
    assert_eq!(p.key_file, home.path().join(".oci/plain.pem"));
    assert!(
        p.pass_phrase.is_none(),
        "an empty pass_phrase overrides DEFAULT's"
    );
    p.signer().unwrap();
}

#[test]
fn profile_precedence_is_explicit_then_env_then_default() {
    let home = home_with(&standard_config());
    let h = home.path().to_str().unwrap();
    let e = env(&[("HOME", h), ("OCI_CLI_PROFILE", "ZURICH")]);
    assert_eq!(
        OciConfig::load(&LoadOptions::default(), &e)
            .unwrap()
            .profile,
        "ZURICH"
    );
    let explicit = LoadOptions {
        profile: Some("DEFAULT".into()),
        ..LoadOptions::default()
    };
    assert_eq!(OciConfig::load(&explicit, &e).unwrap().profile, "DEFAULT");
}

#[test]
fn config_file_precedence_is_explicit_then_env_then_home() {
    let home = home_with(&standard_config());
    let other = tempfile::tempdir().unwrap();
    let other_cfg = other.path().join("cfg");
    std::fs::write(
        &other_cfg,
        standard_config().replace("eu-frankfurt-1", "us-ashburn-1"),
    )
    .unwrap();
    let e = env(&[
        ("HOME", home.path().to_str().unwrap()),
        ("OCI_CLI_CONFIG_FILE", other_cfg.to_str().unwrap()),
    ]);
    let cfg = OciConfig::load(&LoadOptions::default(), &e).unwrap();
    assert_eq!(cfg.config_file, other_cfg);
    assert_eq!(cfg.region, "us-ashburn-1");
    let explicit = LoadOptions {
        config_file: Some(home.path().join(".oci/config")),
        ..LoadOptions::default()
    };
    assert_eq!(
        OciConfig::load(&explicit, &e).unwrap().region,
        "eu-frankfurt-1"
    );
}

#[test]
fn oci_cli_variables_override_the_file() {
    let home = home_with(&standard_config());
    let e = env(&[
        ("HOME", home.path().to_str().unwrap()),
        ("OCI_CLI_REGION", "ap-tokyo-1"),
    ]);
    assert_eq!(
        OciConfig::load(&LoadOptions::default(), &e).unwrap().region,
        "ap-tokyo-1"
    );
    let e = env(&[
        ("HOME", home.path().to_str().unwrap()),
        ("OCI_CLI_REGION", "Bad Region"),
    ]);
    let err = OciConfig::load(&LoadOptions::default(), &e).unwrap_err();
    assert!(err.to_string().contains("OCI_CLI_REGION"), "{err}");
}

#[test]
fn a_missing_file_names_the_file() {
    let e = env(&[("HOME", "/nonexistent-home-for-test")]);
    let err = OciConfig::load(&LoadOptions::default(), &e).unwrap_err();
    assert_eq!(err.class(), ErrorClass::Config);
    assert!(
        err.to_string()
            .contains("/nonexistent-home-for-test/.oci/config"),
        "{err}"
    );
}

#[test]
fn an_unknown_profile_lists_the_profiles() {
    let home = home_with(&standard_config());
    let e = env(&[("HOME", home.path().to_str().unwrap())]);
    let err = OciConfig::load(
        &LoadOptions {
            profile: Some("NOPE".into()),
            ..LoadOptions::default()
        },
        &e,
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("`NOPE`") && text.contains("DEFAULT, ZURICH, PLAIN"),
        "{text}"
    );
}

#[test]
fn syntax_errors_name_the_line() {
    let p = Path::new("/x/config");
    let e = env(&[]);
    for (text, line, needle) in [
        ("user=x\n", 1, "before any `[PROFILE]`"),
        ("[DEFAULT]\nuser\n", 2, "expected `key = value`"),
        ("[DEFAULT]\nuser=a\nuser=b\n", 3, "appears twice"),
        ("[A]\n[A]\n", 2, "appears twice"),
    ] {
        match OciConfig::from_text(text, p, "DEFAULT", &e).unwrap_err() {
            OciError::ConfigSyntax {
                line: l,
                message,
                path,
            } => {
                assert_eq!(l, line, "{text:?}");
                assert!(message.contains(needle), "{message}");
                assert_eq!(path, p);
            }
            other => panic!("{text:?}: {other}"),
        }
    }
}

#[test]
fn missing_and_malformed_keys_name_file_key_and_line() {
    let p = Path::new("/x/config");
    let e = env(&[]);
    let text =
        format!("[DEFAULT]\nuser={USER}\ntenancy={TENANCY}\nregion=eu-frankfurt-1\nkey_file=/k\n");
    let err = OciConfig::from_text(&text, p, "DEFAULT", &e).unwrap_err();
    assert_eq!(
        err.to_string(),
        "OCI config file `/x/config`, profile `DEFAULT`: missing key `fingerprint`"
    );
    let text = format!(
        "[DEFAULT]\nuser={USER}\ntenancy={TENANCY}\nregion=eu-frankfurt-1\nkey_file=/k\nfingerprint=AA:BB\n"
    );
    let err = OciConfig::from_text(&text, p, "DEFAULT", &e).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("OCI config file `/x/config` line 6: `fingerprint`"),
        "{err}"
    );
    let text = format!(
        "[DEFAULT]\nuser=bob\ntenancy={TENANCY}\nregion=eu-frankfurt-1\nkey_file=/k\nfingerprint={FP}\n"
    );
    let err = OciConfig::from_text(&text, p, "DEFAULT", &e).unwrap_err();
    assert!(
        err.to_string().contains("line 2: `user` is not an OCID"),
        "{err}"
    );
    let text = format!(
        "[DEFAULT]\nkey_content=abc\nuser={USER}\ntenancy={TENANCY}\nregion=r\nkey_file=/k\nfingerprint={FP}\n"
    );
    let err = OciConfig::from_text(&text, p, "DEFAULT", &e).unwrap_err();
    assert!(err.to_string().contains("`key_content`"), "{err}");
}

#[test]
fn pass_phrases_never_show_in_debug() {
    let home = home_with(&standard_config());
    let e = env(&[("HOME", home.path().to_str().unwrap())]);
    let cfg = OciConfig::load(&LoadOptions::default(), &e).unwrap();
    let dbg = format!("{cfg:?}");
    assert!(!dbg.contains(PASS), "{dbg}");
    assert!(dbg.contains("<redacted>"), "{dbg}");
}

#[test]
fn a_fingerprint_that_is_not_the_keys_is_a_clear_error() {
    let wrong = "20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34";
    let home = home_with(&standard_config().replace(FP, wrong));
    let e = env(&[("HOME", home.path().to_str().unwrap())]);
    let err = OciConfig::load(&LoadOptions::default(), &e)
        .unwrap()
        .signer()
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, OciError::FingerprintMismatch { .. }));
    assert!(
        text.contains(FP) && text.contains(wrong) && text.contains("oci_api_key.pem"),
        "{text}"
    );
}

#[test]
fn a_missing_key_file_names_the_config_line() {
    let home = home_with(&standard_config().replace("oci_api_key.pem", "absent.pem"));
    let e = env(&[("HOME", home.path().to_str().unwrap())]);
    let err = OciConfig::load(&LoadOptions::default(), &e)
        .unwrap()
        .signer()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("absent.pem") && text.contains("line 7"),
        "{text}"
    );
}

#[test]
fn a_wrong_pass_phrase_in_the_config_is_a_config_error() {
    let home =
        home_with(&standard_config().replace(&format!("pass_phrase={PASS}"), "pass_phrase=nope"));
    let e = env(&[("HOME", home.path().to_str().unwrap())]);
    let err = OciConfig::load(&LoadOptions::default(), &e)
        .unwrap()
        .signer()
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Config);
    assert!(err.to_string().contains("wrong `pass_phrase`"), "{err}");
}
