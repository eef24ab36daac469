//! One image upload with pexspec's client, for `bench/upload.py`: the same work
//! `oci os object put` does, as its own process so that its wall time and peak memory can be
//! measured the same way.
//!
//! ```text
//! cargo run --release -p pexspec-oci --example upload_bench -- \
//!     --config-file FILE --endpoint URL --bucket NAME --object NAME --file PATH \
//!     [--part-size-mib N] [--parallelism N] [--create-bucket | --delete]
//! ```
//!
//! The profile's region is pointed at `--endpoint` (the simulator). With `--create-bucket` the
//! bucket is created in the tenancy (root compartment) and the upload options are printed, with
//! `--delete` the object is deleted; neither uploads. Prints one JSON line: the outcome and the upload's own seconds (without
//! process start and config loading).
// A benchmark driver: its output is the point.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use pexspec_oci::models::CreateBucketDetails;
use pexspec_oci::{
    Endpoints, LoadOptions, NoProgress, ObjectLocation, OciClient, OciConfig, ProcessEnv,
    UploadOptions, UploadOutcome, upload_file,
};

const MIB: u64 = 1024 * 1024;

struct Args {
    config_file: PathBuf,
    endpoint: String,
    bucket: String,
    object: String,
    file: Option<PathBuf>,
    part_size: Option<u64>,
    parallelism: Option<usize>,
    create_bucket: bool,
    delete: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut config_file, mut endpoint, mut bucket, mut object, mut file) =
        (None, None, None, None, None);
    let (mut part_size, mut parallelism, mut create_bucket, mut delete) =
        (None, None, false, false);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("`{a}` needs a value"));
        match a.as_str() {
            "--config-file" => config_file = Some(PathBuf::from(value()?)),
            "--endpoint" => endpoint = Some(value()?),
            "--bucket" => bucket = Some(value()?),
            "--object" => object = Some(value()?),
            "--file" => file = Some(PathBuf::from(value()?)),
            "--part-size-mib" => {
                let v = value()?;
                part_size = Some(v.parse::<u64>().map_err(|e| format!("{v}: {e}"))? * MIB);
            }
            "--parallelism" => {
                let v = value()?;
                parallelism = Some(v.parse().map_err(|e| format!("{v}: {e}"))?);
            }
            "--create-bucket" => create_bucket = true,
            "--delete" => delete = true,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    let need = |v: Option<String>, name: &str| v.ok_or_else(|| format!("`{name}` is required"));
    Ok(Args {
        config_file: config_file.ok_or("`--config-file` is required")?,
        endpoint: need(endpoint, "--endpoint")?,
        bucket: need(bucket, "--bucket")?,
        object: object.unwrap_or_default(),
        file,
        part_size,
        parallelism,
        create_bucket,
        delete,
    })
}

async fn run(args: Args) -> Result<serde_json::Value, String> {
    let config = OciConfig::load(
        &LoadOptions {
            config_file: Some(args.config_file.clone()),
            profile: None,
        },
        &ProcessEnv,
    )
    .map_err(|e| e.to_string())?;
    let endpoints = Endpoints::from_overrides([(config.region.as_str(), args.endpoint.as_str())])
        .map_err(|e| e.to_string())?;
    let client = OciClient::new(&config, endpoints).map_err(|e| e.to_string())?;
    let namespace = client.get_namespace().await.map_err(|e| e.to_string())?;
    let mut options = UploadOptions::default();
    if let Some(p) = args.part_size {
        options.part_size = p;
    }
    if let Some(p) = args.parallelism {
        options.parallelism = p;
    }
    if args.create_bucket {
        let details = CreateBucketDetails {
            name: args.bucket.clone(),
            compartment_id: client.tenancy_id().to_string(),
            ..CreateBucketDetails::default()
        };
        client
            .create_bucket(&namespace, &details)
            .await
            .map_err(|e| e.to_string())?;
        return Ok(serde_json::json!({
            "namespace": namespace,
            "bucket": args.bucket,
            "part_size": options.part_size,
            "parallelism": options.parallelism,
        }));
    }
    if args.delete {
        client
            .delete_object(&namespace, &args.bucket, &args.object, None)
            .await
            .map_err(|e| e.to_string())?;
        return Ok(serde_json::json!({"deleted": args.object}));
    }
    let file = args.file.ok_or("`--file` is required")?;
    let location = ObjectLocation {
        namespace,
        bucket: args.bucket,
        object: args.object,
    };
    let started = Instant::now();
    let outcome = upload_file(&client, &location, &file, &options, &NoProgress)
        .await
        .map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    let UploadOutcome::Uploaded {
        parts, bytes_sent, ..
    } = outcome
    else {
        return Err("the object was already in the bucket: nothing was uploaded".into());
    };
    Ok(serde_json::json!({
        "seconds": seconds,
        "parts": parts,
        "bytes_sent": bytes_sent,
        "part_size": options.part_size,
        "parallelism": options.parallelism,
    }))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("upload_bench: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("upload_bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("upload_bench: {e}");
            ExitCode::FAILURE
        }
    }
}
