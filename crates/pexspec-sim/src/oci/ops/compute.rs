//! Compute: instance launch (with its VNIC, VNIC attachment, private and public IP), power
//! actions, termination (which closes the instance's console connections), shapes, and
//! reserved public IPs.

use serde_json::{Value, json};

use super::network::terminate_row;
use super::{
    Call, Ctx, Kind, at, check_if_match, default_name, images, is_going, new_work_request, nominal,
    page, reply_res,
};
use crate::oci::catalog::{self, FAULT_DOMAINS};
use crate::oci::cidr::{Cidr, parse_ip};
use crate::oci::store::Res;
use crate::oci::wire::{
    ApiError, Reply, defined_tags, freeform_tags, json_body, opt_bool, opt_f64, opt_obj, opt_str,
    req_str, rfc3339, string_map,
};

fn live(ctx: &Ctx<'_>, k: Kind) -> Result<Vec<Res>, ApiError> {
    Ok(ctx.all(k)?.into_iter().filter(|r| !is_going(r)).collect())
}

/// The shape configuration of a launch: (ocpus, memory GB), validated against the shape.
fn shape_config(shape: &catalog::Shape, b: &Value) -> Result<(f64, f64), ApiError> {
    let sc = b.get("shapeConfig").cloned().unwrap_or(Value::Null);
    if !shape.flex {
        return Ok((shape.ocpus, shape.memory_gb));
    }
    let ocpus = opt_f64(&sc, "ocpus")?.unwrap_or(1.0);
    if !(1.0..=shape.ocpus).contains(&ocpus) {
        return Err(ApiError::invalid(format!(
            "Invalid shapeConfig.ocpus {ocpus} for {}: it must be from 1 to {}",
            shape.name, shape.ocpus
        )));
    }
    let memory = opt_f64(&sc, "memoryInGBs")?
        .unwrap_or(ocpus * shape.default_per_ocpu_gb)
        .min(shape.memory_gb);
    let per = memory / ocpus;
    if memory < 1.0 || memory > shape.memory_gb || per > shape.max_per_ocpu_gb || per < 1.0 {
        return Err(ApiError::invalid(format!(
            "Invalid shapeConfig.memoryInGBs {memory} for {} with {ocpus} OCPUs: allowed is 1 to {} GB per OCPU and at most {} GB",
            shape.name, shape.max_per_ocpu_gb, shape.memory_gb
        )));
    }
    Ok((ocpus, memory))
}

/// Picks the first free address of a subnet, or checks the one asked for.
fn private_address(ctx: &Ctx<'_>, subnet: &Res, wanted: Option<&str>) -> Result<String, ApiError> {
    let cidr = Cidr::parse(subnet.s("cidrBlock")).map_err(ApiError::internal)?;
    let used: Vec<String> = ctx
        .all(Kind::PrivateIp)?
        .into_iter()
        .filter(|p| p.s("subnetId") == subnet.ocid)
        .map(|p| p.s("ipAddress").to_string())
        .collect();
    if let Some(w) = wanted {
        let ip = parse_ip(w).ok_or_else(|| ApiError::invalid(format!("Invalid privateIp: {w}")))?;
        if !cidr.assignable(ip) {
            return Err(ApiError::invalid(format!(
                "The private IP {w} is not an assignable address of the subnet {cidr}"
            )));
        }
        if used.iter().any(|u| u == w) {
            return Err(ApiError::conflict(format!(
                "The private IP {w} is already in use in subnet {}",
                subnet.ocid
            )));
        }
        return Ok(w.to_string());
    }
    let n = u32::try_from(cidr.size()).unwrap_or(u32::MAX);
    (2..n.saturating_sub(1))
        .map(|i| cidr.host(i).to_string())
        .find(|a| !used.contains(a))
        .ok_or_else(|| {
            ApiError::new(
                400,
                "InvalidParameter",
                format!("The subnet {} has no free private IP address", subnet.ocid),
            )
        })
}

/// A fresh public address from the documentation ranges (TEST-NET-3, -2, -1).
fn public_address(ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let used: Vec<String> = ctx
        .tx
        .list(Kind::PublicIp.store_kind(), None, ctx.now)?
        .into_iter()
        .map(|p| p.s("ipAddress").to_string())
        .collect();
    let mut n: u64 = ctx
        .tx
        .meta("public_ip_seq")?
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    const POOLS: [&str; 3] = ["203.0.113", "198.51.100", "192.0.2"];
    for _ in 0..(POOLS.len() * 254) {
        let pool = POOLS[(n / 254 % 3) as usize];
        let addr = format!("{pool}.{}", n % 254 + 1);
        n += 1;
        if !used.contains(&addr) {
            ctx.tx.set_meta("public_ip_seq", &n.to_string())?;
            return Ok(addr);
        }
    }
    Err(ApiError::new(
        400,
        "LimitExceeded",
        "The simulator has no free public IP address left",
    ))
}

pub(crate) fn launch(ctx: &Ctx<'_>, call: &Call) -> Result<Reply, ApiError> {
    let b = json_body(&call.body)?;
    let compartment = req_str(&b, "compartmentId")?;
    let ad = req_str(&b, "availabilityDomain")?;
    let shape_name = req_str(&b, "shape")?;
    let vnic_details = b.get("createVnicDetails").cloned().unwrap_or(json!({}));
    if !vnic_details.is_object() {
        return Err(ApiError::invalid("createVnicDetails must be an object"));
    }
    let subnet_id = opt_str(&vnic_details, "subnetId")?
        .or(opt_str(&b, "subnetId")?)
        .ok_or_else(|| ApiError::missing("createVnicDetails.subnetId"))?;
    let source = opt_obj(&b, "sourceDetails")?
        .cloned()
        .map(Value::Object)
        .unwrap_or(json!({}));
    let source_type = opt_str(&source, "sourceType")?.unwrap_or_else(|| "image".into());
    if source_type != "image" {
        return Err(ApiError::invalid(format!(
            "sourceDetails.sourceType {source_type} is not simulated; use image"
        )));
    }
    let image_id = opt_str(&source, "imageId")?
        .or(opt_str(&b, "imageId")?)
        .ok_or_else(|| ApiError::missing("sourceDetails.imageId"))?;
    let metadata = string_map(&b, "metadata")?;
    ctx.check_compartment(&compartment)?;
    if !catalog::availability_domains(ctx.region).contains(&ad) {
        return Err(ApiError::invalid(format!(
            "Invalid availabilityDomain: {ad}"
        )));
    }
    let shape = catalog::shape(&shape_name)
        .ok_or_else(|| ApiError::invalid(format!("Invalid shape: {shape_name}")))?;
    let (ocpus, memory) = shape_config(shape, &b)?;
    let subnet = ctx.related(Kind::Subnet, &subnet_id, "subnet")?;
    if subnet.state() != "AVAILABLE" {
        return Err(ApiError::incorrect_state(format!(
            "The subnet {subnet_id} is {}.",
            subnet.state()
        )));
    }
    if let Some(sad) = subnet.doc["availabilityDomain"].as_str()
        && sad != ad
    {
        return Err(ApiError::invalid(format!(
            "The subnet {subnet_id} is in {sad}, not in {ad}"
        )));
    }
    let image = ctx.related(Kind::Image, &image_id, "image")?;
    if image.state() != "AVAILABLE" {
        return Err(ApiError::incorrect_state(format!(
            "The image {image_id} is {}.",
            image.state()
        )));
    }
    if !images::compatible(&image, shape.name) {
        return Err(ApiError::invalid(format!(
            "Shape {} is not valid for image {image_id}; add an image shape compatibility entry first",
            shape.name
        )));
    }
    let fd = match opt_str(&b, "faultDomain")? {
        Some(f) if FAULT_DOMAINS.contains(&f.as_str()) => f,
        Some(f) => return Err(ApiError::invalid(format!("Invalid faultDomain: {f}"))),
        None => {
            let n = live(ctx, Kind::Instance)?
                .iter()
                .filter(|i| i.s("availabilityDomain") == ad)
                .count();
            FAULT_DOMAINS[n % FAULT_DOMAINS.len()].to_string()
        }
    };
    let out = ctx
        .faults
        .lock()
        .map(|mut f| f.out_of_capacity(&ad, &fd, shape.name))
        .unwrap_or(false);
    if out {
        return Err(ApiError::new(500, "InternalError", "Out of host capacity."));
    }
    let prohibit = subnet.doc["prohibitPublicIpOnVnic"]
        .as_bool()
        .unwrap_or(false);
    let assign_public = opt_bool(&vnic_details, "assignPublicIp")?.unwrap_or(!prohibit);
    if assign_public && prohibit {
        return Err(ApiError::invalid(format!(
            "The subnet {subnet_id} prohibits public IPs on VNICs; set assignPublicIp to false"
        )));
    }
    let private_ip = private_address(
        ctx,
        &subnet,
        opt_str(&vnic_details, "privateIp")?.as_deref(),
    )?;
    let public_ip = if assign_public {
        Some(public_address(ctx)?)
    } else {
        None
    };

    let id = ctx.new_ocid(Kind::Instance);
    let vnic_id = ctx.new_ocid(Kind::Vnic);
    let att_id = ctx.new_ocid(Kind::VnicAttachment);
    let pip_id = ctx.new_ocid(Kind::PrivateIp);
    let run_at = ctx.after(nominal::LAUNCH);
    let name = opt_str(&b, "displayName")?.unwrap_or_else(|| default_name("instance", ctx.now));
    let boot_gb = source
        .get("bootVolumeSizeInGBs")
        .and_then(Value::as_i64)
        .unwrap_or(47);
    let hostname = opt_str(&vnic_details, "hostnameLabel")?.or(opt_str(&b, "hostnameLabel")?);
    let launch_mode = image.doc["launchMode"]
        .as_str()
        .unwrap_or("PARAVIRTUALIZED")
        .to_string();
    let doc = json!({
        "id": id,
        "compartmentId": compartment,
        "availabilityDomain": ad,
        "faultDomain": fd,
        "displayName": name,
        "region": ctx.region,
        "shape": shape.name,
        "shapeConfig": {
            "ocpus": ocpus,
            "memoryInGBs": memory,
            "vcpus": (ocpus * 2.0) as i64,
            "processorDescription": shape.processor,
            "networkingBandwidthInGbps": ocpus.min(40.0),
            "maxVnicAttachments": (ocpus as i64).clamp(2, 24),
            "gpus": 0,
            "localDisks": 0,
        },
        "imageId": image_id,
        "sourceDetails": {"sourceType": "image", "imageId": image_id, "bootVolumeSizeInGBs": boot_gb},
        "launchMode": launch_mode,
        "launchOptions": {
            "bootVolumeType": launch_mode, "firmware": "BIOS", "networkType": "PARAVIRTUALIZED",
            "remoteDataVolumeType": launch_mode, "isPvEncryptionInTransitEnabled": false,
            "isConsistentVolumeNamingEnabled": false
        },
        "availabilityConfig": {"recoveryAction": "RESTORE_INSTANCE", "isLiveMigrationPreferred": null},
        "instanceOptions": {"areLegacyImdsEndpointsDisabled": false},
        "metadata": metadata,
        "extendedMetadata": b.get("extendedMetadata").cloned().filter(Value::is_object).unwrap_or(json!({})),
        "freeformTags": freeform_tags(&b)?,
        "definedTags": defined_tags(&b)?,
        "systemTags": {},
        "lifecycleState": "PROVISIONING",
        "timeCreated": rfc3339(ctx.now),
    });
    ctx.insert(
        Kind::Instance,
        &id,
        &compartment,
        doc,
        vec![at(run_at, json!({"lifecycleState": "RUNNING"}))],
        json!({}),
    )?;
    let mac: [u8; 3] = rand::random();
    let vnic = json!({
        "id": vnic_id,
        "compartmentId": compartment,
        "availabilityDomain": ad,
        "displayName": name,
        "hostnameLabel": hostname,
        "isPrimary": true,
        "macAddress": format!("02:00:17:{:02X}:{:02X}:{:02X}", mac[0], mac[1], mac[2]),
        "nsgIds": opt_str_list_or_empty(&vnic_details, "nsgIds")?,
        "privateIp": private_ip,
        "publicIp": public_ip,
        "skipSourceDestCheck": opt_bool(&vnic_details, "skipSourceDestCheck")?.unwrap_or(false),
        "subnetId": subnet_id,
        "freeformTags": {},
        "definedTags": {},
        "systemTags": {},
        "lifecycleState": "PROVISIONING",
        "timeCreated": rfc3339(ctx.now),
    });
    ctx.insert(
        Kind::Vnic,
        &vnic_id,
        &compartment,
        vnic,
        vec![at(run_at, json!({"lifecycleState": "AVAILABLE"}))],
        json!({"instanceId": id}),
    )?;
    let att = json!({
        "id": att_id,
        "compartmentId": compartment,
        "availabilityDomain": ad,
        "displayName": format!("{name} primary VNIC attachment"),
        "instanceId": id,
        "nicIndex": 0,
        "subnetId": subnet_id,
        "vnicId": null,
        "vlanTag": 0,
        "lifecycleState": "ATTACHING",
        "timeCreated": rfc3339(ctx.now),
    });
    // "vnicId: available after the attachment process is complete" (OCI API docs).
    ctx.insert(
        Kind::VnicAttachment,
        &att_id,
        &compartment,
        att,
        vec![at(
            run_at,
            json!({"lifecycleState": "ATTACHED", "vnicId": vnic_id}),
        )],
        json!({}),
    )?;
    let pip = json!({
        "id": pip_id,
        "compartmentId": compartment,
        "availabilityDomain": ad,
        "displayName": private_ip,
        "hostnameLabel": hostname,
        "ipAddress": private_ip,
        "isPrimary": true,
        "subnetId": subnet_id,
        "vnicId": vnic_id,
        "freeformTags": {},
        "definedTags": {},
        "timeCreated": rfc3339(ctx.now),
        // No lifecycleState: the SDK's PrivateIp model has none (oci-python-sdk
        // src/oci/core/models/private_ip.py); `ipState` and `lifetime` are its state.
        "ipState": "ASSIGNED",
        "lifetime": "EPHEMERAL",
    });
    ctx.insert(
        Kind::PrivateIp,
        &pip_id,
        &compartment,
        pip,
        vec![],
        json!({"instanceId": id}),
    )?;
    if let Some(addr) = &public_ip {
        let pub_id = ctx.new_ocid(Kind::PublicIp);
        let doc = json!({
            "id": pub_id,
            "compartmentId": compartment,
            "availabilityDomain": ad,
            "displayName": addr,
            "ipAddress": addr,
            "lifetime": "EPHEMERAL",
            "scope": "AVAILABILITY_DOMAIN",
            "assignedEntityId": pip_id,
            "assignedEntityType": "PRIVATE_IP",
            "privateIpId": pip_id,
            "freeformTags": {},
            "definedTags": {},
            "lifecycleState": "ASSIGNING",
            "timeCreated": rfc3339(ctx.now),
        });
        ctx.insert(
            Kind::PublicIp,
            &pub_id,
            &compartment,
            doc,
            vec![at(run_at, json!({"lifecycleState": "ASSIGNED"}))],
            json!({}),
        )?;
    }
    let wr = new_work_request(
        ctx,
        "LaunchInstance",
        &compartment,
        vec![("CREATED", "instance", &id)],
        ctx.now,
        run_at,
        None,
    )?;
    let r = ctx.must_get(Kind::Instance, &id)?;
    Ok(reply_res(200, &r, ctx.now).header("opc-work-request-id", wr))
}

fn opt_str_list_or_empty(v: &Value, key: &str) -> Result<Value, ApiError> {
    Ok(Value::from(
        crate::oci::wire::opt_str_list(v, key)?.unwrap_or_default(),
    ))
}

/// InstanceAction. An action whose target state the instance already has (STOP on STOPPED,
/// START on RUNNING) changes nothing; an action in a state that forbids it is 409.
pub(crate) fn action(ctx: &Ctx<'_>, id: &str, call: &Call) -> Result<Reply, ApiError> {
    let action = call.req_q("action")?.to_string();
    let mut r = ctx.must_get(Kind::Instance, id)?;
    check_if_match(call, &r.etag)?;
    let state = r.state().to_string();
    let wrong = || {
        Err(ApiError::incorrect_state(format!(
            "Instance {id} is in the {state} state; {action} is not allowed in it."
        )))
    };
    let power = ctx.after(nominal::POWER);
    let next = match (action.as_str(), state.as_str()) {
        ("STOP" | "SOFTSTOP", "RUNNING") => Some((
            "STOPPING",
            vec![at(power, json!({"lifecycleState": "STOPPED"}))],
        )),
        ("STOP" | "SOFTSTOP", "STOPPING" | "STOPPED") => None,
        ("START", "STOPPED") => Some((
            "STARTING",
            vec![at(power, json!({"lifecycleState": "RUNNING"}))],
        )),
        ("START", "STARTING" | "RUNNING") => None,
        ("RESET" | "SOFTRESET", "RUNNING") => {
            let half = ctx.now + (power - ctx.now) / 2;
            Some((
                "STOPPING",
                vec![
                    at(half, json!({"lifecycleState": "STARTING"})),
                    at(power, json!({"lifecycleState": "RUNNING"})),
                ],
            ))
        }
        ("SENDDIAGNOSTICINTERRUPT" | "DIAGNOSTICREBOOT" | "REBOOTMIGRATE", "RUNNING") => None,
        (
            "STOP"
            | "SOFTSTOP"
            | "START"
            | "RESET"
            | "SOFTRESET"
            | "SENDDIAGNOSTICINTERRUPT"
            | "DIAGNOSTICREBOOT"
            | "REBOOTMIGRATE",
            _,
        ) => return wrong(),
        (other, _) => return Err(ApiError::invalid(format!("Invalid action: {other}"))),
    };
    if let Some((now_state, ts)) = next {
        r.doc["lifecycleState"] = now_state.into();
        r.pending = ts;
        ctx.tx.save(&mut r)?;
    }
    Ok(reply_res(200, &r, ctx.now))
}

/// TerminateInstance: TERMINATING → TERMINATED; the VNIC, its attachment and its IPs go with
/// it (a reserved public IP is unassigned and kept).
pub(crate) fn terminate(ctx: &Ctx<'_>, id: &str, call: &Call) -> Result<Reply, ApiError> {
    let mut r = ctx.must_get(Kind::Instance, id)?;
    check_if_match(call, &r.etag)?;
    if is_going(&r) {
        return Ok(Reply::empty(204));
    }
    let done = ctx.after(nominal::TERMINATE);
    terminate_row(ctx, &mut r, done)?;
    super::console::close_for_instance(ctx, id)?;
    for mut att in ctx.all(Kind::VnicAttachment)? {
        if att.s("instanceId") == id && !is_going(&att) {
            let vnic_id = att
                .pending
                .iter()
                .find_map(|t| t.patch["vnicId"].as_str().map(str::to_string));
            att.doc["lifecycleState"] = "DETACHING".into();
            att.pending = vec![at(done, json!({"lifecycleState": "DETACHED"}))];
            if let Some(v) = vnic_id {
                att.doc["vnicId"] = v.into();
            }
            att.purge_ms = Some(ctx.purge_after(done));
            ctx.tx.save(&mut att)?;
        }
    }
    for mut v in ctx.all(Kind::Vnic)? {
        if v.internal["instanceId"] == id && !is_going(&v) {
            terminate_row(ctx, &mut v, done)?;
        }
    }
    for mut p in ctx.all(Kind::PrivateIp)? {
        if p.internal["instanceId"] != id {
            continue;
        }
        for mut public in ctx.all(Kind::PublicIp)? {
            if public.s("privateIpId") != p.ocid || is_going(&public) {
                continue;
            }
            if public.s("lifetime") == "EPHEMERAL" {
                terminate_row(ctx, &mut public, done)?;
            } else {
                public.doc["lifecycleState"] = "UNASSIGNING".into();
                public.pending = vec![at(
                    done,
                    json!({"lifecycleState": "AVAILABLE", "assignedEntityId": null, "assignedEntityType": null, "privateIpId": null}),
                )];
                ctx.tx.save(&mut public)?;
            }
        }
        p.purge_ms = Some(done);
        ctx.tx.save(&mut p)?;
    }
    let wr = new_work_request(
        ctx,
        "TerminateInstance",
        &r.compartment,
        vec![("DELETED", "instance", id)],
        ctx.now,
        done,
        None,
    )?;
    // `opc-work-request-id`: oracle/oci-go-sdk core/terminate_instance_request_response.go
    // (TerminateInstanceResponse.OpcWorkRequestId; SDKs generated from older API specs, such
    // as the 2017 Go SDK, lack it).
    Ok(Reply::empty(204).header("opc-work-request-id", wr))
}

pub(crate) fn list_shapes(ctx: &Ctx<'_>, call: &Call) -> Result<Reply, ApiError> {
    let c = call.req_q("compartmentId")?;
    ctx.check_compartment(c)?;
    if let Some(ad) = call.q("availabilityDomain")
        && !catalog::availability_domains(ctx.region)
            .iter()
            .any(|a| a == ad)
    {
        return Err(ApiError::invalid(format!(
            "Invalid availabilityDomain: {ad}"
        )));
    }
    let image = match call.q("imageId") {
        Some(i) => Some(ctx.must_get(Kind::Image, i)?),
        None => None,
    };
    let v: Vec<Value> = catalog::SHAPES
        .iter()
        .filter(|s| image.as_ref().is_none_or(|i| images::compatible(i, s.name)))
        .map(catalog::shape_json)
        .collect();
    page(call, v)
}

// ---- public IPs ----

/// Sets the `publicIp` of the VNIC that holds a private IP.
fn set_vnic_public_ip(
    ctx: &Ctx<'_>,
    private_ip_id: &str,
    addr: Option<&str>,
) -> Result<(), ApiError> {
    let Some(p) = ctx.find(Kind::PrivateIp, private_ip_id)? else {
        return Ok(());
    };
    if let Some(mut v) = ctx.find(Kind::Vnic, p.s("vnicId"))? {
        v.doc["publicIp"] = addr.map_or(Value::Null, Value::from);
        ctx.tx.save(&mut v)?;
    }
    Ok(())
}

fn check_private_ip_free(ctx: &Ctx<'_>, private_ip_id: &str) -> Result<Res, ApiError> {
    let p = ctx.related(Kind::PrivateIp, private_ip_id, "private IP")?;
    if let Some(other) = live(ctx, Kind::PublicIp)?
        .into_iter()
        .find(|x| x.s("privateIpId") == private_ip_id)
    {
        return Err(ApiError::conflict(format!(
            "The private IP {private_ip_id} already has the public IP {}",
            other.s("ipAddress")
        )));
    }
    Ok(p)
}

pub(crate) fn create_public_ip(ctx: &Ctx<'_>, call: &Call) -> Result<Reply, ApiError> {
    let b = json_body(&call.body)?;
    let compartment = req_str(&b, "compartmentId")?;
    let lifetime = req_str(&b, "lifetime")?;
    if lifetime != "RESERVED" && lifetime != "EPHEMERAL" {
        return Err(ApiError::invalid(format!("Invalid lifetime: {lifetime}")));
    }
    let private = opt_str(&b, "privateIpId")?;
    if lifetime == "EPHEMERAL" && private.is_none() {
        return Err(ApiError::missing("privateIpId"));
    }
    ctx.check_compartment(&compartment)?;
    let p = private
        .as_deref()
        .map(|id| check_private_ip_free(ctx, id))
        .transpose()?;
    let addr = public_address(ctx)?;
    let id = ctx.new_ocid(Kind::PublicIp);
    let (scope, ad) = if lifetime == "EPHEMERAL" {
        (
            "AVAILABILITY_DOMAIN",
            p.as_ref().map(|p| p.s("availabilityDomain").to_string()),
        )
    } else {
        ("REGION", None)
    };
    let (state, ts) = if private.is_some() {
        (
            "ASSIGNING",
            vec![at(
                ctx.after(nominal::NETWORK),
                json!({"lifecycleState": "ASSIGNED"}),
            )],
        )
    } else {
        (
            "PROVISIONING",
            vec![at(
                ctx.after(nominal::NETWORK),
                json!({"lifecycleState": "AVAILABLE"}),
            )],
        )
    };
    let doc = json!({
        "id": id,
        "compartmentId": compartment,
        "availabilityDomain": ad,
        "displayName": opt_str(&b, "displayName")?.unwrap_or_else(|| default_name("publicip", ctx.now)),
        "ipAddress": addr,
        "lifetime": lifetime,
        "scope": scope,
        "assignedEntityId": private,
        "assignedEntityType": private.as_ref().map(|_| "PRIVATE_IP"),
        "privateIpId": private,
        "publicIpPoolId": opt_str(&b, "publicIpPoolId")?,
        "freeformTags": freeform_tags(&b)?,
        "definedTags": defined_tags(&b)?,
        "lifecycleState": state,
        "timeCreated": rfc3339(ctx.now),
    });
    ctx.insert(Kind::PublicIp, &id, &compartment, doc, ts, json!({}))?;
    if let Some(pid) = &private {
        set_vnic_public_ip(ctx, pid, Some(&addr))?;
    }
    let r = ctx.must_get(Kind::PublicIp, &id)?;
    Ok(reply_res(200, &r, ctx.now))
}

/// UpdatePublicIp: names and tags, and `privateIpId` to move (an OCID) or unassign (`""`) a
/// reserved public IP.
pub(crate) fn update_public_ip(ctx: &Ctx<'_>, id: &str, call: &Call) -> Result<Reply, ApiError> {
    let mut r = ctx.must_get(Kind::PublicIp, id)?;
    check_if_match(call, &r.etag)?;
    if is_going(&r) {
        return Err(ApiError::incorrect_state(format!(
            "The public IP {id} is {}.",
            r.state()
        )));
    }
    let b = json_body(&call.body)?;
    if let Some(n) = opt_str(&b, "displayName")? {
        r.doc["displayName"] = n.into();
    }
    if b.get("freeformTags").is_some() {
        r.doc["freeformTags"] = freeform_tags(&b)?;
    }
    if b.get("definedTags").is_some() {
        r.doc["definedTags"] = defined_tags(&b)?;
    }
    if let Some(target) = opt_str(&b, "privateIpId")? {
        if r.s("lifetime") == "EPHEMERAL" {
            return Err(ApiError::invalid(
                "An ephemeral public IP cannot be moved or unassigned; delete it instead",
            ));
        }
        let current = r.s("privateIpId").to_string();
        if target != current {
            if !target.is_empty() {
                check_private_ip_free(ctx, &target)?;
            }
            if !current.is_empty() {
                set_vnic_public_ip(ctx, &current, None)?;
            }
            let settle = ctx.after(nominal::NETWORK);
            if target.is_empty() {
                r.doc["lifecycleState"] = "UNASSIGNING".into();
                r.doc["assignedEntityId"] = Value::Null;
                r.doc["assignedEntityType"] = Value::Null;
                r.doc["privateIpId"] = Value::Null;
                r.pending = vec![at(settle, json!({"lifecycleState": "AVAILABLE"}))];
            } else {
                r.doc["lifecycleState"] = "ASSIGNING".into();
                r.doc["assignedEntityId"] = target.clone().into();
                r.doc["assignedEntityType"] = "PRIVATE_IP".into();
                r.doc["privateIpId"] = target.clone().into();
                r.pending = vec![at(settle, json!({"lifecycleState": "ASSIGNED"}))];
                let addr = r.s("ipAddress").to_string();
                set_vnic_public_ip(ctx, &target, Some(&addr))?;
            }
        }
    }
    ctx.tx.save(&mut r)?;
    Ok(reply_res(200, &r, ctx.now))
}

pub(crate) fn delete_public_ip(ctx: &Ctx<'_>, id: &str, call: &Call) -> Result<Reply, ApiError> {
    let mut r = ctx.must_get(Kind::PublicIp, id)?;
    check_if_match(call, &r.etag)?;
    if is_going(&r) {
        return Ok(Reply::empty(204));
    }
    let private = r.s("privateIpId").to_string();
    if !private.is_empty() {
        set_vnic_public_ip(ctx, &private, None)?;
    }
    let done = ctx.after(nominal::NETWORK_DELETE);
    terminate_row(ctx, &mut r, done)?;
    Ok(Reply::empty(204))
}

pub(crate) fn public_ip_by_address(ctx: &Ctx<'_>, call: &Call) -> Result<Reply, ApiError> {
    let b = json_body(&call.body)?;
    let addr = req_str(&b, "ipAddress")?;
    let r = live(ctx, Kind::PublicIp)?
        .into_iter()
        .find(|p| p.s("ipAddress") == addr)
        .ok_or_else(ApiError::not_found)?;
    Ok(reply_res(200, &r, ctx.now))
}

pub(crate) fn public_ip_by_private_ip(ctx: &Ctx<'_>, call: &Call) -> Result<Reply, ApiError> {
    let b = json_body(&call.body)?;
    let pid = req_str(&b, "privateIpId")?;
    let r = live(ctx, Kind::PublicIp)?
        .into_iter()
        .find(|p| p.s("privateIpId") == pid)
        .ok_or_else(ApiError::not_found)?;
    Ok(reply_res(200, &r, ctx.now))
}
