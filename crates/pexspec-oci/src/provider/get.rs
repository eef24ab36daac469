//! Get: one resource by its id, to poll a lifecycle state after a create, an update or a
//! delete. A resource that is gone reads as its final state (`TERMINATED`, `DELETED`) while
//! OCI still shows it, then as `None`.

use pexspec_graph::{Address, Kind};
use pexspec_plan::{GetRequest, Observed, ProviderError, Scope};

use super::OciProvider;
use super::error::{convert, invalid};
use super::fields::{self, PrimaryVnic, observed, state_of};
use super::observe::{META_ADDRESS, META_STACK, primary_vnics};
use crate::error::OciError;
use crate::models::*;

/// `Ok(None)` for a 404.
fn found<T>(r: Result<T, OciError>, address: &Address) -> Result<Option<T>, ProviderError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(convert(Some(address), e)),
    }
}

impl OciProvider {
    pub(crate) async fn get_one(
        &self,
        request: GetRequest<'_>,
    ) -> Result<Option<Observed>, ProviderError> {
        let address = request.address;
        let Some(id) = request.id else {
            // A create whose answer was lost: find it by its tags.
            let regions = request
                .region
                .map(|r| vec![r.to_owned()])
                .unwrap_or_default();
            let scope = Scope {
                stack: request.stack.to_owned(),
                regions,
            };
            return Ok(self
                .observe_in(&scope, false)
                .await?
                .resources
                .remove(address));
        };
        let region = match (request.region, address.kind()) {
            (Some(r), _) => r.to_owned(),
            (None, Kind::RpcPeering) => address
                .key()
                .and_then(|k| k.split_once(':'))
                .map(|(a, _)| a.to_owned())
                .ok_or_else(|| invalid(address, "an `rpc_peering` address names two regions"))?,
            (None, _) => self.settings.home_region.clone(),
        };
        self.get_by_id(request.stack, address, &region, id).await
    }

    /// Reads one resource of `address`'s kind by id in `region`.
    pub(crate) async fn get_by_id(
        &self,
        stack: &str,
        address: &Address,
        region: &str,
        id: &str,
    ) -> Result<Option<Observed>, ProviderError> {
        let c = self.region(region);
        let r = Some(region);
        macro_rules! simple {
            ($call:expr, $fields:path) => {{
                let Some(x) = found($call.await, address)? else {
                    return Ok(None);
                };
                Ok(Some(observed(
                    address,
                    &x.id,
                    r,
                    $fields(&x),
                    x.etag.as_deref(),
                    state_of(&x),
                )))
            }};
        }
        match address.kind() {
            Kind::Compartment => {
                let Some(x) = found(self.home().get_compartment(id).await, address)? else {
                    return Ok(None);
                };
                Ok(Some(self.compartment_observed(&x)))
            }
            Kind::Bucket => {
                let (ns, name) = fields::parse_bucket_id(id)
                    .ok_or_else(|| invalid(address, format!("`{id}` is not a bucket id")))?;
                let Some(b) = found(self.home().get_bucket(ns, name).await, address)? else {
                    return Ok(None);
                };
                Ok(Some(observed(
                    address,
                    id,
                    Some(&self.settings.home_region),
                    fields::bucket(&b, ns),
                    b.etag.as_deref(),
                    None,
                )))
            }
            Kind::Object => {
                let (ns, bucket, name) = fields::parse_object_id(id)
                    .ok_or_else(|| invalid(address, format!("`{id}` is not an object id")))?;
                let head = self
                    .home()
                    .head_object(ns, bucket, name)
                    .await
                    .map_err(|e| convert(Some(address), e))?;
                let Some(head) = head else { return Ok(None) };
                let tagged_for = head.metadata.get(META_STACK).map(String::as_str);
                let tagged_as = head.metadata.get(META_ADDRESS).map(String::as_str);
                if tagged_for.is_some_and(|s| s != stack)
                    || tagged_as.is_some_and(|a| a != address.to_string())
                {
                    return Ok(None);
                }
                let md5 = head
                    .content_md5
                    .as_deref()
                    .or(head.multipart_md5.as_deref());
                Ok(Some(observed(
                    address,
                    id,
                    Some(&self.settings.home_region),
                    fields::object(ns, bucket, name, Some(head.size), md5),
                    head.etag.as_deref(),
                    None,
                )))
            }
            Kind::Image => simple!(c.get_image(id), fields::image),
            Kind::ImageShape => {
                let (image, shape) = fields::parse_image_shape_id(id)
                    .ok_or_else(|| invalid(address, format!("`{id}` is not an image shape id")))?;
                let Some(entries) = found(c.list_image_shape_compatibility(image).await, address)?
                else {
                    return Ok(None);
                };
                Ok(entries.iter().find(|e| e.shape == shape).map(|_| {
                    observed(
                        address,
                        id,
                        r,
                        fields::image_shape(image, shape),
                        None,
                        None,
                    )
                }))
            }
            Kind::Vcn => simple!(c.get_vcn(id), fields::vcn),
            Kind::InternetGateway => {
                simple!(c.get_internet_gateway(id), fields::internet_gateway)
            }
            Kind::Drg => simple!(c.get_drg(id), fields::drg),
            Kind::DrgAttachment => simple!(c.get_drg_attachment(id), fields::drg_attachment),
            Kind::Rpc => simple!(c.get_remote_peering_connection(id), fields::rpc),
            Kind::RouteTable => simple!(c.get_route_table(id), fields::route_table),
            Kind::SecurityList => simple!(c.get_security_list(id), fields::security_list),
            Kind::Subnet => simple!(c.get_subnet(id), fields::subnet),
            Kind::PublicIp => simple!(c.get_public_ip(id), fields::public_ip),
            Kind::RpcPeering => {
                let requestor = id.split('+').next().unwrap_or(id);
                let Some(x) = found(c.get_remote_peering_connection(requestor).await, address)?
                else {
                    return Ok(None);
                };
                if x.peering_status == PeeringStatus::New || x.peer_id.is_none() {
                    return Ok(None);
                }
                let peer = x.peer_id.clone().unwrap_or_default();
                Ok(Some(observed(
                    address,
                    fields::peering_id(&x.id, &peer),
                    None,
                    fields::rpc_peering(region, &x),
                    None,
                    Some(x.peering_status.as_str().to_owned()),
                )))
            }
            Kind::Instance => {
                let Some(x) = found(c.get_instance(id).await, address)? else {
                    return Ok(None);
                };
                let vnic = self.instance_vnic(&x, region).await?;
                // Lists are eventually consistent: a RUNNING instance whose primary VNIC is
                // not listed yet has no private IP for its dependents (the public IP) to
                // refer to. It reads as ATTACHING, a state the executor waits through.
                let state = match state_of(&x) {
                    Some(s)
                        if s == "RUNNING"
                            && vnic.as_ref().is_none_or(|v| v.private_ip_id.is_none()) =>
                    {
                        Some("ATTACHING".to_owned())
                    }
                    other => other,
                };
                Ok(Some(observed(
                    address,
                    &x.id,
                    r,
                    fields::instance(&x, vnic.as_ref()),
                    x.etag.as_deref(),
                    state,
                )))
            }
            other => Err(ProviderError::Internal {
                message: format!("`{other}` is not an OCI kind: ask the Pexip provider"),
            }),
        }
    }

    /// The primary VNIC of one instance (its attachments, then the VNIC's private IPs).
    pub(crate) async fn instance_vnic(
        &self,
        instance: &Instance,
        region: &str,
    ) -> Result<Option<PrimaryVnic>, ProviderError> {
        let c = self.region(region);
        let address = Address::new(
            Kind::Instance,
            instance.display_name.as_deref().unwrap_or(""),
        );
        let attachments = c
            .list_vnic_attachments(&instance.compartment_id, Some(&instance.id))
            .await
            .map_err(|e| convert(Some(&address), e))?;
        let mut ips = Vec::new();
        for a in &attachments {
            if a.lifecycle_state != LifecycleState::Attached {
                continue;
            }
            if let Some(v) = &a.vnic_id {
                match c.list_private_ips_by_vnic(v).await {
                    Ok(list) => ips.extend(list),
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(convert(Some(&address), e)),
                }
            }
        }
        Ok(primary_vnics(&attachments, &ips).remove(&instance.id))
    }
}
