//! Fidelity: the official OCI CLI (PyPI `oci-cli`) runs the operations pexspec uses against
//! the simulator, with the config file and test key the simulator writes.
//!
//! The CLI is found through `PEXSPEC_OCI_CLI` (path to the `oci` binary) or on `PATH`.
//! Without it the test fails when `CI` is set and is skipped otherwise. Install it with
//! `python3 -m venv /work/.venv-oci && /work/.venv-oci/bin/pip install oci-cli`.

use std::path::{Path, PathBuf};
use std::process::Command;

use pexspec_sim::{RunningSim, ServeOptions, SimClock, serve};
use serde_json::Value;

fn find_cli() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PEXSPEC_OCI_CLI") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("oci"))
        .find(|p| p.is_file())
}

struct Cli {
    bin: PathBuf,
    config: PathBuf,
    home: tempfile::TempDir,
}

struct Out {
    ok: bool,
    json: Value,
    stderr: String,
}

impl Cli {
    /// Runs `oci --config-file … --endpoint <endpoint> <args>` off the async runtime.
    async fn run(&self, endpoint: &str, args: &[&str]) -> Out {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--config-file")
            .arg(&self.config)
            .args(["--profile", "DEFAULT", "--endpoint", endpoint])
            .args(args)
            .env("HOME", self.home.path())
            .env("OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING", "True")
            .env("SUPPRESS_LABEL_WARNING", "True")
            .current_dir(self.home.path());
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        Out {
            ok: out.status.success(),
            json: serde_json::from_str(&stdout).unwrap_or(Value::Null),
            stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        }
    }

    /// Runs a command that must succeed; returns its JSON output.
    async fn ok(&self, endpoint: &str, args: &[&str]) -> Value {
        let o = self.run(endpoint, args).await;
        assert!(o.ok, "oci {} failed:\n{}", args.join(" "), o.stderr);
        o.json
    }
}

fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}

#[allow(clippy::print_stderr)]
fn skip_or_fail() {
    let msg = "the official OCI CLI was not found: set PEXSPEC_OCI_CLI or put `oci` on PATH \
               (python3 -m venv /work/.venv-oci && /work/.venv-oci/bin/pip install oci-cli)";
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("skipped: {msg}");
}

async fn start() -> Option<(RunningSim, Cli)> {
    let Some(bin) = find_cli() else {
        skip_or_fail();
        return None;
    };
    let sim = serve(
        ServeOptions::default()
            .region("eu-frankfurt-1")
            .region("eu-amsterdam-1")
            .clock(SimClock::scaled(1000.0)),
    )
    .await
    .unwrap();
    let cli = Cli {
        bin,
        config: sim.config_file().to_path_buf(),
        home: tempfile::tempdir().unwrap(),
    };
    Some((sim, cli))
}

async fn wait_for(cli: &Cli, ep: &str, args: &[&str], field: &str, want: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..15 {
        last = cli.ok(ep, args).await;
        if last["data"][field] == want {
            return last;
        }
    }
    panic!("{field} never became {want}: {last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_cli_deploys_against_the_simulator() {
    let Some((sim, cli)) = start().await else {
        return;
    };
    let fra = sim.endpoint("eu-frankfurt-1").unwrap().to_string();
    let ams = sim.endpoint("eu-amsterdam-1").unwrap().to_string();
    let ep = fra.as_str();

    // Identity.
    let comp = cli
        .ok(
            ep,
            &[
                "iam",
                "compartment",
                "create",
                "--compartment-id",
                sim.tenancy_ocid(),
                "--name",
                "pexip",
                "--description",
                "Pexip deployment",
                "--wait-for-state",
                "ACTIVE",
                "--wait-interval-seconds",
                "1",
            ],
        )
        .await;
    let c = s(&comp["data"]["id"]);
    assert_eq!(comp["data"]["lifecycle-state"], "ACTIVE");
    let ads = cli
        .ok(
            ep,
            &["iam", "availability-domain", "list", "--compartment-id", &c],
        )
        .await;
    let ad = s(&ads["data"][0]["name"]);
    assert_eq!(ad, "Pjwf:EU-FRANKFURT-1-AD-1");

    // Networking.
    let vcn = cli
        .ok(
            ep,
            &[
                "network",
                "vcn",
                "create",
                "--compartment-id",
                &c,
                "--cidr-blocks",
                r#"["10.0.0.0/16"]"#,
                "--display-name",
                "pexip-vcn",
                "--dns-label",
                "pexip",
                "--wait-for-state",
                "AVAILABLE",
                "--wait-interval-seconds",
                "1",
            ],
        )
        .await;
    let v = s(&vcn["data"]["id"]);
    assert_eq!(vcn["data"]["cidr-blocks"][0], "10.0.0.0/16");
    cli.ok(
        ep,
        &[
            "network",
            "vcn",
            "create",
            "--compartment-id",
            &c,
            "--cidr-block",
            "10.9.0.0/16",
            "--display-name",
            "second",
        ],
    )
    .await;
    let page1 = cli
        .ok(
            ep,
            &[
                "network",
                "vcn",
                "list",
                "--compartment-id",
                &c,
                "--limit",
                "1",
            ],
        )
        .await;
    assert_eq!(page1["data"].as_array().unwrap().len(), 1);
    assert!(page1["opc-next-page"].is_string(), "{page1}");
    let all = cli
        .ok(
            ep,
            &[
                "network",
                "vcn",
                "list",
                "--compartment-id",
                &c,
                "--all",
                "--page-size",
                "1",
            ],
        )
        .await;
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        cli.ok(ep, &["network", "vcn", "get", "--vcn-id", &v]).await["data"]["dns-label"],
        "pexip"
    );
    let missing = cli
        .run(
            ep,
            &[
                "network",
                "vcn",
                "get",
                "--vcn-id",
                "ocid1.vcn.oc1.eu-frankfurt-1.missing",
            ],
        )
        .await;
    assert!(!missing.ok);
    assert!(
        missing.stderr.contains("NotAuthorizedOrNotFound"),
        "{}",
        missing.stderr
    );

    let igw = cli
        .ok(
            ep,
            &[
                "network",
                "internet-gateway",
                "create",
                "--compartment-id",
                &c,
                "--is-enabled",
                "true",
                "--vcn-id",
                &v,
                "--display-name",
                "igw",
                "--wait-for-state",
                "AVAILABLE",
                "--wait-interval-seconds",
                "1",
            ],
        )
        .await;
    let igw = s(&igw["data"]["id"]);
    let rules = format!(
        r#"[{{"destination": "0.0.0.0/0", "destinationType": "CIDR_BLOCK", "networkEntityId": "{igw}"}}]"#
    );
    let rt = cli
        .ok(
            ep,
            &[
                "network",
                "route-table",
                "create",
                "--compartment-id",
                &c,
                "--vcn-id",
                &v,
                "--display-name",
                "rt",
                "--route-rules",
                &rules,
                "--wait-for-state",
                "AVAILABLE",
                "--wait-interval-seconds",
                "1",
            ],
        )
        .await;
    let rt = s(&rt["data"]["id"]);
    let upd = cli
        .ok(
            ep,
            &[
                "network",
                "route-table",
                "update",
                "--rt-id",
                &rt,
                "--route-rules",
                &rules,
                "--force",
            ],
        )
        .await;
    assert_eq!(
        upd["data"]["route-rules"][0]["network-entity-id"],
        igw.as_str()
    );
    let egress = r#"[{"destination": "0.0.0.0/0", "protocol": "all", "isStateless": false}]"#;
    let ingress = r#"[{"source": "0.0.0.0/0", "protocol": "6", "isStateless": false, "tcpOptions": {"destinationPortRange": {"min": 443, "max": 443}}},
        {"source": "0.0.0.0/0", "protocol": "17", "udpOptions": {"destinationPortRange": {"min": 40000, "max": 49999}}},
        {"source": "0.0.0.0/0", "protocol": "1", "icmpOptions": {"type": 3, "code": 4}},
        {"source": "198.51.100.0/24", "protocol": "50"}]"#;
    let sl = cli
        .ok(
            ep,
            &[
                "network",
                "security-list",
                "create",
                "--compartment-id",
                &c,
                "--vcn-id",
                &v,
                "--display-name",
                "sl",
                "--egress-security-rules",
                egress,
                "--ingress-security-rules",
                ingress,
                "--wait-for-state",
                "AVAILABLE",
                "--wait-interval-seconds",
                "1",
            ],
        )
        .await;
    let sl_id = s(&sl["data"]["id"]);
    let etag = s(&cli
        .ok(
            ep,
            &[
                "network",
                "security-list",
                "get",
                "--security-list-id",
                &sl_id,
            ],
        )
        .await["etag"]);
    let ssh = r#"[{"source": "0.0.0.0/0", "protocol": "6", "tcpOptions": {"destinationPortRange": {"min": 22, "max": 22}}}]"#;
    let stale = cli
        .run(
            ep,
            &[
                "network",
                "security-list",
                "update",
                "--security-list-id",
                &sl_id,
                "--ingress-security-rules",
                ssh,
                "--if-match",
                "stale-etag",
                "--force",
            ],
        )
        .await;
    assert!(
        !stale.ok && stale.stderr.contains("NoEtagMatch"),
        "{}",
        stale.stderr
    );
    let updated = cli
        .ok(
            ep,
            &[
                "network",
                "security-list",
                "update",
                "--security-list-id",
                &sl_id,
                "--ingress-security-rules",
                ssh,
                "--if-match",
                &etag,
                "--force",
            ],
        )
        .await;
    assert_eq!(
        updated["data"]["ingress-security-rules"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let sl_ids = format!(r#"["{sl_id}"]"#);
    let subnet = cli
        .ok(
            ep,
            &[
                "network",
                "subnet",
                "create",
                "--compartment-id",
                &c,
                "--vcn-id",
                &v,
                "--cidr-block",
                "10.0.0.0/24",
                "--display-name",
                "pub",
                "--dns-label",
                "pub",
                "--prohibit-public-ip-on-vnic",
                "false",
                "--route-table-id",
                &rt,
                "--security-list-ids",
                &sl_ids,
                "--wait-for-state",
                "AVAILABLE",
                "--wait-interval-seconds",
                "1",
            ],
        )
        .await;
    let sub = s(&subnet["data"]["id"]);
    assert_eq!(
        subnet["data"]["subnet-domain-name"],
        "pub.pexip.oraclevcn.com"
    );

    // Object Storage.
    let ns = s(&cli.ok(ep, &["os", "ns", "get"]).await["data"]);
    cli.ok(
        ep,
        &[
            "os",
            "bucket",
            "create",
            "--compartment-id",
            &c,
            "--name",
            "images",
            "--namespace",
            &ns,
        ],
    )
    .await;
    let dir = cli.home.path();
    std::fs::write(dir.join("small.txt"), b"hello world\n").unwrap();
    let small = dir.join("small.txt");
    let small = small.to_str().unwrap();
    let put = cli
        .ok(
            ep,
            &[
                "os",
                "object",
                "put",
                "--namespace",
                &ns,
                "--bucket-name",
                "images",
                "--file",
                small,
                "--name",
                "small.txt",
            ],
        )
        .await;
    assert!(put["etag"].is_string(), "{put}");
    let again = cli
        .run(
            ep,
            &[
                "os",
                "object",
                "put",
                "--namespace",
                &ns,
                "--bucket-name",
                "images",
                "--file",
                small,
                "--name",
                "small.txt",
                "--no-overwrite",
            ],
        )
        .await;
    assert!(
        !again.ok || again.stderr.contains("already exists"),
        "{}",
        again.stderr
    );
    let head = cli
        .ok(
            ep,
            &[
                "os",
                "object",
                "head",
                "--namespace",
                &ns,
                "--bucket-name",
                "images",
                "--name",
                "small.txt",
            ],
        )
        .await;
    assert_eq!(head["content-length"], "12", "{head}");
    let got = dir.join("got.txt");
    cli.ok(
        ep,
        &[
            "os",
            "object",
            "get",
            "--namespace",
            &ns,
            "--bucket-name",
            "images",
            "--name",
            "small.txt",
            "--file",
            got.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(std::fs::read(&got).unwrap(), b"hello world\n");
    let big = dir.join("pexip.vmdk");
    write_pattern(&big, 23 << 20);
    let up = cli
        .ok(
            ep,
            &[
                "os",
                "object",
                "put",
                "--namespace",
                &ns,
                "--bucket-name",
                "images",
                "--file",
                big.to_str().unwrap(),
                "--name",
                "pexip.vmdk",
                "--part-size",
                "11",
                "--verify-checksum",
            ],
        )
        .await;
    assert!(
        up["opc-multipart-md5"].is_string(),
        "a multipart upload: {up}"
    );
    let listed = cli
        .ok(
            ep,
            &[
                "os",
                "object",
                "list",
                "--namespace",
                &ns,
                "--bucket-name",
                "images",
            ],
        )
        .await;
    let names: Vec<String> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| s(&o["name"]))
        .collect();
    assert_eq!(names, ["pexip.vmdk", "small.txt"]);
    assert_eq!(listed["data"][0]["size"], 23 << 20);

    // Image import, then the shape compatibility the guide asks for.
    let img = cli
        .ok(
            ep,
            &[
                "compute",
                "image",
                "import",
                "from-object",
                "-c",
                &c,
                "-ns",
                &ns,
                "-bn",
                "images",
                "--name",
                "pexip.vmdk",
                "--display-name",
                "pexip-v35",
                "--source-image-type",
                "VMDK",
                "--launch-mode",
                "PARAVIRTUALIZED",
                "--operating-system",
                "Linux",
            ],
        )
        .await;
    let image = s(&img["data"]["id"]);
    let wr = s(&img["opc-work-request-id"]);
    let w = cli
        .ok(
            ep,
            &[
                "work-requests",
                "work-request",
                "get",
                "--work-request-id",
                &wr,
            ],
        )
        .await;
    assert_eq!(w["data"]["operation-type"], "CreateImage");
    wait_for(
        &cli,
        ep,
        &["compute", "image", "get", "--image-id", &image],
        "lifecycle-state",
        "AVAILABLE",
    )
    .await;
    let w = cli
        .ok(
            ep,
            &[
                "work-requests",
                "work-request",
                "get",
                "--work-request-id",
                &wr,
            ],
        )
        .await;
    assert_eq!(w["data"]["status"], "SUCCEEDED");
    cli.ok(
        ep,
        &[
            "work-requests",
            "work-request-log-entry",
            "list",
            "--work-request-id",
            &wr,
        ],
    )
    .await;
    cli.ok(
        ep,
        &[
            "compute",
            "image-shape-compatibility-entry",
            "add",
            "--image-id",
            &image,
            "--shape-name",
            "VM.Optimized3.Flex",
            "--memory-constraints",
            r#"{"minInGBs": 1, "maxInGBs": 256}"#,
            "--ocpu-constraints",
            r#"{"min": 1, "max": 18}"#,
            "--force",
        ],
    )
    .await;
    let shapes = cli
        .ok(
            ep,
            &[
                "compute",
                "image-shape-compatibility-entry",
                "list",
                "--image-id",
                &image,
            ],
        )
        .await;
    assert!(
        shapes["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["shape"] == "VM.Optimized3.Flex")
    );

    // Compute.
    let inst = cli
        .ok(
            ep,
            &[
                "compute",
                "instance",
                "launch",
                "--availability-domain",
                &ad,
                "--compartment-id",
                &c,
                "--subnet-id",
                &sub,
                "--image-id",
                &image,
                "--shape",
                "VM.Optimized3.Flex",
                "--shape-config",
                r#"{"ocpus": 4, "memoryInGBs": 16}"#,
                "--assign-public-ip",
                "true",
                "--private-ip",
                "10.0.0.10",
                "--display-name",
                "mgr1",
                "--metadata",
                r#"{"user_data": "e30="}"#,
                "--boot-volume-size-in-gbs",
                "100",
                "--freeform-tags",
                r#"{"pexspec-stack": "cli"}"#,
                "--wait-for-state",
                "RUNNING",
                "--wait-interval-seconds",
                "1",
            ],
        )
        .await;
    let i = s(&inst["data"]["id"]);
    assert_eq!(inst["data"]["freeform-tags"]["pexspec-stack"], "cli");
    let vnics = cli
        .ok(
            ep,
            &["compute", "instance", "list-vnics", "--instance-id", &i],
        )
        .await;
    assert_eq!(vnics["data"][0]["private-ip"], "10.0.0.10");
    assert!(vnics["data"][0]["public-ip"].is_string());
    let atts = cli
        .ok(
            ep,
            &[
                "compute",
                "vnic-attachment",
                "list",
                "--compartment-id",
                &c,
                "--instance-id",
                &i,
            ],
        )
        .await;
    let vnic = cli
        .ok(
            ep,
            &[
                "network",
                "vnic",
                "get",
                "--vnic-id",
                &s(&atts["data"][0]["vnic-id"]),
            ],
        )
        .await;
    assert_eq!(vnic["data"]["private-ip"], "10.0.0.10");
    let stop = cli
        .ok(
            ep,
            &[
                "compute",
                "instance",
                "action",
                "--instance-id",
                &i,
                "--action",
                "STOP",
                "--wait-for-state",
                "STOPPED",
                "--wait-interval-seconds",
                "1",
            ],
        )
        .await;
    assert_eq!(stop["data"]["lifecycle-state"], "STOPPED");
    cli.ok(
        ep,
        &[
            "compute",
            "instance",
            "action",
            "--instance-id",
            &i,
            "--action",
            "START",
        ],
    )
    .await;

    // The serial console, where the Management Node's installation wizard runs.
    let console_key = dir.join("console.pub");
    std::fs::write(&console_key, ssh_rsa_line()).unwrap();
    let icc = cli
        .ok(
            ep,
            &[
                "compute",
                "instance-console-connection",
                "create",
                "--instance-id",
                &i,
                "--ssh-public-key-file",
                console_key.to_str().unwrap(),
                "--wait-for-state",
                "ACTIVE",
                "--wait-interval-seconds",
                "1",
            ],
        )
        .await;
    assert_eq!(icc["data"]["lifecycle-state"], "ACTIVE");
    assert_eq!(icc["data"]["compartment-id"], c.as_str());
    let icc_id = s(&icc["data"]["id"]);
    assert_eq!(
        s(&icc["data"]["connection-string"]),
        format!(
            "ssh -o ProxyCommand='ssh -W %h:%p -p 443 {icc_id}@instance-console.eu-frankfurt-1.oci.oraclecloud.com' {i}"
        )
    );
    let listed = cli
        .ok(
            ep,
            &[
                "compute",
                "instance-console-connection",
                "list",
                "--compartment-id",
                &c,
                "--instance-id",
                &i,
            ],
        )
        .await;
    assert_eq!(listed["data"][0]["id"], icc_id.as_str());
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    cli.ok(
        ep,
        &[
            "compute",
            "instance-console-connection",
            "delete",
            "--instance-console-connection-id",
            &icc_id,
            "--force",
        ],
    )
    .await;

    // DRG, attachment and a remote peering to Amsterdam.
    let drg = cli
        .ok(
            ep,
            &[
                "network",
                "drg",
                "create",
                "--compartment-id",
                &c,
                "--display-name",
                "drg1",
                "--wait-for-state",
                "AVAILABLE",
                "--wait-interval-seconds",
                "1",
            ],
        )
        .await;
    let drg = s(&drg["data"]["id"]);
    cli.ok(
        ep,
        &[
            "network",
            "drg-attachment",
            "create",
            "--drg-id",
            &drg,
            "--vcn-id",
            &v,
            "--display-name",
            "att1",
            "--wait-for-state",
            "ATTACHED",
            "--wait-interval-seconds",
            "1",
        ],
    )
    .await;
    let rpc1 = cli
        .ok(
            ep,
            &[
                "network",
                "remote-peering-connection",
                "create",
                "--compartment-id",
                &c,
                "--drg-id",
                &drg,
                "--display-name",
                "rpc1",
                "--wait-for-state",
                "AVAILABLE",
                "--wait-interval-seconds",
                "1",
            ],
        )
        .await;
    let rpc1 = s(&rpc1["data"]["id"]);
    let drg2 = cli
        .ok(
            &ams,
            &[
                "network",
                "drg",
                "create",
                "--compartment-id",
                &c,
                "--display-name",
                "drg2",
                "--wait-for-state",
                "AVAILABLE",
                "--wait-interval-seconds",
                "1",
            ],
        )
        .await;
    let rpc2 = cli
        .ok(
            &ams,
            &[
                "network",
                "remote-peering-connection",
                "create",
                "--compartment-id",
                &c,
                "--drg-id",
                &s(&drg2["data"]["id"]),
                "--display-name",
                "rpc2",
                "--wait-for-state",
                "AVAILABLE",
                "--wait-interval-seconds",
                "1",
            ],
        )
        .await;
    let rpc2 = s(&rpc2["data"]["id"]);
    cli.ok(
        ep,
        &[
            "network",
            "remote-peering-connection",
            "connect",
            "--remote-peering-connection-id",
            &rpc1,
            "--peer-id",
            &rpc2,
            "--peer-region-name",
            "eu-amsterdam-1",
        ],
    )
    .await;
    wait_for(
        &cli,
        ep,
        &[
            "network",
            "remote-peering-connection",
            "get",
            "--remote-peering-connection-id",
            &rpc1,
        ],
        "peering-status",
        "PEERED",
    )
    .await;
    wait_for(
        &cli,
        &ams,
        &[
            "network",
            "remote-peering-connection",
            "get",
            "--remote-peering-connection-id",
            &rpc2,
        ],
        "peering-status",
        "PEERED",
    )
    .await;

    // Teardown of the instance.
    cli.ok(
        ep,
        &[
            "compute",
            "instance",
            "terminate",
            "--instance-id",
            &i,
            "--preserve-boot-volume",
            "false",
            "--force",
            "--wait-for-state",
            "SUCCEEDED",
            "--wait-interval-seconds",
            "1",
        ],
    )
    .await;

    // The CLI's calls were counted by operation.
    let stats = reqwest::get(format!("{fra}/_sim/stats"))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    for op in [
        "CreateVcn",
        "ListVcns",
        "PutObject",
        "UploadPart",
        "CommitMultipartUpload",
        "LaunchInstance",
        "InstanceAction",
        "ListRegions",
        "ConnectRemotePeeringConnections",
        "AddImageShapeCompatibilityEntry",
        "CreateInstanceConsoleConnection",
        "ListInstanceConsoleConnections",
    ] {
        assert!(
            stats["operations"][op]["200"].as_u64().unwrap_or(0) >= 1,
            "{op}: {stats}"
        );
    }
    assert!(
        stats["operations"].get("Unknown").is_none(),
        "the CLI called a route the simulator lacks: {stats}"
    );
    assert_eq!(stats["operations"]["GetVcn"]["404"], 1);
    let unauth: u64 = stats["operations"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|v| v["401"].as_u64())
        .sum();
    assert_eq!(unauth, 0, "every CLI signature verified: {stats}");
}

/// An OpenSSH `ssh-rsa` public key line (well formed; the simulator checks the form only).
fn ssh_rsa_line() -> String {
    use base64::Engine as _;
    let mut blob = Vec::new();
    for part in [b"ssh-rsa".as_slice(), &[1, 0, 1], &[0xC3; 257]] {
        blob.extend_from_slice(&u32::try_from(part.len()).unwrap().to_be_bytes());
        blob.extend_from_slice(part);
    }
    format!(
        "ssh-rsa {} operator@workstation\n",
        base64::engine::general_purpose::STANDARD.encode(blob)
    )
}

fn write_pattern(path: &Path, len: usize) {
    let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    std::fs::write(path, data).unwrap();
}
