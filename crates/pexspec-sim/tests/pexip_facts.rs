//! The Pexip wire facts (`tests/fixtures/pexip-facts/facts.json`: requests and answers
//! transcribed from Pexip's public SDK, provider and docs, each with its source) replayed in
//! order against the simulator, with plain HTTP requests.

use std::collections::BTreeMap;

use pexspec_sim::pexip::{self, ClockSource, PexipSimOptions};
use serde_json::Value;

const PASSWORD: &str = "facts-admin-pw";

fn facts() -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pexip-facts/facts.json");
    let all: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    all["facts"].as_array().unwrap().clone()
}

/// `$name` placeholders (strings) replaced by what earlier facts saved.
fn fill(v: &Value, saved: &BTreeMap<String, String>) -> Value {
    match v {
        Value::String(s) => match s.strip_prefix('$').and_then(|k| saved.get(k)) {
            Some(x) => Value::String(x.clone()),
            None => v.clone(),
        },
        Value::Array(a) => Value::Array(a.iter().map(|x| fill(x, saved)).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, x)| (k.clone(), fill(x, saved))).collect())
        }
        other => other.clone(),
    }
}

#[test]
fn every_fact_has_a_source_and_says_whether_it_is_verified() {
    for fact in facts() {
        let id = fact["id"].as_str().unwrap();
        assert!(
            fact["source"].as_str().is_some_and(|s| s.len() > 20),
            "{id}: no source"
        );
        match fact["verified"].as_bool() {
            Some(true) => {}
            Some(false) => assert!(
                fact["unverified"].as_str().is_some(),
                "{id}: unverified without what would confirm it"
            ),
            None => panic!("{id}: `verified` missing"),
        }
    }
}

#[tokio::test]
async fn the_simulator_answers_as_the_sources_say() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = PexipSimOptions::new(dir.path(), PASSWORD);
    opts.auto_bootstrap = true;
    opts.clock = ClockSource::Wall;
    opts.wizard.address = Some("10.0.0.10".into());
    opts.wizard.netmask = Some("255.255.255.0".into());
    opts.wizard.gateway = Some("10.0.0.1".into());
    let sim = pexip::start(opts).await.unwrap();
    let c = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let mut saved: BTreeMap<String, String> = BTreeMap::new();
    for fact in facts() {
        let id = fact["id"].as_str().unwrap();
        let req = fill(&fact["request"], &saved);
        let method: reqwest::Method = req["method"].as_str().unwrap().parse().unwrap();
        let path = req["path"].as_str().unwrap();
        let resp = if req["target"] == "node" {
            let base = sim.bootstrap_urls()[req["node"].as_str().unwrap()].clone();
            let body = saved[req["body_from"].as_str().unwrap()].clone();
            c.request(method, format!("{}{}", base, path.trim_start_matches('/')))
                .header("content-type", req["content_type"].as_str().unwrap())
                .body(body)
                .send()
                .await
                .unwrap()
        } else {
            let mut b = c
                .request(method, format!("{}{path}", sim.base_url()))
                .basic_auth("admin", Some(PASSWORD));
            if !req["body"].is_null() {
                b = b.json(&req["body"]);
            }
            b.send().await.unwrap()
        };
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = resp.text().await.unwrap();
        let exp = &fact["expect"];
        let ctx = format!("fact `{id}`: {status} {text}");
        if let Some(want) = exp["status"].as_u64() {
            assert_eq!(u64::from(status), want, "{ctx}");
        }
        if let Some(class) = exp["status_class"].as_u64() {
            assert_eq!(u64::from(status / 100), class, "{ctx}");
        }
        if let Some(prefix) = exp["location_prefix"].as_str() {
            let loc = location.clone().unwrap_or_default();
            let rest = loc
                .strip_prefix(prefix)
                .unwrap_or_else(|| panic!("{ctx}: {loc}"));
            let id_part = rest
                .strip_suffix('/')
                .unwrap_or_else(|| panic!("{ctx}: {loc}"));
            assert!(id_part.parse::<u64>().is_ok(), "{ctx}: {loc}");
        }
        if exp["body_nonempty"] == true {
            assert!(!text.trim().is_empty(), "{ctx}");
        }
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let first = &body["objects"][0];
        for key in exp["lacks"].as_array().into_iter().flatten() {
            assert!(
                body.get(key.as_str().unwrap()).is_none(),
                "{ctx}: has {key}"
            );
        }
        for (k, v) in exp["has"].as_object().into_iter().flatten() {
            assert_eq!(&body[k], v, "{ctx}: {k}");
        }
        for key in exp["has_keys"].as_array().into_iter().flatten() {
            assert!(body.get(key.as_str().unwrap()).is_some(), "{ctx}: no {key}");
        }
        for key in exp["first_has_keys"].as_array().into_iter().flatten() {
            assert!(
                first.get(key.as_str().unwrap()).is_some(),
                "{ctx}: no {key}"
            );
        }
        for (k, v) in exp["first_has"].as_object().into_iter().flatten() {
            assert_eq!(&first[k], v, "{ctx}: {k}");
        }
        if let Some(n) = exp["total_count"].as_u64() {
            assert_eq!(body["meta"]["total_count"], n, "{ctx}");
        }
        if let Some(name) = fact["save"].as_str() {
            if let Some(loc) = location {
                saved.insert(name.to_owned(), loc);
            }
            saved.insert(format!("{name}.body"), text);
        }
    }
    let ignored = sim.ignored().unwrap();
    assert!(
        ignored.is_empty(),
        "the facts' requests were ignored in part: {ignored:#?}"
    );
    sim.stop().await;
}
