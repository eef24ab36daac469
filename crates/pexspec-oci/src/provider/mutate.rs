//! Create, update and delete of every OCI kind. Creates set the two tags and the display name
//! in the request itself and send the executor's retry token as `opc-retry-token`; updates
//! send `if-match`; a delete of something already gone succeeds.

use std::collections::BTreeMap;
use std::time::Duration;

use pexspec_graph::{Address, Kind};
use pexspec_plan::{
    CreateRequest, Created, DeleteRequest, GetRequest, Observed, ProviderError, UpdateRequest,
};
use serde_json::Value;

use super::error::{convert, invalid, malformed};
use super::fields::{self, Desired, observed, state_of};
use super::observe::{META_ADDRESS, META_STACK};
use super::{OciProvider, PlacementRetry, TAG_IMAGE_SOURCE, TAG_REQUESTED_AD, TAG_VNIC};
use crate::endpoints::Service;
use crate::error::OciError;
use crate::models::*;
use crate::upload::{ObjectLocation, upload_file};

/// The retry token of launch attempt `attempt`: the executor's token for the first
/// placement; for the others one derived from it and the placement, so a launch retried in
/// another domain is a new request to OCI, and the same placement after a crash is the same
/// request again.
fn token_for_placement(token: &str, attempt: usize, placement: &str) -> String {
    if attempt == 0 {
        return token.to_owned();
    }
    retry_token("placement", token, placement.as_bytes())
}

/// The error code of a retry token whose resource was deleted and purged.
pub(crate) const INVALIDATED_RETRY_TOKEN: &str = "InvalidatedRetryToken";

/// How many spent generations of a retry token a create walks past (one per destroy and
/// apply again within OCI's 24 hours).
const MAX_TOKEN_GENERATIONS: u32 = 64;

/// Whether a create answered with a resource in this state hit a spent token: the resource
/// the token made is deleted, or on its way out.
fn spent(state: Option<&str>) -> bool {
    state.is_some_and(|s| {
        matches!(
            s.to_ascii_uppercase().as_str(),
            "TERMINATED" | "TERMINATING" | "DELETED" | "DELETING" | "DETACHED" | "DETACHING"
        )
    })
}

/// The freeform tags of a create.
fn tags(request: &CreateRequest<'_>) -> BTreeMap<String, String> {
    pexspec_tags(request.stack, &request.address.to_string())
}

/// `Ok(())` for a 404 (a delete of something already gone).
fn gone_ok(r: Result<(), OciError>, address: &Address) -> Result<(), ProviderError> {
    match r {
        Ok(()) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(convert(Some(address), e)),
    }
}

impl OciProvider {
    fn region_of(&self, address: &Address, region: Option<&str>) -> Result<String, ProviderError> {
        region
            .map(str::to_owned)
            .ok_or_else(|| malformed(address, "has no region"))
    }

    // -----------------------------------------------------------------------------------------
    // Create

    /// Creates, walking past spent retry tokens. For 24 hours OCI answers a token it has
    /// seen with the resource that token created, even deleted since, until it is purged;
    /// then with `409 InvalidatedRetryToken`. Either answer means the token is spent: this
    /// create is a new intent (the stack was destroyed and is applied again), so it is sent
    /// again with the token's next generation, derived from it (after a 409, only if no
    /// resource of the address lives). The walk is deterministic: after a crash the same
    /// walk ends at the same token, whose resource OCI returns instead of making a second
    /// one.
    pub(crate) async fn create_one(
        &self,
        request: CreateRequest<'_>,
    ) -> Result<Created, ProviderError> {
        let mut token = request.retry_token.to_owned();
        for generation in 1..=MAX_TOKEN_GENERATIONS {
            let attempt = CreateRequest {
                retry_token: &token,
                ..request
            };
            match self.create_with_token(attempt).await {
                Ok(c) if spent(c.observed.state.as_deref()) => {}
                Err(ProviderError::Provider {
                    status: 409, code, ..
                }) if code == INVALIDATED_RETRY_TOKEN => {
                    // OCI says the same for a token sent with another body: go on only if
                    // nothing of this address lives.
                    let get = GetRequest {
                        stack: request.stack,
                        address: request.address,
                        region: request.region,
                        id: None,
                    };
                    if let Some(o) = self.get_one(get).await? {
                        return Ok(Created {
                            observed: o,
                            output: None,
                        });
                    }
                }
                other => return other,
            }
            token = retry_token(
                "generation",
                request.retry_token,
                generation.to_string().as_bytes(),
            );
        }
        Err(ProviderError::Provider {
            status: 409,
            code: INVALIDATED_RETRY_TOKEN.into(),
            message: format!(
                "`{}`: the last {MAX_TOKEN_GENERATIONS} generations of its retry token all made resources that are gone since",
                request.address
            ),
        })
    }

    /// One create with the request's retry token.
    async fn create_with_token(
        &self,
        request: CreateRequest<'_>,
    ) -> Result<Created, ProviderError> {
        let address = request.address;
        let d = Desired::new(request.desired, address);
        d.check_resolved()?;
        let err = |e: OciError| convert(Some(address), e);
        let token = Some(request.retry_token);
        let name = d.opt_string("display_name");
        let observed = match address.kind() {
            Kind::Compartment => self.create_compartment(&request, &d).await?,
            Kind::Bucket => self.create_bucket(&request, &d).await?,
            Kind::Object => self.create_object(&request, &d).await?,
            Kind::Image => self.create_image(&request, &d).await?,
            Kind::ImageShape => {
                let region = self.region_of(address, request.region)?;
                let image = d.str("image_id")?;
                let shape = d.str("shape")?;
                self.region(&region)
                    .add_image_shape_compatibility(image, shape, None)
                    .await
                    .map_err(err)?;
                observed(
                    address,
                    fields::image_shape_id(image, shape),
                    Some(&region),
                    fields::image_shape(image, shape),
                    None,
                    None,
                )
            }
            Kind::Vcn => {
                let region = self.region_of(address, request.region)?;
                let details = CreateVcnDetails {
                    compartment_id: d.str("compartment_id")?.to_owned(),
                    cidr_blocks: vec![d.str("cidr_block")?.to_owned()],
                    cidr_block: None,
                    display_name: name,
                    dns_label: d.opt_string("dns_label"),
                    freeform_tags: tags(&request),
                };
                let x = self
                    .region(&region)
                    .create_vcn(&details, token)
                    .await
                    .map_err(err)?;
                self.made(address, &region, &x.id, fields::vcn(&x), &x)
            }
            Kind::InternetGateway => {
                let region = self.region_of(address, request.region)?;
                let details = CreateInternetGatewayDetails {
                    compartment_id: d.str("compartment_id")?.to_owned(),
                    is_enabled: d.opt_bool("is_enabled").unwrap_or(true),
                    vcn_id: d.str("vcn_id")?.to_owned(),
                    display_name: name,
                    route_table_id: None,
                    freeform_tags: tags(&request),
                };
                let x = self
                    .region(&region)
                    .create_internet_gateway(&details, token)
                    .await
                    .map_err(err)?;
                self.made(address, &region, &x.id, fields::internet_gateway(&x), &x)
            }
            Kind::Drg => {
                let region = self.region_of(address, request.region)?;
                let details = CreateDrgDetails {
                    compartment_id: d.str("compartment_id")?.to_owned(),
                    display_name: name,
                    freeform_tags: tags(&request),
                };
                let x = self
                    .region(&region)
                    .create_drg(&details, token)
                    .await
                    .map_err(err)?;
                self.made(address, &region, &x.id, fields::drg(&x), &x)
            }
            Kind::DrgAttachment => {
                let region = self.region_of(address, request.region)?;
                let network = d.obj("network_details")?;
                let kind = network.opt_str("type").unwrap_or("VCN");
                if kind != "VCN" {
                    return Err(malformed(address, "attaches something other than a VCN"));
                }
                let details = CreateDrgAttachmentDetails {
                    drg_id: d.str("drg_id")?.to_owned(),
                    display_name: name,
                    network_details: Some(DrgAttachmentNetworkDetails::vcn(network.str("id")?)),
                    freeform_tags: tags(&request),
                    ..CreateDrgAttachmentDetails::default()
                };
                let x = self
                    .region(&region)
                    .create_drg_attachment(&details, token)
                    .await
                    .map_err(err)?;
                self.made(address, &region, &x.id, fields::drg_attachment(&x), &x)
            }
            Kind::Rpc => {
                let region = self.region_of(address, request.region)?;
                let details = CreateRemotePeeringConnectionDetails {
                    compartment_id: d.str("compartment_id")?.to_owned(),
                    drg_id: d.str("drg_id")?.to_owned(),
                    display_name: name,
                    freeform_tags: tags(&request),
                };
                let x = self
                    .region(&region)
                    .create_remote_peering_connection(&details, token)
                    .await
                    .map_err(err)?;
                self.made(address, &region, &x.id, fields::rpc(&x), &x)
            }
            Kind::RpcPeering => self.connect_peering(address, &d).await?,
            Kind::RouteTable => {
                let region = self.region_of(address, request.region)?;
                let details = CreateRouteTableDetails {
                    compartment_id: d.str("compartment_id")?.to_owned(),
                    route_rules: fields::route_rules_of(&d)?,
                    vcn_id: d.str("vcn_id")?.to_owned(),
                    display_name: name,
                    freeform_tags: tags(&request),
                };
                let x = self
                    .region(&region)
                    .create_route_table(&details, token)
                    .await
                    .map_err(err)?;
                self.made(address, &region, &x.id, fields::route_table(&x), &x)
            }
            Kind::SecurityList => {
                let region = self.region_of(address, request.region)?;
                let details = CreateSecurityListDetails {
                    compartment_id: d.str("compartment_id")?.to_owned(),
                    egress_security_rules: fields::egress_rules_of(&d)?,
                    ingress_security_rules: fields::ingress_rules_of(&d)?,
                    vcn_id: d.str("vcn_id")?.to_owned(),
                    display_name: name,
                    freeform_tags: tags(&request),
                };
                let x = self
                    .region(&region)
                    .create_security_list(&details, token)
                    .await
                    .map_err(err)?;
                self.made(address, &region, &x.id, fields::security_list(&x), &x)
            }
            Kind::Subnet => {
                let region = self.region_of(address, request.region)?;
                let details = CreateSubnetDetails {
                    compartment_id: d.str("compartment_id")?.to_owned(),
                    vcn_id: d.str("vcn_id")?.to_owned(),
                    cidr_block: d.str("cidr_block")?.to_owned(),
                    availability_domain: None,
                    display_name: name,
                    dns_label: d.opt_string("dns_label"),
                    prohibit_public_ip_on_vnic: d.opt_bool("prohibit_public_ip_on_vnic"),
                    route_table_id: d.opt_string("route_table_id"),
                    security_list_ids: Some(fields::string_list(&d, "security_list_ids")?),
                    dhcp_options_id: None,
                    freeform_tags: tags(&request),
                };
                let x = self
                    .region(&region)
                    .create_subnet(&details, token)
                    .await
                    .map_err(err)?;
                self.made(address, &region, &x.id, fields::subnet(&x), &x)
            }
            Kind::Instance => self.launch(&request, &d).await?,
            Kind::PublicIp => {
                let region = self.region_of(address, request.region)?;
                let lifetime = d.opt_str("lifetime").unwrap_or("RESERVED");
                let details = CreatePublicIpDetails {
                    compartment_id: d.str("compartment_id")?.to_owned(),
                    lifetime: PublicIpLifetime::from(lifetime),
                    display_name: name,
                    private_ip_id: d.opt_string("private_ip_id"),
                    freeform_tags: tags(&request),
                };
                let x = self
                    .region(&region)
                    .create_public_ip(&details, token)
                    .await
                    .map_err(err)?;
                self.made(address, &region, &x.id, fields::public_ip(&x), &x)
            }
            other => {
                return Err(ProviderError::Internal {
                    message: format!("`{other}` is not an OCI kind: ask the Pexip provider"),
                });
            }
        };
        Ok(Created {
            observed,
            output: None,
        })
    }

    /// The observed form of a resource a create or update answered with.
    fn made<T: OciResource>(
        &self,
        address: &Address,
        region: &str,
        id: &str,
        fields: Value,
        x: &T,
    ) -> Observed {
        observed(address, id, Some(region), fields, x.etag(), state_of(x))
    }

    async fn create_compartment(
        &self,
        request: &CreateRequest<'_>,
        d: &Desired<'_>,
    ) -> Result<Observed, ProviderError> {
        let address = request.address;
        let parent_text = d.opt_str("parent").unwrap_or("root");
        let details = CreateCompartmentDetails {
            compartment_id: self.parent_id(parent_text),
            name: d.str("name")?.to_owned(),
            description: d.str("description")?.to_owned(),
            freeform_tags: tags(request),
        };
        match self
            .home()
            .create_compartment(&details, Some(request.retry_token))
            .await
        {
            Ok(c) => Ok(self.compartment_observed(&c)),
            Err(e) if e.status() == Some(409) && e.code() == Some("CompartmentAlreadyExists") => {
                // Ours, created by a run whose answer was lost? Then it carries our tags.
                let existing = self
                    .home()
                    .list_compartments(&details.compartment_id, Some(&details.name))
                    .await
                    .map_err(|e| convert(Some(address), e))?;
                match existing.iter().find(|c| c.belongs_to_stack(request.stack)) {
                    Some(c) => Ok(self.compartment_observed(c)),
                    None => Err(invalid(
                        address,
                        format!(
                            "a compartment `{}` already exists under `{parent_text}` and is not tagged `pexspec-stack: {}`; tag it (and `pexspec-address: compartment`) to let pexspec manage it, or choose another name",
                            details.name, request.stack
                        ),
                    )),
                }
            }
            Err(e) => Err(convert(Some(address), e)),
        }
    }

    async fn create_bucket(
        &self,
        request: &CreateRequest<'_>,
        d: &Desired<'_>,
    ) -> Result<Observed, ProviderError> {
        let address = request.address;
        let ns = self.namespace().await?;
        let home = self.home();
        let details = CreateBucketDetails {
            name: d.str("name")?.to_owned(),
            compartment_id: d.str("compartment_id")?.to_owned(),
            public_access_type: d.opt_string("public_access_type"),
            storage_tier: d.opt_string("storage_tier"),
            freeform_tags: tags(request),
            ..CreateBucketDetails::default()
        };
        let bucket = match home.create_bucket(&ns, &details).await {
            Ok(b) => b,
            Err(e) if e.status() == Some(409) => {
                let b = home
                    .get_bucket(&ns, &details.name)
                    .await
                    .map_err(|e| convert(Some(address), e))?;
                if !b.belongs_to_stack(request.stack) {
                    return Err(invalid(
                        address,
                        format!(
                            "the bucket `{}` already exists and is not tagged `pexspec-stack: {}`; choose another `images.bucket`",
                            details.name, request.stack
                        ),
                    ));
                }
                b
            }
            Err(e) => return Err(convert(Some(address), e)),
        };
        Ok(observed(
            address,
            fields::bucket_id(&ns, &bucket.name),
            Some(&self.settings.home_region),
            fields::bucket(&bucket, &ns),
            bucket.etag.as_deref(),
            None,
        ))
    }

    /// Uploads the OVA file: multipart, resumed after an interruption, skipped when the same
    /// bytes (and pexspec's metadata) are already there.
    async fn create_object(
        &self,
        request: &CreateRequest<'_>,
        d: &Desired<'_>,
    ) -> Result<Observed, ProviderError> {
        let address = request.address;
        let source = d.obj("source")?;
        let file = source
            .opt_str("$file")
            .ok_or_else(|| malformed(address, "has no `source` file"))?;
        let path = self.files.resolve(file);
        if !path.is_file() {
            return Err(invalid(
                address,
                format!("the image file `{}` does not exist", path.display()),
            ));
        }
        let ns = self.namespace().await?;
        let location = ObjectLocation {
            namespace: ns.clone(),
            bucket: d.str("bucket")?.to_owned(),
            object: d.str("name")?.to_owned(),
        };
        let mut options = self.upload.clone();
        options
            .metadata
            .insert(META_STACK.into(), request.stack.into());
        options
            .metadata
            .insert(META_ADDRESS.into(), address.to_string());
        let events = std::sync::Arc::clone(&self.events);
        let progress = move |p: &crate::progress::TransferProgress| events.upload(address, p);
        let home = self.home();
        upload_file(&home, &location, &path, &options, &progress)
            .await
            .map_err(|e| convert(Some(address), e))?;
        let id = fields::object_id(&ns, &location.bucket, &location.object);
        self.get_by_id(request.stack, address, &self.settings.home_region, &id)
            .await?
            .ok_or_else(|| ProviderError::Provider {
                status: 404,
                code: "ObjectNotFound".into(),
                message: format!(
                    "`{}` is not in the bucket after its upload",
                    location.object
                ),
            })
    }

    /// CreateImage, then returns at once (`PROVISIONING`): the import takes many minutes and
    /// the caller polls [`pexspec_plan::Provider::get`] until `AVAILABLE`, holding no worker.
    /// The object is named by tuple in the bucket's region, and by its Object Storage URL from
    /// other regions.
    async fn create_image(
        &self,
        request: &CreateRequest<'_>,
        d: &Desired<'_>,
    ) -> Result<Observed, ProviderError> {
        let address = request.address;
        let region = self.region_of(address, request.region)?;
        let source = d.obj("source")?;
        let format = SourceImageType::from(source.opt_str("source_image_type").unwrap_or("VMDK"));
        let os = source.opt_string("operating_system");
        let (ns, bucket, object) = (
            source.str("namespace_name")?,
            source.str("bucket_name")?,
            source.str("object_name")?,
        );
        let bucket_region = source.opt_str("bucket_region").unwrap_or(&region);
        let image_source = if bucket_region == region {
            ImageSourceDetails::ObjectStorageTuple {
                namespace_name: ns.to_owned(),
                bucket_name: bucket.to_owned(),
                object_name: object.to_owned(),
                source_image_type: Some(format),
                operating_system: os,
                operating_system_version: None,
            }
        } else {
            let mut url = self
                .client
                .endpoints()
                .root(Service::ObjectStorage, bucket_region)
                .map_err(|e| convert(Some(address), e))?;
            url.path_segments_mut()
                .map_err(|()| malformed(address, "has an Object Storage URL without a path"))?
                .pop_if_empty()
                .extend(["n", ns, "b", bucket, "o"])
                .extend(object.split('/'));
            ImageSourceDetails::ObjectStorageUri {
                source_uri: url.to_string(),
                source_image_type: Some(format),
                operating_system: os,
                operating_system_version: None,
            }
        };
        let mut freeform_tags = tags(request);
        let tag = fields::image_source_tag(source.value)
            .filter(|t| t.len() <= 256)
            .ok_or_else(|| {
                invalid(
                    address,
                    "the image source (bucket, object name) is too long to record in a tag",
                )
            })?;
        freeform_tags.insert(TAG_IMAGE_SOURCE.into(), tag);
        let details = CreateImageDetails {
            compartment_id: d.str("compartment_id")?.to_owned(),
            display_name: d.opt_string("display_name"),
            image_source_details: Some(image_source),
            instance_id: None,
            launch_mode: d.opt_str("launch_mode").map(LaunchMode::from),
            freeform_tags,
        };
        let x = self
            .region(&region)
            .create_image(&details, Some(request.retry_token))
            .await
            .map_err(|e| convert(Some(address), e))?
            .resource;
        Ok(self.made(address, &region, &x.id, fields::image(&x), &x))
    }

    /// ConnectRemotePeeringConnections from the requesting side, then (unless switched off)
    /// polls the requesting RPC until `PEERED`.
    async fn connect_peering(
        &self,
        address: &Address,
        d: &Desired<'_>,
    ) -> Result<Observed, ProviderError> {
        let region = d.str("requestor_region")?.to_owned();
        let requestor = d.str("requestor_id")?;
        let acceptor = d.str("acceptor_id")?;
        let details = ConnectRemotePeeringConnectionsDetails {
            peer_id: acceptor.to_owned(),
            peer_region_name: d.str("peer_region_name")?.to_owned(),
        };
        let c = self.region(&region);
        c.connect_remote_peering_connections(requestor, &details)
            .await
            .map_err(|e| convert(Some(address), e))?;
        let clock = std::sync::Arc::clone(c.clock());
        let start = clock.now();
        let mut interval = self.poll.initial_interval;
        loop {
            let rpc = c
                .get_remote_peering_connection(requestor)
                .await
                .map_err(|e| convert(Some(address), e))?;
            let status = rpc.peering_status.clone();
            let done = observed(
                address,
                fields::peering_id(requestor, acceptor),
                None,
                fields::rpc_peering(&region, &rpc),
                None,
                Some(status.as_str().to_owned()),
            );
            match status {
                PeeringStatus::Peered => return Ok(done),
                PeeringStatus::Invalid | PeeringStatus::Revoked => {
                    return Err(ProviderError::Provider {
                        status: 0,
                        code: format!("Peering{}", status.as_str()),
                        message: format!(
                            "the remote peering connection `{requestor}` is {status} after connecting to `{acceptor}`"
                        ),
                    });
                }
                _ if !self.wait_for_peering => return Ok(done),
                _ => {}
            }
            let waited = clock.now().saturating_sub(start);
            if waited.saturating_add(interval) > self.poll.timeout {
                return Err(ProviderError::Network {
                    message: format!("`{address}` is still {status} after {} s", waited.as_secs()),
                });
            }
            clock.sleep(interval).await;
            interval = grow(interval, self.poll.max_interval);
        }
    }

    /// LaunchInstance with the two tags, the requested availability domain and the primary
    /// VNIC recorded in tags, and the SSH public key read from its file. Out of host capacity,
    /// the launch is tried in the region's other availability domains (or, in a region with
    /// one, in each fault domain), each retry reported to the events.
    async fn launch(
        &self,
        request: &CreateRequest<'_>,
        d: &Desired<'_>,
    ) -> Result<Observed, ProviderError> {
        let address = request.address;
        let region = self.region_of(address, request.region)?;
        let ads = self.availability_domains(&region).await?;
        if ads.is_empty() {
            return Err(ProviderError::Provider {
                status: 0,
                code: "NoAvailabilityDomain".into(),
                message: format!("region `{region}` lists no availability domain"),
            });
        }
        let requested = d.opt_str("availability_domain").unwrap_or("AD-1");
        let first = ads
            .iter()
            .position(|a| a == requested || fields::logical_ad(a) == requested)
            .ok_or_else(|| {
                invalid(
                    address,
                    format!(
                        "region `{region}` has no availability domain `{requested}` (it has {})",
                        ads.iter()
                            .map(|a| fields::logical_ad(a))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
        let mut placements: Vec<(String, Option<String>)> = vec![(ads[first].clone(), None)];
        for i in 1..ads.len() {
            placements.push((ads[(first + i) % ads.len()].clone(), None));
        }
        if ads.len() == 1 {
            for fd in ["FAULT-DOMAIN-1", "FAULT-DOMAIN-2", "FAULT-DOMAIN-3"] {
                placements.push((ads[0].clone(), Some(fd.to_owned())));
            }
        }

        let vnic = d.obj("create_vnic_details")?;
        let vnic_details = CreateVnicDetails {
            assign_public_ip: Some(vnic.opt_bool("assign_public_ip").unwrap_or(false)),
            display_name: None,
            hostname_label: vnic.opt_string("hostname_label"),
            private_ip: vnic.opt_string("private_ip"),
            subnet_id: Some(vnic.str("subnet_id")?.to_owned()),
            nsg_ids: None,
            skip_source_dest_check: None,
            freeform_tags: BTreeMap::new(),
        };
        let mut metadata = BTreeMap::new();
        if let Some(key) = d.get("metadata").and_then(|m| m.get("ssh_authorized_keys")) {
            let text = match key.get("$file").and_then(Value::as_str) {
                Some(file) => {
                    let path = self.files.resolve(file);
                    std::fs::read_to_string(&path).map_err(|e| {
                        invalid(
                            address,
                            format!("cannot read the SSH public key `{}`: {e}", path.display()),
                        )
                    })?
                }
                None => key
                    .as_str()
                    .ok_or_else(|| {
                        malformed(address, "has an SSH key that is neither text nor a file")
                    })?
                    .to_owned(),
            };
            metadata.insert("ssh_authorized_keys".to_owned(), text.trim().to_owned());
        }
        let shape_config = d.get("shape_config").map(|_| {
            let c = d.obj("shape_config").ok();
            ShapeConfig {
                ocpus: c.and_then(|c| c.opt_f64("ocpus")),
                memory_in_gbs: c.and_then(|c| c.opt_f64("memory_in_gbs")),
                vcpus: None,
            }
        });
        let source = d.obj("source_details")?;
        if source.opt_str("source_type").unwrap_or("image") != "image" {
            return Err(malformed(
                address,
                "boots from something other than an image",
            ));
        }
        let mut freeform_tags = tags(request);
        freeform_tags.insert(TAG_REQUESTED_AD.into(), requested.to_owned());
        freeform_tags.insert(TAG_VNIC.into(), fields::vnic_tag(&vnic_details));
        let mut details = LaunchInstanceDetails {
            availability_domain: String::new(),
            compartment_id: d.str("compartment_id")?.to_owned(),
            create_vnic_details: Some(vnic_details.clone()),
            display_name: d.opt_string("display_name"),
            fault_domain: None,
            hostname_label: None,
            metadata,
            extended_metadata: None,
            shape: d.str("shape")?.to_owned(),
            shape_config,
            source_details: Some(InstanceSourceDetails::Image {
                image_id: source.str("image_id")?.to_owned(),
                boot_volume_size_in_gbs: None,
                boot_volume_vpus_per_gb: None,
            }),
            freeform_tags,
        };
        let c = self.region(&region);
        let mut last = None;
        for (attempt, (ad, fd)) in placements.iter().enumerate() {
            details.availability_domain = ad.clone();
            details.fault_domain = fd.clone();
            let placement = format!("{ad}/{}", fd.as_deref().unwrap_or(""));
            let token = token_for_placement(request.retry_token, attempt, &placement);
            match c.launch_instance(&details, Some(&token)).await {
                Ok(launched) => {
                    let x = launched.resource;
                    return Ok(self.made(address, &region, &x.id, fields::instance(&x, None), &x));
                }
                Err(e) if e.is_out_of_capacity() => {
                    if let Some((next_ad, next_fd)) = placements.get(attempt + 1) {
                        self.events.placement_retry(
                            address,
                            &PlacementRetry {
                                availability_domain: ad.clone(),
                                fault_domain: fd.clone(),
                                next_availability_domain: next_ad.clone(),
                                next_fault_domain: next_fd.clone(),
                                message: e.service().map(|s| s.message.clone()).unwrap_or_default(),
                            },
                        );
                    }
                    last = Some(e);
                }
                Err(e) => return Err(convert(Some(address), e)),
            }
        }
        let tried = placements
            .iter()
            .map(|(ad, fd)| match fd {
                Some(fd) => format!("{ad} {fd}"),
                None => ad.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        Err(ProviderError::Provider {
            status: 500,
            code: "InternalError".into(),
            message: format!(
                "out of host capacity for `{}` everywhere in `{region}` (tried {tried}){}",
                details.shape,
                last.map(|e| format!(": {e}")).unwrap_or_default()
            ),
        })
    }

    // -----------------------------------------------------------------------------------------
    // Update

    pub(crate) async fn update_one(
        &self,
        request: UpdateRequest<'_>,
    ) -> Result<Observed, ProviderError> {
        let address = request.address;
        let d = Desired::new(request.desired, address);
        d.check_resolved()?;
        let id = request.id;
        let if_match = request.etag;
        let err = |e: OciError| convert(Some(address), e);
        let immutable = |field: &str| {
            invalid(
                address,
                format!("`{field}` of a `{}` cannot change in place", address.kind()),
            )
        };
        for field in request.changed {
            if address.kind().immutable_fields().contains(&field.as_str()) {
                return Err(immutable(field));
            }
        }
        let changed = |f: &str| request.changed.iter().any(|c| c == f);
        let name = d.opt_string("display_name");
        let names = UpdateNameDetails {
            display_name: name.clone(),
            freeform_tags: None,
        };
        let region = request.region.map(str::to_owned);
        let regional = || self.region_of(address, region.as_deref());
        match address.kind() {
            Kind::Compartment => {
                let details = UpdateCompartmentDetails {
                    name: d.opt_string("name"),
                    description: d.opt_string("description"),
                    freeform_tags: None,
                };
                let x = self
                    .home()
                    .update_compartment(id, &details, if_match)
                    .await
                    .map_err(err)?;
                Ok(self.compartment_observed(&x))
            }
            Kind::Image => {
                let r = regional()?;
                let x = self
                    .region(&r)
                    .update_image(id, &names, if_match)
                    .await
                    .map_err(err)?;
                Ok(self.made(address, &r, &x.id, fields::image(&x), &x))
            }
            Kind::Vcn => {
                let r = regional()?;
                let x = self
                    .region(&r)
                    .update_vcn(id, &names, if_match)
                    .await
                    .map_err(err)?;
                Ok(self.made(address, &r, &x.id, fields::vcn(&x), &x))
            }
            Kind::InternetGateway => {
                let r = regional()?;
                let details = UpdateInternetGatewayDetails {
                    display_name: name,
                    is_enabled: d.opt_bool("is_enabled"),
                    freeform_tags: None,
                };
                let x = self
                    .region(&r)
                    .update_internet_gateway(id, &details, if_match)
                    .await
                    .map_err(err)?;
                Ok(self.made(address, &r, &x.id, fields::internet_gateway(&x), &x))
            }
            Kind::Drg => {
                let r = regional()?;
                let x = self
                    .region(&r)
                    .update_drg(id, &names, if_match)
                    .await
                    .map_err(err)?;
                Ok(self.made(address, &r, &x.id, fields::drg(&x), &x))
            }
            Kind::DrgAttachment => {
                let r = regional()?;
                let x = self
                    .region(&r)
                    .update_drg_attachment(id, &names, if_match)
                    .await
                    .map_err(err)?;
                Ok(self.made(address, &r, &x.id, fields::drg_attachment(&x), &x))
            }
            Kind::Rpc => {
                let r = regional()?;
                let x = self
                    .region(&r)
                    .update_remote_peering_connection(id, &names, if_match)
                    .await
                    .map_err(err)?;
                Ok(self.made(address, &r, &x.id, fields::rpc(&x), &x))
            }
            Kind::RpcPeering => {
                // Only the status can differ (e.g. `PENDING` seen by an earlier plan):
                // connecting again is a no-op on a connected pair.
                self.connect_peering(address, &d).await
            }
            Kind::RouteTable => {
                let r = regional()?;
                let c = self.region(&r);
                // The rules replace the whole list: without the observed ETag, take the one
                // just read, so a concurrent change is at least not overwritten unseen.
                let etag = match if_match {
                    Some(e) => Some(e.to_owned()),
                    None => c.get_route_table(id).await.map_err(err)?.etag,
                };
                let details = UpdateRouteTableDetails {
                    display_name: name,
                    freeform_tags: None,
                    route_rules: changed("route_rules")
                        .then(|| fields::route_rules_of(&d))
                        .transpose()?,
                };
                let x = c
                    .update_route_table(id, &details, etag.as_deref())
                    .await
                    .map_err(err)?;
                Ok(self.made(address, &r, &x.id, fields::route_table(&x), &x))
            }
            Kind::SecurityList => {
                let r = regional()?;
                let c = self.region(&r);
                let etag = match if_match {
                    Some(e) => Some(e.to_owned()),
                    None => c.get_security_list(id).await.map_err(err)?.etag,
                };
                let details = UpdateSecurityListDetails {
                    display_name: name,
                    egress_security_rules: changed("egress_security_rules")
                        .then(|| fields::egress_rules_of(&d))
                        .transpose()?,
                    freeform_tags: None,
                    ingress_security_rules: changed("ingress_security_rules")
                        .then(|| fields::ingress_rules_of(&d))
                        .transpose()?,
                };
                let x = c
                    .update_security_list(id, &details, etag.as_deref())
                    .await
                    .map_err(err)?;
                Ok(self.made(address, &r, &x.id, fields::security_list(&x), &x))
            }
            Kind::Subnet => {
                let r = regional()?;
                let details = UpdateSubnetDetails {
                    display_name: name,
                    route_table_id: d.opt_string("route_table_id"),
                    security_list_ids: Some(fields::string_list(&d, "security_list_ids")?),
                    freeform_tags: None,
                };
                let x = self
                    .region(&r)
                    .update_subnet(id, &details, if_match)
                    .await
                    .map_err(err)?;
                Ok(self.made(address, &r, &x.id, fields::subnet(&x), &x))
            }
            Kind::Instance => {
                let r = regional()?;
                let c = d
                    .get("shape_config")
                    .map(|_| d.obj("shape_config"))
                    .transpose()?;
                let details = UpdateInstanceDetails {
                    display_name: name,
                    shape_config: c.filter(|_| changed("shape_config")).map(|c| ShapeConfig {
                        ocpus: c.opt_f64("ocpus"),
                        memory_in_gbs: c.opt_f64("memory_in_gbs"),
                        vcpus: None,
                    }),
                    freeform_tags: None,
                };
                let x = self
                    .region(&r)
                    .update_instance(id, &details, if_match)
                    .await
                    .map_err(err)?;
                let vnic = self.instance_vnic(&x, &r).await?;
                Ok(self.made(address, &r, &x.id, fields::instance(&x, vnic.as_ref()), &x))
            }
            Kind::PublicIp => {
                let r = regional()?;
                let details = UpdatePublicIpDetails {
                    display_name: name,
                    freeform_tags: None,
                    private_ip_id: changed("private_ip_id")
                        .then(|| d.opt_string("private_ip_id").unwrap_or_default()),
                };
                let x = self
                    .region(&r)
                    .update_public_ip(id, &details, if_match)
                    .await
                    .map_err(err)?;
                Ok(self.made(address, &r, &x.id, fields::public_ip(&x), &x))
            }
            Kind::Bucket | Kind::Object | Kind::ImageShape => {
                let field = request.changed.first().map_or("?", String::as_str);
                Err(immutable(field))
            }
            other => Err(ProviderError::Internal {
                message: format!("`{other}` is not an OCI kind: ask the Pexip provider"),
            }),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Delete

    pub(crate) async fn delete_one(&self, request: DeleteRequest<'_>) -> Result<(), ProviderError> {
        let address = request.address;
        let id = request.id;
        let if_match = request.etag;
        let regional = || {
            self.region_of(address, request.region)
                .map(|r| self.region(&r))
        };
        match request.kind {
            Kind::Compartment => {
                let home = self.home();
                match home.delete_compartment(id, if_match).await {
                    Ok(_) => Ok(()),
                    Err(e) if e.is_not_found() => Ok(()),
                    Err(e) if e.status() == Some(409) && e.code() == Some("IncorrectState") => {
                        // Already being deleted (or deleted) is success.
                        match home.get_compartment(id).await {
                            Ok(c) if c.lifecycle_state.is_gone() => Ok(()),
                            Err(e2) if e2.is_not_found() => Ok(()),
                            _ => Err(convert(Some(address), e)),
                        }
                    }
                    Err(e) => Err(convert(Some(address), e)),
                }
            }
            Kind::Bucket => {
                let (ns, name) = fields::parse_bucket_id(id)
                    .ok_or_else(|| invalid(address, format!("`{id}` is not a bucket id")))?;
                let home = self.home();
                // Interrupted uploads would keep the bucket from being deleted.
                match home.list_multipart_uploads(ns, name).await {
                    Ok(uploads) => {
                        for u in uploads {
                            gone_ok(
                                home.abort_multipart_upload(ns, name, &u.object, &u.upload_id)
                                    .await,
                                address,
                            )?;
                        }
                    }
                    Err(e) if e.is_not_found() => return Ok(()),
                    Err(e) => return Err(convert(Some(address), e)),
                }
                match home.delete_bucket(ns, name, if_match).await {
                    Ok(()) => Ok(()),
                    Err(e) if e.is_not_found() => Ok(()),
                    Err(e) if e.code() == Some("BucketNotEmpty") => Err(ProviderError::Conflict {
                        address: address.to_string(),
                        message: format!(
                            "the bucket `{name}` still holds objects pexspec did not upload; move or delete them"
                        ),
                    }),
                    Err(e) => Err(convert(Some(address), e)),
                }
            }
            Kind::Object => {
                let (ns, bucket, name) = fields::parse_object_id(id)
                    .ok_or_else(|| invalid(address, format!("`{id}` is not an object id")))?;
                gone_ok(
                    self.home().delete_object(ns, bucket, name, None).await,
                    address,
                )
            }
            Kind::Image => gone_ok(regional()?.delete_image(id, if_match).await, address),
            Kind::ImageShape => {
                let (image, shape) = fields::parse_image_shape_id(id)
                    .ok_or_else(|| invalid(address, format!("`{id}` is not an image shape id")))?;
                gone_ok(
                    regional()?
                        .remove_image_shape_compatibility(image, shape)
                        .await,
                    address,
                )
            }
            Kind::Vcn => gone_ok(regional()?.delete_vcn(id, if_match).await, address),
            Kind::InternetGateway => gone_ok(
                regional()?.delete_internet_gateway(id, if_match).await,
                address,
            ),
            Kind::Drg => gone_ok(regional()?.delete_drg(id, if_match).await, address),
            Kind::DrgAttachment => gone_ok(
                regional()?.delete_drg_attachment(id, if_match).await,
                address,
            ),
            Kind::Rpc => gone_ok(
                regional()?
                    .delete_remote_peering_connection(id, if_match)
                    .await,
                address,
            ),
            // OCI has no disconnect: a peering ends when either RPC is deleted, which comes
            // next (the RPCs depend on nothing that outlives them).
            Kind::RpcPeering => Ok(()),
            Kind::RouteTable => {
                gone_ok(regional()?.delete_route_table(id, if_match).await, address)
            }
            Kind::SecurityList => gone_ok(
                regional()?.delete_security_list(id, if_match).await,
                address,
            ),
            Kind::Subnet => gone_ok(regional()?.delete_subnet(id, if_match).await, address),
            Kind::Instance => gone_ok(
                regional()?
                    .terminate_instance(id, false, if_match)
                    .await
                    .map(|_| ()),
                address,
            ),
            Kind::PublicIp => gone_ok(regional()?.delete_public_ip(id, if_match).await, address),
            other => Err(ProviderError::Internal {
                message: format!("`{other}` is not an OCI kind: ask the Pexip provider"),
            }),
        }
    }
}

fn grow(interval: Duration, max: Duration) -> Duration {
    Duration::try_from_secs_f64(interval.as_secs_f64() * 1.5)
        .unwrap_or(max)
        .min(max.max(interval))
}
