//! The OCI operations: routing a request to an operation, and what the operations share
//! (the per-call context, lists with filters and pages, `if-match`, retry tokens, work
//! requests, nominal durations).

mod compute;
mod console;
mod drg;
mod identity;
mod images;
mod network;
mod objectstorage;
mod workreq;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::{HeaderMap, Method};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::clock::SimClock;
use super::faults::Faults;
use super::store::{NewRes, Res, TokenRow, Transition, Tx};
use super::wire::{ApiError, Reply, hex, rfc3339};

pub(crate) use workreq::view;

/// A resource kind with list/get (and maybe create/update/delete) under `/20160918/<collection>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Compartment,
    Vcn,
    Subnet,
    InternetGateway,
    RouteTable,
    SecurityList,
    DhcpOptions,
    Drg,
    DrgAttachment,
    Rpc,
    PublicIp,
    PrivateIp,
    Vnic,
    VnicAttachment,
    Instance,
    Image,
    ConsoleConnection,
    WorkRequest,
}

impl Kind {
    const ALL: [Kind; 18] = [
        Kind::Compartment,
        Kind::Vcn,
        Kind::Subnet,
        Kind::InternetGateway,
        Kind::RouteTable,
        Kind::SecurityList,
        Kind::DhcpOptions,
        Kind::Drg,
        Kind::DrgAttachment,
        Kind::Rpc,
        Kind::PublicIp,
        Kind::PrivateIp,
        Kind::Vnic,
        Kind::VnicAttachment,
        Kind::Instance,
        Kind::Image,
        Kind::ConsoleConnection,
        Kind::WorkRequest,
    ];

    /// The path segment of the collection.
    fn collection(self) -> &'static str {
        match self {
            Kind::Compartment => "compartments",
            Kind::Vcn => "vcns",
            Kind::Subnet => "subnets",
            Kind::InternetGateway => "internetGateways",
            Kind::RouteTable => "routeTables",
            Kind::SecurityList => "securityLists",
            Kind::DhcpOptions => "dhcps",
            Kind::Drg => "drgs",
            Kind::DrgAttachment => "drgAttachments",
            Kind::Rpc => "remotePeeringConnections",
            Kind::PublicIp => "publicIps",
            Kind::PrivateIp => "privateIps",
            Kind::Vnic => "vnics",
            Kind::VnicAttachment => "vnicAttachments",
            Kind::Instance => "instances",
            Kind::Image => "images",
            Kind::ConsoleConnection => "instanceConsoleConnections",
            Kind::WorkRequest => "workRequests",
        }
    }

    /// The kind column of the store and the type part of the OCID.
    pub fn store_kind(self) -> &'static str {
        match self {
            Kind::Compartment => "compartment",
            Kind::Vcn => "vcn",
            Kind::Subnet => "subnet",
            Kind::InternetGateway => "internetgateway",
            Kind::RouteTable => "routetable",
            Kind::SecurityList => "securitylist",
            Kind::DhcpOptions => "dhcpoptions",
            Kind::Drg => "drg",
            Kind::DrgAttachment => "drgattachment",
            Kind::Rpc => "remotepeeringconnection",
            Kind::PublicIp => "publicip",
            Kind::PrivateIp => "privateip",
            Kind::Vnic => "vnic",
            Kind::VnicAttachment => "vnicattachment",
            Kind::Instance => "instance",
            Kind::Image => "image",
            Kind::ConsoleConnection => "instanceconsoleconnection",
            Kind::WorkRequest => "coreservicesworkrequest",
        }
    }

    /// Operation names: create, list, get, update, delete (`None`: not served).
    fn ops(self) -> [Option<&'static str>; 5] {
        match self {
            Kind::Compartment => [
                Some("CreateCompartment"),
                Some("ListCompartments"),
                Some("GetCompartment"),
                Some("UpdateCompartment"),
                Some("DeleteCompartment"),
            ],
            Kind::Vcn => [
                Some("CreateVcn"),
                Some("ListVcns"),
                Some("GetVcn"),
                Some("UpdateVcn"),
                Some("DeleteVcn"),
            ],
            Kind::Subnet => [
                Some("CreateSubnet"),
                Some("ListSubnets"),
                Some("GetSubnet"),
                Some("UpdateSubnet"),
                Some("DeleteSubnet"),
            ],
            Kind::InternetGateway => [
                Some("CreateInternetGateway"),
                Some("ListInternetGateways"),
                Some("GetInternetGateway"),
                Some("UpdateInternetGateway"),
                Some("DeleteInternetGateway"),
            ],
            Kind::RouteTable => [
                Some("CreateRouteTable"),
                Some("ListRouteTables"),
                Some("GetRouteTable"),
                Some("UpdateRouteTable"),
                Some("DeleteRouteTable"),
            ],
            Kind::SecurityList => [
                Some("CreateSecurityList"),
                Some("ListSecurityLists"),
                Some("GetSecurityList"),
                Some("UpdateSecurityList"),
                Some("DeleteSecurityList"),
            ],
            Kind::DhcpOptions => [
                None,
                Some("ListDhcpOptions"),
                Some("GetDhcpOptions"),
                None,
                None,
            ],
            Kind::Drg => [
                Some("CreateDrg"),
                Some("ListDrgs"),
                Some("GetDrg"),
                Some("UpdateDrg"),
                Some("DeleteDrg"),
            ],
            Kind::DrgAttachment => [
                Some("CreateDrgAttachment"),
                Some("ListDrgAttachments"),
                Some("GetDrgAttachment"),
                Some("UpdateDrgAttachment"),
                Some("DeleteDrgAttachment"),
            ],
            Kind::Rpc => [
                Some("CreateRemotePeeringConnection"),
                Some("ListRemotePeeringConnections"),
                Some("GetRemotePeeringConnection"),
                Some("UpdateRemotePeeringConnection"),
                Some("DeleteRemotePeeringConnection"),
            ],
            Kind::PublicIp => [
                Some("CreatePublicIp"),
                Some("ListPublicIps"),
                Some("GetPublicIp"),
                Some("UpdatePublicIp"),
                Some("DeletePublicIp"),
            ],
            Kind::PrivateIp => [
                None,
                Some("ListPrivateIps"),
                Some("GetPrivateIp"),
                None,
                None,
            ],
            Kind::Vnic => [None, None, Some("GetVnic"), None, None],
            Kind::VnicAttachment => [
                None,
                Some("ListVnicAttachments"),
                Some("GetVnicAttachment"),
                None,
                None,
            ],
            Kind::Instance => [
                Some("LaunchInstance"),
                Some("ListInstances"),
                Some("GetInstance"),
                Some("UpdateInstance"),
                Some("TerminateInstance"),
            ],
            Kind::Image => [
                Some("CreateImage"),
                Some("ListImages"),
                Some("GetImage"),
                Some("UpdateImage"),
                Some("DeleteImage"),
            ],
            Kind::ConsoleConnection => [
                Some("CreateInstanceConsoleConnection"),
                Some("ListInstanceConsoleConnections"),
                Some("GetInstanceConsoleConnection"),
                Some("UpdateInstanceConsoleConnection"),
                Some("DeleteInstanceConsoleConnection"),
            ],
            Kind::WorkRequest => [
                None,
                Some("ListWorkRequests"),
                Some("GetWorkRequest"),
                None,
                None,
            ],
        }
    }

    /// Identity resources are global (one row for every region).
    fn is_global(self) -> bool {
        self == Kind::Compartment
    }
}

/// Object Storage routes (`/n/...`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Os {
    GetNamespace,
    GetNamespaceMetadata(String),
    CreateBucket(String),
    ListBuckets(String),
    GetBucket(String, String),
    HeadBucket(String, String),
    DeleteBucket(String, String),
    ListObjects(String, String),
    PutObject(String, String, String),
    GetObject(String, String, String),
    HeadObject(String, String, String),
    DeleteObject(String, String, String),
    CreateMultipartUpload(String, String),
    ListMultipartUploads(String, String),
    UploadPart(String, String, String),
    ListMultipartUploadParts(String, String, String),
    CommitMultipartUpload(String, String, String),
    AbortMultipartUpload(String, String, String),
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Route {
    Create(Kind),
    List(Kind),
    Get(Kind, String),
    Update(Kind, String),
    Delete(Kind, String),
    InstanceAction(String),
    ListImageShapes(String),
    GetImageShape(String, String),
    AddImageShape(String, String),
    RemoveImageShape(String, String),
    ConnectRpc(String),
    PublicIpByAddress,
    PublicIpByPrivateIp,
    WorkRequestErrors(String),
    WorkRequestLogs(String),
    ListRegions,
    ListRegionSubscriptions(String),
    CreateRegionSubscription(String),
    ListAvailabilityDomains,
    ListFaultDomains,
    GetTenancy(String),
    ListShapes,
    Os(Os),
}

impl Route {
    /// The OCI operation name (used by stats and fault selection).
    pub fn name(&self) -> &'static str {
        let kind_op = |k: Kind, i: usize| k.ops()[i].unwrap_or("Unknown");
        match self {
            Route::Create(k) => kind_op(*k, 0),
            Route::List(k) => kind_op(*k, 1),
            Route::Get(k, _) => kind_op(*k, 2),
            Route::Update(k, _) => kind_op(*k, 3),
            Route::Delete(k, _) => kind_op(*k, 4),
            Route::InstanceAction(_) => "InstanceAction",
            Route::ListImageShapes(_) => "ListImageShapeCompatibilityEntries",
            Route::GetImageShape(..) => "GetImageShapeCompatibilityEntry",
            Route::AddImageShape(..) => "AddImageShapeCompatibilityEntry",
            Route::RemoveImageShape(..) => "RemoveImageShapeCompatibilityEntry",
            Route::ConnectRpc(_) => "ConnectRemotePeeringConnections",
            Route::PublicIpByAddress => "GetPublicIpByIpAddress",
            Route::PublicIpByPrivateIp => "GetPublicIpByPrivateIpId",
            Route::WorkRequestErrors(_) => "ListWorkRequestErrors",
            Route::WorkRequestLogs(_) => "ListWorkRequestLogs",
            Route::ListRegions => "ListRegions",
            Route::ListRegionSubscriptions(_) => "ListRegionSubscriptions",
            Route::CreateRegionSubscription(_) => "CreateRegionSubscription",
            Route::ListAvailabilityDomains => "ListAvailabilityDomains",
            Route::ListFaultDomains => "ListFaultDomains",
            Route::GetTenancy(_) => "GetTenancy",
            Route::ListShapes => "ListShapes",
            Route::Os(o) => match o {
                Os::GetNamespace => "GetNamespace",
                Os::GetNamespaceMetadata(_) => "GetNamespaceMetadata",
                Os::CreateBucket(_) => "CreateBucket",
                Os::ListBuckets(_) => "ListBuckets",
                Os::GetBucket(..) => "GetBucket",
                Os::HeadBucket(..) => "HeadBucket",
                Os::DeleteBucket(..) => "DeleteBucket",
                Os::ListObjects(..) => "ListObjects",
                Os::PutObject(..) => "PutObject",
                Os::GetObject(..) => "GetObject",
                Os::HeadObject(..) => "HeadObject",
                Os::DeleteObject(..) => "DeleteObject",
                Os::CreateMultipartUpload(..) => "CreateMultipartUpload",
                Os::ListMultipartUploads(..) => "ListMultipartUploads",
                Os::UploadPart(..) => "UploadPart",
                Os::ListMultipartUploadParts(..) => "ListMultipartUploadParts",
                Os::CommitMultipartUpload(..) => "CommitMultipartUpload",
                Os::AbortMultipartUpload(..) => "AbortMultipartUpload",
            },
        }
    }

    /// PutObject and UploadPart are signed without the body headers (oci-api.md §1.2).
    pub fn body_exempt(&self) -> bool {
        matches!(self, Route::Os(Os::PutObject(..) | Os::UploadPart(..)))
    }

    /// Operations that honour `opc-retry-token` (oci-api.md §2.6).
    fn takes_retry_token(&self) -> bool {
        matches!(self, Route::Create(_) | Route::InstanceAction(_))
    }
}

/// Maps method and decoded path segments (without the leading empty one) to a route.
pub(crate) fn classify(
    method: &Method,
    segs: &[String],
    query: &BTreeMap<String, String>,
) -> Option<Route> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = method.as_str();
    if s.first() == Some(&"n") {
        return classify_os(m, &s[1..], query).map(Route::Os);
    }
    if s.first() != Some(&"20160918") {
        return None;
    }
    let s = &s[1..];
    let id = |i: usize| s[i].to_string();
    let r = match (m, s) {
        ("GET", ["regions"]) => Route::ListRegions,
        ("GET", ["availabilityDomains"]) => Route::ListAvailabilityDomains,
        ("GET", ["faultDomains"]) => Route::ListFaultDomains,
        ("GET", ["shapes"]) => Route::ListShapes,
        ("GET", ["tenancies", _]) => Route::GetTenancy(id(1)),
        ("GET", ["tenancies", _, "regionSubscriptions"]) => Route::ListRegionSubscriptions(id(1)),
        ("POST", ["tenancies", _, "regionSubscriptions"]) => Route::CreateRegionSubscription(id(1)),
        ("POST", ["instances", _]) => Route::InstanceAction(id(1)),
        ("GET", ["images", _, "shapes"]) => Route::ListImageShapes(id(1)),
        ("GET", ["images", _, "shapes", _]) => Route::GetImageShape(id(1), id(3)),
        ("PUT", ["images", _, "shapes", _]) => Route::AddImageShape(id(1), id(3)),
        ("DELETE", ["images", _, "shapes", _]) => Route::RemoveImageShape(id(1), id(3)),
        ("POST", ["remotePeeringConnections", _, "actions", "connect"]) => Route::ConnectRpc(id(1)),
        ("POST", ["publicIps", "actions", "getByIpAddress"]) => Route::PublicIpByAddress,
        ("POST", ["publicIps", "actions", "getByPrivateIpId"]) => Route::PublicIpByPrivateIp,
        ("GET", ["workRequests", _, "errors"]) => Route::WorkRequestErrors(id(1)),
        ("GET", ["workRequests", _, "logs"]) => Route::WorkRequestLogs(id(1)),
        (_, [coll]) => {
            let k = Kind::ALL.into_iter().find(|k| k.collection() == *coll)?;
            match m {
                "POST" if k.ops()[0].is_some() => Route::Create(k),
                "GET" if k.ops()[1].is_some() => Route::List(k),
                _ => return None,
            }
        }
        (_, [coll, _]) => {
            let k = Kind::ALL.into_iter().find(|k| k.collection() == *coll)?;
            match m {
                "GET" if k.ops()[2].is_some() => Route::Get(k, id(1)),
                "PUT" if k.ops()[3].is_some() => Route::Update(k, id(1)),
                "DELETE" if k.ops()[4].is_some() => Route::Delete(k, id(1)),
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(r)
}

fn classify_os(m: &str, s: &[&str], query: &BTreeMap<String, String>) -> Option<Os> {
    let st = |x: &str| x.to_string();
    let has_upload = query.contains_key("uploadId");
    Some(match (m, s) {
        ("GET", []) => Os::GetNamespace,
        ("GET", [ns]) => Os::GetNamespaceMetadata(st(ns)),
        ("POST", [ns, "b"]) => Os::CreateBucket(st(ns)),
        ("GET", [ns, "b"]) => Os::ListBuckets(st(ns)),
        ("GET", [ns, "b", b]) => Os::GetBucket(st(ns), st(b)),
        ("HEAD", [ns, "b", b]) => Os::HeadBucket(st(ns), st(b)),
        ("DELETE", [ns, "b", b]) => Os::DeleteBucket(st(ns), st(b)),
        ("GET", [ns, "b", b, "o"]) => Os::ListObjects(st(ns), st(b)),
        ("POST", [ns, "b", b, "u"]) => Os::CreateMultipartUpload(st(ns), st(b)),
        ("GET", [ns, "b", b, "u"]) => Os::ListMultipartUploads(st(ns), st(b)),
        (_, [ns, "b", b, "o", rest @ ..]) if !rest.is_empty() => {
            let o = rest.join("/");
            match m {
                "PUT" => Os::PutObject(st(ns), st(b), o),
                "GET" => Os::GetObject(st(ns), st(b), o),
                "HEAD" => Os::HeadObject(st(ns), st(b), o),
                "DELETE" => Os::DeleteObject(st(ns), st(b), o),
                _ => return None,
            }
        }
        (_, [ns, "b", b, "u", rest @ ..]) if !rest.is_empty() => {
            let o = rest.join("/");
            match m {
                "PUT" => Os::UploadPart(st(ns), st(b), o),
                "GET" => Os::ListMultipartUploadParts(st(ns), st(b), o),
                "POST" if has_upload => Os::CommitMultipartUpload(st(ns), st(b), o),
                "DELETE" => Os::AbortMultipartUpload(st(ns), st(b), o),
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// A received request, decoded.
pub(crate) struct Call {
    pub method: Method,
    /// Raw path and query, as signed.
    pub target: String,
    pub query: BTreeMap<String, String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Call {
    /// A request header as a string.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// A query parameter.
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }
    /// A required query parameter.
    pub fn req_q(&self, name: &str) -> Result<&str, ApiError> {
        self.q(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::missing(name))
    }
}

/// Everything an operation may use while its transaction is open.
pub(crate) struct Ctx<'a> {
    pub tx: &'a Tx<'a>,
    pub region: &'a str,
    pub home_region: &'a str,
    pub now: i64,
    pub clock: &'a SimClock,
    pub faults: &'a Mutex<Faults>,
    /// `host:port` → region of the simulator's own listeners.
    pub hosts: &'a std::sync::RwLock<BTreeMap<String, String>>,
}

/// Nominal OCI durations; divided by the clock's speed.
pub(crate) mod nominal {
    use std::time::Duration;
    /// PROVISIONING → AVAILABLE of VCNs, subnets, gateways, route tables, security lists.
    pub const NETWORK: Duration = Duration::from_secs(3);
    /// TERMINATING → TERMINATED of network resources.
    pub const NETWORK_DELETE: Duration = Duration::from_secs(3);
    /// CREATING → ACTIVE of compartments.
    pub const COMPARTMENT: Duration = Duration::from_secs(10);
    /// DELETING → DELETED of compartments.
    pub const COMPARTMENT_DELETE: Duration = Duration::from_secs(60);
    /// PROVISIONING → RUNNING of instances.
    pub const LAUNCH: Duration = Duration::from_secs(60);
    /// STOPPING → STOPPED and STARTING → RUNNING.
    pub const POWER: Duration = Duration::from_secs(30);
    /// TERMINATING → TERMINATED of instances.
    pub const TERMINATE: Duration = Duration::from_secs(60);
    /// PROVISIONING → IMPORTING of images.
    pub const IMAGE_PROVISION: Duration = Duration::from_secs(10);
    /// The whole image import ("20-25 minutes per image", the deployment guide).
    pub const IMAGE_IMPORT: Duration = Duration::from_secs(22 * 60);
    /// PROVISIONING → AVAILABLE of DRGs.
    pub const DRG: Duration = Duration::from_secs(30);
    /// ATTACHING → ATTACHED and DETACHING → DETACHED of DRG attachments.
    pub const DRG_ATTACH: Duration = Duration::from_secs(30);
    /// PROVISIONING → AVAILABLE of remote peering connections.
    pub const RPC: Duration = Duration::from_secs(10);
    /// PENDING → PEERED after a connect.
    pub const PEERING: Duration = Duration::from_secs(20);
    /// CREATING → ACTIVE of instance console connections.
    pub const CONSOLE_CONNECTION: Duration = Duration::from_secs(5);
    /// DELETING → DELETED of instance console connections.
    pub const CONSOLE_CONNECTION_DELETE: Duration = Duration::from_secs(5);
    /// How long TERMINATED / DELETED / DETACHED resources stay visible before they vanish.
    pub const LINGER: Duration = Duration::from_secs(3600);
}

impl Ctx<'_> {
    /// `now` plus a nominal duration on the scaled clock.
    pub fn after(&self, d: Duration) -> i64 {
        self.now + self.clock.scale_ms(d)
    }

    /// The instant a deleted resource that ends at `done` vanishes.
    pub fn purge_after(&self, done: i64) -> i64 {
        done + self.clock.scale_ms(nominal::LINGER)
    }

    /// The `visible_ms` of a resource created now (list lag).
    pub fn visible_from(&self) -> i64 {
        let lag = self.faults.lock().map(|f| f.list_lag_ms()).unwrap_or(0);
        self.now.saturating_add(lag)
    }

    /// A new OCID of a kind in this region (global kinds have no region part).
    pub fn new_ocid(&self, kind: Kind) -> String {
        super::catalog::ocid(
            kind.store_kind(),
            if kind.is_global() { "" } else { self.region },
        )
    }

    /// A resource of a kind in this region (or global) by OCID, or 404.
    pub fn must_get(&self, kind: Kind, id: &str) -> Result<Res, ApiError> {
        self.find(kind, id)?.ok_or_else(ApiError::not_found)
    }

    /// A resource of a kind in this region (or global) by OCID.
    pub fn find(&self, kind: Kind, id: &str) -> Result<Option<Res>, ApiError> {
        Ok(self
            .tx
            .get_kind(kind.store_kind(), id, self.now)?
            .filter(|r| kind.is_global() || r.region == self.region))
    }

    /// A resource referenced from a request body: 400 RelatedResourceNotAuthorizedOrNotFound.
    pub fn related(&self, kind: Kind, id: &str, what: &str) -> Result<Res, ApiError> {
        self.find(kind, id)?
            .filter(|r| !is_gone(r.state()))
            .ok_or_else(|| ApiError::related_not_found(what, id))
    }

    /// Every live-or-lingering resource of a kind in this region (or all regions if global).
    pub fn all(&self, kind: Kind) -> Result<Vec<Res>, ApiError> {
        self.tx.list(
            kind.store_kind(),
            if kind.is_global() {
                None
            } else {
                Some(self.region)
            },
            self.now,
        )
    }

    /// Checks that a compartment (or the tenancy) exists and is ACTIVE: else 404.
    pub fn check_compartment(&self, id: &str) -> Result<(), ApiError> {
        if id == super::auth::TEST_TENANCY_OCID {
            return Ok(());
        }
        match self.tx.get_kind("compartment", id, self.now)? {
            Some(c) if c.state() == "ACTIVE" => Ok(()),
            _ => Err(ApiError::not_found()),
        }
    }

    /// Inserts a new resource created now, visible in lists after the list lag.
    pub fn insert(
        &self,
        kind: Kind,
        ocid: &str,
        compartment: &str,
        doc: Value,
        transitions: Vec<Transition>,
        internal: Value,
    ) -> Result<String, ApiError> {
        self.tx.insert(NewRes {
            ocid: ocid.to_string(),
            kind: kind.store_kind(),
            region: if kind.is_global() {
                String::new()
            } else {
                self.region.to_string()
            },
            compartment: compartment.to_string(),
            doc,
            transitions,
            created_ms: self.now,
            visible_ms: self.visible_from(),
            internal,
        })
    }
}

/// Marks the served regions as subscribed (at startup).
pub(crate) fn subscribe_regions(ctx: &Ctx<'_>, regions: &[String]) -> Result<(), ApiError> {
    identity::subscribe(ctx, regions)
}

/// Whether a state means the resource is gone (or going).
pub(crate) fn is_gone(state: &str) -> bool {
    matches!(
        state,
        "TERMINATING" | "TERMINATED" | "DELETING" | "DELETED" | "DETACHING" | "DETACHED"
    )
}

/// Whether a resource is or will soon be gone.
pub(crate) fn is_going(r: &Res) -> bool {
    is_gone(r.state()) || is_gone(&r.final_state())
}

/// A transition at `at` that sets fields.
pub(crate) fn at(at_ms: i64, patch: Value) -> Transition {
    Transition { at_ms, patch }
}

/// OCI's default display name: the kind and a timestamp, e.g. `vcn20260101120000`.
pub(crate) fn default_name(prefix: &str, now: i64) -> String {
    let t = rfc3339(now);
    let digits: String = t.chars().filter(char::is_ascii_digit).take(14).collect();
    format!("{prefix}{digits}")
}

/// Checks `if-match` against the resource's current etag: 412 NoEtagMatch.
pub(crate) fn check_if_match(call: &Call, etag: &str) -> Result<(), ApiError> {
    match call.header("if-match") {
        Some(m) if m != etag && m != "*" => Err(ApiError::no_etag_match()),
        _ => Ok(()),
    }
}

/// Returns a resource as JSON with its etag header.
pub(crate) fn reply_res(status: u16, r: &Res, now: i64) -> Reply {
    Reply::json(status, view(r, now))
        .header("etag", r.etag.clone())
        .with_ocid(&r.ocid)
}

/// Sorts, filters out lagging resources, and pages a list call.
pub(crate) fn list_reply(
    ctx: &Ctx<'_>,
    call: &Call,
    mut items: Vec<Res>,
    name_field: &str,
) -> Result<Reply, ApiError> {
    items.retain(|r| r.visible_ms <= ctx.now);
    if let Some(ls) = call.q("lifecycleState") {
        items.retain(|r| r.state() == ls);
    }
    if let Some(n) = call.q("displayName").or_else(|| {
        if name_field == "name" {
            call.q("name")
        } else {
            None
        }
    }) {
        items.retain(|r| r.s(name_field) == n);
    }
    let sort_by = call.q("sortBy").unwrap_or("TIMECREATED");
    let by_name = match sort_by {
        "TIMECREATED" => false,
        "DISPLAYNAME" | "NAME" => true,
        other => return Err(ApiError::invalid(format!("Invalid sortBy value: {other}"))),
    };
    let desc = match call.q("sortOrder") {
        None => !by_name,
        Some("ASC") => false,
        Some("DESC") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "Invalid sortOrder value: {other}"
            )));
        }
    };
    if by_name {
        items.sort_by(|a, b| {
            a.s(name_field)
                .to_lowercase()
                .cmp(&b.s(name_field).to_lowercase())
                .then(a.seq.cmp(&b.seq))
        });
    } else {
        items.sort_by(|a, b| a.created_ms.cmp(&b.created_ms).then(a.seq.cmp(&b.seq)));
    }
    if desc {
        items.reverse();
    }
    let values: Vec<Value> = items.iter().map(|r| view(r, ctx.now)).collect();
    page(call, values)
}

/// Default page size of list calls.
pub(crate) const DEFAULT_LIMIT: usize = 100;
/// Largest page size a list call accepts.
pub(crate) const MAX_LIMIT: usize = 1000;

/// Reads `limit` (1..=1000, default 100).
pub(crate) fn limit(call: &Call) -> Result<usize, ApiError> {
    match call.q("limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(l) => match l.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n.min(MAX_LIMIT)),
            _ => Err(ApiError::invalid(format!(
                "Invalid limit value: {l}; it must be an integer from 1 to {MAX_LIMIT}"
            ))),
        },
    }
}

/// Pages a bare JSON array: `limit`, `page` in, `opc-next-page` out.
pub(crate) fn page(call: &Call, values: Vec<Value>) -> Result<Reply, ApiError> {
    let limit = limit(call)?;
    let start = match call.q("page") {
        None => 0,
        Some(p) => p
            .strip_prefix("page-")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| ApiError::invalid(format!("Invalid page token: {p}")))?,
    };
    let total = values.len();
    let items: Vec<Value> = values.into_iter().skip(start).take(limit).collect();
    let mut reply = Reply::json(200, Value::Array(items));
    if start + limit < total {
        reply = reply.header("opc-next-page", format!("page-{}", start + limit));
    }
    Ok(reply)
}

/// Records a new work request; returns its OCID. The request is IN_PROGRESS from `start` to
/// `end` (percentComplete rising linearly) and then SUCCEEDED, or FAILED with `failure`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn new_work_request(
    ctx: &Ctx<'_>,
    operation_type: &str,
    compartment: &str,
    resources: Vec<(&str, &str, &str)>,
    start: i64,
    end: i64,
    failure: Option<(&str, &str)>,
) -> Result<String, ApiError> {
    let id = ctx.new_ocid(Kind::WorkRequest);
    let res_json = |done: bool| -> Value {
        Value::Array(
            resources
                .iter()
                .map(|(action, entity, identifier)| {
                    json!({
                        "actionType": if done { *action } else { "IN_PROGRESS" },
                        "entityType": entity,
                        "identifier": identifier,
                        "entityUri": format!("/20160918/{}s/{identifier}", entity),
                    })
                })
                .collect(),
        )
    };
    let doc = json!({
        "id": id,
        "operationType": operation_type,
        "status": "ACCEPTED",
        "compartmentId": compartment,
        "resources": res_json(false),
        "percentComplete": 0.0,
        "timeAccepted": rfc3339(ctx.now),
    });
    let final_status = if failure.is_some() {
        "FAILED"
    } else {
        "SUCCEEDED"
    };
    let transitions = vec![
        at(
            start,
            json!({"status": "IN_PROGRESS", "timeStarted": rfc3339(start)}),
        ),
        at(
            end,
            json!({
                "status": final_status,
                "percentComplete": 100.0,
                "timeFinished": rfc3339(end),
                "resources": if failure.is_some() { res_json(false) } else { res_json(true) },
            }),
        ),
    ];
    let errors = match failure {
        Some((code, message)) => {
            json!([{"code": code, "message": message, "timestamp": rfc3339(end)}])
        }
        None => json!([]),
    };
    let internal = json!({"startMs": start, "endMs": end, "errors": errors, "acceptedMs": ctx.now});
    ctx.insert(
        Kind::WorkRequest,
        &id,
        compartment,
        doc,
        transitions,
        internal,
    )?;
    Ok(id)
}

/// A canonical form of a JSON body (keys sorted) for retry-token comparison.
fn canonical(v: &Value) -> String {
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let sorted: BTreeMap<&String, Value> =
                    m.iter().map(|(k, v)| (k, sort(v))).collect();
                Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(v).to_string()
}

const TOKEN_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// Runs one operation in its transaction; handles `opc-retry-token`.
pub(crate) fn execute(ctx: &Ctx<'_>, route: &Route, call: &Call) -> Result<Reply, ApiError> {
    let token = call
        .header("opc-retry-token")
        .filter(|t| !t.is_empty() && route.takes_retry_token());
    let Some(token) = token else {
        return dispatch(ctx, route, call);
    };
    let body_canon = serde_json::from_slice::<Value>(&call.body)
        .map(|v| canonical(&v))
        .unwrap_or_else(|_| String::from_utf8_lossy(&call.body).into_owned());
    let fingerprint = hex(&Sha256::digest(
        format!("{} {}\n{body_canon}", call.method, call.target).as_bytes(),
    ));
    let op = route.name();
    if let Some(prev) = ctx.tx.token(token, op)?
        && ctx.now - prev.created_ms < TOKEN_WINDOW_MS
    {
        if prev.fingerprint != fingerprint {
            return Err(ApiError::new(
                409,
                "InvalidatedRetryToken",
                "The retry token was already used for a different request.",
            ));
        }
        let Some(r) = ctx.tx.get(&prev.ocid, ctx.now)? else {
            return Err(ApiError::new(
                409,
                "InvalidatedRetryToken",
                "The resource this retry token created has been deleted and purged.",
            ));
        };
        let mut reply = reply_res(prev.status, &r, ctx.now);
        reply
            .headers
            .extend(prev.headers.into_iter().filter(|(k, _)| k != "etag"));
        return Ok(reply);
    }
    let reply = dispatch(ctx, route, call)?;
    if let Some(ocid) = &reply.ocid {
        let headers = reply
            .headers
            .iter()
            .filter(|(k, _)| k == "opc-work-request-id")
            .cloned()
            .collect();
        ctx.tx.put_token(
            token,
            op,
            &TokenRow {
                fingerprint,
                ocid: ocid.clone(),
                status: reply.status,
                headers,
                created_ms: ctx.now,
            },
        )?;
    }
    Ok(reply)
}

fn dispatch(ctx: &Ctx<'_>, route: &Route, call: &Call) -> Result<Reply, ApiError> {
    match route {
        Route::Create(k) => match k {
            Kind::Compartment => identity::create_compartment(ctx, call),
            Kind::Vcn => network::create_vcn(ctx, call),
            Kind::Subnet => network::create_subnet(ctx, call),
            Kind::InternetGateway => network::create_igw(ctx, call),
            Kind::RouteTable => network::create_route_table(ctx, call),
            Kind::SecurityList => network::create_security_list(ctx, call),
            Kind::Drg => drg::create_drg(ctx, call),
            Kind::DrgAttachment => drg::create_attachment(ctx, call),
            Kind::Rpc => drg::create_rpc(ctx, call),
            Kind::PublicIp => compute::create_public_ip(ctx, call),
            Kind::Instance => compute::launch(ctx, call),
            Kind::Image => images::create_image(ctx, call),
            Kind::ConsoleConnection => console::create(ctx, call),
            _ => Err(ApiError::no_route()),
        },
        Route::List(k) => list(ctx, *k, call),
        Route::Get(Kind::Compartment, id) if id == super::auth::TEST_TENANCY_OCID => {
            Ok(identity::root_compartment())
        }
        Route::Get(k, id) => {
            let r = ctx.must_get(*k, id)?;
            Ok(reply_res(200, &r, ctx.now))
        }
        Route::Update(k, id) => match k {
            Kind::Compartment => identity::update_compartment(ctx, id, call),
            Kind::PublicIp => compute::update_public_ip(ctx, id, call),
            _ => update_generic(ctx, *k, id, call),
        },
        Route::Delete(k, id) => match k {
            Kind::Compartment => identity::delete_compartment(ctx, id, call),
            Kind::Vcn
            | Kind::Subnet
            | Kind::InternetGateway
            | Kind::RouteTable
            | Kind::SecurityList => network::delete(ctx, *k, id, call),
            Kind::Drg | Kind::DrgAttachment | Kind::Rpc => drg::delete(ctx, *k, id, call),
            Kind::PublicIp => compute::delete_public_ip(ctx, id, call),
            Kind::Instance => compute::terminate(ctx, id, call),
            Kind::Image => images::delete_image(ctx, id, call),
            Kind::ConsoleConnection => console::delete(ctx, id, call),
            _ => Err(ApiError::no_route()),
        },
        Route::InstanceAction(id) => compute::action(ctx, id, call),
        Route::ListImageShapes(id) => images::list_shapes(ctx, id, call),
        Route::GetImageShape(id, shape) => images::get_shape(ctx, id, shape),
        Route::AddImageShape(id, shape) => images::add_shape(ctx, id, shape, call),
        Route::RemoveImageShape(id, shape) => images::remove_shape(ctx, id, shape),
        Route::ConnectRpc(id) => drg::connect(ctx, id, call),
        Route::PublicIpByAddress => compute::public_ip_by_address(ctx, call),
        Route::PublicIpByPrivateIp => compute::public_ip_by_private_ip(ctx, call),
        Route::WorkRequestErrors(id) => workreq::errors(ctx, id, call),
        Route::WorkRequestLogs(id) => workreq::logs(ctx, id, call),
        Route::ListRegions => identity::list_regions(),
        Route::ListRegionSubscriptions(t) => identity::list_region_subscriptions(ctx, t),
        Route::CreateRegionSubscription(t) => identity::create_region_subscription(ctx, t, call),
        Route::ListAvailabilityDomains => identity::list_ads(ctx, call),
        Route::ListFaultDomains => identity::list_fault_domains(ctx, call),
        Route::GetTenancy(t) => identity::get_tenancy(ctx, t),
        Route::ListShapes => compute::list_shapes(ctx, call),
        Route::Os(o) => objectstorage::dispatch(ctx, o, call),
    }
}

/// List filters served per kind: (query parameter, document field).
fn filters(k: Kind) -> &'static [(&'static str, &'static str)] {
    match k {
        Kind::Subnet
        | Kind::InternetGateway
        | Kind::RouteTable
        | Kind::SecurityList
        | Kind::DhcpOptions => &[("vcnId", "vcnId")],
        Kind::DrgAttachment => &[
            ("vcnId", "vcnId"),
            ("drgId", "drgId"),
            ("networkId", "vcnId"),
        ],
        Kind::Rpc => &[("drgId", "drgId")],
        Kind::VnicAttachment => &[
            ("instanceId", "instanceId"),
            ("vnicId", "vnicId"),
            ("availabilityDomain", "availabilityDomain"),
        ],
        Kind::Instance => &[("availabilityDomain", "availabilityDomain")],
        Kind::ConsoleConnection => &[("instanceId", "instanceId")],
        Kind::Image => &[
            ("operatingSystem", "operatingSystem"),
            ("operatingSystemVersion", "operatingSystemVersion"),
        ],
        Kind::PrivateIp => &[
            ("subnetId", "subnetId"),
            ("vnicId", "vnicId"),
            ("ipAddress", "ipAddress"),
        ],
        Kind::PublicIp => &[
            ("lifetime", "lifetime"),
            ("availabilityDomain", "availabilityDomain"),
        ],
        Kind::WorkRequest => &[],
        _ => &[],
    }
}

/// The `lifecycleState` values of a kind (oci-api.md §2.4); a list filter outside them is 400.
fn states(k: Kind) -> &'static [&'static str] {
    match k {
        Kind::Compartment => &["CREATING", "ACTIVE", "INACTIVE", "DELETING", "DELETED"],
        Kind::Vcn | Kind::Subnet => &[
            "PROVISIONING",
            "AVAILABLE",
            "TERMINATING",
            "TERMINATED",
            "UPDATING",
        ],
        Kind::DrgAttachment | Kind::VnicAttachment => {
            &["ATTACHING", "ATTACHED", "DETACHING", "DETACHED"]
        }
        Kind::Instance => &[
            "MOVING",
            "PROVISIONING",
            "RUNNING",
            "STARTING",
            "STOPPING",
            "STOPPED",
            "CREATING_IMAGE",
            "TERMINATING",
            "TERMINATED",
        ],
        Kind::Image => &[
            "PROVISIONING",
            "IMPORTING",
            "AVAILABLE",
            "EXPORTING",
            "DISABLED",
            "DELETED",
        ],
        Kind::ConsoleConnection => &["CREATING", "ACTIVE", "FAILED", "DELETING", "DELETED"],
        Kind::PublicIp => &[
            "PROVISIONING",
            "AVAILABLE",
            "ASSIGNING",
            "ASSIGNED",
            "UNASSIGNING",
            "UNASSIGNED",
            "TERMINATING",
            "TERMINATED",
        ],
        Kind::WorkRequest => &[],
        _ => &["PROVISIONING", "AVAILABLE", "TERMINATING", "TERMINATED"],
    }
}

fn list(ctx: &Ctx<'_>, k: Kind, call: &Call) -> Result<Reply, ApiError> {
    if let Some(ls) = call.q("lifecycleState")
        && !states(k).is_empty()
        && !states(k).contains(&ls)
    {
        return Err(ApiError::invalid(format!("Invalid lifecycleState: {ls}")));
    }
    let mut items = ctx.all(k)?;
    match k {
        Kind::PrivateIp => {
            if call.q("subnetId").is_none() && call.q("vnicId").is_none() {
                return Err(ApiError::missing("subnetId or vnicId"));
            }
        }
        Kind::Compartment => {
            let parent = call.req_q("compartmentId")?;
            ctx.check_compartment(parent)?;
            let subtree = call.q("compartmentIdInSubtree") == Some("true");
            let all = items.clone();
            items.retain(|c| {
                if !subtree {
                    return c.compartment == parent;
                }
                // Walk up to see whether `parent` is an ancestor.
                let mut cur = c.compartment.clone();
                for _ in 0..8 {
                    if cur == parent {
                        return true;
                    }
                    match all.iter().find(|x| x.ocid == cur) {
                        Some(x) => cur = x.compartment.clone(),
                        None => return false,
                    }
                }
                false
            });
            return list_reply(ctx, call, items, "name");
        }
        Kind::PublicIp => {
            let scope = call.req_q("scope")?;
            let c = call.req_q("compartmentId")?;
            ctx.check_compartment(c)?;
            items.retain(|r| r.compartment == c && r.s("scope") == scope);
            if scope == "AVAILABILITY_DOMAIN" {
                call.req_q("availabilityDomain")?;
            } else if scope != "REGION" {
                return Err(ApiError::invalid(format!("Invalid scope: {scope}")));
            }
        }
        Kind::WorkRequest => {
            let c = call.req_q("compartmentId")?;
            items.retain(|r| r.compartment == c);
            if let Some(res) = call.q("resourceId") {
                items.retain(|r| {
                    r.doc["resources"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x["identifier"].as_str() == Some(res)))
                });
            }
        }
        _ => {
            let c = call.req_q("compartmentId")?;
            ctx.check_compartment(c)?;
            items.retain(|r| r.compartment == c);
        }
    }
    for (param, field) in filters(k) {
        if let Some(v) = call.q(param) {
            items.retain(|r| r.s(field) == v);
        }
    }
    if k == Kind::Image
        && let Some(shape) = call.q("shape")
    {
        items.retain(|r| images::compatible(r, shape));
    }
    list_reply(ctx, call, items, "displayName")
}

/// Fields an update may change, per kind.
fn updatable(k: Kind) -> &'static [&'static str] {
    match k {
        Kind::Vcn | Kind::Drg | Kind::Rpc => &["displayName", "freeformTags", "definedTags"],
        Kind::Subnet => &[
            "displayName",
            "freeformTags",
            "definedTags",
            "routeTableId",
            "securityListIds",
            "dhcpOptionsId",
        ],
        Kind::InternetGateway => &[
            "displayName",
            "freeformTags",
            "definedTags",
            "isEnabled",
            "routeTableId",
        ],
        Kind::RouteTable => &["displayName", "freeformTags", "definedTags", "routeRules"],
        Kind::SecurityList => &[
            "displayName",
            "freeformTags",
            "definedTags",
            "ingressSecurityRules",
            "egressSecurityRules",
        ],
        Kind::DrgAttachment => &[
            "displayName",
            "freeformTags",
            "definedTags",
            "routeTableId",
            "drgRouteTableId",
        ],
        Kind::Instance => &["displayName", "freeformTags", "definedTags"],
        Kind::ConsoleConnection => &["freeformTags", "definedTags"],
        Kind::Image => &[
            "displayName",
            "freeformTags",
            "definedTags",
            "operatingSystem",
            "operatingSystemVersion",
        ],
        _ => &[],
    }
}

/// PUT on a resource: `if-match`, validation of the changed fields, new etag.
fn update_generic(ctx: &Ctx<'_>, k: Kind, id: &str, call: &Call) -> Result<Reply, ApiError> {
    let mut r = ctx.must_get(k, id)?;
    check_if_match(call, &r.etag)?;
    if is_going(&r) {
        return Err(ApiError::incorrect_state(format!(
            "The resource {id} is {} and cannot be updated.",
            r.state()
        )));
    }
    let body = super::wire::json_body(&call.body)?;
    let allowed = updatable(k);
    let mut patch = serde_json::Map::new();
    for (key, val) in body.as_object().into_iter().flatten() {
        if val.is_null() {
            continue;
        }
        if allowed.contains(&key.as_str()) {
            patch.insert(key.clone(), val.clone());
        }
    }
    let patch = Value::Object(patch);
    let patch = match k {
        Kind::RouteTable | Kind::SecurityList | Kind::Subnet | Kind::InternetGateway => {
            network::validate_update(ctx, k, &r, patch)?
        }
        _ => {
            if patch.get("freeformTags").is_some() {
                super::wire::freeform_tags(&patch)?;
            }
            if patch.get("definedTags").is_some() {
                super::wire::defined_tags(&patch)?;
            }
            if let Some(n) = patch.get("displayName")
                && !n.is_string()
            {
                return Err(ApiError::invalid("displayName must be a string"));
            }
            patch
        }
    };
    super::store::merge(&mut r.doc, &patch);
    ctx.tx.save(&mut r)?;
    Ok(reply_res(200, &r, ctx.now))
}

impl Reply {
    /// Marks the resource this reply is about (for retry tokens).
    pub fn with_ocid(mut self, ocid: &str) -> Reply {
        self.ocid = Some(ocid.to_string());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(p: &str) -> Vec<String> {
        p.split('/').skip(1).map(str::to_string).collect()
    }

    #[test]
    fn routes_by_method_and_path() {
        let q = BTreeMap::new();
        let c = |m: Method, p: &str| classify(&m, &segs(p), &q).map(|r| r.name());
        assert_eq!(c(Method::POST, "/20160918/vcns"), Some("CreateVcn"));
        assert_eq!(c(Method::GET, "/20160918/vcns"), Some("ListVcns"));
        assert_eq!(c(Method::GET, "/20160918/vcns/ocid1.vcn.x"), Some("GetVcn"));
        assert_eq!(
            c(Method::DELETE, "/20160918/instances/x"),
            Some("TerminateInstance")
        );
        assert_eq!(
            c(Method::POST, "/20160918/instances/x"),
            Some("InstanceAction")
        );
        assert_eq!(
            c(
                Method::POST,
                "/20160918/remotePeeringConnections/x/actions/connect"
            ),
            Some("ConnectRemotePeeringConnections")
        );
        assert_eq!(
            c(Method::PUT, "/20160918/images/x/shapes/VM.Standard.E4.Flex"),
            Some("AddImageShapeCompatibilityEntry")
        );
        assert_eq!(
            c(Method::POST, "/20160918/instanceConsoleConnections"),
            Some("CreateInstanceConsoleConnection")
        );
        assert_eq!(
            c(Method::GET, "/20160918/instanceConsoleConnections"),
            Some("ListInstanceConsoleConnections")
        );
        assert_eq!(
            c(Method::DELETE, "/20160918/instanceConsoleConnections/x"),
            Some("DeleteInstanceConsoleConnection")
        );
        assert_eq!(c(Method::GET, "/n"), Some("GetNamespace"));
        assert_eq!(
            c(Method::PUT, "/n/ns/b/images/o/a/b.vmdk"),
            Some("PutObject")
        );
        assert_eq!(
            c(Method::PUT, "/n/ns/b/images/u/big.bin"),
            Some("UploadPart")
        );
        assert_eq!(c(Method::POST, "/20160918/vnics"), None);
        assert_eq!(c(Method::GET, "/elsewhere"), None);
        let mut q2 = BTreeMap::new();
        q2.insert("uploadId".to_string(), "u".to_string());
        assert_eq!(
            classify(&Method::POST, &segs("/n/ns/b/images/u/big.bin"), &q2).map(|r| r.name()),
            Some("CommitMultipartUpload")
        );
    }

    #[test]
    fn default_names_have_a_timestamp() {
        assert_eq!(default_name("vcn", 1_472_159_429_600), "vcn20160825211029");
    }
}
