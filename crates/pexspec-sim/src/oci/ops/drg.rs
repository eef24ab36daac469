//! Dynamic routing gateways, their VCN attachments, and remote peering connections (RPCs)
//! with cross-region peering.

use serde_json::json;

use super::network::terminate_row;
use super::{Call, Ctx, Kind, at, check_if_match, default_name, is_going, nominal, reply_res};
use crate::oci::catalog;
use crate::oci::store::Res;
use crate::oci::wire::{
    ApiError, Reply, defined_tags, freeform_tags, json_body, opt_obj, opt_str, req_str, rfc3339,
};

fn available_drg(ctx: &Ctx<'_>, drg_id: &str) -> Result<Res, ApiError> {
    let drg = ctx
        .find(Kind::Drg, drg_id)?
        .ok_or_else(ApiError::not_found)?;
    if drg.state() != "AVAILABLE" {
        return Err(ApiError::incorrect_state(format!(
            "The DRG {drg_id} is {}; wait until it is AVAILABLE.",
            drg.state()
        )));
    }
    Ok(drg)
}

pub(crate) fn create_drg(ctx: &Ctx<'_>, call: &Call) -> Result<Reply, ApiError> {
    let b = json_body(&call.body)?;
    let compartment = req_str(&b, "compartmentId")?;
    ctx.check_compartment(&compartment)?;
    let id = ctx.new_ocid(Kind::Drg);
    let rt = |_: &str| catalog::ocid("drgroutetable", ctx.region);
    let doc = json!({
        "id": id,
        "compartmentId": compartment,
        "displayName": opt_str(&b, "displayName")?.unwrap_or_else(|| default_name("drg", ctx.now)),
        "freeformTags": freeform_tags(&b)?,
        "definedTags": defined_tags(&b)?,
        "lifecycleState": "PROVISIONING",
        "timeCreated": rfc3339(ctx.now),
        "defaultDrgRouteTables": {
            "vcn": rt("a"),
            "ipsecTunnel": rt("b"),
            "virtualCircuit": rt("c"),
            "remotePeeringConnection": rt("d"),
        },
        "defaultExportDrgRouteDistributionId": catalog::ocid("drgroutedistribution", ctx.region),
    });
    let ts = vec![at(
        ctx.after(nominal::DRG),
        json!({"lifecycleState": "AVAILABLE"}),
    )];
    ctx.insert(Kind::Drg, &id, &compartment, doc, ts, json!({}))?;
    let r = ctx.must_get(Kind::Drg, &id)?;
    Ok(reply_res(200, &r, ctx.now))
}

pub(crate) fn create_attachment(ctx: &Ctx<'_>, call: &Call) -> Result<Reply, ApiError> {
    let b = json_body(&call.body)?;
    let drg_id = req_str(&b, "drgId")?;
    let nd = opt_obj(&b, "networkDetails")?;
    let vcn_id = match (opt_str(&b, "vcnId")?, nd) {
        (Some(v), _) => v,
        (None, Some(nd)) => {
            if nd
                .get("type")
                .and_then(|t| t.as_str())
                .is_some_and(|t| t != "VCN")
            {
                return Err(ApiError::invalid(
                    "Only networkDetails of type VCN are simulated",
                ));
            }
            nd.get("id")
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .ok_or_else(|| ApiError::missing("networkDetails.id"))?
        }
        (None, None) => return Err(ApiError::missing("vcnId")),
    };
    let drg = available_drg(ctx, &drg_id)?;
    let vcn = ctx.related(Kind::Vcn, &vcn_id, "VCN")?;
    if vcn.state() != "AVAILABLE" {
        return Err(ApiError::incorrect_state(format!(
            "The VCN {vcn_id} is {}.",
            vcn.state()
        )));
    }
    if let Some(other) = ctx
        .all(Kind::DrgAttachment)?
        .into_iter()
        .find(|a| a.s("vcnId") == vcn_id && !is_going(a))
    {
        return Err(ApiError::conflict(format!(
            "The VCN {vcn_id} is already attached to DRG {} (attachment {}); a VCN can attach to one DRG only.",
            other.s("drgId"),
            other.ocid
        )));
    }
    let rt = opt_str(&b, "routeTableId")?.or_else(|| {
        nd.and_then(|n| n.get("routeTableId"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    });
    if let Some(rt) = &rt {
        let t = ctx.related(Kind::RouteTable, rt, "route table")?;
        if t.s("vcnId") != vcn_id {
            return Err(ApiError::invalid(format!(
                "The route table {rt} belongs to another VCN"
            )));
        }
    }
    let id = ctx.new_ocid(Kind::DrgAttachment);
    let doc = json!({
        "id": id,
        "compartmentId": drg.compartment,
        "displayName": opt_str(&b, "displayName")?.unwrap_or_else(|| default_name("drgattachment", ctx.now)),
        "drgId": drg_id,
        "vcnId": vcn_id,
        "routeTableId": rt,
        "drgRouteTableId": opt_str(&b, "drgRouteTableId")?
            .unwrap_or_else(|| drg.doc["defaultDrgRouteTables"]["vcn"].as_str().unwrap_or_default().to_string()),
        "networkDetails": {"type": "VCN", "id": vcn_id, "routeTableId": rt, "vcnRouteType": "SUBNET_CIDRS"},
        "isCrossTenancy": false,
        "freeformTags": freeform_tags(&b)?,
        "definedTags": defined_tags(&b)?,
        "lifecycleState": "ATTACHING",
        "timeCreated": rfc3339(ctx.now),
    });
    let ts = vec![at(
        ctx.after(nominal::DRG_ATTACH),
        json!({"lifecycleState": "ATTACHED"}),
    )];
    ctx.insert(
        Kind::DrgAttachment,
        &id,
        &drg.compartment,
        doc,
        ts,
        json!({}),
    )?;
    let r = ctx.must_get(Kind::DrgAttachment, &id)?;
    Ok(reply_res(200, &r, ctx.now))
}

pub(crate) fn create_rpc(ctx: &Ctx<'_>, call: &Call) -> Result<Reply, ApiError> {
    let b = json_body(&call.body)?;
    let compartment = req_str(&b, "compartmentId")?;
    let drg_id = req_str(&b, "drgId")?;
    ctx.check_compartment(&compartment)?;
    available_drg(ctx, &drg_id)?;
    let id = ctx.new_ocid(Kind::Rpc);
    let doc = json!({
        "id": id,
        "compartmentId": compartment,
        "displayName": opt_str(&b, "displayName")?.unwrap_or_else(|| default_name("remotepeeringconnection", ctx.now)),
        "drgId": drg_id,
        "isCrossTenancyPeering": false,
        "peeringStatus": "NEW",
        "freeformTags": freeform_tags(&b)?,
        "definedTags": defined_tags(&b)?,
        "lifecycleState": "PROVISIONING",
        "timeCreated": rfc3339(ctx.now),
    });
    let ts = vec![at(
        ctx.after(nominal::RPC),
        json!({"lifecycleState": "AVAILABLE"}),
    )];
    ctx.insert(Kind::Rpc, &id, &compartment, doc, ts, json!({}))?;
    let r = ctx.must_get(Kind::Rpc, &id)?;
    Ok(reply_res(200, &r, ctx.now))
}

/// ConnectRemotePeeringConnections, called on either side: both RPCs go PENDING, then
/// PEERED after a while. A connect repeated for the same pair (from either side) is a no-op;
/// a peer that does not exist in `peerRegionName` makes this RPC's status INVALID.
pub(crate) fn connect(ctx: &Ctx<'_>, id: &str, call: &Call) -> Result<Reply, ApiError> {
    let b = json_body(&call.body)?;
    let peer_id = req_str(&b, "peerId")?;
    let peer_region = req_str(&b, "peerRegionName")?;
    let mut me = ctx.must_get(Kind::Rpc, id)?;
    if me.state() != "AVAILABLE" {
        return Err(ApiError::incorrect_state(format!(
            "The remote peering connection {id} is {}.",
            me.state()
        )));
    }
    let Some(region) = catalog::region(&peer_region) else {
        return Err(ApiError::invalid(format!(
            "Invalid peerRegionName: {peer_region}"
        )));
    };
    if region.name == ctx.region {
        return Err(ApiError::invalid(
            "A remote peering connection peers with another region; use a local peering gateway within one region",
        ));
    }
    let status = me.s("peeringStatus").to_string();
    if matches!(status.as_str(), "PENDING" | "PEERED") {
        if me.s("peerId") == peer_id {
            return Ok(Reply::empty(200));
        }
        return Err(ApiError::conflict(format!(
            "The remote peering connection {id} is already connected to {}.",
            me.s("peerId")
        )));
    }
    let peer = ctx
        .tx
        .get_kind(Kind::Rpc.store_kind(), &peer_id, ctx.now)?
        .filter(|p| p.region == region.name && !is_going(p));
    let Some(mut peer) = peer else {
        me.doc["peeringStatus"] = "INVALID".into();
        me.doc["peerId"] = peer_id.into();
        me.doc["peerRegionName"] = region.name.into();
        ctx.tx.save(&mut me)?;
        return Ok(Reply::empty(200));
    };
    if peer.state() != "AVAILABLE" {
        return Err(ApiError::incorrect_state(format!(
            "The peer {peer_id} is {}.",
            peer.state()
        )));
    }
    if matches!(peer.s("peeringStatus"), "PENDING" | "PEERED") && peer.s("peerId") != id {
        return Err(ApiError::conflict(format!(
            "The peer {peer_id} is already connected to {}.",
            peer.s("peerId")
        )));
    }
    let peered_at = ctx.after(nominal::PEERING);
    for (rpc, other, other_region) in [
        (&mut me, peer_id.as_str(), region.name),
        (&mut peer, id, ctx.region),
    ] {
        rpc.doc["peeringStatus"] = "PENDING".into();
        rpc.doc["peerId"] = other.into();
        rpc.doc["peerRegionName"] = other_region.into();
        rpc.doc["peerTenancyId"] = crate::oci::auth::TEST_TENANCY_OCID.into();
        rpc.pending
            .push(at(peered_at, json!({"peeringStatus": "PEERED"})));
        ctx.tx.save(rpc)?;
    }
    Ok(Reply::empty(200))
}

/// Deletes a DRG (refused while attached or peered), a DRG attachment (refused while a route
/// rule targets the DRG from that VCN) or an RPC (its peer becomes REVOKED).
pub(crate) fn delete(ctx: &Ctx<'_>, k: Kind, id: &str, call: &Call) -> Result<Reply, ApiError> {
    let mut r = ctx.must_get(k, id)?;
    check_if_match(call, &r.etag)?;
    if is_going(&r) {
        return Ok(Reply::empty(204));
    }
    if matches!(r.state(), "PROVISIONING" | "ATTACHING") {
        return Err(ApiError::incorrect_state(format!(
            "The resource {id} is {}; wait for it first.",
            r.state()
        )));
    }
    let done = ctx.after(if k == Kind::DrgAttachment {
        nominal::DRG_ATTACH
    } else {
        nominal::NETWORK_DELETE
    });
    match k {
        Kind::Drg => {
            if let Some(a) = ctx
                .all(Kind::DrgAttachment)?
                .into_iter()
                .find(|a| a.s("drgId") == id && !is_going(a))
            {
                return Err(ApiError::conflict(format!(
                    "The DRG {id} is still attached ({}); delete the attachment first.",
                    a.ocid
                )));
            }
            if let Some(p) = ctx
                .all(Kind::Rpc)?
                .into_iter()
                .find(|p| p.s("drgId") == id && !is_going(p))
            {
                return Err(ApiError::conflict(format!(
                    "The DRG {id} still has the remote peering connection {}.",
                    p.ocid
                )));
            }
            terminate_row(ctx, &mut r, done)?;
        }
        Kind::DrgAttachment => {
            let drg = r.s("drgId").to_string();
            let vcn = r.s("vcnId").to_string();
            for rt in ctx.all(Kind::RouteTable)? {
                let targets = rt.s("vcnId") == vcn
                    && !is_going(&rt)
                    && rt.doc["routeRules"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x["networkEntityId"] == drg.as_str()));
                if targets {
                    return Err(ApiError::conflict(format!(
                        "The route table {} routes to DRG {drg}; remove that rule before detaching.",
                        rt.ocid
                    )));
                }
            }
            r.doc["lifecycleState"] = "DETACHING".into();
            r.pending = vec![at(done, json!({"lifecycleState": "DETACHED"}))];
            r.purge_ms = Some(ctx.purge_after(done));
            ctx.tx.save(&mut r)?;
        }
        Kind::Rpc => {
            let peer_id = r.s("peerId").to_string();
            if !peer_id.is_empty()
                && let Some(mut peer) =
                    ctx.tx.get_kind(Kind::Rpc.store_kind(), &peer_id, ctx.now)?
                && peer.s("peerId") == id
                && !is_going(&peer)
            {
                peer.doc["peeringStatus"] = "REVOKED".into();
                peer.pending
                    .retain(|t| t.patch.get("peeringStatus").is_none());
                ctx.tx.save(&mut peer)?;
            }
            terminate_row(ctx, &mut r, done)?;
        }
        _ => return Err(ApiError::no_route()),
    }
    Ok(Reply::empty(204))
}
