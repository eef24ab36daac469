//! API semantics: retry tokens, pagination, etags and `if-match`, tags and filters, error
//! bodies, and Object Storage (conditional writes, MD5 checks, multipart uploads).

mod oci_common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use md5::{Digest as _, Md5};
use oci_common::{Client, Signing, advance, compartment, manual_sim};
use serde_json::json;

#[tokio::test]
async fn retry_tokens_deduplicate_creates() {
    let (sim, c) = manual_sim().await;
    let comp = compartment(&c, &sim, "rt").await;
    let body = json!({"compartmentId": comp, "cidrBlock": "10.0.0.0/16", "displayName": "a"});
    let tok = [("opc-retry-token", "pexspec-abc-1")];
    let a = c
        .call("POST", "/20160918/vcns", Some(body.clone()), &tok)
        .await;
    let b = c
        .call("POST", "/20160918/vcns", Some(body.clone()), &tok)
        .await;
    assert_eq!((a.status, b.status), (200, 200));
    assert_eq!(a.id(), b.id());
    // Key order does not matter.
    let reordered: serde_json::Value = serde_json::from_str(&format!(
        r#"{{"displayName":"a","cidrBlock":"10.0.0.0/16","compartmentId":"{comp}"}}"#
    ))
    .unwrap();
    assert_eq!(
        c.call("POST", "/20160918/vcns", Some(reordered), &tok)
            .await
            .id(),
        a.id()
    );
    // Another body with the same token is refused.
    let other = json!({"compartmentId": comp, "cidrBlock": "10.1.0.0/16", "displayName": "b"});
    let conflict = c.call("POST", "/20160918/vcns", Some(other), &tok).await;
    assert_eq!(
        (conflict.status, conflict.code()),
        (409, "InvalidatedRetryToken")
    );
    let list = c
        .get(&format!("/20160918/vcns?compartmentId={comp}"))
        .await
        .json;
    assert_eq!(list.as_array().unwrap().len(), 1);
    // The work request id is replayed too.
    advance(&sim, 5);
    let ns = c.get("/n").await.json.as_str().unwrap().to_string();
    c.post(
        &format!("/n/{ns}/b"),
        json!({"name": "i", "compartmentId": comp}),
    )
    .await;
    let img = json!({"compartmentId": comp, "imageSourceDetails": {"sourceType": "objectStorageTuple", "namespaceName": ns, "bucketName": "i", "objectName": "x"}});
    let t2 = [("opc-retry-token", "img-1")];
    let i1 = c
        .call("POST", "/20160918/images", Some(img.clone()), &t2)
        .await;
    let i2 = c.call("POST", "/20160918/images", Some(img), &t2).await;
    assert_eq!(i1.id(), i2.id());
    assert_eq!(
        i1.header("opc-work-request-id"),
        i2.header("opc-work-request-id")
    );
}

#[tokio::test]
async fn lists_page_sort_and_filter() {
    let (sim, c) = manual_sim().await;
    let comp = compartment(&c, &sim, "pages").await;
    for i in 0..5 {
        let r = c
            .post(
                "/20160918/vcns",
                json!({"compartmentId": comp, "cidrBlock": format!("10.{i}.0.0/16"), "displayName": format!("vcn-{i}"),
                       "freeformTags": {"pexspec-stack": if i % 2 == 0 { "even" } else { "odd" }}}),
            )
            .await;
        assert_eq!(r.status, 200);
        advance(&sim, 1);
    }
    let mut seen = Vec::new();
    let mut page: Option<String> = None;
    let mut calls = 0;
    loop {
        let path = match &page {
            None => format!("/20160918/vcns?compartmentId={comp}&limit=2&sortBy=DISPLAYNAME"),
            Some(p) => {
                format!("/20160918/vcns?compartmentId={comp}&limit=2&sortBy=DISPLAYNAME&page={p}")
            }
        };
        let r = c.get(&path).await;
        assert_eq!(r.status, 200);
        calls += 1;
        for v in r.json.as_array().unwrap() {
            seen.push(v["displayName"].as_str().unwrap().to_string());
        }
        page = r.header("opc-next-page");
        if page.is_none() {
            break;
        }
    }
    assert_eq!(calls, 3);
    assert_eq!(seen, ["vcn-0", "vcn-1", "vcn-2", "vcn-3", "vcn-4"]);
    // Default order: newest first.
    let all = c
        .get(&format!("/20160918/vcns?compartmentId={comp}"))
        .await
        .json;
    assert_eq!(all[0]["displayName"], "vcn-4");
    assert_eq!(all[0]["freeformTags"]["pexspec-stack"], "even");
    let one = c
        .get(&format!(
            "/20160918/vcns?compartmentId={comp}&displayName=vcn-3"
        ))
        .await
        .json;
    assert_eq!(one.as_array().unwrap().len(), 1);
    let bad = c
        .get(&format!("/20160918/vcns?compartmentId={comp}&limit=0"))
        .await;
    assert_eq!((bad.status, bad.code()), (400, "InvalidParameter"));
    let missing = c.get("/20160918/vcns").await;
    assert_eq!((missing.status, missing.code()), (400, "MissingParameter"));
}

#[tokio::test]
async fn etags_guard_updates() {
    let (sim, c) = manual_sim().await;
    let comp = compartment(&c, &sim, "etag").await;
    let vcn = c
        .post(
            "/20160918/vcns",
            json!({"compartmentId": comp, "cidrBlock": "10.0.0.0/16"}),
        )
        .await;
    advance(&sim, 5);
    let sl = c
        .post(
            "/20160918/securityLists",
            json!({"compartmentId": comp, "vcnId": vcn.id(), "displayName": "sl",
                   "egressSecurityRules": [{"destination": "0.0.0.0/0", "protocol": "all"}],
                   "ingressSecurityRules": [{"source": "0.0.0.0/0", "protocol": "6", "tcpOptions": {"destinationPortRange": {"min": 443, "max": 443}}}]}),
        )
        .await;
    assert_eq!(sl.status, 200, "{:?}", sl.json);
    advance(&sim, 5);
    let path = format!("/20160918/securityLists/{}", sl.id());
    let got = c.get(&path).await;
    let etag = got.header("etag").unwrap();
    let upd = json!({"ingressSecurityRules": [{"source": "0.0.0.0/0", "protocol": "17", "udpOptions": {"destinationPortRange": {"min": 40000, "max": 49999}}}]});
    let stale = c
        .call(
            "PUT",
            &path,
            Some(upd.clone()),
            &[("if-match", "not-the-etag")],
        )
        .await;
    assert_eq!((stale.status, stale.code()), (412, "NoEtagMatch"));
    let ok = c
        .call("PUT", &path, Some(upd.clone()), &[("if-match", &etag)])
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.json);
    assert_eq!(
        ok.json["ingressSecurityRules"].as_array().unwrap().len(),
        1,
        "the rules given replace the old ones"
    );
    assert_eq!(
        ok.json["egressSecurityRules"].as_array().unwrap().len(),
        1,
        "rules not given stay"
    );
    let new_etag = ok.header("etag").unwrap();
    assert_ne!(new_etag, etag);
    let again = c
        .call("PUT", &path, Some(upd), &[("if-match", &etag)])
        .await;
    assert_eq!(again.status, 412);
    // Bad rules and bad JSON are 400s, never a crash.
    let bad_rule = c
        .put(
            &path,
            json!({"ingressSecurityRules": [{"source": "nope", "protocol": "6"}]}),
        )
        .await;
    assert_eq!(
        (bad_rule.status, bad_rule.code()),
        (400, "InvalidParameter")
    );
    let bad_json = c
        .raw(
            "PUT",
            &path,
            Some(b"{not json".to_vec()),
            "application/json",
            &[],
            Signing::Normal,
        )
        .await;
    assert_eq!(bad_json.status, 400);
    assert!(bad_json.json["message"].is_string());
    let unknown = c
        .get("/20160918/vcns/ocid1.vcn.oc1.eu-frankfurt-1.nope")
        .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (404, "NotAuthorizedOrNotFound")
    );
    let no_route = c.get("/20160918/nothingHere").await;
    assert_eq!(no_route.status, 404);
    // Route rules to a DRG need the DRG attached to the VCN.
    let drg = c
        .post("/20160918/drgs", json!({"compartmentId": comp}))
        .await;
    advance(&sim, 31);
    let rt_path = format!(
        "/20160918/routeTables/{}",
        vcn.json["defaultRouteTableId"].as_str().unwrap()
    );
    let rule = json!({"routeRules": [{"destination": "10.1.0.0/16", "destinationType": "CIDR_BLOCK", "networkEntityId": drg.id()}]});
    let r = c.put(&rt_path, rule.clone()).await;
    assert_eq!((r.status, r.code()), (400, "InvalidParameter"));
    c.post(
        "/20160918/drgAttachments",
        json!({"drgId": drg.id(), "vcnId": vcn.id()}),
    )
    .await;
    let r = c.put(&rt_path, rule).await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    assert_eq!(r.json["routeRules"][0]["networkEntityId"], drg.id());
}

fn md5_b64(d: &[u8]) -> String {
    B64.encode(Md5::digest(d))
}

#[tokio::test]
async fn object_storage_conditional_writes_and_multipart() {
    let (sim, c) = manual_sim().await;
    let ns = c.get("/n").await.json.as_str().unwrap().to_string();
    let b = c
        .post(
            &format!("/n/{ns}/b"),
            json!({"name": "state", "compartmentId": sim.tenancy_ocid()}),
        )
        .await;
    assert_eq!(b.status, 200);
    assert!(
        b.header("location")
            .unwrap()
            .ends_with(&format!("/n/{ns}/b/state"))
    );
    let dup = c
        .post(
            &format!("/n/{ns}/b"),
            json!({"name": "state", "compartmentId": sim.tenancy_ocid()}),
        )
        .await;
    assert_eq!((dup.status, dup.code()), (409, "BucketAlreadyExists"));
    let head = c.call("HEAD", &format!("/n/{ns}/b/state"), None, &[]).await;
    assert_eq!(head.status, 200);

    let obj = format!("/n/{ns}/b/state/o/lock.json");
    let put = |body: &'static [u8], extra: Vec<(&'static str, String)>| {
        let c = &c;
        let obj = obj.clone();
        async move {
            let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
            c.raw(
                "PUT",
                &obj,
                Some(body.to_vec()),
                "application/json",
                &extra,
                Signing::GenericOnly,
            )
            .await
        }
    };
    let first = put(b"{\"holder\":\"a\"}", vec![("if-none-match", "*".into())]).await;
    assert_eq!(first.status, 200, "{:?}", first.json);
    let etag = first.header("etag").unwrap();
    assert_eq!(etag.len(), 36, "OCI object etags are UUIDs");
    let second = put(b"{\"holder\":\"b\"}", vec![("if-none-match", "*".into())]).await;
    assert_eq!((second.status, second.code()), (412, "IfNoneMatchFailed"));
    let stale = put(b"{\"holder\":\"b\"}", vec![("if-match", "0000".into())]).await;
    assert_eq!((stale.status, stale.code()), (412, "IfMatchFailed"));
    let bad_md5 = put(b"{}", vec![("content-md5", md5_b64(b"other"))]).await;
    assert_eq!(
        (bad_md5.status, bad_md5.code()),
        (400, "UnmatchedContentMD5")
    );
    let good = put(
        b"{\"holder\":\"b\"}",
        vec![
            ("if-match", etag.clone()),
            ("content-md5", md5_b64(b"{\"holder\":\"b\"}")),
        ],
    )
    .await;
    assert_eq!(good.status, 200, "{:?}", good.json);
    let got = c.get(&obj).await;
    assert_eq!(got.bytes, b"{\"holder\":\"b\"}");
    // GetObject and HeadObject answer `Content-MD5` (PutObject answers `opc-content-md5`):
    // the SDKs' GetObjectResponse / HeadObjectResponse.
    assert_eq!(
        got.header("content-md5").unwrap(),
        md5_b64(b"{\"holder\":\"b\"}")
    );
    assert_eq!(got.header("opc-content-md5"), None);
    assert_eq!(got.header("etag"), good.header("etag"));
    let head = c.call("HEAD", &obj, None, &[]).await;
    assert_eq!(head.header("content-length").as_deref(), Some("14"));
    assert_eq!(head.header("content-md5"), got.header("content-md5"));
    let listed = c
        .get(&format!("/n/{ns}/b/state/o?fields=name,size,etag"))
        .await
        .json;
    assert_eq!(listed["objects"][0]["size"], 14);
    let del = c.call("DELETE", &obj, None, &[("if-match", &etag)]).await;
    assert_eq!(del.status, 412, "a stale etag protects the object");
    let nonempty = c.delete(&format!("/n/{ns}/b/state")).await;
    assert_eq!((nonempty.status, nonempty.code()), (409, "BucketNotEmpty"));
    assert_eq!(c.delete(&obj).await.status, 204);
    assert_eq!(c.get(&obj).await.code(), "ObjectNotFound");

    // Multipart: create, two parts, list, commit.
    let up = c
        .post(&format!("/n/{ns}/b/state/u"), json!({"object": "big.bin"}))
        .await;
    assert_eq!(up.status, 200, "{:?}", up.json);
    let upload_id = up.json["uploadId"].as_str().unwrap().to_string();
    let part1 = vec![1u8; 1 << 20];
    let part2 = vec![2u8; 1000];
    let mut etags = Vec::new();
    for (n, data) in [(1, &part1), (2, &part2)] {
        let r = c
            .raw(
                "PUT",
                &format!("/n/{ns}/b/state/u/big.bin?uploadId={upload_id}&uploadPartNum={n}"),
                Some(data.clone()),
                "application/octet-stream",
                &[("content-md5", &md5_b64(data))],
                Signing::GenericOnly,
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.json);
        etags.push(r.header("etag").unwrap());
    }
    let uploads = c.get(&format!("/n/{ns}/b/state/u")).await.json;
    assert_eq!(uploads[0]["uploadId"], upload_id.as_str());
    let parts = c
        .get(&format!("/n/{ns}/b/state/u/big.bin?uploadId={upload_id}"))
        .await
        .json;
    assert_eq!(parts.as_array().unwrap().len(), 2);
    let wrong = c
        .post(
            &format!("/n/{ns}/b/state/u/big.bin?uploadId={upload_id}"),
            json!({"partsToCommit": [{"partNum": 1, "etag": "x"}, {"partNum": 2, "etag": etags[1]}]}),
        )
        .await;
    assert_eq!(wrong.status, 400);
    let commit = c
        .post(
            &format!("/n/{ns}/b/state/u/big.bin?uploadId={upload_id}"),
            json!({"partsToCommit": [{"partNum": 1, "etag": etags[0]}, {"partNum": 2, "etag": etags[1]}], "partsToExclude": []}),
        )
        .await;
    assert_eq!(commit.status, 200, "{:?}", commit.json);
    assert!(commit.header("opc-multipart-md5").unwrap().ends_with("-2"));
    let big = c.get(&format!("/n/{ns}/b/state/o/big.bin")).await;
    assert_eq!(big.bytes.len(), (1 << 20) + 1000);
    assert_eq!(c.get(&format!("/n/{ns}/b/state/u")).await.json, json!([]));
    // Abort drops an upload.
    let up2 = c
        .post(&format!("/n/{ns}/b/state/u"), json!({"object": "gone.bin"}))
        .await;
    let id2 = up2.json["uploadId"].as_str().unwrap();
    assert_eq!(
        c.delete(&format!("/n/{ns}/b/state/u/gone.bin?uploadId={id2}"))
            .await
            .status,
        204
    );
    assert_eq!(
        c.delete(&format!("/n/{ns}/b/state/u/gone.bin?uploadId={id2}"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn reserved_public_ips_move_between_private_ips() {
    let (sim, c) = manual_sim().await;
    let comp = compartment(&c, &sim, "pip").await;
    let r = c
        .post(
            "/20160918/publicIps",
            json!({"compartmentId": comp, "lifetime": "RESERVED", "displayName": "conf01"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    assert_eq!(r.json["lifecycleState"], "PROVISIONING");
    advance(&sim, 5);
    let list = c
        .get(&format!(
            "/20160918/publicIps?scope=REGION&compartmentId={comp}&lifetime=RESERVED"
        ))
        .await
        .json;
    assert_eq!(list[0]["lifecycleState"], "AVAILABLE");
    assert_eq!(list[0]["displayName"], "conf01");
    let by_addr = c
        .post(
            "/20160918/publicIps/actions/getByIpAddress",
            json!({"ipAddress": r.json["ipAddress"]}),
        )
        .await;
    assert_eq!(by_addr.id(), r.id());
    let bad = c
        .put(
            &format!("/20160918/publicIps/{}", r.id()),
            json!({"privateIpId": "ocid1.privateip.oc1.eu-frankfurt-1.nope"}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (400, "RelatedResourceNotAuthorizedOrNotFound")
    );
    assert_eq!(
        c.delete(&format!("/20160918/publicIps/{}", r.id()))
            .await
            .status,
        204
    );
    let _ = Client::new(&c.base);
}

#[tokio::test]
async fn two_simulators_on_one_state_dir_share_the_cloud() {
    let dir = tempfile::tempdir().unwrap();
    let a = pexspec_sim::serve(pexspec_sim::ServeOptions::default().state_dir(dir.path()))
        .await
        .unwrap();
    let b = pexspec_sim::serve(pexspec_sim::ServeOptions::default().state_dir(dir.path()))
        .await
        .unwrap();
    assert_ne!(a.endpoint("eu-frankfurt-1"), b.endpoint("eu-frankfurt-1"));
    let ca = Client::new(a.endpoint("eu-frankfurt-1").unwrap());
    let cb = Client::new(b.endpoint("eu-frankfurt-1").unwrap());
    assert_eq!(
        ca.get("/n").await.json,
        cb.get("/n").await.json,
        "one namespace per state directory"
    );
    let comp = ca
        .post(
            "/20160918/compartments",
            json!({"compartmentId": a.tenancy_ocid(), "name": "shared", "description": "d"}),
        )
        .await;
    assert_eq!(comp.status, 200);
    let seen = cb
        .get(&format!("/20160918/compartments/{}", comp.id()))
        .await;
    assert_eq!(seen.status, 200);
    assert_eq!(seen.json["name"], "shared");
    let listed = cb
        .get(&format!(
            "/20160918/compartments?compartmentId={}",
            a.tenancy_ocid()
        ))
        .await
        .json;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    // The retry token written through one is honoured by the other.
    let body = json!({"compartmentId": a.tenancy_ocid(), "name": "tok", "description": "d"});
    let x = ca
        .call(
            "POST",
            "/20160918/compartments",
            Some(body.clone()),
            &[("opc-retry-token", "t1")],
        )
        .await;
    let y = cb
        .call(
            "POST",
            "/20160918/compartments",
            Some(body),
            &[("opc-retry-token", "t1")],
        )
        .await;
    assert_eq!(x.id(), y.id());
    let text = std::fs::read_to_string(a.config_file()).unwrap();
    assert!(
        text.contains("[DEFAULT]") && text.contains("key_file=") && text.contains(a.tenancy_ocid())
    );
    assert_eq!(a.ready_line()["profile"], "DEFAULT");
    assert_eq!(
        a.ready_line()["oci"]["eu-frankfurt-1"],
        a.endpoint("eu-frankfurt-1").unwrap()
    );
    assert_eq!(a.ready_line()["pexip"], json!({}));
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn odd_requests_never_get_a_5xx() {
    let (sim, c) = manual_sim().await;
    let comp = compartment(&c, &sim, "odd").await;
    let ns = c.get("/n").await.json.as_str().unwrap().to_string();
    let bodies = [
        json!({}),
        json!({"compartmentId": 5}),
        json!({"compartmentId": comp, "cidrBlocks": ["10.0.0.0/0"]}),
        json!({"compartmentId": comp, "cidrBlocks": "10.0.0.0/16"}),
        json!({"compartmentId": comp, "cidrBlock": "999.1.1.1/16"}),
        json!({"compartmentId": comp, "vcnId": "ocid1.vcn.oc1.eu-frankfurt-1.x", "cidrBlock": "10.0.0.0/24"}),
        json!({"compartmentId": comp, "availabilityDomain": "x", "shape": "VM.Nope", "createVnicDetails": 3}),
        json!({"compartmentId": comp, "availabilityDomain": oci_common::AD1, "shape": "VM.Standard3.Flex",
               "shapeConfig": {"ocpus": 1000}, "createVnicDetails": {"subnetId": "x"}, "sourceDetails": {"imageId": "y"}}),
        json!({"compartmentId": comp, "imageSourceDetails": {"sourceType": "objectStorageUri", "sourceUri": "%%%"}}),
        json!({"routeRules": [{"destination": "0.0.0.0/0"}], "compartmentId": comp, "vcnId": "v"}),
        json!({"freeformTags": {"a": 1}, "compartmentId": comp, "cidrBlock": "10.0.0.0/16"}),
        json!({"name": "bad name!", "compartmentId": comp}),
        json!({"object": 7}),
        json!({"partsToCommit": "x"}),
        json!({"peerId": 1}),
    ];
    let paths = [
        "/20160918/vcns",
        "/20160918/subnets",
        "/20160918/instances",
        "/20160918/images",
        "/20160918/routeTables",
        "/20160918/securityLists",
        "/20160918/internetGateways",
        "/20160918/drgs",
        "/20160918/drgAttachments",
        "/20160918/remotePeeringConnections",
        "/20160918/publicIps",
        "/20160918/compartments",
        "/20160918/instances/ocid1.instance.oc1.eu-frankfurt-1.x?action=WHATEVER",
        "/20160918/remotePeeringConnections/x/actions/connect",
        "/20160918/publicIps/actions/getByIpAddress",
    ];
    for p in paths {
        for b in &bodies {
            let r = c.post(p, b.clone()).await;
            assert!(r.status < 500, "POST {p} {b} -> {} {:?}", r.status, r.json);
            if r.status >= 400 {
                assert!(r.json["code"].is_string() && r.json["message"].is_string());
            }
        }
    }
    let os = format!("/n/{ns}/b");
    for b in &bodies {
        let r = c.post(&os, b.clone()).await;
        assert!(r.status < 500, "POST {os} {b} -> {}", r.status);
    }
    c.post(&os, json!({"name": "b1", "compartmentId": comp}))
        .await;
    for p in [
        format!("/n/{ns}/b/b1/u"),
        format!("/n/{ns}/b/b1/u/x?uploadId=nope"),
        format!("/n/{ns}/b/nope/u"),
    ] {
        for b in &bodies {
            let r = c.post(&p, b.clone()).await;
            assert!(r.status < 500, "POST {p} {b} -> {}", r.status);
        }
    }
    for p in [
        "/20160918/vcns?compartmentId=x&limit=-1".to_string(),
        format!("/20160918/vcns?compartmentId={comp}&page=xyz"),
        format!("/20160918/vcns?compartmentId={comp}&sortBy=SIZE"),
        format!("/20160918/instances?compartmentId={comp}&lifecycleState=%F0%9F%98%80"),
        "/20160918/privateIps".to_string(),
        "/20160918/publicIps?scope=NOPE&compartmentId=x".to_string(),
        format!("/n/{ns}/b/b1/o/%E2%82%AC%2Fx"),
        format!("/n/{ns}/b/b1/o?limit=0"),
        format!("/n/{ns}/b/b1/u/x?uploadId=nope"),
        "/n/other-namespace/b/b1".to_string(),
        "/20160918/workRequests/x/errors".to_string(),
        "/20160918/images/x/shapes".to_string(),
        "/20160918/tenancies/x/regionSubscriptions".to_string(),
        "/20160918/faultDomains?compartmentId=x".to_string(),
    ] {
        let r = c.get(&p).await;
        assert!(
            (400..500).contains(&r.status),
            "GET {p} -> {} {:?}",
            r.status,
            r.json
        );
    }
    let put = c
        .raw(
            "PUT",
            &format!("/n/{ns}/b/b1/o/r"),
            Some(b"0123456789".to_vec()),
            "text/plain",
            &[("content-md5", "not base64!")],
            Signing::GenericOnly,
        )
        .await;
    assert_eq!((put.status, put.code()), (400, "InvalidContentMD5"));
    c.raw(
        "PUT",
        &format!("/n/{ns}/b/b1/o/r"),
        Some(b"0123456789".to_vec()),
        "text/plain",
        &[],
        Signing::GenericOnly,
    )
    .await;
    let bad_range = c
        .call(
            "GET",
            &format!("/n/{ns}/b/b1/o/r"),
            None,
            &[("range", "bytes=5-2")],
        )
        .await;
    assert_eq!(
        bad_range.bytes, b"0123456789",
        "an unusable range returns the whole object"
    );
    let part = c
        .call(
            "GET",
            &format!("/n/{ns}/b/b1/o/r"),
            None,
            &[("range", "bytes=2-4")],
        )
        .await;
    assert_eq!(
        (part.status, part.bytes.as_slice()),
        (206, b"234".as_slice())
    );
    let stats = c.sim("GET", "/_sim/stats", None).await;
    for (op, by_status) in stats["operations"].as_object().unwrap() {
        assert!(
            by_status
                .as_object()
                .unwrap()
                .keys()
                .all(|s| !s.starts_with('5')),
            "{op}: {by_status}"
        );
    }
}
