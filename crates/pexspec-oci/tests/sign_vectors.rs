//! The signer against the official SDK's vectors: Oracle's eight (1024-bit key) by signing
//! string, Authorization layout and signature verification; the same eight requests signed by
//! the SDK with a 2048-bit key reproduced byte for byte.

use std::path::Path;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use pexspec_oci::{
    ApiKey, BodySigning, OciError, Signer, authorization_header, fingerprint_of_private_key_pem,
    prepare_headers, signing_string,
};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

const TENANCY: &str =
    "ocid1.tenancy.oc1..aaaaaaaaba3pv6wkcr4jqae5f15p2b2m2yt2j6rx32uzr4h25vqstifsfdsq";
const USER: &str = "ocid1.user.oc1..aaaaaaaat5nvwcna5j6aqzjcaty5eqbb6qt2jvpkanghtgdaqedqw3rynjq";

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

#[derive(Debug)]
struct Vector {
    name: String,
    method: Method,
    url: Url,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
    signing_string: String,
    signature: String,
    authorization: String,
}

/// Parses the output format of `oci_sign_vector.py`.
fn parse_vectors(text: &str) -> Vec<Vector> {
    let mut out = Vec::new();
    for block in text.split("VECTOR: ").skip(1) {
        let name = block.lines().next().unwrap().trim().to_string();
        let request = block
            .lines()
            .find_map(|l| l.strip_prefix("request: "))
            .unwrap();
        let (method, url) = request.split_once(' ').unwrap();
        let body = match block.find("body (") {
            Some(at) => {
                let line_end = at + block[at..].find('\n').unwrap();
                let header = &block[at..line_end];
                let n: usize = header["body (".len()..]
                    .split(' ')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                block.as_bytes()[line_end + 1..line_end + 1 + n].to_vec()
            }
            None => Vec::new(),
        };
        let hdr_start = block.find("--- request headers after signing").unwrap();
        let hdr_block = &block[hdr_start..];
        let headers = hdr_block
            .lines()
            .skip(1)
            .take_while(|l| !l.starts_with("--- signing string"))
            .map(|l| {
                let (k, v) = l.split_once(": ").unwrap();
                (k.to_string(), v.to_string())
            })
            .collect();
        let ss_start = block.find("<<<\n").unwrap() + 4;
        let ss_end = block.find("\n>>>").unwrap();
        let signing_string = block[ss_start..ss_end].to_string();
        let signature = block
            .lines()
            .find_map(|l| l.strip_prefix("signature: "))
            .unwrap()
            .to_string();
        let authorization = block
            .lines()
            .find_map(|l| l.strip_prefix("Authorization: "))
            .unwrap()
            .to_string();
        out.push(Vector {
            name,
            method: method.parse().unwrap(),
            url: Url::parse(url).unwrap(),
            body,
            headers,
            signing_string,
            signature,
            authorization,
        });
    }
    out
}

fn body_signing(v: &Vector) -> BodySigning {
    if v.name == "object-storage-put-object" {
        BodySigning::Excluded
    } else {
        BodySigning::Signed
    }
}

/// The headers the script gave the SDK: what it printed, less what the signer computes.
fn input_headers(v: &Vector) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, val) in &v.headers {
        if [
            "authorization",
            "host",
            "content-length",
            "x-content-sha256",
        ]
        .contains(&k.as_str())
        {
            continue;
        }
        h.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(val).unwrap(),
        );
    }
    h
}

fn sdk_header<'a>(v: &'a Vector, name: &str) -> Option<&'a str> {
    v.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, val)| val.as_str())
}

#[test]
fn oracle_vectors_signing_strings_layout_and_signatures() {
    let vectors = parse_vectors(&fixture("oci_sign_vector.out.txt"));
    assert_eq!(vectors.len(), 8);
    let public = fixture_bytes("oracle_test_key_1024_public_pkcs1.der");
    let verifier = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        &public,
    );
    let key_id = format!("{TENANCY}/{USER}/20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34");
    for v in &vectors {
        let mut headers = input_headers(v);
        let names = prepare_headers(
            &v.method,
            &v.url,
            &mut headers,
            &v.body,
            body_signing(v),
            SystemTime::now(),
        )
        .unwrap();
        let ours = signing_string(&v.method, &v.url, &headers, names).unwrap();
        assert_eq!(ours, v.signing_string, "signing string of {}", v.name);
        for name in names.iter().filter(|n| !n.starts_with('(')) {
            assert_eq!(
                headers.get(*name).unwrap().to_str().unwrap(),
                sdk_header(v, name).unwrap(),
                "{} header `{name}`",
                v.name
            );
        }
        let sig = STANDARD.decode(&v.signature).unwrap();
        verifier.verify(ours.as_bytes(), &sig).unwrap_or_else(|_| {
            panic!(
                "SDK signature of {} does not verify over our signing string",
                v.name
            )
        });
        assert_eq!(
            authorization_header(&key_id, names, &v.signature),
            v.authorization,
            "Authorization of {}",
            v.name
        );
    }
}

#[test]
fn oracle_vectors_one_changed_byte_breaks_verification() {
    let v = &parse_vectors(&fixture("oci_sign_vector.out.txt"))[0];
    let public = fixture_bytes("oracle_test_key_1024_public_pkcs1.der");
    let verifier = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        &public,
    );
    let tampered = v.signing_string.replacen("21:31:40", "21:31:41", 1);
    assert!(
        verifier
            .verify(tampered.as_bytes(), &STANDARD.decode(&v.signature).unwrap())
            .is_err()
    );
}

#[test]
fn sdk_vectors_with_a_2048_bit_key_are_reproduced_byte_for_byte() {
    let vectors = parse_vectors(&fixture("oci_sign_vector_2048.out.txt"));
    assert_eq!(vectors.len(), 8);
    let key =
        ApiKey::from_pem(&fixture("key_pkcs1.pem"), None, Path::new("key_pkcs1.pem")).unwrap();
    assert_eq!(
        key.fingerprint(),
        "49:91:d7:c4:f7:a0:55:b7:b3:5e:e8:f8:fc:9d:a2:11"
    );
    let signer = Signer::new(TENANCY, USER, key.fingerprint(), key.clone());
    for v in &vectors {
        let mut headers = input_headers(v);
        signer
            .sign_at(
                &v.method,
                &v.url,
                &mut headers,
                &v.body,
                body_signing(v),
                SystemTime::now(),
            )
            .unwrap();
        assert_eq!(
            headers.get("authorization").unwrap().to_str().unwrap(),
            v.authorization,
            "Authorization of {}",
            v.name
        );
        let names = pexspec_oci::headers_to_sign(&v.method, body_signing(v)).unwrap();
        assert_eq!(
            signing_string(&v.method, &v.url, &headers, names).unwrap(),
            v.signing_string,
            "{}",
            v.name
        );
    }
    // Every key format of the same key signs identically.
    let pass = Some("pexspec-test-passphrase");
    for file in [
        "key_pkcs8.pem",
        "key_pkcs8_encrypted_aes256.pem",
        "key_legacy_aes128.pem",
    ] {
        let other = ApiKey::from_pem(&fixture(file), pass, Path::new(file)).unwrap();
        let fp = String::from(other.fingerprint());
        let s2 = Signer::new(TENANCY, USER, &fp, other);
        let v = &vectors[2];
        let mut headers = input_headers(v);
        s2.sign_at(
            &v.method,
            &v.url,
            &mut headers,
            &v.body,
            body_signing(v),
            SystemTime::now(),
        )
        .unwrap();
        assert_eq!(
            headers.get("authorization").unwrap().to_str().unwrap(),
            v.authorization,
            "{file}"
        );
    }
}

#[test]
fn the_documented_test_key_is_refused_for_signing_but_has_the_documented_fingerprint() {
    let pem = fixture("oracle_test_key_1024_pkcs1.pem");
    assert_eq!(
        fingerprint_of_private_key_pem(&pem, None).unwrap(),
        "73:61:a2:21:67:e0:df:be:7e:4b:93:1e:15:98:a5:b7"
    );
    let err = ApiKey::from_pem(&pem, None, Path::new("oracle.pem")).unwrap_err();
    assert!(matches!(err, OciError::Key { .. }));
    assert!(err.to_string().contains("1024 bits"), "{err}");
    assert!(err.to_string().contains("2048 to 4096"), "{err}");
}

#[test]
fn the_date_is_injected_as_imf_fixdate_and_caller_values_win() {
    let key = ApiKey::from_pem(&fixture("key_pkcs8.pem"), None, Path::new("k")).unwrap();
    let fp = String::from(key.fingerprint());
    let signer = Signer::new(TENANCY, USER, &fp, key);
    let url = Url::parse("http://127.0.0.1:8080/20160918/vcns?compartmentId=x").unwrap();
    let when = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_389_001_900);
    let mut headers = HeaderMap::new();
    signer
        .sign_at(
            &Method::GET,
            &url,
            &mut headers,
            b"",
            BodySigning::Signed,
            when,
        )
        .unwrap();
    assert_eq!(
        headers.get("date").unwrap(),
        "Mon, 06 Jan 2014 09:51:40 GMT"
    );
    assert_eq!(headers.get("host").unwrap(), "127.0.0.1:8080");
    assert!(
        headers.get("x-content-sha256").is_none(),
        "GET bodies are not signed"
    );

    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("text/plain"));
    signer
        .sign_at(
            &Method::POST,
            &url,
            &mut headers,
            b"{}",
            BodySigning::Signed,
            when,
        )
        .unwrap();
    assert_eq!(headers.get("content-type").unwrap(), "text/plain");
    assert_eq!(headers.get("content-length").unwrap(), "2");
    let auth = headers.get("authorization").unwrap().to_str().unwrap();
    assert!(
        auth.contains(
            "headers=\"date (request-target) host content-length content-type x-content-sha256\""
        ),
        "{auth}"
    );
    assert!(format!("{signer:?}").contains("<redacted>"));
}
