//! The Pexip simulator on the wire, spoken to with plain HTTP requests (never with the
//! pexspec client, so neither can hide the other's mistakes).

use std::time::Duration;

use pexspec_sim::pexip::{self, ClockSource, PexipSimOptions};
use serde_json::{Value, json};

const PASSWORD: &str = "sim-admin-pw";

/// Fails the test, when dropped, if the simulator ignored a body field or a filter that was
/// not meant to be ignored (the tests that send one on purpose read and clear it first).
struct Strict(std::path::PathBuf);

impl Drop for Strict {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let ignored = pexip::ignored_under(&self.0).unwrap();
        assert!(ignored.is_empty(), "ignored by the simulator: {ignored:#?}");
    }
}

fn options(dir: &std::path::Path) -> PexipSimOptions {
    let mut opts = PexipSimOptions::new(dir, PASSWORD);
    opts.auto_bootstrap = true;
    opts.clock = ClockSource::Wall;
    opts
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap()
}

const CFG: &str = "/api/admin/configuration/v1";

async fn post(c: &reqwest::Client, base: &str, path: &str, body: Value) -> reqwest::Response {
    c.post(format!("{base}{path}"))
        .basic_auth("admin", Some(PASSWORD))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn get(c: &reqwest::Client, base: &str, path: &str) -> (u16, Value) {
    let r = c
        .get(format!("{base}{path}"))
        .basic_auth("admin", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn location(c: &reqwest::Client, base: &str) -> String {
    let r = post(
        c,
        base,
        &format!("{CFG}/system_location/"),
        json!({"name": "Frankfurt"}),
    )
    .await;
    assert_eq!(r.status().as_u16(), 201);
    r.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn auth_wizard_gate_and_adopted_servers() {
    let dir = tempfile::tempdir().unwrap();
    let _strict = Strict(dir.path().to_path_buf());
    let mut opts = options(dir.path());
    opts.auto_bootstrap = false;
    let sim = pexip::start(opts).await.unwrap();
    let c = http();
    let base = sim.base_url();

    let r = c
        .get(format!("{base}{CFG}/dns_server/"))
        .basic_auth("admin", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        503,
        "the API is down until the wizard has run"
    );

    let r = c
        .post(format!("{base}/_sim/complete-wizard"))
        .json(&json!({"dns_servers": ["10.0.0.2"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);

    let r = c
        .get(format!("{base}{CFG}/dns_server/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let r = c
        .get(format!("{base}{CFG}/dns_server/"))
        .basic_auth("admin", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    let (status, body) = get(&c, base, &format!("{CFG}/dns_server/")).await;
    assert_eq!(status, 200);
    assert_eq!(body["meta"]["total_count"], 1);
    assert_eq!(body["objects"][0]["address"], "10.0.0.2");
    let (_, ntp) = get(&c, base, &format!("{CFG}/ntp_server/")).await;
    assert_eq!(ntp["objects"][0]["address"], "169.254.169.254");
}

#[tokio::test]
async fn crud_with_real_status_codes_and_pagination() {
    let dir = tempfile::tempdir().unwrap();
    let _strict = Strict(dir.path().to_path_buf());
    let sim = pexip::start(options(dir.path())).await.unwrap();
    let c = http();
    let base = sim.base_url();

    for i in 0..25 {
        let r = post(
            &c,
            base,
            &format!("{CFG}/dns_server/"),
            json!({"address": format!("10.9.0.{i}")}),
        )
        .await;
        assert_eq!(r.status().as_u16(), 201);
        let loc = r.headers()["location"].to_str().unwrap();
        assert!(
            loc.starts_with("/api/admin/configuration/v1/dns_server/"),
            "{loc}"
        );
    }
    // 25 plus the wizard's one.
    let (_, page) = get(&c, base, &format!("{CFG}/dns_server/?limit=10&offset=0")).await;
    assert_eq!(page["meta"]["total_count"], 26);
    assert_eq!(page["meta"]["limit"], 10);
    assert_eq!(page["objects"].as_array().unwrap().len(), 10);
    assert_eq!(page["meta"]["previous"], Value::Null);
    let next = page["meta"]["next"].as_str().unwrap().to_owned();
    assert_eq!(
        next,
        "/api/admin/configuration/v1/dns_server/?limit=10&offset=10"
    );
    let (_, last) = get(&c, base, &format!("{CFG}/dns_server/?limit=10&offset=20")).await;
    assert_eq!(last["objects"].as_array().unwrap().len(), 6);
    assert_eq!(last["meta"]["next"], Value::Null);

    let (_, one) = get(&c, base, &format!("{CFG}/dns_server/?address=10.9.0.7")).await;
    assert_eq!(one["meta"]["total_count"], 1);
    let uri = one["objects"][0]["resource_uri"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = c
        .patch(format!("{base}{uri}"))
        .basic_auth("admin", Some(PASSWORD))
        .json(&json!({"description": "changed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let (_, obj) = get(&c, base, &uri).await;
    assert_eq!(obj["description"], "changed");
    assert_eq!(obj["address"], "10.9.0.7");

    let r = c
        .delete(format!("{base}{uri}"))
        .basic_auth("admin", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(get(&c, base, &uri).await.0, 404);
    assert_eq!(sim.api_calls().delete, 1);
}

#[tokio::test]
async fn values_past_the_limits_are_field_errors() {
    let dir = tempfile::tempdir().unwrap();
    let _strict = Strict(dir.path().to_path_buf());
    let sim = pexip::start(options(dir.path())).await.unwrap();
    let c = http();
    let base = sim.base_url();
    let loc = location(&c, base).await;
    let body = json!({
        "name": "n".repeat(33), "hostname": "h".repeat(64), "domain": "example.com",
        "address": "10.0.1.31", "netmask": "255.255.255.0", "gateway": "10.0.1.1",
        "system_location": loc, "password": "clear-text-password",
    });
    let r = post(&c, base, &format!("{CFG}/worker_vm/"), body).await;
    assert_eq!(r.status().as_u16(), 400);
    let errors: Value = r.json().await.unwrap();
    assert_eq!(
        errors["worker_vm"]["name"],
        json!(["Ensure this value has at most 32 characters (it has 33)."])
    );
    assert_eq!(
        errors["worker_vm"]["hostname"],
        json!(["Ensure this value has at most 63 characters (it has 64)."])
    );
    assert!(
        errors["worker_vm"]["password"].is_array(),
        "a clear password is refused: {errors}"
    );
    assert!(!errors.to_string().contains("clear-text-password"));
}

#[tokio::test]
async fn nodes_bootstrap_then_sync_on_the_simulated_clock() {
    let dir = tempfile::tempdir().unwrap();
    let _strict = Strict(dir.path().to_path_buf());
    let sim = pexip::start(options(dir.path())).await.unwrap();
    let c = http();
    let base = sim.base_url();
    let loc = location(&c, base).await;
    let hash = "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";
    let r = post(
        &c,
        base,
        &format!("{CFG}/worker_vm/"),
        json!({
            "name": "pexconf01", "hostname": "pexconf01", "domain": "example.com",
            "address": "10.0.1.31", "netmask": "255.255.255.0", "gateway": "10.0.1.1",
            "system_location": loc, "deployment_type": "MANUAL-PROVISION-ONLY", "password": hash,
        }),
    )
    .await;
    assert_eq!(r.status().as_u16(), 201);
    let node_uri = r.headers()["location"].to_str().unwrap().to_owned();
    let config = r.text().await.unwrap();
    assert!(config.contains("<conferencing-node-config"), "{config}");

    let (_, status) = get(&c, base, "/api/admin/status/v1/worker_vm/").await;
    assert_eq!(status["objects"][0]["sync_status"], "UNKNOWN");
    assert_eq!(status["objects"][0]["last_updated"], Value::Null);

    let url = sim.bootstrap_urls()["pexconf01"].clone();
    // The browser form stays for uploads by hand.
    let form = c.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(form.contains("name=\"file\""), "{form}");
    let wrong = c
        .post(&url)
        .header("content-type", "multipart/form-data; boundary=b")
        .body("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.xml\"\r\n\r\n<x/>\r\n--b--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 400, "another file is refused");
    // The API endpoint: the raw file as a text/xml body.
    let api = format!("{url}configuration/bootstrap");
    let not_xml = c
        .post(&api)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(config.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(not_xml.status().as_u16(), 415, "the body must be text/xml");
    let other = c
        .post(&api)
        .header("content-type", "text/xml")
        .body("<conferencing-node-config><node-id>99</node-id></conferencing-node-config>")
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status().as_u16(),
        400,
        "another node's file is refused"
    );
    let (_, status) = get(&c, base, "/api/admin/status/v1/worker_vm/").await;
    assert_eq!(status["objects"][0]["sync_status"], "UNKNOWN");
    let ok = c
        .post(&api)
        .header("content-type", "text/xml")
        .body(config.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);

    let (_, status) = get(&c, base, "/api/admin/status/v1/worker_vm/").await;
    assert_eq!(status["objects"][0]["sync_status"], "SYNCING");
    sim.advance(Duration::from_secs(301)).unwrap();
    let (_, status) = get(&c, base, "/api/admin/status/v1/worker_vm/").await;
    assert_eq!(status["objects"][0]["sync_status"], "SYNCED");

    // A conference on the node, visible in the status API, ends on the clock.
    let r = c
        .post(format!("{base}/_sim/conferences"))
        .json(&json!({"node": "pexconf01", "name": "Board room", "participants": 2, "duration_seconds": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let (_, parts) = get(&c, base, "/api/admin/status/v1/participant/").await;
    assert_eq!(parts["meta"]["total_count"], 2);
    sim.advance(Duration::from_secs(61)).unwrap();
    let (_, parts) = get(&c, base, "/api/admin/status/v1/participant/").await;
    assert_eq!(parts["meta"]["total_count"], 0);

    // Maintenance mode refuses new conferences.
    let r = c
        .patch(format!("{base}{node_uri}"))
        .basic_auth("admin", Some(PASSWORD))
        .json(&json!({"maintenance_mode": true, "maintenance_mode_reason": "stop"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let r = c
        .post(format!("{base}/_sim/conferences"))
        .json(&json!({"node": "pexconf01", "participants": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);
}

#[tokio::test]
async fn state_and_fingerprint_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let _strict = Strict(dir.path().to_path_buf());
    let first = pexip::start(options(dir.path())).await.unwrap();
    let fingerprint = first.fingerprint().to_owned();
    let c = http();
    location(&c, first.base_url()).await;
    first.stop().await;

    let second = pexip::start(options(dir.path())).await.unwrap();
    assert_eq!(second.fingerprint(), fingerprint);
    let (_, list) = get(&c, second.base_url(), &format!("{CFG}/system_location/")).await;
    assert_eq!(list["objects"][0]["name"], "Frankfurt");
    // Separate processes share the state: a second simulator on the same directory sees it too.
    let third = pexip::start(options(dir.path())).await.unwrap();
    let (_, list) = get(&c, third.base_url(), &format!("{CFG}/system_location/")).await;
    assert_eq!(list["meta"]["total_count"], 1);
}

#[tokio::test]
async fn injected_faults_answer_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let _strict = Strict(dir.path().to_path_buf());
    let sim = pexip::start(options(dir.path())).await.unwrap();
    let c = http();
    sim.inject_faults(&[503]);
    assert_eq!(
        get(&c, sim.base_url(), &format!("{CFG}/dns_server/"))
            .await
            .0,
        503
    );
    assert_eq!(
        get(&c, sim.base_url(), &format!("{CFG}/dns_server/"))
            .await
            .0,
        200
    );
}

/// A synced node `pexconf01` (10.0.1.31) on `sim`: created, its file uploaded, the clock moved
/// past its first sync.
async fn synced_node(sim: &pexip::PexipSim, c: &reqwest::Client) -> String {
    let base = sim.base_url();
    let loc = location(c, base).await;
    let r = post(
        c,
        base,
        &format!("{CFG}/worker_vm/"),
        json!({
            "name": "pexconf01", "hostname": "pexconf01", "domain": "example.com",
            "address": "10.0.1.31", "netmask": "255.255.255.0", "gateway": "10.0.1.1",
            "system_location": loc, "deployment_type": "MANUAL-PROVISION-ONLY",
            "password": "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
        }),
    )
    .await;
    assert_eq!(r.status().as_u16(), 201);
    let node_uri = r.headers()["location"].to_str().unwrap().to_owned();
    let config = r.text().await.unwrap();
    let url = sim.bootstrap_urls()["pexconf01"].clone();
    let ok = c
        .post(format!("{url}configuration/bootstrap"))
        .header("content-type", "text/xml")
        .body(config)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    sim.advance(Duration::from_secs(301)).unwrap();
    node_uri
}

#[tokio::test]
async fn conferences_survive_a_restart_and_end_when_the_node_stops() {
    let dir = tempfile::tempdir().unwrap();
    let _strict = Strict(dir.path().to_path_buf());
    let c = http();
    let first = pexip::start(options(dir.path())).await.unwrap();
    synced_node(&first, &c).await;
    first
        .start_conference("pexconf01", "Board room", 3, Duration::from_secs(3600))
        .await
        .unwrap();
    first.stop().await;

    // Another process on the same state sees the conference, until the node's VM stops.
    let sim = pexip::start(options(dir.path())).await.unwrap();
    let base = sim.base_url();
    let parts = "/api/admin/status/v1/participant/";
    let (_, list) = get(&c, base, parts).await;
    assert_eq!(list["meta"]["total_count"], 3);
    assert_eq!(list["objects"][0]["conference"], "Board room");
    let (_, status) = get(&c, base, "/api/admin/status/v1/worker_vm/").await;
    assert_eq!(status["objects"][0]["sync_status"], "SYNCED");

    let r = c
        .post(format!("{base}/_sim/power"))
        .json(&json!({"node": "pexconf01", "on": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (_, list) = get(&c, base, parts).await;
    assert_eq!(list["meta"]["total_count"], 0, "its participants are gone");
    let (_, status) = get(&c, base, "/api/admin/status/v1/worker_vm/").await;
    let at_stop = status["objects"][0]["last_updated"].clone();
    assert!(at_stop.is_string(), "{status}");
    sim.advance(Duration::from_secs(600)).unwrap();
    let (_, status) = get(&c, base, "/api/admin/status/v1/worker_vm/").await;
    let node = &status["objects"][0];
    assert_eq!(node["sync_status"], "UNKNOWN");
    assert_eq!(node["last_updated"], at_stop, "no contact since the stop");
    let refused = sim
        .start_conference("pexconf01", "Late", 1, Duration::from_secs(60))
        .await;
    assert!(refused.is_err(), "a stopped node takes no conference");

    // Started again, it syncs after booting, then takes conferences again.
    sim.set_node_power("pexconf01", true).unwrap();
    let (_, status) = get(&c, base, "/api/admin/status/v1/worker_vm/").await;
    assert_eq!(status["objects"][0]["sync_status"], "SYNCING");
    sim.advance(Duration::from_secs(301)).unwrap();
    let (_, status) = get(&c, base, "/api/admin/status/v1/worker_vm/").await;
    assert_eq!(status["objects"][0]["sync_status"], "SYNCED");
    sim.start_conference("pexconf01", "Standup", 2, Duration::from_secs(60))
        .await
        .unwrap();
    let (_, list) = get(&c, base, parts).await;
    assert_eq!(list["meta"]["total_count"], 2);
    assert!(sim.set_node_power("pexconf99", false).is_err());
}

#[tokio::test]
async fn unknown_fields_and_filters_are_ignored_and_recorded() {
    // No `Strict` guard: this test sends them on purpose.
    let dir = tempfile::tempdir().unwrap();
    let sim = pexip::start(options(dir.path())).await.unwrap();
    let c = http();
    let base = sim.base_url();
    assert!(sim.ignored().unwrap().is_empty());
    let r = post(
        &c,
        base,
        &format!("{CFG}/dns_server/"),
        json!({"address": "192.0.2.53", "adress": "typo"}),
    )
    .await;
    assert_eq!(
        r.status().as_u16(),
        201,
        "an unknown field is ignored, not refused"
    );
    let (status, list) = get(&c, base, &format!("{CFG}/dns_server/?adress=nothing")).await;
    assert_eq!(status, 200);
    let total = list["meta"]["total_count"].as_u64().unwrap();
    assert!(total >= 2, "an unknown filter selects everything: {list}");
    let (_, found) = get(
        &c,
        base,
        &format!("{CFG}/dns_server/?address__icontains=192.0.2"),
    )
    .await;
    assert_eq!(found["meta"]["total_count"], 1, "{found}");
    let (status, _) = get(
        &c,
        base,
        "/api/admin/status/v1/participant/?media_node=10.0.1.31",
    )
    .await;
    assert_eq!(status, 200);
    let ignored = sim.ignored().unwrap();
    assert_eq!(
        ignored,
        vec![
            "GET /api/admin/configuration/v1/dns_server/: filter `adress`".to_owned(),
            "GET /api/admin/status/v1/participant/: filter `media_node`".to_owned(),
            "POST /api/admin/configuration/v1/dns_server/: body field `adress`".to_owned(),
        ]
    );
    assert_eq!(pexip::ignored_under(dir.path()).unwrap().len(), 3);
    let text = c
        .get(format!("{base}/_sim/ignored"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("media_node"), "{text}");
}
