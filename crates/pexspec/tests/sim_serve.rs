//! `pexspec sim serve` as a user runs it: the first stdout line is the JSON of DESIGN.md §8,
//! the endpoints answer on 127.0.0.1, and SIGTERM stops it cleanly.

#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

#[test]
fn serve_announces_endpoints_answers_and_stops_on_sigterm() {
    let state = tempfile::tempdir().unwrap();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("pexspec"))
        .args([
            "sim",
            "serve",
            "--region",
            "eu-frankfurt-1",
            "--region",
            "eu-zurich-1",
            "--state",
        ])
        .arg(state.path())
        .env_remove("PEXIP_ADMIN_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("pexspec starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: serde_json::Value = serde_json::from_str(&line).expect("the first line is JSON");

    // Every region has its own port on loopback; the config file and profile are there.
    for region in ["eu-frankfurt-1", "eu-zurich-1"] {
        let url = ready["oci"][region].as_str().unwrap();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    }
    let config = std::fs::read_to_string(ready["oci_config_file"].as_str().unwrap()).unwrap();
    assert!(
        config.contains("[DEFAULT]") && config.contains("key_file"),
        "{config}"
    );
    assert_eq!(ready["profile"], "DEFAULT");
    assert!(
        ready["pexip"]["pexmgr"]
            .as_str()
            .unwrap()
            .starts_with("https://127.0.0.1:")
    );
    // The password is never printed, only where it is kept (owner-only).
    let source = ready["pexip_admin_password"].as_str().unwrap();
    let path = source.strip_prefix("file:").unwrap();
    let password = std::fs::read_to_string(path).unwrap();
    assert!(!line.contains(password.trim()));
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    // An unsigned request is refused as OCI would.
    let addr = ready["oci"]["eu-frankfurt-1"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /20160918/vcns?compartmentId=x HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    assert!(response.contains("NotAuthenticated"), "{response}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "SIGTERM stops it cleanly");
}
