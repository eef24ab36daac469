//! Identity: compartments, regions, region subscriptions, availability and fault domains,
//! the tenancy.

use serde_json::{Value, json};

use super::{
    Call, Ctx, Kind, at, check_if_match, is_going, new_work_request, nominal, page, reply_res,
};
use crate::oci::auth::TEST_TENANCY_OCID;
use crate::oci::catalog::{self, FAULT_DOMAINS, REGIONS};
use crate::oci::wire::{
    ApiError, Reply, defined_tags, freeform_tags, json_body, opt_str, req_str, rfc3339,
};

/// Identity writes go to the home region only (403 NotAllowed elsewhere).
fn home_only(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    if ctx.region == ctx.home_region {
        return Ok(());
    }
    let key = catalog::region(ctx.home_region).map_or(ctx.home_region, |r| r.key);
    Err(ApiError::new(
        403,
        "NotAllowed",
        format!("Please go to your home region {key} to execute CUD operations."),
    ))
}

pub(crate) fn create_compartment(ctx: &Ctx<'_>, call: &Call) -> Result<Reply, ApiError> {
    home_only(ctx)?;
    let b = json_body(&call.body)?;
    let parent = req_str(&b, "compartmentId")?;
    let name = req_str(&b, "name")?;
    let description = req_str(&b, "description")?;
    if name.len() > 100
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(ApiError::invalid(format!(
            "Invalid compartment name: {name}"
        )));
    }
    ctx.check_compartment(&parent)?;
    let taken = ctx
        .all(Kind::Compartment)?
        .iter()
        .any(|c| c.compartment == parent && c.s("name") == name && !is_going(c));
    if taken {
        return Err(ApiError::new(
            409,
            "CompartmentAlreadyExists",
            format!("Compartment '{name}' already exists"),
        ));
    }
    let id = ctx.new_ocid(Kind::Compartment);
    let doc = json!({
        "id": id,
        "compartmentId": parent,
        "name": name,
        "description": description,
        "timeCreated": rfc3339(ctx.now),
        "lifecycleState": "CREATING",
        "isAccessible": true,
        "freeformTags": freeform_tags(&b)?,
        "definedTags": defined_tags(&b)?,
    });
    let ts = vec![at(
        ctx.after(nominal::COMPARTMENT),
        json!({"lifecycleState": "ACTIVE"}),
    )];
    ctx.insert(Kind::Compartment, &id, &parent, doc, ts, json!({}))?;
    let r = ctx.must_get(Kind::Compartment, &id)?;
    Ok(reply_res(200, &r, ctx.now))
}

pub(crate) fn update_compartment(ctx: &Ctx<'_>, id: &str, call: &Call) -> Result<Reply, ApiError> {
    home_only(ctx)?;
    let mut r = ctx.must_get(Kind::Compartment, id)?;
    check_if_match(call, &r.etag)?;
    if is_going(&r) {
        return Err(ApiError::incorrect_state(format!(
            "The compartment {id} is {}.",
            r.state()
        )));
    }
    let b = json_body(&call.body)?;
    if let Some(n) = opt_str(&b, "name")? {
        r.doc["name"] = n.into();
    }
    if let Some(d) = opt_str(&b, "description")? {
        r.doc["description"] = d.into();
    }
    if b.get("freeformTags").is_some() {
        r.doc["freeformTags"] = freeform_tags(&b)?;
    }
    if b.get("definedTags").is_some() {
        r.doc["definedTags"] = defined_tags(&b)?;
    }
    ctx.tx.save(&mut r)?;
    Ok(reply_res(200, &r, ctx.now))
}

/// DeleteCompartment: refused (409) while the compartment holds live resources; otherwise
/// DELETING → DELETED through a work request (202 + `opc-work-request-id`).
pub(crate) fn delete_compartment(ctx: &Ctx<'_>, id: &str, call: &Call) -> Result<Reply, ApiError> {
    home_only(ctx)?;
    let mut r = ctx.must_get(Kind::Compartment, id)?;
    check_if_match(call, &r.etag)?;
    if is_going(&r) {
        return Err(ApiError::incorrect_state(format!(
            "The compartment {id} is already {}.",
            r.final_state()
        )));
    }
    if r.state() != "ACTIVE" {
        return Err(ApiError::incorrect_state(format!(
            "The compartment {id} is {}.",
            r.state()
        )));
    }
    let kinds = [
        Kind::Compartment,
        Kind::Vcn,
        Kind::Subnet,
        Kind::InternetGateway,
        Kind::Drg,
        Kind::Rpc,
        Kind::Instance,
        Kind::Image,
        Kind::PublicIp,
    ];
    for k in kinds {
        let busy = ctx
            .tx
            .list(k.store_kind(), None, ctx.now)?
            .into_iter()
            .any(|x| x.compartment == id && !is_going(&x) && !matches!(x.state(), "DELETED"));
        if busy {
            return Err(ApiError::conflict(format!(
                "Compartment {id} is not empty: delete its resources first."
            )));
        }
    }
    let done = ctx.after(nominal::COMPARTMENT_DELETE);
    r.doc["lifecycleState"] = "DELETING".into();
    r.pending = vec![at(done, json!({"lifecycleState": "DELETED"}))];
    r.purge_ms = Some(ctx.purge_after(done));
    ctx.tx.save(&mut r)?;
    let wr = new_work_request(
        ctx,
        "DELETE_COMPARTMENT",
        &r.compartment,
        vec![("DELETED", "compartment", id)],
        ctx.now,
        done,
        None,
    )?;
    Ok(Reply::empty(202).header("opc-work-request-id", wr))
}

pub(crate) fn list_regions() -> Result<Reply, ApiError> {
    let v: Vec<Value> = REGIONS
        .iter()
        .map(|r| json!({"key": r.key, "name": r.name}))
        .collect();
    Ok(Reply::json(200, Value::Array(v)))
}

fn check_tenancy(t: &str) -> Result<(), ApiError> {
    if t == TEST_TENANCY_OCID {
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}

/// The subscribed regions: `{name: ready_ms}` in the meta table, plus the home region.
fn subscriptions(ctx: &Ctx<'_>) -> Result<serde_json::Map<String, Value>, ApiError> {
    let mut m = match ctx.tx.meta("region_subscriptions")? {
        Some(s) => serde_json::from_str::<serde_json::Map<String, Value>>(&s).unwrap_or_default(),
        None => serde_json::Map::new(),
    };
    m.entry(ctx.home_region.to_string()).or_insert(json!(0));
    Ok(m)
}

/// Marks regions as subscribed (the regions a simulator serves are subscribed at startup).
pub(crate) fn subscribe(ctx: &Ctx<'_>, regions: &[String]) -> Result<(), ApiError> {
    let mut m = subscriptions(ctx)?;
    for r in regions {
        m.entry(r.clone()).or_insert(json!(0));
    }
    ctx.tx
        .set_meta("region_subscriptions", &Value::Object(m).to_string())
}

fn subscription_json(ctx: &Ctx<'_>, name: &str, ready_ms: i64) -> Value {
    let key = catalog::region(name).map_or("", |r| r.key);
    json!({
        "regionKey": key,
        "regionName": name,
        "status": if ready_ms <= ctx.now { "READY" } else { "IN_PROGRESS" },
        "isHomeRegion": name == ctx.home_region,
    })
}

pub(crate) fn list_region_subscriptions(ctx: &Ctx<'_>, t: &str) -> Result<Reply, ApiError> {
    check_tenancy(t)?;
    let m = subscriptions(ctx)?;
    let v: Vec<Value> = m
        .iter()
        .map(|(n, ms)| subscription_json(ctx, n, ms.as_i64().unwrap_or(0)))
        .collect();
    Ok(Reply::json(200, Value::Array(v)))
}

pub(crate) fn create_region_subscription(
    ctx: &Ctx<'_>,
    t: &str,
    call: &Call,
) -> Result<Reply, ApiError> {
    check_tenancy(t)?;
    home_only(ctx)?;
    let b = json_body(&call.body)?;
    let key = req_str(&b, "regionKey")?;
    let region = catalog::region(&key)
        .ok_or_else(|| ApiError::invalid(format!("Invalid regionKey: {key}")))?;
    let mut m = subscriptions(ctx)?;
    if m.contains_key(region.name) {
        return Err(ApiError::conflict(format!(
            "The tenancy is already subscribed to {}.",
            region.name
        )));
    }
    let ready = ctx.after(std::time::Duration::from_secs(120));
    m.insert(region.name.to_string(), json!(ready));
    ctx.tx
        .set_meta("region_subscriptions", &Value::Object(m).to_string())?;
    Ok(Reply::json(200, subscription_json(ctx, region.name, ready)))
}

fn ad_id(name: &str) -> String {
    use sha2::Digest as _;
    let h = crate::oci::wire::hex(&sha2::Sha256::digest(name.as_bytes()));
    format!("ocid1.availabilitydomain.oc1..aaaaaaaa{}", &h[..52])
}

pub(crate) fn list_ads(ctx: &Ctx<'_>, call: &Call) -> Result<Reply, ApiError> {
    let c = call.req_q("compartmentId")?;
    ctx.check_compartment(c)?;
    let v: Vec<Value> = catalog::availability_domains(ctx.region)
        .into_iter()
        .map(|n| json!({"id": ad_id(&n), "name": n, "compartmentId": c}))
        .collect();
    Ok(Reply::json(200, Value::Array(v)))
}

pub(crate) fn list_fault_domains(ctx: &Ctx<'_>, call: &Call) -> Result<Reply, ApiError> {
    let c = call.req_q("compartmentId")?;
    let ad = call.req_q("availabilityDomain")?;
    ctx.check_compartment(c)?;
    if !catalog::availability_domains(ctx.region)
        .iter()
        .any(|a| a == ad)
    {
        return Err(ApiError::invalid(format!(
            "Invalid availabilityDomain: {ad}"
        )));
    }
    let v: Vec<Value> = FAULT_DOMAINS
        .iter()
        .map(|fd| json!({"id": ad_id(&format!("{ad}/{fd}")), "name": fd, "compartmentId": c, "availabilityDomain": ad}))
        .collect();
    page(call, v)
}

pub(crate) fn get_tenancy(ctx: &Ctx<'_>, t: &str) -> Result<Reply, ApiError> {
    check_tenancy(t)?;
    let key = catalog::region(ctx.home_region).map_or("", |r| r.key);
    Ok(Reply::json(
        200,
        json!({
            "id": TEST_TENANCY_OCID,
            "name": "pexspec-sim",
            "description": "The tenancy of the pexspec OCI simulator",
            "homeRegionKey": key,
            "freeformTags": {},
            "definedTags": {},
        }),
    ))
}

/// GetCompartment on the tenancy OCID: the root compartment.
pub(crate) fn root_compartment() -> Reply {
    Reply::json(
        200,
        json!({
            "id": TEST_TENANCY_OCID,
            "compartmentId": TEST_TENANCY_OCID,
            "name": "pexspec-sim",
            "description": "The root compartment of the pexspec OCI simulator",
            "timeCreated": "2024-01-01T00:00:00.000Z",
            "lifecycleState": "ACTIVE",
            "isAccessible": true,
            "freeformTags": {},
            "definedTags": {},
        }),
    )
}
