//! The OCI simulator refuses requests whose signature is missing or wrong, as OCI does.

mod oci_common;

use oci_common::{Client, Signing, manual_sim};
use serde_json::json;

#[tokio::test]
async fn unsigned_and_tampered_requests_get_401() {
    let (sim, c) = manual_sim().await;
    let body =
        json!({"compartmentId": sim.tenancy_ocid(), "name": "x", "description": "d"}).to_string();

    let unsigned = c
        .raw(
            "GET",
            "/20160918/vcns?compartmentId=x",
            None,
            "application/json",
            &[],
            Signing::None,
        )
        .await;
    assert_eq!(unsigned.status, 401);
    assert_eq!(unsigned.code(), "NotAuthenticated");
    assert_eq!(
        unsigned.json["message"],
        "The required information to complete authentication was not provided or was incorrect."
    );
    assert!(unsigned.header("opc-request-id").is_some());

    // POST signed without the body headers: refused.
    let generic = c
        .raw(
            "POST",
            "/20160918/compartments",
            Some(body.clone().into_bytes()),
            "application/json",
            &[],
            Signing::GenericOnly,
        )
        .await;
    assert_eq!(generic.status, 401);
    assert!(
        generic
            .header("x-pexspec-sim-auth-error")
            .unwrap()
            .contains("content-length")
    );

    // The body hash does not match the body.
    let bad_hash = c
        .raw(
            "POST",
            "/20160918/compartments",
            Some(body.clone().into_bytes()),
            "application/json",
            &[(
                "x-content-sha256",
                "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
            )],
            Signing::Normal,
        )
        .await;
    assert_eq!(bad_hash.status, 401);

    // A date 10 minutes old.
    let old =
        httpdate::fmt_http_date(std::time::SystemTime::now() - std::time::Duration::from_secs(600));
    let skewed = c
        .raw(
            "GET",
            "/n",
            None,
            "application/json",
            &[("date", &old)],
            Signing::Normal,
        )
        .await;
    assert_eq!(skewed.status, 401);
    assert!(
        skewed
            .header("x-pexspec-sim-auth-error")
            .unwrap()
            .contains("5 minutes")
    );

    // A key the simulator does not trust.
    let mut stranger = Client::new(&c.base);
    stranger.key_id = stranger.key_id.replace("fe:fa", "00:00");
    assert_eq!(stranger.get("/n").await.status, 401);

    // The good one passes.
    let ok = c
        .post(
            "/20160918/compartments",
            serde_json::from_str(&body).unwrap(),
        )
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.json);
    // opc-request-id echoes the client's id as its prefix.
    let r = c
        .call("GET", "/n", None, &[("opc-request-id", "ABC123")])
        .await;
    assert!(r.header("opc-request-id").unwrap().starts_with("ABC123/"));
}

#[tokio::test]
async fn put_object_is_signed_without_body_headers() {
    let (sim, c) = manual_sim().await;
    let ns = c.get("/n").await.json.as_str().unwrap().to_string();
    let r = c
        .post(
            &format!("/n/{ns}/b"),
            json!({"name": "images", "compartmentId": sim.tenancy_ocid()}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    let put = c
        .raw(
            "PUT",
            &format!("/n/{ns}/b/images/o/small.txt"),
            Some(b"hello world\n".to_vec()),
            "application/octet-stream",
            &[("expect", "100-continue")],
            Signing::GenericOnly,
        )
        .await;
    assert_eq!(put.status, 200, "{:?}", put.json);
    assert_eq!(
        put.header("opc-content-md5").unwrap(),
        "b1kCrCNwJL3QwXbLkwY9xA=="
    );
}

#[tokio::test]
async fn go_sdk_parameter_order_is_accepted() {
    let (_sim, c) = manual_sim().await;
    let url = reqwest::Url::parse(&format!("{}/n", c.base)).unwrap();
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let host = format!("127.0.0.1:{}", url.port().unwrap());
    let headers = vec![
        ("date".to_string(), date.clone()),
        ("host".to_string(), host),
    ];
    let py = c.authorization("GET", &url, &headers, &["date", "(request-target)", "host"]);
    // Reorder the parameters the way the Go SDK writes them.
    let params: Vec<&str> = py.trim_start_matches("Signature ").split(',').collect();
    let find = |k: &str| {
        params
            .iter()
            .find(|p| p.starts_with(k))
            .unwrap()
            .to_string()
    };
    let go = format!(
        "Signature {},{},{},{},{}",
        find("version="),
        find("headers="),
        find("keyId="),
        find("algorithm="),
        find("signature=")
    );
    let r = reqwest::Client::new()
        .get(url)
        .header("date", date)
        .header("authorization", go)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}
