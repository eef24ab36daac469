//! Ordinary changes to a running platform, end to end on the simulators (`--sim`, state in a
//! temporary copy of `specs/`): a region removed from the spec, a VCN's CIDR changed. Each
//! ends with exactly the resources of the new spec tagged with the stack (the OCI simulator,
//! asked directly over `/_sim/tagged`, says so), an empty next plan, and a destroy that
//! leaves nothing.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// Simulated seconds per real second in these tests.
const SPEED: &str = "1200";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn events(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    fn event(&self, name: &str) -> Value {
        self.events()
            .into_iter()
            .find(|e| e["event"] == name)
            .unwrap_or_else(|| panic!("no `{name}` event in:\n{}\n{}", self.stdout, self.stderr))
    }
}

fn pexspec(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::cargo_bin("pexspec").unwrap();
    cmd.current_dir(dir).args(args);
    for var in common::SECRETS {
        cmd.env_remove(var);
    }
    let output = cmd.output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn run_json(dir: &Path, verb: &str, spec: &str) -> Run {
    pexspec(
        dir,
        &[
            verb,
            spec,
            "--sim",
            "--sim-speed",
            SPEED,
            "--auto-approve",
            "--output",
            "json",
        ],
    )
}

/// `apply`, which must succeed with no failed step.
fn apply_ok(dir: &Path, spec: &str) -> Run {
    let run = run_json(dir, "apply", spec);
    assert_eq!(run.code, 0, "apply {spec}:\n{}\n{}", run.stdout, run.stderr);
    let report = &run.event("summary")["report"];
    assert_eq!(report["failed"], 0, "{report}");
    run
}

/// The plan of `spec` as JSON, and the human plan.
fn plans(dir: &Path, spec: &str) -> (Value, String) {
    let args = |format: &'static str| {
        [
            "plan",
            spec,
            "--sim",
            "--sim-speed",
            SPEED,
            "--format",
            format,
        ]
    };
    let json = pexspec(dir, &args("json"));
    assert_eq!(json.code, 0, "{}", json.stderr);
    let human = pexspec(dir, &args("human"));
    assert_eq!(human.code, 0, "{}", human.stderr);
    (
        serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("{e}: {}", json.stdout)),
        human.stdout,
    )
}

/// Asks the OCI simulator, over its own HTTP inspection endpoint, for everything tagged
/// with `stack` that is not gone: `pexspec-address` tag → region.
fn tagged(dir: &Path, stack: &str) -> BTreeMap<String, String> {
    let state = dir.join("specs/.pexspec/sim");
    let list = common::tagged_resources(&state, stack);
    let mut out = BTreeMap::new();
    for item in list {
        let address = item["address"].as_str().unwrap_or_default().to_owned();
        let region = item["region"].as_str().unwrap_or_default().to_owned();
        assert!(
            out.insert(address.clone(), region).is_none(),
            "two live resources tagged `{address}`"
        );
    }
    out
}

/// The OCI resources a plan's graph holds that carry tags (an object is found by its
/// metadata, an image's shape and a peering are states of other resources).
fn tagged_kinds_of(plan: &Value) -> BTreeSet<String> {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "delete")
        .filter(|c| {
            !matches!(
                c["kind"].as_str().unwrap(),
                "object"
                    | "image_shape"
                    | "rpc_peering"
                    | "worker_vm"
                    | "node_bootstrap"
                    | "management_bootstrap"
                    | "system_location"
                    | "dns_server"
                    | "ntp_server"
                    | "licence"
                    | "license"
                    | "tls_certificate"
                    | "conference"
                    | "conference_alias"
                    | "management_vm"
            )
        })
        .filter(|c| c["kind"].as_str().is_some_and(is_oci_tagged))
        .map(|c| c["address"].as_str().unwrap().to_owned())
        .collect()
}

/// The OCI kinds that carry the stack's tags.
fn is_oci_tagged(kind: &str) -> bool {
    matches!(
        kind,
        "compartment"
            | "bucket"
            | "image"
            | "vcn"
            | "internet_gateway"
            | "drg"
            | "drg_attachment"
            | "rpc"
            | "route_table"
            | "security_list"
            | "subnet"
            | "instance"
            | "public_ip"
    )
}

/// Position of `address` in the plan's changes.
fn position(plan: &Value, address: &str) -> usize {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["address"] == address)
        .unwrap_or_else(|| panic!("`{address}` is not in the plan"))
}

fn change<'p>(plan: &'p Value, address: &str) -> &'p Value {
    &plan["changes"][position(plan, address)]
}

/// Removes the lines of `text` from the one equal to `first` (trimmed) up to, not
/// including, the next line of the same or lesser indentation that starts a new item.
fn without_item(text: &str, first: &str) -> String {
    let mut out = Vec::new();
    let mut skipping: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(at) = skipping {
            let ends = !line.trim().is_empty()
                && (indent < at || (indent == at && line.trim_start().starts_with("- ")));
            if !ends {
                continue;
            }
            skipping = None;
        }
        if line.trim() == first {
            skipping = Some(indent);
            continue;
        }
        out.push(line);
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}

/// The two-region spec without Zurich: its region, its node and its location (and the
/// capacity the two Frankfurt nodes carry).
fn without_zurich(dir: &Path, spec: &str) {
    let path = dir.join(spec);
    let text = std::fs::read_to_string(&path).unwrap();
    let text = without_item(&text, "- name: eu-zurich-1");
    let text = without_item(&text, "- name: pexconf-zrh01");
    let text = text
        .replace(
            "locations: [{ name: Frankfurt }, { name: Zurich }]",
            "locations: [{ name: Frankfurt }]",
        )
        .replace("hd_calls: 50", "hd_calls: 40");
    assert!(!text.contains("zurich") && !text.contains("zrh"), "{text}");
    std::fs::write(&path, text).unwrap();
    let lint = pexspec(dir, &["lint", spec]);
    assert_eq!(lint.code, 0, "{}{}", lint.stdout, lint.stderr);
}

#[test]
fn removing_a_region_deletes_everything_of_it_and_nothing_is_left() {
    let site = common::site();
    let dir = site.path();
    let spec = "specs/zurich-frankfurt.yaml";
    apply_ok(dir, spec);
    let before = tagged(dir, "pexdocs");
    let zurich: BTreeSet<String> = before
        .iter()
        .filter(|(_, region)| region.as_str() == "eu-zurich-1")
        .map(|(a, _)| a.clone())
        .collect();
    assert!(zurich.len() >= 10, "{before:?}");
    let image = zurich
        .iter()
        .find(|a| a.starts_with("image["))
        .unwrap_or_else(|| panic!("no image in Zurich: {zurich:?}"))
        .clone();

    without_zurich(dir, spec);

    let (plan, human) = plans(dir, spec);
    // Every resource of the stack in Zurich is deleted, the node drained first.
    for address in &zurich {
        let c = change(&plan, address);
        assert_eq!(c["action"], "delete", "{c}\n{human}");
        assert!(
            human.contains(&format!("- {address}")),
            "{address}\n{human}"
        );
    }
    for (address, then) in [
        ("worker_vm[pexconf-zrh01]", "instance[pexconf-zrh01]"),
        ("worker_vm[pexconf-zrh01]", "system_location[Zurich]"),
        ("public_ip[pexconf-zrh01]", "instance[pexconf-zrh01]"),
        ("instance[pexconf-zrh01]", "subnet[eu-zurich-1]"),
        ("subnet[eu-zurich-1]", "vcn[eu-zurich-1]"),
        ("subnet[eu-zurich-1]", "route_table[eu-zurich-1]"),
        ("subnet[eu-zurich-1]", "security_list[eu-zurich-1]"),
        ("route_table[eu-zurich-1]", "internet_gateway[eu-zurich-1]"),
        ("drg_attachment[eu-zurich-1]", "vcn[eu-zurich-1]"),
        ("drg_attachment[eu-zurich-1]", "drg[eu-zurich-1]"),
        ("rpc[eu-zurich-1:eu-frankfurt-1]", "drg[eu-zurich-1]"),
    ]
    .into_iter()
    .chain([("instance[pexconf-zrh01]", image.as_str())])
    {
        assert!(
            position(&plan, address) < position(&plan, then),
            "`{address}` must be deleted before `{then}`:\n{human}"
        );
        let waits: Vec<&str> = change(&plan, then)["depends_on"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            waits.contains(&address),
            "`{then}` does not wait for `{address}`: {waits:?}"
        );
    }
    assert!(
        human.contains("eu-zurich-1"),
        "the plan does not show the region's group:\n{human}"
    );

    let applied = apply_ok(dir, spec);
    assert_eq!(
        applied.event("summary")["report"]["deleted"].as_u64(),
        plan["summary"]["delete"].as_u64()
    );
    // Exactly the resources of the new spec are left.
    let (after, human) = plans(dir, spec);
    assert!(
        after["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["action"] == "noop"),
        "{human}"
    );
    let left: BTreeSet<String> = tagged(dir, "pexdocs").into_keys().collect();
    assert_eq!(left, tagged_kinds_of(&after));
    assert!(left.iter().all(|a| !zurich.contains(a)), "{left:?}");

    let gone = run_json(dir, "destroy", spec);
    assert_eq!(gone.code, 0, "{}\n{}", gone.stdout, gone.stderr);
    assert_eq!(gone.event("summary")["report"]["failed"], 0);
    let left = tagged(dir, "pexdocs");
    assert!(left.is_empty(), "destroy left: {left:?}");
}

#[test]
fn destroy_finds_a_region_the_spec_no_longer_names() {
    let site = common::site();
    let dir = site.path();
    let spec = "specs/zurich-frankfurt.yaml";
    apply_ok(dir, spec);
    without_zurich(dir, spec);
    // No apply in between: destroy of the edited spec finds Zurich by the stack's tags.
    let gone = run_json(dir, "destroy", spec);
    assert_eq!(gone.code, 0, "{}\n{}", gone.stdout, gone.stderr);
    assert_eq!(gone.event("summary")["report"]["failed"], 0);
    let left = tagged(dir, "pexdocs");
    assert!(left.is_empty(), "destroy left: {left:?}");
}

#[test]
fn changing_a_vcn_cidr_replaces_dependents_first_and_converges() {
    let site = common::site();
    let dir = site.path();
    let spec = "specs/quickstart.yaml";
    apply_ok(dir, spec);

    // A new VCN CIDR, and the subnet and addresses in it.
    let path = dir.join(spec);
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text
        .replace("vcn_cidr: 10.0.0.0/16", "vcn_cidr: 10.7.0.0/16")
        .replace("subnet_cidr: 10.0.0.0/24", "subnet_cidr: 10.7.0.0/24")
        .replace("private_ip: 10.0.0.", "private_ip: 10.7.0.");
    assert!(!text.contains("10.0.0."), "{text}");
    std::fs::write(&path, text).unwrap();
    let lint = pexspec(dir, &["lint", spec]);
    assert_eq!(lint.code, 0, "{}{}", lint.stdout, lint.stderr);

    let (plan, human) = plans(dir, spec);
    let vcn = "vcn[eu-frankfurt-1]";
    assert_eq!(change(&plan, vcn)["action"], "replace", "{human}");
    // The VCN's old resource goes after the old ones of everything in it, and the plan
    // shows it.
    let first: Vec<&str> = change(&plan, vcn)["delete_after"]
        .as_array()
        .unwrap_or_else(|| panic!("no `delete_after`:\n{human}"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for inside in [
        "subnet[eu-frankfurt-1]",
        "route_table[eu-frankfurt-1]",
        "security_list[eu-frankfurt-1]",
        "internet_gateway[eu-frankfurt-1]",
    ] {
        assert_eq!(change(&plan, inside)["action"], "replace", "{human}");
        assert!(first.contains(&inside), "{first:?}\n{human}");
        assert!(
            change(&plan, inside)["reason"]
                .as_str()
                .unwrap()
                .contains("`vcn[eu-frankfurt-1]` is replaced"),
            "{human}"
        );
    }
    let subnet_first: Vec<&str> = change(&plan, "subnet[eu-frankfurt-1]")["delete_after"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(subnet_first.contains(&"instance[pexconf01]"), "{human}");
    assert!(human.contains("(the old one is deleted after"), "{human}");

    let applied = apply_ok(dir, spec);
    let report = &applied.event("summary")["report"];
    assert_eq!(
        report["replaced"].as_u64(),
        plan["summary"]["replace"].as_u64(),
        "{report}"
    );

    // Exactly the new spec's resources remain, and the next plan is empty.
    let (after, human) = plans(dir, spec);
    let busy: Vec<&Value> = after["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "noop")
        .collect();
    assert!(busy.is_empty(), "{human}");
    let left: BTreeSet<String> = tagged(dir, "quickstart").into_keys().collect();
    assert_eq!(left, tagged_kinds_of(&after));
}
