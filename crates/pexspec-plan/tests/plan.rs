//! Plans of the example specs against an empty cloud (snapshots and counts), and plans
//! against a cloud that has drifted: updates, replacements with their reasons, deletes in
//! order, and no perpetual diffs.

mod common;

use std::collections::BTreeMap;

use common::*;
use pexspec_graph::Kind;
use pexspec_plan::{
    Action, DynProvider, InMemoryProvider, ObservedState, Plan, Provider, Scope, plan,
    render_human, retry_token,
};
use serde_json::json;

fn kinds(plan: &Plan) -> BTreeMap<&'static str, usize> {
    let mut out = BTreeMap::new();
    for c in &plan.changes {
        *out.entry(c.kind.as_str()).or_insert(0) += 1;
    }
    out
}

fn human(plan: &Plan) -> String {
    let mut out = Vec::new();
    render_human(plan, false, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn every_example_spec_plans_against_an_empty_cloud() {
    let mut paths: Vec<_> = std::fs::read_dir(specs_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.push(fixture("three-regions.yaml"));
    for path in paths {
        let g = graph(&spec_file(&path));
        let p = plan(&g, &ObservedState::new());
        assert_eq!(p.summary.create, g.len(), "{}", path.display());
        assert!(p.changes.iter().all(|c| c.action == Action::Create));
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        insta::assert_json_snapshot!(format!("plan-{name}"), p);
        // The JSON of the plan is the same bytes every time.
        assert_eq!(
            p.to_json(),
            plan(&graph(&spec_file(&path)), &ObservedState::new()).to_json()
        );
    }
}

#[test]
fn zurich_frankfurt_creates_what_the_guide_creates() {
    let g = graph(&spec_file(&specs_dir().join("zurich-frankfurt.yaml")));
    let p = plan(&g, &ObservedState::new());
    let k = kinds(&p);
    assert_eq!(k["vcn"], 2);
    assert_eq!(k["drg"], 2);
    assert_eq!(k["drg_attachment"], 2);
    assert_eq!(k["rpc"], 2);
    assert_eq!(k["rpc_peering"], 1);
    assert_eq!(
        k["image"], 3,
        "Conferencing Node image in both regions, Management in one"
    );
    assert!(p.change(&a("image[conferencing:eu-zurich-1]")).is_some());
    assert!(p.change(&a("image[conferencing:eu-frankfurt-1]")).is_some());
    assert_eq!(k["instance"], 4);
    assert_eq!(k["public_ip"], 3);
    assert_eq!(k["worker_vm"], 3);
    assert_eq!(k["node_bootstrap"], 3);
    let json: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["summary"]["create"], g.len());
    let first = &json["changes"][0];
    for field in ["address", "kind", "action", "reason", "depends_on"] {
        assert!(first.get(field).is_some(), "{field}");
    }
    insta::assert_snapshot!("human-zurich-frankfurt", human(&p));
}

#[test]
fn three_regions_make_three_pairs_and_six_rpcs() {
    let g = graph(&spec_file(&fixture("three-regions.yaml")));
    let p = plan(&g, &ObservedState::new());
    let k = kinds(&p);
    assert_eq!(k["drg"], 3);
    assert_eq!(k["drg_attachment"], 3);
    assert_eq!(k["rpc"], 6);
    assert_eq!(k["rpc_peering"], 3);
    for pair in [
        "rpc_peering[eu-frankfurt-1:eu-zurich-1]",
        "rpc_peering[eu-frankfurt-1:uk-london-1]",
        "rpc_peering[eu-zurich-1:uk-london-1]",
    ] {
        let c = p.change(&a(pair)).unwrap();
        assert_eq!(c.depends_on.len(), 2, "{pair}: both RPCs");
    }
    for region in ["eu-frankfurt-1", "eu-zurich-1", "uk-london-1"] {
        let node = g.get(&a(&format!("route_table[{region}]"))).unwrap();
        let desired = node.desired();
        let rules = desired["route_rules"].as_array().unwrap();
        assert_eq!(rules.len(), 3, "{region}: internet and both peers");
    }
}

#[test]
fn a_plan_after_apply_is_empty_for_every_example() {
    let mut paths: Vec<_> = std::fs::read_dir(specs_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.push(fixture("three-regions.yaml"));
    for path in paths {
        let g = graph(&spec_file(&path));
        let cloud = InMemoryProvider::new();
        converge(&g, &cloud);
        let again = plan(&g, &observe(&g, &cloud));
        assert!(again.is_empty(), "{}: {}", path.display(), human(&again));
        assert_eq!(again.summary.noop, g.len());
        assert_eq!(
            human(&again),
            format!(
                "No changes: the cloud matches the spec ({} resources).\n",
                g.len()
            )
        );
    }
}

fn zurich_frankfurt() -> String {
    std::fs::read_to_string(specs_dir().join("zurich-frankfurt.yaml")).unwrap()
}

#[test]
fn changes_are_updates_or_replacements_with_reasons() {
    let cloud = InMemoryProvider::new();
    let before = graph(&spec_text(&zurich_frankfurt()));
    converge(&before, &cloud);
    let text = zurich_frankfurt()
        // Flex shape size: in place.
        .replace(
            "shape: { name: VM.Optimized3.Flex, ocpus: 4, memory_gb: 8 }\n    hostname: pexconf01",
            "shape: { name: VM.Optimized3.Flex, ocpus: 8, memory_gb: 16 }\n    hostname: pexconf01",
        )
        // Shape name: replacement, and the node is registered again.
        .replace(
            "shape: { name: VM.Standard3.Flex, ocpus: 4, memory_gb: 16 }\n    hostname: pexconf-zrh01",
            "shape: { name: VM.Optimized3.Flex, ocpus: 4, memory_gb: 8 }\n    hostname: pexconf-zrh01",
        )
        // An extra rule: the security lists change in place.
        .replace("description: partner }", "description: partner }\n    - { source: 203.0.113.0/24, protocol: tcp, ports: \"443\" }");
    let after = graph(&spec_text(&text));
    let p = plan(&after, &observe(&after, &cloud));
    let action = |addr: &str| p.change(&a(addr)).unwrap().action;
    let reason = |addr: &str| p.change(&a(addr)).unwrap().reason.to_string();

    assert_eq!(action("instance[pexconf01]"), Action::Update);
    assert_eq!(reason("instance[pexconf01]"), "`shape_config` differs");
    assert_eq!(action("worker_vm[pexconf01]"), Action::Noop);

    assert_eq!(action("instance[pexconf-zrh01]"), Action::Replace);
    assert_eq!(
        reason("instance[pexconf-zrh01]"),
        "`shape` cannot change in place"
    );
    let diff = &p.change(&a("instance[pexconf-zrh01]")).unwrap().diff;
    let shape = diff.iter().find(|d| d.field == "shape").unwrap();
    assert!(shape.forces_replacement);
    assert_eq!(shape.old, json!("VM.Standard3.Flex"));
    assert_eq!(shape.new, json!("VM.Optimized3.Flex"));
    // The new shape needs a compatibility entry on Zurich's image.
    assert_eq!(
        action("image_shape[conferencing:eu-zurich-1:VM.Optimized3.Flex]"),
        Action::Create
    );
    // The new VM needs a new registration and configuration file; the reserved IP is
    // re-bound, not replaced.
    assert_eq!(action("worker_vm[pexconf-zrh01]"), Action::Replace);
    assert_eq!(
        reason("worker_vm[pexconf-zrh01]"),
        "`instance[pexconf-zrh01]` is replaced"
    );
    assert_eq!(action("node_bootstrap[pexconf-zrh01]"), Action::Replace);
    assert_eq!(action("public_ip[pexconf-zrh01]"), Action::Update);

    assert_eq!(action("security_list[eu-zurich-1]"), Action::Update);
    assert_eq!(
        reason("security_list[eu-zurich-1]"),
        "`ingress_security_rules` differs"
    );

    assert_eq!(p.summary.delete, 0);
    insta::assert_snapshot!("human-changes", human(&p));

    apply_and_check_empty(&after, &p, &cloud);
}

fn apply_and_check_empty(g: &pexspec_graph::Graph, p: &Plan, cloud: &InMemoryProvider) {
    pexspec_plan::apply_plan(g, p, cloud).unwrap();
    let again = plan(g, &observe(g, cloud));
    assert!(again.is_empty(), "{}", human(&again));
}

#[test]
fn a_new_vcn_cidr_replaces_the_network_below_it() {
    let cloud = InMemoryProvider::new();
    let before = graph(&spec_text(&zurich_frankfurt()));
    converge(&before, &cloud);
    let text = zurich_frankfurt()
        .replace("vcn_cidr: 10.41.0.0/16", "vcn_cidr: 10.42.0.0/16")
        .replace("subnet_cidr: 10.41.0.0/24", "subnet_cidr: 10.42.0.0/24")
        .replace("10.41.0.31", "10.42.0.31");
    let after = graph(&spec_text(&text));
    let p = plan(&after, &observe(&after, &cloud));
    let c = p.change(&a("vcn[eu-zurich-1]")).unwrap();
    assert_eq!(c.action, Action::Replace);
    assert_eq!(c.reason, "`cidr_block` cannot change in place");
    for replaced in [
        "internet_gateway[eu-zurich-1]",
        "subnet[eu-zurich-1]",
        "route_table[eu-zurich-1]",
        "security_list[eu-zurich-1]",
        "drg_attachment[eu-zurich-1]",
        "instance[pexconf-zrh01]",
        "worker_vm[pexconf-zrh01]",
    ] {
        assert_eq!(
            p.change(&a(replaced)).unwrap().action,
            Action::Replace,
            "{replaced}"
        );
    }
    // Frankfurt routes to the new CIDR and admits IPsec from it: updates in place.
    assert_eq!(
        p.change(&a("route_table[eu-frankfurt-1]")).unwrap().action,
        Action::Update
    );
    assert_eq!(
        p.change(&a("security_list[eu-frankfurt-1]"))
            .unwrap()
            .action,
        Action::Update
    );
    assert_eq!(
        p.change(&a("vcn[eu-frankfurt-1]")).unwrap().action,
        Action::Noop
    );
    apply_and_check_empty(&after, &p, &cloud);
}

#[test]
fn removed_resources_are_deleted_dependents_first() {
    let cloud = InMemoryProvider::new();
    let before = graph(&spec_text(&zurich_frankfurt()));
    converge(&before, &cloud);
    // Drop Zurich: its node, its region and everything of the peering.
    let text = zurich_frankfurt();
    let node_start = text.find("  - name: pexconf-zrh01").unwrap();
    let node_end = text.find("capacity:").unwrap();
    let mut text = format!("{}{}", &text[..node_start], &text[node_end..]);
    text = text.replace(
        "  - name: eu-zurich-1\n    vcn_cidr: 10.41.0.0/16\n    subnet_cidr: 10.41.0.0/24\n",
        "",
    );
    let after = graph(&spec_text(&text));
    let p = plan(&after, &observe(&after, &cloud));
    let deleted: Vec<String> = p
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| c.address.to_string())
        .collect();
    let at = |addr: &str| {
        deleted
            .iter()
            .position(|d| d == addr)
            .unwrap_or_else(|| panic!("{addr} is not deleted: {deleted:?}"))
    };
    assert!(at("node_bootstrap[pexconf-zrh01]") < at("worker_vm[pexconf-zrh01]"));
    assert!(at("worker_vm[pexconf-zrh01]") < at("public_ip[pexconf-zrh01]"));
    assert!(at("public_ip[pexconf-zrh01]") < at("instance[pexconf-zrh01]"));
    assert!(at("instance[pexconf-zrh01]") < at("subnet[eu-zurich-1]"));
    assert!(at("subnet[eu-zurich-1]") < at("vcn[eu-zurich-1]"));
    assert!(at("rpc_peering[eu-frankfurt-1:eu-zurich-1]") < at("rpc[eu-frankfurt-1:eu-zurich-1]"));
    assert!(at("rpc[eu-frankfurt-1:eu-zurich-1]") < at("drg[eu-frankfurt-1]"));
    // Frankfurt's route table drops the route to Zurich's DRG before that DRG goes.
    let routes = p.change(&a("route_table[eu-frankfurt-1]")).unwrap();
    assert_eq!(routes.action, Action::Update);
    let drg = p.change(&a("drg[eu-frankfurt-1]")).unwrap();
    assert!(
        drg.depends_on.contains(&a("route_table[eu-frankfurt-1]")),
        "{:?}",
        drg.depends_on
    );
    assert!(
        drg.depends_on
            .contains(&a("rpc[eu-frankfurt-1:eu-zurich-1]"))
    );
    assert_eq!(
        p.change(&a("system_location[Zurich]")).unwrap().action,
        Action::Noop
    );
    insta::assert_snapshot!("human-deletes", human(&p));
    apply_and_check_empty(&after, &p, &cloud);
}

#[test]
fn rule_order_in_the_cloud_never_shows_as_a_change() {
    let cloud = InMemoryProvider::new();
    let g = graph(&spec_text(&zurich_frankfurt()));
    converge(&g, &cloud);
    for region in ["eu-zurich-1", "eu-frankfurt-1"] {
        cloud.mutate("pexdocs", &a(&format!("security_list[{region}]")), |o| {
            let rules = o.fields["ingress_security_rules"].as_array_mut().unwrap();
            rules.reverse();
            rules.rotate_left(3);
            // The cloud spells numbers its own way and reports absent options as null.
            for rule in rules.iter_mut() {
                if rule.get("tcp_options").is_none() {
                    rule["tcp_options"] = json!(null);
                }
                if let Some(range) = rule.pointer_mut("/tcp_options/destination_port_range/min") {
                    *range = json!(range.as_f64().unwrap());
                }
            }
        });
        cloud.mutate("pexdocs", &a(&format!("route_table[{region}]")), |o| {
            o.fields["route_rules"].as_array_mut().unwrap().reverse();
        });
    }
    cloud.mutate("pexdocs", &a("instance[pexconf01]"), |o| {
        o.fields["shape_config"] = json!({"ocpus": 4, "memory_in_gbs": 8, "vcpus": 8});
    });
    let p = plan(&g, &observe(&g, &cloud));
    assert!(p.is_empty(), "{}", human(&p));
}

#[test]
fn drift_in_the_cloud_is_repaired() {
    let cloud = InMemoryProvider::new();
    let g = graph(&spec_text(&zurich_frankfurt()));
    converge(&g, &cloud);
    cloud.mutate("pexdocs", &a("security_list[eu-zurich-1]"), |o| {
        let rules = o.fields["ingress_security_rules"].as_array_mut().unwrap();
        rules.push(json!({"protocol": "6", "source": "0.0.0.0/0", "source_type": "CIDR_BLOCK",
            "is_stateless": false, "tcp_options": {"destination_port_range": {"min": 22, "max": 22}}}));
    });
    cloud.mutate("pexdocs", &a("conference[Board room]"), |o| {
        o.fields["pin"] = json!({"$secret": "env:OLD_PIN"});
    });
    let p = plan(&g, &observe(&g, &cloud));
    let sl = p.change(&a("security_list[eu-zurich-1]")).unwrap();
    assert_eq!(sl.action, Action::Update);
    let text = human(&p);
    assert!(
        text.contains("          - {protocol: \"6\", source: \"0.0.0.0/0\""),
        "{text}"
    );
    let room = p.change(&a("conference[Board room]")).unwrap();
    assert_eq!(room.action, Action::Update);
    assert_eq!(room.diff[0].old, json!("(sensitive)"));
    assert_eq!(room.diff[0].new, json!({"$secret": "env:BOARD_PIN"}));
    apply_and_check_empty(&g, &p, &cloud);
}

#[test]
fn a_resource_created_but_not_yet_listed_is_waited_for() {
    let g = graph(&spec_text(&zurich_frankfurt()));
    let mut observed = ObservedState::new();
    observed.pending.insert(a("vcn[eu-zurich-1]"));
    let p = plan(&g, &observed);
    let c = p.change(&a("vcn[eu-zurich-1]")).unwrap();
    assert_eq!((c.action, c.pending), (Action::Noop, true));
    assert!(human(&p).contains("  ? vcn[eu-zurich-1]: created, not yet listed"));
}

#[test]
fn an_existing_resource_not_ready_yet_is_a_wait_and_what_depends_on_it_waits() {
    let g = graph(&spec_text(&zurich_frankfurt()));
    let cloud = InMemoryProvider::new();
    converge(&g, &cloud);
    let mut observed = observe(&g, &cloud);
    let image = a("image[conferencing:eu-zurich-1]");
    let instance = a("instance[pexconf-zrh01]");
    // A crash during the import: the image exists, importing; its instance does not.
    observed.resources.get_mut(&image).unwrap().state = Some("IMPORTING".into());
    observed.resources.remove(&instance);
    let p = plan(&g, &observed);
    let c = p.change(&image).unwrap();
    assert_eq!(c.action, Action::Noop);
    assert_eq!(c.wait.as_deref(), Some("IMPORTING"));
    assert_eq!(p.change(&instance).unwrap().action, Action::Create);
    assert!(p.change(&instance).unwrap().depends_on.contains(&image));
    let text = human(&p);
    assert!(
        text.contains("  … image[conferencing:eu-zurich-1]: exists, `IMPORTING`"),
        "{text}"
    );
    assert!(
        text.contains("1 existing resource is not ready yet"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
    let entry = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "image[conferencing:eu-zurich-1]")
        .unwrap();
    assert_eq!(entry["wait"], "IMPORTING");
    // Ready, it is a plain noop again.
    observed.resources.get_mut(&image).unwrap().state = Some("AVAILABLE".into());
    let p = plan(&g, &observed);
    assert_eq!(p.change(&image).unwrap().wait, None);
    assert!(!human(&p).contains('…'));
}

#[test]
fn a_removed_optional_field_is_unset() {
    let cloud = InMemoryProvider::new();
    let g = graph(&spec_text(&zurich_frankfurt()));
    converge(&g, &cloud);
    let text = zurich_frankfurt().replace("    ipv6_address: 2001:db8::31\n", "");
    let after = graph(&spec_text(&text));
    let p = plan(&after, &observe(&after, &cloud));
    let c = p.change(&a("worker_vm[pexconf01]")).unwrap();
    assert_eq!(c.action, Action::Update);
    assert_eq!(c.diff[0].field, "ipv6_address");
    assert_eq!(c.diff[0].new, json!(null));
}

#[test]
fn colour_is_optional_and_json_has_no_secret_values() {
    let g = graph(&spec_text(&zurich_frankfurt()));
    let p = plan(&g, &ObservedState::new());
    let mut coloured = Vec::new();
    render_human(&p, true, &mut coloured).unwrap();
    let coloured = String::from_utf8(coloured).unwrap();
    assert!(
        coloured.contains("  \x1b[32m  + compartment\x1b[0m"),
        "{coloured}"
    );
    assert!(!human(&p).contains('\x1b'));
    let counts = format!(
        "Plan: {} to create, 0 to update, 0 to replace, 0 to delete.\n",
        g.len()
    );
    assert!(human(&p).ends_with(&counts));
    let json = p.to_json();
    assert!(
        json.contains("\"$secret\": \"env:PEXIP_ADMIN_PASSWORD\"")
            || !json.contains("PEXIP_ADMIN_PASSWORD")
    );
}

#[test]
fn retry_tokens_are_deterministic_and_content_addressed() {
    let t1 = retry_token("s", &a("vcn[x]"), &json!({"a": 1, "b": 2}));
    let t2 = retry_token("s", &a("vcn[x]"), &json!({"b": 2, "a": 1}));
    assert_eq!(t1, t2);
    assert_eq!(t1.len(), 64);
    assert!(t1.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(t1, retry_token("s", &a("vcn[y]"), &json!({"a": 1, "b": 2})));
    assert_ne!(t1, retry_token("t", &a("vcn[x]"), &json!({"a": 1, "b": 2})));
    assert_ne!(t1, retry_token("s", &a("vcn[x]"), &json!({"a": 1, "b": 3})));
}

#[test]
fn the_fake_cloud_keeps_the_provider_contract() {
    let cloud = InMemoryProvider::new();
    let address = a("vcn[x]");
    let desired = json!({"cidr_block": "10.0.0.0/16"});
    let token = retry_token("s", &address, &desired);
    let request = pexspec_plan::CreateRequest {
        stack: "s",
        address: &address,
        region: Some("x"),
        desired: &desired,
        retry_token: &token,
        input: None,
    };
    let first = cloud.create_now(&request).unwrap();
    // The answer was lost and the create sent again: the same resource comes back.
    let second = cloud.create_now(&request).unwrap();
    assert_eq!(first.observed.id, second.observed.id);
    assert_eq!(cloud.len("s"), 1);
    // A stale etag is a conflict, retryable.
    let err = cloud
        .update_now(&pexspec_plan::UpdateRequest {
            stack: "s",
            address: &address,
            region: Some("x"),
            id: &first.observed.id,
            etag: Some("stale"),
            desired: &desired,
            changed: &[],
        })
        .unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(err.class(), pexspec_plan::ErrorClass::Conflict);
    // An unresolved reference never reaches the cloud.
    let bad = json!({"vcn_id": {"$ref": "vcn[x].id"}});
    let subnet = a("subnet[x]");
    let err = cloud
        .create_now(&pexspec_plan::CreateRequest {
            address: &subnet,
            desired: &bad,
            ..request
        })
        .unwrap_err();
    assert_eq!(err.class(), pexspec_plan::ErrorClass::Internal);
    // The fingerprint moves when the cloud does.
    let scope = Scope {
        stack: "s".into(),
        regions: vec!["x".into()],
    };
    let before = cloud.observe_now(&scope).fingerprint();
    cloud.mutate("s", &address, |_| {});
    assert_ne!(before, cloud.observe_now(&scope).fingerprint());
    // The worker_vm configuration file is sensitive.
    let worker = a("worker_vm[n]");
    let created = cloud
        .create_now(&pexspec_plan::CreateRequest {
            address: &worker,
            desired: &json!({}),
            retry_token: "w",
            ..request
        })
        .unwrap();
    assert_eq!(format!("{:?}", created.output.unwrap()), "<redacted>");
}

/// Drives a future that never waits (the in-memory provider's), without a runtime.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => panic!("the in-memory provider never waits"),
    }
}

#[test]
fn providers_work_through_the_trait_and_boxed() {
    let g = graph(&spec_text(&zurich_frankfurt()));
    let cloud = InMemoryProvider::new();
    converge(&g, &cloud);
    let scope = Scope::of(&g);
    let direct = block_on(Provider::observe(&cloud, &scope)).unwrap();
    let providers: Vec<Box<dyn DynProvider>> = vec![Box::new(cloud)];
    let boxed = block_on(providers[0].observe(&scope)).unwrap();
    assert_eq!(direct, boxed);
    assert_eq!(providers[0].kinds().len(), Kind::ALL.len());
    assert!(plan(&g, &boxed).is_empty());
}
