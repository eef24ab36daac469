//! Instance console connections: SSH access to an instance's serial console through the
//! region's console service. CREATING → ACTIVE on the clock; DELETING → DELETED, also when the
//! instance is terminated.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use super::{Call, Ctx, Kind, at, check_if_match, is_going, nominal, reply_res};
use crate::oci::store::Res;
use crate::oci::wire::{ApiError, Reply, defined_tags, freeform_tags, json_body, req_str};

/// `SHA256:` and the unpadded base64 digest of an OpenSSH public key line's blob, or `None`
/// when the line is not `<algorithm> <base64 blob naming the same algorithm> [comment]`.
fn key_fingerprint(line: &str) -> Option<String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (algorithm, encoded) = (fields.first()?, fields.get(1)?);
    let blob = STANDARD.decode(encoded).ok()?;
    let name_len = usize::try_from(u32::from_be_bytes([
        *blob.first()?,
        *blob.get(1)?,
        *blob.get(2)?,
        *blob.get(3)?,
    ]))
    .ok()?;
    let name = blob.get(4..4usize.checked_add(name_len)?)?;
    if name != algorithm.as_bytes() || blob.len() <= 4 + name_len {
        return None;
    }
    Some(format!(
        "SHA256:{}",
        STANDARD_NO_PAD.encode(Sha256::digest(&blob))
    ))
}

/// The console service's host in a region.
fn service_host(region: &str) -> String {
    format!("instance-console.{region}.oci.oraclecloud.com")
}

/// CreateInstanceConsoleConnection: in the instance's compartment, `CREATING` until the
/// console service is ready. An unknown or terminated instance is 404.
pub(crate) fn create(ctx: &Ctx<'_>, call: &Call) -> Result<Reply, ApiError> {
    let b = json_body(&call.body)?;
    let instance_id = req_str(&b, "instanceId")?;
    let public_key = req_str(&b, "publicKey")?;
    let fingerprint = key_fingerprint(&public_key).ok_or_else(|| {
        ApiError::invalid("Invalid publicKey: it must be an SSH public key in OpenSSH format")
    })?;
    let tags = freeform_tags(&b)?;
    let defined = defined_tags(&b)?;
    let instance = ctx
        .find(Kind::Instance, &instance_id)?
        .filter(|i| !is_going(i))
        .ok_or_else(ApiError::not_found)?;
    let id = ctx.new_ocid(Kind::ConsoleConnection);
    let host = service_host(ctx.region);
    let proxy = format!("ssh -o ProxyCommand='ssh -W %h:%p -p 443 {id}@{host}'");
    let doc = json!({
        "id": id,
        "compartmentId": instance.compartment,
        "instanceId": instance_id,
        "connectionString": format!("{proxy} {instance_id}"),
        "vncConnectionString": format!("{proxy} -N -L localhost:5900:{instance_id}:5900 {instance_id}"),
        "fingerprint": fingerprint,
        "serviceHostKeyFingerprint": format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(host.as_bytes()))),
        "freeformTags": tags,
        "definedTags": defined,
        "lifecycleState": "CREATING",
    });
    ctx.insert(
        Kind::ConsoleConnection,
        &id,
        &instance.compartment,
        doc,
        vec![at(
            ctx.after(nominal::CONSOLE_CONNECTION),
            json!({"lifecycleState": "ACTIVE"}),
        )],
        json!({}),
    )?;
    let r = ctx.must_get(Kind::ConsoleConnection, &id)?;
    Ok(reply_res(200, &r, ctx.now))
}

/// DeleteInstanceConsoleConnection: DELETING → DELETED, then it lingers; a second delete is
/// a no-op.
pub(crate) fn delete(ctx: &Ctx<'_>, id: &str, call: &Call) -> Result<Reply, ApiError> {
    let mut r = ctx.must_get(Kind::ConsoleConnection, id)?;
    check_if_match(call, &r.etag)?;
    if !is_going(&r) {
        close(ctx, &mut r)?;
    }
    Ok(Reply::empty(204))
}

/// DELETING now, DELETED shortly, gone after the linger time.
fn close(ctx: &Ctx<'_>, r: &mut Res) -> Result<(), ApiError> {
    let done = ctx.after(nominal::CONSOLE_CONNECTION_DELETE);
    r.doc["lifecycleState"] = "DELETING".into();
    r.pending = vec![at(done, json!({"lifecycleState": "DELETED"}))];
    r.purge_ms = Some(ctx.purge_after(done));
    ctx.tx.save(r)
}

/// Closes every live console connection of an instance being terminated.
pub(crate) fn close_for_instance(ctx: &Ctx<'_>, instance_id: &str) -> Result<(), ApiError> {
    for mut c in ctx.all(Kind::ConsoleConnection)? {
        if c.s("instanceId") == instance_id && !is_going(&c) {
            close(ctx, &mut c)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(algorithm: &str, key: &[u8]) -> String {
        let mut blob = Vec::new();
        blob.extend_from_slice(&u32::try_from(algorithm.len()).unwrap().to_be_bytes());
        blob.extend_from_slice(algorithm.as_bytes());
        blob.extend_from_slice(key);
        format!("{algorithm} {} user@host", STANDARD.encode(blob))
    }

    #[test]
    fn fingerprints_openssh_keys_and_refuses_the_rest() {
        let fp = key_fingerprint(&line("ssh-rsa", &[1, 2, 3])).unwrap();
        assert!(fp.starts_with("SHA256:") && !fp.ends_with('='), "{fp}");
        assert_eq!(fp.len(), "SHA256:".len() + 43);
        assert_eq!(key_fingerprint(&line("ssh-rsa", &[])), None);
        assert_eq!(
            key_fingerprint(&line("ssh-rsa", &[1]).replacen("ssh-rsa", "ssh-ed25519", 1)),
            None
        );
        assert_eq!(key_fingerprint("ssh-rsa"), None);
        assert_eq!(key_fingerprint("ssh-rsa !!!"), None);
        assert_eq!(key_fingerprint("ssh-rsa AAAA"), None);
    }
}
