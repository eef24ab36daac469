//! Observe: the compartment by its parent and tags, the bucket and its OVA objects in the home
//! region, and every regional kind with one list call per kind and region (tags filtered
//! client-side), all regions at once; remote peerings are read off the RPCs.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use pexspec_graph::{Address, Kind, Lookup};
use pexspec_plan::{Observed, ObservedState, ProviderError, Scope};

use super::OciProvider;
use super::error::convert;
use super::fields::{self, PrimaryVnic, observed, state_of};
use super::join::{Boxed, try_join_all};
use crate::error::OciError;
use crate::models::*;

/// Metadata keys of an uploaded OVA object (`opc-meta-…`).
pub(crate) const META_STACK: &str = "pexspec-stack";
/// See [`META_STACK`].
pub(crate) const META_ADDRESS: &str = "pexspec-address";

/// What one region holds of the stack.
pub(crate) struct RegionState {
    pub observed: Vec<Observed>,
    pub rpcs: Vec<(Address, RemotePeeringConnection)>,
    /// Available images of the compartment that pexspec does not manage, by look-up key
    /// (`image:REGION:DISPLAY NAME`) → id.
    pub lookups: Vec<(String, String)>,
}

/// The stack's resources of one kind, keyed by address: tagged with the stack, not gone, with
/// an address of the expected kind. Two resources with one address (which retry tokens
/// prevent) resolve to the oldest.
pub(crate) fn tagged<T: OciResource>(
    items: Vec<T>,
    stack: &str,
    kind: Kind,
    created: impl Fn(&T) -> Option<&str>,
) -> Vec<(Address, T)> {
    by_address(items, stack)
        .into_iter()
        .filter_map(|(text, mut found)| {
            let address = Address::parse(&text).ok().filter(|a| a.kind() == kind)?;
            found.sort_by(|a, b| {
                (created(a).unwrap_or(""), a.id()).cmp(&(created(b).unwrap_or(""), b.id()))
            });
            let first = found.into_iter().next()?;
            Some((address, first))
        })
        .collect()
}

/// The primary VNIC of every instance, from the attachments and the subnets' private IPs.
pub(crate) fn primary_vnics(
    attachments: &[VnicAttachment],
    private_ips: &[PrivateIp],
) -> BTreeMap<String, PrimaryVnic> {
    let mut out: BTreeMap<String, (u32, PrimaryVnic)> = BTreeMap::new();
    for a in attachments {
        if a.lifecycle_state != LifecycleState::Attached {
            continue;
        }
        let Some(vnic_id) = &a.vnic_id else { continue };
        let index = a.nic_index.unwrap_or(0);
        if out.get(&a.instance_id).is_some_and(|(i, _)| *i <= index) {
            continue;
        }
        let ip = private_ips
            .iter()
            .find(|p| p.vnic_id.as_ref() == Some(vnic_id) && p.is_primary.unwrap_or(true));
        out.insert(
            a.instance_id.clone(),
            (
                index,
                PrimaryVnic {
                    vnic_id: vnic_id.clone(),
                    subnet_id: ip
                        .and_then(|p| p.subnet_id.clone())
                        .or_else(|| a.subnet_id.clone()),
                    private_ip: ip.and_then(|p| p.ip_address.clone()),
                    private_ip_id: ip.map(|p| p.id.clone()),
                    hostname_label: ip.and_then(|p| p.hostname_label.clone()),
                },
            ),
        );
    }
    out.into_iter().map(|(k, (_, v))| (k, v)).collect()
}

impl OciProvider {
    /// Counts one list call and runs it.
    pub(crate) async fn listed<T>(
        &self,
        operation: &'static str,
        region: &str,
        call: impl Future<Output = Result<Vec<T>, OciError>>,
    ) -> Result<Vec<T>, ProviderError> {
        self.count(operation, region);
        call.await.map_err(|e| convert(None, e))
    }

    /// The stack's compartment, if it exists (any name: a renamed one is an update).
    pub(crate) async fn find_compartment(
        &self,
        stack: &str,
    ) -> Result<Option<Compartment>, ProviderError> {
        let home = self.home();
        let parent = self.parent_id(&self.settings.compartment.parent);
        let all = self
            .listed(
                "ListCompartments",
                home.region(),
                home.list_compartments(&parent, None),
            )
            .await?;
        Ok(
            tagged(all, stack, Kind::Compartment, |c| c.time_created.as_deref())
                .into_iter()
                .map(|(_, c)| c)
                .next(),
        )
    }

    pub(crate) fn compartment_observed(&self, c: &Compartment) -> Observed {
        let spec_parent = &self.settings.compartment.parent;
        let fields = fields::compartment(
            c,
            spec_parent,
            &self.parent_id(spec_parent),
            self.client.tenancy_id(),
        );
        observed(
            &Address::singleton(Kind::Compartment),
            &c.id,
            None,
            fields,
            c.etag.as_deref(),
            state_of(c),
        )
    }

    /// Every OCI resource of the stack: in the home region, the scope's regions and every
    /// other region the tenancy is subscribed to.
    pub(crate) async fn observe_all(&self, scope: &Scope) -> Result<ObservedState, ProviderError> {
        self.observe_in(scope, true).await
    }

    /// The OCI resources of the stack in the home region and the scope's regions, and with
    /// `everywhere` in every subscribed region too.
    pub(crate) async fn observe_in(
        &self,
        scope: &Scope,
        everywhere: bool,
    ) -> Result<ObservedState, ProviderError> {
        let stack = scope.stack.as_str();
        let mut state = ObservedState::new();
        let Some(compartment) = self.find_compartment(stack).await? else {
            self.check_bucket_owner(stack).await?;
            return Ok(state);
        };
        state.insert(self.compartment_observed(&compartment));
        if compartment.lifecycle_state != LifecycleState::Active {
            // Nothing can live in a compartment that is still being created.
            self.check_bucket_owner(stack).await?;
            return Ok(state);
        }
        let cid = compartment.id.as_str();
        let subscribed = if everywhere {
            self.subscribed_regions().await?
        } else {
            Vec::new()
        };
        let mut regions: Vec<&str> = Vec::new();
        for r in std::iter::once(self.settings.home_region.as_str())
            .chain(scope.regions.iter().map(String::as_str))
            .chain(subscribed.iter().map(String::as_str))
        {
            if !regions.contains(&r) {
                regions.push(r);
            }
        }
        let futures: Vec<Boxed<'_, Result<RegionState, ProviderError>>> = regions
            .iter()
            .map(|r| Box::pin(self.observe_region(stack, cid, r)) as Boxed<'_, _>)
            .collect();
        let (storage, regional) =
            tokio::join!(self.observe_storage(stack, cid), try_join_all(futures));
        let storage = storage?;
        if !storage.iter().any(|o| o.address.kind() == Kind::Bucket) {
            self.check_bucket_owner(stack).await?;
        }
        for o in storage {
            state.insert(o);
        }
        let mut rpcs = Vec::new();
        for region in regional? {
            for o in region.observed {
                state.insert(o);
            }
            rpcs.extend(region.rpcs);
            state.lookups.extend(region.lookups);
        }
        for o in peerings(&rpcs) {
            state.insert(o);
        }
        Ok(state)
    }

    /// Refuses, before the plan creates anything, a bucket named like the spec's
    /// (`images.bucket`) that the stack would have to create but that exists and is not the
    /// stack's: tagged `pexspec-stack` with another stack, or untagged (then, if one of its
    /// first objects carries another stack's `opc-meta-pexspec-stack`, that stack is named).
    /// Bucket names are unique in a namespace and region, so its create could only fail with
    /// `409 BucketAlreadyExists`, after the compartment, networks and images were made.
    /// Called only when observe did not find the stack's bucket in its compartment: one
    /// GetBucket, answered 404 for a stack that has no bucket yet.
    pub(crate) async fn check_bucket_owner(&self, stack: &str) -> Result<(), ProviderError> {
        /// How many objects of an untagged bucket are read for their metadata.
        const HEADS: usize = 16;
        let Some(name) = self.settings.bucket.as_deref() else {
            return Ok(());
        };
        let home = self.home();
        let ns = self.namespace().await?;
        let bucket = match home.get_bucket(&ns, name).await {
            Ok(b) => b,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(convert(None, e)),
        };
        let conflict = |message: String| ProviderError::Conflict {
            address: Address::singleton(Kind::Bucket).to_string(),
            message,
        };
        match bucket.tag(TAG_STACK) {
            Some(s) if s == stack => return Ok(()),
            Some(other) => {
                return Err(conflict(format!(
                    "bucket `{name}` belongs to stack `{other}` (its `pexspec-stack` tag); \
                     two stacks cannot share a bucket: choose another `images.bucket`"
                )));
            }
            None => {}
        }
        let objects = home
            .list_objects(&ns, name, None)
            .await
            .map_err(|e| convert(None, e))?;
        for o in objects.iter().take(HEADS) {
            let head = home
                .head_object(&ns, name, &o.name)
                .await
                .map_err(|e| convert(None, e))?;
            if let Some(owner) = head.as_ref().and_then(|h| h.metadata.get(META_STACK))
                && owner != stack
            {
                return Err(conflict(format!(
                    "bucket `{name}` belongs to stack `{owner}` (it holds `{}` uploaded by that \
                     stack); two stacks cannot share a bucket: choose another `images.bucket`",
                    o.name
                )));
            }
        }
        Err(conflict(format!(
            "bucket `{name}` already exists and is not tagged `pexspec-stack: {stack}`; pexspec \
             never adopts a bucket it did not create: choose another `images.bucket`"
        )))
    }

    /// Every region the tenancy is subscribed to and can use (`READY`): the stack may have
    /// resources in a region the spec no longer names (a region removed from the spec), and
    /// those must be found to be deleted. One call, in the home region.
    ///
    /// `ListRegionSubscriptions` is `GET /20160918/tenancies/{tenancyId}/regionSubscriptions`
    /// on the Identity service, answering a list of `RegionSubscription` (`regionKey`,
    /// `regionName`, `status` `READY` or `IN_PROGRESS`, `isHomeRegion`): the official OCI
    /// Python SDK, `oracle/oci-python-sdk` `src/oci/identity/identity_client.py`
    /// (`list_region_subscriptions`) and `src/oci/identity/models/region_subscription.py`;
    /// <https://docs.oracle.com/iaas/api/#/en/identity/20160918/RegionSubscription/ListRegionSubscriptions>.
    ///
    /// A region without an endpoint of its own while others have one (the simulators: one
    /// loopback port per region) is an error, never a call to a default endpoint.
    pub(crate) async fn subscribed_regions(&self) -> Result<Vec<String>, ProviderError> {
        let home = self.home();
        let subscriptions = match self
            .listed(
                "ListRegionSubscriptions",
                home.region(),
                home.list_region_subscriptions(),
            )
            .await
        {
            Ok(s) => s,
            // OCI answers 404 `NotAuthorizedOrNotFound` to a user who may not inspect the
            // tenancy: say what pexspec needs it for rather than "`observe` does not exist".
            // Unverified: which policy grants it (`inspect tenancies` is our reading of the
            // IAM policy reference); a real tenancy with a restricted user would confirm.
            Err(ProviderError::NotFound { .. }) | Err(ProviderError::Config { .. }) => {
                return Err(ProviderError::Config {
                    message: "cannot list the tenancy's region subscriptions (`ListRegionSubscriptions`): pexspec looks for the stack's resources in every subscribed region, so that a region removed from the spec is cleaned up; the user needs to be allowed to inspect the tenancy".to_owned(),
                });
            }
            Err(e) => return Err(e),
        };
        let endpoints = self.client.endpoints();
        let overridden: BTreeSet<&str> = endpoints.overridden_regions().collect();
        let mut out = Vec::new();
        for s in subscriptions {
            if !s.status.eq_ignore_ascii_case("READY") {
                continue;
            }
            if !overridden.is_empty() && !overridden.contains(s.region_name.as_str()) {
                return Err(ProviderError::Config {
                    message: format!(
                        "the tenancy is subscribed to `{}`, which has no endpoint here: its resources of the stack cannot be observed",
                        s.region_name
                    ),
                });
            }
            out.push(s.region_name);
        }
        out.sort();
        Ok(out)
    }

    /// The bucket (ListBuckets, then GetBucket for the stack's one: summaries lack the access
    /// type and tier) and its OVA objects (ListObjects; an object not named in the settings
    /// is read with HeadObject for its `opc-meta-pexspec-*` metadata).
    pub(crate) async fn observe_storage(
        &self,
        stack: &str,
        compartment_id: &str,
    ) -> Result<Vec<Observed>, ProviderError> {
        let home = self.home();
        let region = home.region().to_owned();
        let ns = self.namespace().await?;
        let buckets = self
            .listed(
                "ListBuckets",
                &region,
                home.list_buckets(&ns, compartment_id),
            )
            .await?;
        let mut out = Vec::new();
        for (address, summary) in
            tagged(buckets, stack, Kind::Bucket, |b| b.time_created.as_deref())
        {
            let bucket = match home.get_bucket(&ns, &summary.name).await {
                Ok(b) => b,
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(convert(None, e)),
            };
            out.push(observed(
                &address,
                fields::bucket_id(&ns, &bucket.name),
                Some(&region),
                fields::bucket(&bucket, &ns),
                bucket.etag.as_deref(),
                None,
            ));
            out.extend(self.observe_objects(stack, &ns, &bucket.name).await?);
        }
        Ok(out)
    }

    async fn observe_objects(
        &self,
        stack: &str,
        ns: &str,
        bucket: &str,
    ) -> Result<Vec<Observed>, ProviderError> {
        let home = self.home();
        let region = home.region().to_owned();
        let objects = self
            .listed("ListObjects", &region, home.list_objects(ns, bucket, None))
            .await?;
        let mut found: BTreeMap<Address, Observed> = BTreeMap::new();
        for o in objects {
            let address = match self.settings.objects.get(&o.name) {
                Some(a) => Some(a.clone()),
                None => {
                    let head = home
                        .head_object(ns, bucket, &o.name)
                        .await
                        .map_err(|e| convert(None, e))?;
                    head.filter(|h| h.metadata.get(META_STACK).map(String::as_str) == Some(stack))
                        .and_then(|h| h.metadata.get(META_ADDRESS).cloned())
                        .and_then(|a| Address::parse(&a).ok())
                        .filter(|a| a.kind() == Kind::Object)
                }
            };
            let Some(address) = address else { continue };
            if found.contains_key(&address) && !self.settings.objects.contains_key(&o.name) {
                continue; // The object named by the spec wins over an older upload.
            }
            found.insert(
                address.clone(),
                observed(
                    &address,
                    fields::object_id(ns, bucket, &o.name),
                    Some(&region),
                    fields::object(ns, bucket, &o.name, o.size, o.md5.as_deref()),
                    o.etag.as_deref(),
                    None,
                ),
            );
        }
        Ok(found.into_values().collect())
    }

    /// One region: every regional kind, one list call each, at once.
    pub(crate) async fn observe_region(
        &self,
        stack: &str,
        cid: &str,
        region: &str,
    ) -> Result<RegionState, ProviderError> {
        let c = self.region(region);
        let (
            images,
            vcns,
            gateways,
            drgs,
            attachments,
            rpcs,
            tables,
            lists,
            subnets,
            instances,
            ips,
        ) = tokio::try_join!(
            self.listed("ListImages", region, c.list_images(cid, None)),
            self.listed("ListVcns", region, c.list_vcns(cid)),
            self.listed(
                "ListInternetGateways",
                region,
                c.list_internet_gateways(cid, None)
            ),
            self.listed("ListDrgs", region, c.list_drgs(cid)),
            self.listed(
                "ListDrgAttachments",
                region,
                c.list_drg_attachments(cid, None)
            ),
            self.listed(
                "ListRemotePeeringConnections",
                region,
                c.list_remote_peering_connections(cid, None)
            ),
            self.listed("ListRouteTables", region, c.list_route_tables(cid, None)),
            self.listed(
                "ListSecurityLists",
                region,
                c.list_security_lists(cid, None)
            ),
            self.listed("ListSubnets", region, c.list_subnets(cid, None)),
            self.listed("ListInstances", region, c.list_instances(cid)),
            self.listed("ListPublicIps", region, c.list_reserved_public_ips(cid)),
        )?;
        let mut out = Vec::new();
        let r = Some(region);
        let lookups = images
            .iter()
            .filter(|i| {
                !i.belongs_to_stack(stack) && i.lifecycle_state == LifecycleState::Available
            })
            .filter_map(|i| {
                let key = Lookup {
                    kind: Kind::Image,
                    region: region.to_owned(),
                    display_name: i.display_name.clone()?,
                }
                .key();
                Some((key, i.id.clone()))
            })
            .collect();
        let images = tagged(images, stack, Kind::Image, |i| i.time_created.as_deref());
        for (address, i) in &images {
            out.push(observed(
                address,
                &i.id,
                r,
                fields::image(i),
                i.etag.as_deref(),
                state_of(i),
            ));
        }
        out.extend(self.observe_image_shapes(region, &images).await?);
        macro_rules! simple {
            ($items:expr, $kind:expr, $fields:path) => {
                for (address, x) in tagged($items, stack, $kind, |x| x.time_created.as_deref()) {
                    out.push(observed(
                        &address,
                        &x.id,
                        r,
                        $fields(&x),
                        x.etag.as_deref(),
                        state_of(&x),
                    ));
                }
            };
        }
        simple!(vcns, Kind::Vcn, fields::vcn);
        simple!(gateways, Kind::InternetGateway, fields::internet_gateway);
        simple!(drgs, Kind::Drg, fields::drg);
        simple!(attachments, Kind::DrgAttachment, fields::drg_attachment);
        simple!(tables, Kind::RouteTable, fields::route_table);
        simple!(lists, Kind::SecurityList, fields::security_list);
        simple!(subnets, Kind::Subnet, fields::subnet);
        simple!(ips, Kind::PublicIp, fields::public_ip);
        let rpcs = tagged(rpcs, stack, Kind::Rpc, |x| x.time_created.as_deref());
        for (address, x) in &rpcs {
            out.push(observed(
                address,
                &x.id,
                r,
                fields::rpc(x),
                x.etag.as_deref(),
                state_of(x),
            ));
        }
        let instances = tagged(instances, stack, Kind::Instance, |x| {
            x.time_created.as_deref()
        });
        if !instances.is_empty() {
            let vnics = self.observe_vnics(cid, region, &instances).await?;
            for (address, x) in &instances {
                out.push(observed(
                    address,
                    &x.id,
                    r,
                    fields::instance(x, vnics.get(&x.id)),
                    x.etag.as_deref(),
                    state_of(x),
                ));
            }
        }
        Ok(RegionState {
            observed: out,
            rpcs,
            lookups,
        })
    }

    /// The primary VNICs of the region's instances: ListVnicAttachments once, then
    /// ListPrivateIps once per subnet the instances are in.
    async fn observe_vnics(
        &self,
        cid: &str,
        region: &str,
        instances: &[(Address, Instance)],
    ) -> Result<BTreeMap<String, PrimaryVnic>, ProviderError> {
        let c = self.region(region);
        let ours: BTreeSet<&str> = instances.iter().map(|(_, i)| i.id.as_str()).collect();
        let attachments: Vec<VnicAttachment> = self
            .listed(
                "ListVnicAttachments",
                region,
                c.list_vnic_attachments(cid, None),
            )
            .await?
            .into_iter()
            .filter(|a| ours.contains(a.instance_id.as_str()))
            .collect();
        let subnets: BTreeSet<String> = attachments
            .iter()
            .filter(|a| a.vnic_id.is_some())
            .filter_map(|a| a.subnet_id.clone())
            .collect();
        let mut ips = Vec::new();
        for s in subnets {
            ips.extend(
                self.listed("ListPrivateIps", region, c.list_private_ips_by_subnet(&s))
                    .await?,
            );
        }
        Ok(primary_vnics(&attachments, &ips))
    }

    /// The shapes pexspec made compatible with each image: the entries OCI lists beyond the
    /// shapes every custom image gets by default (one list call per image).
    async fn observe_image_shapes(
        &self,
        region: &str,
        images: &[(Address, Image)],
    ) -> Result<Vec<Observed>, ProviderError> {
        let c = self.region(region);
        let mut out = Vec::new();
        for (address, image) in images {
            if image.lifecycle_state != LifecycleState::Available {
                continue;
            }
            let entries = match self
                .listed(
                    "ListImageShapeCompatibilityEntries",
                    region,
                    c.list_image_shape_compatibility(&image.id),
                )
                .await
            {
                Ok(e) => e,
                Err(ProviderError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            let key = address.key().unwrap_or_default();
            for e in entries {
                if pexspec_graph::shapes::listed_by_default(&e.shape) {
                    continue;
                }
                let shape_address = Address::new(Kind::ImageShape, format!("{key}:{}", e.shape));
                out.push(observed(
                    &shape_address,
                    fields::image_shape_id(&image.id, &e.shape),
                    Some(region),
                    fields::image_shape(&image.id, &e.shape),
                    None,
                    None,
                ));
            }
        }
        Ok(out)
    }
}

/// The remote peerings, read off the requesting side's RPC (`rpc[a:b]` with `a` before `b`):
/// one exists once that RPC was connected (any status but `NEW`).
pub(crate) fn peerings(rpcs: &[(Address, RemotePeeringConnection)]) -> Vec<Observed> {
    let mut out = Vec::new();
    for (address, rpc) in rpcs {
        let Some((a, b)) = address.key().and_then(|k| k.split_once(':')) else {
            continue;
        };
        if a >= b || rpc.peering_status == PeeringStatus::New {
            continue;
        }
        let Some(peer) = &rpc.peer_id else { continue };
        let peering = Address::composite(Kind::RpcPeering, &[a, b]);
        out.push(observed(
            &peering,
            fields::peering_id(&rpc.id, peer),
            None,
            fields::rpc_peering(a, rpc),
            None,
            Some(rpc.peering_status.as_str().to_owned()),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rpc(id: &str, address: &str, status: &str, peer: Option<&str>) -> RemotePeeringConnection {
        serde_json::from_value(json!({
            "id": id, "compartmentId": "c", "drgId": "d", "lifecycleState": "AVAILABLE",
            "peeringStatus": status, "peerId": peer, "peerRegionName": "eu-zurich-1",
            "timeCreated": "2026-01-01T00:00:00Z",
            "freeformTags": {"pexspec-stack": "s", "pexspec-address": address},
        }))
        .unwrap()
    }

    #[test]
    fn tags_pick_the_stack_the_kind_and_the_oldest() {
        let mut old = rpc("b", "rpc[x:y]", "NEW", None);
        old.time_created = Some("2025-01-01T00:00:00Z".into());
        let other_stack = {
            let mut r = rpc("c", "rpc[x:y]", "NEW", None);
            r.freeform_tags.insert("pexspec-stack".into(), "t".into());
            r
        };
        let wrong_kind = rpc("d", "vcn[x]", "NEW", None);
        let picked = tagged(
            vec![
                rpc("a", "rpc[x:y]", "NEW", None),
                old,
                other_stack,
                wrong_kind,
            ],
            "s",
            Kind::Rpc,
            |r| r.time_created.as_deref(),
        );
        assert_eq!(picked.len(), 1);
        assert_eq!(picked[0].1.id, "b");
    }

    #[test]
    fn a_peering_is_read_off_the_requesting_side_once_connected() {
        let rpcs = vec![
            (
                Address::parse("rpc[eu-frankfurt-1:eu-zurich-1]").unwrap(),
                rpc(
                    "req",
                    "rpc[eu-frankfurt-1:eu-zurich-1]",
                    "PEERED",
                    Some("acc"),
                ),
            ),
            (
                Address::parse("rpc[eu-zurich-1:eu-frankfurt-1]").unwrap(),
                rpc(
                    "acc",
                    "rpc[eu-zurich-1:eu-frankfurt-1]",
                    "PEERED",
                    Some("req"),
                ),
            ),
            (
                Address::parse("rpc[eu-amsterdam-1:eu-zurich-1]").unwrap(),
                rpc("new", "rpc[eu-amsterdam-1:eu-zurich-1]", "NEW", None),
            ),
        ];
        let found = peerings(&rpcs);
        assert_eq!(found.len(), 1);
        let p = &found[0];
        assert_eq!(
            p.address.to_string(),
            "rpc_peering[eu-frankfurt-1:eu-zurich-1]"
        );
        assert_eq!(p.id, "req+acc");
        assert_eq!(p.state.as_deref(), Some("PEERED"));
        assert_eq!(
            p.fields,
            json!({"requestor_region": "eu-frankfurt-1", "requestor_id": "req", "acceptor_id": "acc",
                   "peer_region_name": "eu-zurich-1", "peering_status": "PEERED"})
        );
    }

    #[test]
    fn the_primary_vnic_needs_an_attached_attachment() {
        let att = |instance: &str, vnic: Option<&str>, state: &str| -> VnicAttachment {
            serde_json::from_value(json!({
                "id": format!("att-{instance}"), "instanceId": instance, "lifecycleState": state,
                "vnicId": vnic, "subnetId": "sub", "nicIndex": 0,
            }))
            .unwrap()
        };
        let ip: PrivateIp = serde_json::from_value(json!({
            "id": "pip", "vnicId": "v1", "ipAddress": "10.0.0.31", "isPrimary": true,
            "subnetId": "sub", "hostnameLabel": "pexconf01",
        }))
        .unwrap();
        let vnics = primary_vnics(
            &[
                att("i1", Some("v1"), "ATTACHED"),
                att("i2", None, "ATTACHING"),
            ],
            &[ip],
        );
        assert_eq!(vnics.len(), 1);
        let v = &vnics["i1"];
        assert_eq!(v.private_ip.as_deref(), Some("10.0.0.31"));
        assert_eq!(v.private_ip_id.as_deref(), Some("pip"));
        assert_eq!(v.hostname_label.as_deref(), Some("pexconf01"));
    }
}
