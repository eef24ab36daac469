"""OCI conformance of the simulator, judged by the official OCI Python SDK (PyPI `oci`).

Run by `tests/oci_sdk_conformance.rs`, which starts the simulator on 127.0.0.1 with a manual
clock and passes, as one JSON argument: the OCI config file and profile the simulator wrote,
its endpoint per region (the first is the home region) and the tenancy OCID.

Every OCI operation pexspec's client sends (crates/pexspec-oci/src/ops/*.rs) is driven here
through the SDK's own clients and models, ids chained from one call to the next. For every
answer:

* the SDK deserialises it into its model (`response_type` of the SDK operation);
* the raw JSON has no key the model does not know (exact casing: `sizeInMBs`, not
  `sizeInMbs`; no simulator-internal `_keys`), and every field the model documents as
  `**[Required]**` is present and not null, recursively (polymorphic models through the SDK's
  own `get_subtype`);
* no enum field deserialises to the SDK's `UNKNOWN_ENUM_VALUE`;
* `opc-request-id` is on every answer; `etag` where the SDK operation documents it.

and the protocol facts: retry tokens (same token, same resource), `if-match` 412, pagination
(`limit=1`, following `opc-next-page` and `nextStartWith`), 401 on a bad signature, error
bodies (`code`, `message`) and `opc-request-id` as `oci.exceptions.ServiceError` reads them,
`content-md5` / `opc-multipart-md5` on objects, `opc-work-request-id` on asynchronous calls.

Simulated time moves only through the simulator's `POST /_sim/clock`: nothing here sleeps.
The script prints one line per operation checked and exits non-zero on the first failure.
"""

import base64
import hashlib
import inspect
import json
import sys
import urllib.request

import oci
from oci.exceptions import ServiceError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

ARGS = json.loads(sys.argv[1])
CONFIG = oci.config.from_file(ARGS["config_file"], ARGS["profile"])
ENDPOINTS = ARGS["endpoints"]  # {region: url}, home region first
HOME, OTHER = ARGS["regions"][0], ARGS["regions"][1]
TENANCY = ARGS["tenancy"]

MODEL_MODULES = [
    oci.core.models,
    oci.identity.models,
    oci.object_storage.models,
    oci.work_requests.models,
]

checked = []  # operation names checked, in order
raw = []  # the raw answers of the current call, captured by a session hook


class Failure(Exception):
    pass


failures = []


def fail(msg):
    """Stops at the first failure; with `--keep-going`, records it and goes on."""
    if "--keep-going" in sys.argv:
        failures.append(msg)
        print(f"FAIL {msg}", flush=True)
        return
    raise Failure(msg)


def model_class(name):
    for m in MODEL_MODULES:
        c = getattr(m, name, None)
        if c is not None:
            return c
    return None


def required_attrs(cls):
    """The attributes the SDK documents as always returned: `**[Required]**` getters."""
    out = []
    for attr in cls().swagger_types:
        prop = getattr(cls, attr, None)
        doc = inspect.getdoc(prop) or ""
        if doc.startswith("**[Required]**"):
            out.append(attr)
    return out


def check_raw(value, type_name, path):
    """Checks a raw JSON value against the SDK's swagger type `type_name`."""
    if value is None:
        return
    if type_name.startswith("list["):
        if not isinstance(value, list):
            fail(f"{path}: expected a list for {type_name}, got {value!r}")
        for i, v in enumerate(value):
            check_raw(v, type_name[5:-1], f"{path}[{i}]")
        return
    if type_name.startswith("dict("):
        if not isinstance(value, dict):
            fail(f"{path}: expected an object for {type_name}, got {value!r}")
        inner = type_name[5:-1].split(",", 1)[1].strip()
        for k, v in value.items():
            check_raw(v, inner, f"{path}.{k}")
        return
    cls = model_class(type_name)
    if cls is None:
        return  # a primitive: str, int, float, bool, datetime, object
    if not isinstance(value, dict):
        fail(f"{path}: expected an object for {type_name}, got {value!r}")
    sub = getattr(cls, "get_subtype", None)
    if sub is not None:
        sub_name = sub(value)
        if sub_name and sub_name != type_name and model_class(sub_name):
            cls, type_name = model_class(sub_name), sub_name
    inst = cls()
    wire_to_attr = {w: a for a, w in inst.attribute_map.items()}
    for key in value:
        if key not in wire_to_attr:
            fail(f"{path}: `{key}` is not a field of the SDK's {type_name} "
                 f"(fields: {sorted(wire_to_attr)})")
    for attr in required_attrs(cls):
        wire = inst.attribute_map[attr]
        if value.get(wire) is None:
            fail(f"{path}: `{wire}`, always returned by OCI ({type_name}), is missing")
    for key, v in value.items():
        if key in wire_to_attr:
            check_raw(v, inst.swagger_types[wire_to_attr[key]], f"{path}.{key}")


def check_enums(obj, path):
    if isinstance(obj, list):
        for i, v in enumerate(obj):
            check_enums(v, f"{path}[{i}]")
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            check_enums(v, f"{path}.{k}")
        return
    if hasattr(obj, "swagger_types") and hasattr(obj, "attribute_map"):
        for attr in obj.swagger_types:
            v = getattr(obj, attr)
            if isinstance(v, str) and v == "UNKNOWN_ENUM_VALUE":
                fail(f"{path}.{obj.attribute_map[attr]}: a value outside the SDK's enum "
                     f"({type(obj).__name__})")
            check_enums(v, f"{path}.{obj.attribute_map[attr]}")


def call(op, fn, *args, response_type=None, etag=False, work_request=False, **kwargs):
    """Calls an SDK operation and checks its answer. Returns the SDK response."""
    raw.clear()
    resp = fn(*args, **kwargs)
    if not raw:
        fail(f"{op}: no HTTP answer was captured")
    last = raw[-1]
    if not last.headers.get("opc-request-id"):
        fail(f"{op}: no `opc-request-id` header")
    if etag and not resp.headers.get("etag"):
        fail(f"{op}: no `etag` header")
    if work_request and not resp.headers.get("opc-work-request-id"):
        fail(f"{op}: no `opc-work-request-id` header")
    if response_type and "json" in last.headers.get("content-type", ""):
        check_raw(last.json(), response_type, op)
        check_enums(resp.data, op)
    checked.append(op)
    print(f"ok {op}", flush=True)
    return resp


def expect_error(op, status, code, fn, *args, **kwargs):
    """Calls an operation that must fail; checks the ServiceError the SDK raises. `code`
    None: any code (one no source states; book/src/oci-resources.md marks it unverified)."""
    raw.clear()
    try:
        fn(*args, **kwargs)
    except ServiceError as e:
        if e.status != status or (code is not None and e.code != code) or not e.code:
            fail(f"{op}: expected {status} {code}, got {e.status} {e.code}: {e.message}")
        if not e.message or e.message == "The service returned error code %s" % e.status:
            fail(f"{op}: the error body has no `message`")
        if not e.request_id:
            fail(f"{op}: the error has no `opc-request-id`")
        print(f"ok {op} -> {status} {code}", flush=True)
        return e
    fail(f"{op}: expected {status} {code}, but the call succeeded")


def hook(resp, *a, **k):
    raw.append(resp)


def client(cls, region, config=None, signer=None):
    kwargs = {"service_endpoint": ENDPOINTS[region],
              "retry_strategy": oci.retry.NoneRetryStrategy()}
    if signer is not None:
        kwargs["signer"] = signer
    c = cls(dict(config or CONFIG, region=region), **kwargs)
    c.base_client.session.hooks["response"].append(hook)
    return c


def advance(seconds):
    """Moves the simulator's manual clock (shared by every region)."""
    req = urllib.request.Request(
        ENDPOINTS[HOME] + "/_sim/clock",
        data=json.dumps({"advance_ms": int(seconds * 1000)}).encode(),
        headers={"content-type": "application/json"}, method="POST")
    urllib.request.urlopen(req).read()


def wait(op, get, state, field="lifecycle_state", step=10, limit=400):
    """Polls `get()` until `field` is `state`, moving simulated time between polls."""
    for _ in range(limit):
        data = get().data
        if getattr(data, field) == state:
            return data
        advance(step)
    fail(f"{op}: {field} never became {state} (last {getattr(data, field)})")


def pages(op, fn, *args, **kwargs):
    """Lists with limit=1, following `opc-next-page`; returns every item."""
    items, page, n = [], None, 0
    while True:
        if page:
            kwargs["page"] = page
        r = call(op, fn, *args, limit=1, **kwargs)
        items.extend(r.data if isinstance(r.data, list) else r.data.items)
        n += 1
        page = r.headers.get("opc-next-page")
        if not page:
            return items, n
        if n > 50:
            fail(f"{op}: `opc-next-page` never ends")


# pexspec's client models (crates/pexspec-oci/src/models/*.rs) whose SDK model has another
# name, and the fields that are the client's own (never read from the wire).
CLIENT_ALIASES = {
    "ShapeConfig": ["InstanceShapeConfig", "LaunchInstanceShapeConfigDetails",
                    "UpdateInstanceShapeConfigDetails"],
    "PortOptions": ["TcpOptions", "UdpOptions"],
    "ImageShapeCompatibility": ["ImageShapeCompatibilityEntry"],
    "MultipartUploadPart": ["MultipartUploadPartSummary"],
    "CommitPart": ["CommitMultipartUploadPartDetails"],
    "UpdateNameDetails": ["UpdateDrgDetails", "UpdateDrgAttachmentDetails",
                          "UpdateRemotePeeringConnectionDetails"],
    "DrgAttachmentNetworkDetails": ["VcnDrgAttachmentNetworkDetails"],
}
# Header-borne results and the client's own structs: no JSON model in the SDK.
CLIENT_NOT_JSON = {"ObjectHead", "PutObjectResult", "ObjectContent", "UploadPartResult",
                   "CommitResult"}
# VnicAttachment takes no tags in OCI; the client's field is there for the resource trait
# and stays empty.
CLIENT_OWN_FIELDS = {("VnicAttachment", "freeform_tags")}


def check_client_models(root):
    """Every field of pexspec's client models has the wire name of the SDK's model."""
    import glob
    import re

    def camel(s):
        p = s.split("_")
        return p[0] + "".join(x[:1].upper() + x[1:] for x in p[1:])

    structs = 0
    for path in sorted(glob.glob(f"{root}/crates/pexspec-oci/src/models/*.rs")):
        src = open(path).read()
        for m in re.finditer(r"((?:#\[[^\n]*\]\s*)*)pub struct (\w+) \{(.*?)\n\}", src, re.S):
            attrs, name, body = m.groups()
            if name in CLIENT_NOT_JSON:
                continue
            sdk = [model_class(n) for n in CLIENT_ALIASES.get(name, [name])]
            sdk = [c for c in sdk if c is not None]
            if not sdk:
                fail(f"client model {name} ({path}): no SDK model of that name")
                continue
            structs += 1
            wire = set()
            for c in sdk:
                wire |= set(c().attribute_map.values())
            for fm in re.finditer(r"((?:\s*#\[[^\]]*\]\s*|\s*///[^\n]*\n)*)\s*pub (\w+):",
                                  body):
                fattrs, field = fm.groups()
                if (name, field) in CLIENT_OWN_FIELDS or "flatten" in fattrs \
                        or re.search(r"serde\(skip\)", fattrs):
                    continue  # not on the wire (`#[serde(skip)]`: the response's etag)
                r = re.search(r'rename = "([^"]+)"', fattrs)
                w = r.group(1) if r else (camel(field) if "camelCase" in attrs else field)
                if w not in wire:
                    fail(f"client model {name}.{field} reads `{w}`, not a field of the SDK's "
                         f"{'/'.join(c.__name__ for c in sdk)} ({sorted(wire)})")
    if structs < 40:
        fail(f"only {structs} client models were found: the parser no longer reads them")
    print(f"ok {structs} client models have the SDK's wire names", flush=True)


def main():
    if ARGS.get("repo"):
        check_client_models(ARGS["repo"])
    identity = client(oci.identity.IdentityClient, HOME)
    compute = client(oci.core.ComputeClient, HOME)
    network = client(oci.core.VirtualNetworkClient, HOME)
    network2 = client(oci.core.VirtualNetworkClient, OTHER)
    osc = client(oci.object_storage.ObjectStorageClient, HOME)
    wr = client(oci.work_requests.WorkRequestClient, HOME)

    # --- Authentication: a key the simulator does not know is 401 NotAuthenticated. ---
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other_key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption()).decode()
    bad = oci.signer.Signer(CONFIG["tenancy"], CONFIG["user"], CONFIG["fingerprint"],
                            private_key_file_location=None, private_key_content=pem)
    stranger = client(oci.identity.IdentityClient, HOME, signer=bad)
    expect_error("ListRegions (bad signature)", 401, "NotAuthenticated", stranger.list_regions)

    # --- Identity. ---
    call("ListRegions", identity.list_regions, response_type="list[Region]")
    subs = call("ListRegionSubscriptions", identity.list_region_subscriptions, TENANCY,
                response_type="list[RegionSubscription]").data
    if not any(s.is_home_region for s in subs):
        fail("ListRegionSubscriptions: no home region")
    ads = call("ListAvailabilityDomains", identity.list_availability_domains, TENANCY,
               response_type="list[AvailabilityDomain]").data
    ad = ads[0].name

    details = oci.identity.models.CreateCompartmentDetails(
        compartment_id=TENANCY, name="conformance", description="SDK conformance",
        freeform_tags={"pexspec-stack": "conformance"})
    c1 = call("CreateCompartment", identity.create_compartment, details,
              opc_retry_token="conformance-compartment-1", response_type="Compartment",
              etag=True).data
    c1b = call("CreateCompartment (same retry token)", identity.create_compartment, details,
               opc_retry_token="conformance-compartment-1", response_type="Compartment").data
    if c1b.id != c1.id:
        fail(f"CreateCompartment: the same retry token made a second compartment {c1b.id}")
    wait("GetCompartment", lambda: call("GetCompartment", identity.get_compartment, c1.id,
                                        response_type="Compartment", etag=True), "ACTIVE")
    c2 = call("CreateCompartment", identity.create_compartment,
              oci.identity.models.CreateCompartmentDetails(
                  compartment_id=TENANCY, name="conformance-two", description="second"),
              response_type="Compartment").data
    comps, n = pages("ListCompartments", identity.list_compartments, TENANCY,
                     response_type="list[Compartment]")
    if n < 2 or not {c1.id, c2.id} <= {c.id for c in comps}:
        fail(f"ListCompartments: {n} pages did not hold both compartments")
    expect_error("UpdateCompartment (stale if-match)", 412, "NoEtagMatch",
                 identity.update_compartment, c1.id,
                 oci.identity.models.UpdateCompartmentDetails(description="changed"),
                 if_match="stale-etag")
    cur = identity.get_compartment(c1.id)
    call("UpdateCompartment", identity.update_compartment, c1.id,
         oci.identity.models.UpdateCompartmentDetails(description="changed"),
         if_match=cur.headers["etag"], response_type="Compartment", etag=True)
    comp = c1.id

    # --- Errors as ServiceError reads them. ---
    expect_error("GetVcn (unknown id)", 404, "NotAuthorizedOrNotFound", network.get_vcn,
                 "ocid1.vcn.oc1.eu-frankfurt-1.doesnotexist")

    # --- Object Storage. ---
    ns = call("GetNamespace", osc.get_namespace, response_type="str").data
    tags = {"pexspec-stack": "conformance"}
    for name in ("conformance-a", "conformance-b"):
        call("CreateBucket", osc.create_bucket, ns,
             oci.object_storage.models.CreateBucketDetails(
                 name=name, compartment_id=comp, freeform_tags=tags),
             response_type="Bucket", etag=True)
    call("GetBucket", osc.get_bucket, ns, "conformance-a", response_type="Bucket", etag=True)
    buckets, n = pages("ListBuckets", osc.list_buckets, ns, comp,
                       response_type="list[BucketSummary]")
    if n < 2 or len(buckets) != 2:
        fail(f"ListBuckets: {len(buckets)} buckets in {n} pages")

    body = b"pexspec conformance object\n"
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    put = call("PutObject", osc.put_object, ns, "conformance-a", "small.ova", body,
               content_md5=md5, opc_meta={"pexspec-stack": "conformance"}, etag=True)
    if put.headers.get("opc-content-md5") != md5:
        fail(f"PutObject: `opc-content-md5` is {put.headers.get('opc-content-md5')}, not {md5}")
    expect_error("PutObject (if-none-match on an existing object)", 412, None,
                 osc.put_object, ns, "conformance-a", "small.ova", body, if_none_match="*")
    expect_error("PutObject (bad Content-MD5)", 400, None, osc.put_object,
                 ns, "conformance-a", "other.ova", body,
                 content_md5=base64.b64encode(hashlib.md5(b"x").digest()).decode())
    head = call("HeadObject", osc.head_object, ns, "conformance-a", "small.ova", etag=True)
    if head.headers.get("content-md5") != md5:
        fail(f"HeadObject: `content-md5` is {head.headers.get('content-md5')}, not {md5}")
    if head.headers.get("opc-meta-pexspec-stack") != "conformance":
        fail("HeadObject: the `opc-meta-` metadata is not returned")
    if head.headers.get("content-length") != str(len(body)):
        fail(f"HeadObject: `content-length` is {head.headers.get('content-length')}")
    got = call("GetObject", osc.get_object, ns, "conformance-a", "small.ova", etag=True)
    if got.data.content != body or got.headers.get("content-md5") != md5:
        fail("GetObject: other bytes or no `content-md5`")
    expect_error("GetObject (stale if-match)", 412, None, osc.get_object, ns,
                 "conformance-a", "small.ova", if_match="stale-etag")
    expect_error("GetObject (missing)", 404, None, osc.get_object, ns,
                 "conformance-a", "missing.ova")

    part1, part2 = b"a" * 1024, b"b" * 512
    up = call("CreateMultipartUpload", osc.create_multipart_upload, ns, "conformance-a",
              oci.object_storage.models.CreateMultipartUploadDetails(
                  object="big.ova", content_type="application/octet-stream",
                  metadata={"opc-meta-pexspec-stack": "conformance"}),
              response_type="MultipartUpload").data
    etags = []
    for i, p in ((1, part1), (2, part2)):
        r = call("UploadPart", osc.upload_part, ns, "conformance-a", "big.ova", up.upload_id,
                 i, p, content_md5=base64.b64encode(hashlib.md5(p).digest()).decode(),
                 etag=True)
        etags.append(r.headers["etag"])
    listed = call("ListMultipartUploads", osc.list_multipart_uploads, ns, "conformance-a",
                  response_type="list[MultipartUpload]").data
    if [u.upload_id for u in listed] != [up.upload_id]:
        fail(f"ListMultipartUploads: {listed}")
    parts = call("ListMultipartUploadParts", osc.list_multipart_upload_parts, ns,
                 "conformance-a", "big.ova", up.upload_id,
                 response_type="list[MultipartUploadPartSummary]").data
    if [(p.part_number, p.etag) for p in parts] != [(1, etags[0]), (2, etags[1])]:
        fail(f"ListMultipartUploadParts: {parts}")
    committed = call("CommitMultipartUpload", osc.commit_multipart_upload, ns,
                     "conformance-a", "big.ova", up.upload_id,
                     oci.object_storage.models.CommitMultipartUploadDetails(parts_to_commit=[
                         oci.object_storage.models.CommitMultipartUploadPartDetails(
                             part_num=i + 1, etag=e) for i, e in enumerate(etags)]),
                     etag=True)
    digest = hashlib.md5(hashlib.md5(part1).digest() + hashlib.md5(part2).digest()).digest()
    want_mp = base64.b64encode(digest).decode() + "-2"
    if committed.headers.get("opc-multipart-md5") != want_mp:
        fail(f"CommitMultipartUpload: `opc-multipart-md5` "
             f"{committed.headers.get('opc-multipart-md5')}, not {want_mp}")
    head = call("HeadObject", osc.head_object, ns, "conformance-a", "big.ova", etag=True)
    if head.headers.get("opc-multipart-md5") != want_mp or "content-md5" in head.headers:
        fail("HeadObject of a multipart object: `opc-multipart-md5` and no `content-md5` "
             f"expected, got {dict(head.headers)}")
    aborted = call("CreateMultipartUpload", osc.create_multipart_upload, ns, "conformance-a",
                   oci.object_storage.models.CreateMultipartUploadDetails(object="gone.ova"),
                   response_type="MultipartUpload").data
    call("AbortMultipartUpload", osc.abort_multipart_upload, ns, "conformance-a", "gone.ova",
         aborted.upload_id)
    objs = []
    start = None
    while True:
        kw = {"start": start} if start else {}
        r = call("ListObjects", osc.list_objects, ns, "conformance-a", limit=1,
                 fields="name,size,md5,etag,timeCreated", response_type="ListObjects", **kw)
        objs.extend(r.data.objects)
        start = r.data.next_start_with
        if not start:
            break
    if sorted(o.name for o in objs) != ["big.ova", "small.ova"]:
        fail(f"ListObjects: {[o.name for o in objs]}")

    # --- Images and work requests. ---
    img = call("CreateImage", compute.create_image, oci.core.models.CreateImageDetails(
        compartment_id=comp, display_name="conformance image", launch_mode="PARAVIRTUALIZED",
        freeform_tags=tags,
        image_source_details=oci.core.models.ImageSourceViaObjectStorageTupleDetails(
            namespace_name=ns, bucket_name="conformance-a", object_name="big.ova",
            source_image_type="VMDK", operating_system="Linux")),
        opc_retry_token="conformance-image-1", response_type="Image", etag=True,
        work_request=True)
    work = img.headers["opc-work-request-id"]
    call("GetWorkRequest", wr.get_work_request, work, response_type="WorkRequest", etag=False)
    call("ListWorkRequestErrors", wr.list_work_request_errors, work,
         response_type="list[WorkRequestError]")
    image = wait("GetImage", lambda: call("GetImage", compute.get_image, img.data.id,
                                          response_type="Image", etag=True), "AVAILABLE",
                 step=60)
    if image.size_in_mbs is None:
        fail("GetImage: no `sizeInMBs`")
    call("ListImages", compute.list_images, comp, response_type="list[Image]")
    call("UpdateImage", compute.update_image, image.id,
         oci.core.models.UpdateImageDetails(display_name="conformance image 2"),
         response_type="Image", etag=True)
    call("AddImageShapeCompatibilityEntry", compute.add_image_shape_compatibility_entry,
         image.id, "VM.Standard3.Flex",
         response_type="ImageShapeCompatibilityEntry")
    call("ListImageShapeCompatibilityEntries", compute.list_image_shape_compatibility_entries,
         image.id, response_type="list[ImageShapeCompatibilitySummary]")

    # --- Networking, in both regions. ---
    def vcn_details(cidr, name):
        return oci.core.models.CreateVcnDetails(compartment_id=comp, cidr_blocks=[cidr],
                                                display_name=name, dns_label=name,
                                                freeform_tags=tags)

    vcn = call("CreateVcn", network.create_vcn, vcn_details("10.0.0.0/16", "conf"),
               opc_retry_token="conformance-vcn-1", response_type="Vcn", etag=True).data
    again = call("CreateVcn (same retry token)", network.create_vcn,
                 vcn_details("10.0.0.0/16", "conf"), opc_retry_token="conformance-vcn-1",
                 response_type="Vcn").data
    if again.id != vcn.id:
        fail("CreateVcn: the same retry token made a second VCN")
    vcn_b = call("CreateVcn", network.create_vcn, vcn_details("10.1.0.0/16", "confb"),
                 response_type="Vcn").data
    wait("GetVcn", lambda: call("GetVcn", network.get_vcn, vcn.id, response_type="Vcn",
                                etag=True), "AVAILABLE")
    vcns, n = pages("ListVcns", network.list_vcns, compartment_id=comp,
                    response_type="list[Vcn]")
    if n < 2 or {v.id for v in vcns} != {vcn.id, vcn_b.id}:
        fail(f"ListVcns: {n} pages")
    expect_error("UpdateVcn (stale if-match)", 412, "NoEtagMatch", network.update_vcn, vcn.id,
                 oci.core.models.UpdateVcnDetails(display_name="x"), if_match="stale-etag")
    call("UpdateVcn", network.update_vcn, vcn.id,
         oci.core.models.UpdateVcnDetails(display_name="conf-2"),
         if_match=network.get_vcn(vcn.id).headers["etag"], response_type="Vcn", etag=True)

    igw = call("CreateInternetGateway", network.create_internet_gateway,
               oci.core.models.CreateInternetGatewayDetails(
                   compartment_id=comp, vcn_id=vcn.id, is_enabled=True, freeform_tags=tags),
               response_type="InternetGateway", etag=True).data
    wait("GetInternetGateway", lambda: call(
        "GetInternetGateway", network.get_internet_gateway, igw.id,
        response_type="InternetGateway", etag=True), "AVAILABLE")
    call("ListInternetGateways", network.list_internet_gateways, comp, vcn_id=vcn.id,
         response_type="list[InternetGateway]")
    call("UpdateInternetGateway", network.update_internet_gateway, igw.id,
         oci.core.models.UpdateInternetGatewayDetails(is_enabled=True),
         response_type="InternetGateway", etag=True)

    drg = call("CreateDrg", network.create_drg, oci.core.models.CreateDrgDetails(
        compartment_id=comp, freeform_tags=tags), response_type="Drg", etag=True).data
    wait("GetDrg", lambda: call("GetDrg", network.get_drg, drg.id, response_type="Drg",
                                etag=True), "AVAILABLE")
    call("ListDrgs", network.list_drgs, comp, response_type="list[Drg]")
    call("UpdateDrg", network.update_drg, drg.id,
         oci.core.models.UpdateDrgDetails(display_name="conf-drg"), response_type="Drg",
         etag=True)
    att = call("CreateDrgAttachment", network.create_drg_attachment,
               oci.core.models.CreateDrgAttachmentDetails(drg_id=drg.id, vcn_id=vcn.id,
                                                          freeform_tags=tags),
               response_type="DrgAttachment", etag=True).data
    wait("GetDrgAttachment", lambda: call(
        "GetDrgAttachment", network.get_drg_attachment, att.id, response_type="DrgAttachment",
        etag=True), "ATTACHED")
    call("ListDrgAttachments", network.list_drg_attachments, compartment_id=comp,
         vcn_id=vcn.id, response_type="list[DrgAttachment]")
    call("UpdateDrgAttachment", network.update_drg_attachment, att.id,
         oci.core.models.UpdateDrgAttachmentDetails(display_name="conf-att"),
         response_type="DrgAttachment", etag=True)

    rt = call("CreateRouteTable", network.create_route_table,
              oci.core.models.CreateRouteTableDetails(
                  compartment_id=comp, vcn_id=vcn.id, freeform_tags=tags, route_rules=[
                      oci.core.models.RouteRule(destination="0.0.0.0/0",
                                                destination_type="CIDR_BLOCK",
                                                network_entity_id=igw.id),
                      oci.core.models.RouteRule(destination="10.9.0.0/16",
                                                destination_type="CIDR_BLOCK",
                                                network_entity_id=drg.id)]),
              response_type="RouteTable", etag=True).data
    wait("GetRouteTable", lambda: call("GetRouteTable", network.get_route_table, rt.id,
                                       response_type="RouteTable", etag=True), "AVAILABLE")
    call("ListRouteTables", network.list_route_tables, comp, vcn_id=vcn.id,
         response_type="list[RouteTable]")
    call("UpdateRouteTable", network.update_route_table, rt.id,
         oci.core.models.UpdateRouteTableDetails(route_rules=[
             oci.core.models.RouteRule(destination="0.0.0.0/0", destination_type="CIDR_BLOCK",
                                       network_entity_id=igw.id)]),
         if_match=network.get_route_table(rt.id).headers["etag"], response_type="RouteTable",
         etag=True)

    tcp = oci.core.models.TcpOptions(
        destination_port_range=oci.core.models.PortRange(min=443, max=443))
    sl = call("CreateSecurityList", network.create_security_list,
              oci.core.models.CreateSecurityListDetails(
                  compartment_id=comp, vcn_id=vcn.id, freeform_tags=tags,
                  egress_security_rules=[oci.core.models.EgressSecurityRule(
                      destination="0.0.0.0/0", protocol="all")],
                  ingress_security_rules=[oci.core.models.IngressSecurityRule(
                      source="0.0.0.0/0", protocol="6", tcp_options=tcp)]),
              response_type="SecurityList", etag=True).data
    wait("GetSecurityList", lambda: call("GetSecurityList", network.get_security_list, sl.id,
                                         response_type="SecurityList", etag=True), "AVAILABLE")
    call("ListSecurityLists", network.list_security_lists, comp, vcn_id=vcn.id,
         response_type="list[SecurityList]")
    expect_error("UpdateSecurityList (stale if-match)", 412, "NoEtagMatch",
                 network.update_security_list, sl.id,
                 oci.core.models.UpdateSecurityListDetails(ingress_security_rules=[]),
                 if_match="stale-etag")
    call("UpdateSecurityList", network.update_security_list, sl.id,
         oci.core.models.UpdateSecurityListDetails(ingress_security_rules=[
             oci.core.models.IngressSecurityRule(source="10.0.0.0/8", protocol="17",
                                                 udp_options=oci.core.models.UdpOptions(
                                                     destination_port_range=oci.core.models.PortRange(min=40000, max=49999)))]),
         if_match=network.get_security_list(sl.id).headers["etag"],
         response_type="SecurityList", etag=True)

    subnet = call("CreateSubnet", network.create_subnet, oci.core.models.CreateSubnetDetails(
        compartment_id=comp, vcn_id=vcn.id, cidr_block="10.0.1.0/24", dns_label="nodes",
        route_table_id=rt.id, security_list_ids=[sl.id], freeform_tags=tags,
        prohibit_public_ip_on_vnic=False), response_type="Subnet", etag=True).data
    wait("GetSubnet", lambda: call("GetSubnet", network.get_subnet, subnet.id,
                                   response_type="Subnet", etag=True), "AVAILABLE")
    call("ListSubnets", network.list_subnets, comp, vcn_id=vcn.id,
         response_type="list[Subnet]")
    call("UpdateSubnet", network.update_subnet, subnet.id,
         oci.core.models.UpdateSubnetDetails(display_name="nodes-2"), response_type="Subnet",
         etag=True)

    # Remote peering: an RPC in each region, connected from the home one.
    drg2 = call("CreateDrg", network2.create_drg, oci.core.models.CreateDrgDetails(
        compartment_id=comp), response_type="Drg").data
    wait("GetDrg", lambda: network2.get_drg(drg2.id), "AVAILABLE")
    rpc = call("CreateRemotePeeringConnection", network.create_remote_peering_connection,
               oci.core.models.CreateRemotePeeringConnectionDetails(
                   compartment_id=comp, drg_id=drg.id, freeform_tags=tags),
               response_type="RemotePeeringConnection", etag=True).data
    rpc2 = call("CreateRemotePeeringConnection", network2.create_remote_peering_connection,
                oci.core.models.CreateRemotePeeringConnectionDetails(
                    compartment_id=comp, drg_id=drg2.id),
                response_type="RemotePeeringConnection").data
    wait("GetRemotePeeringConnection", lambda: call(
        "GetRemotePeeringConnection", network.get_remote_peering_connection, rpc.id,
        response_type="RemotePeeringConnection", etag=True), "AVAILABLE")
    wait("GetRemotePeeringConnection", lambda: network2.get_remote_peering_connection(rpc2.id),
         "AVAILABLE")
    call("ListRemotePeeringConnections", network.list_remote_peering_connections, comp,
         drg_id=drg.id, response_type="list[RemotePeeringConnection]")
    call("UpdateRemotePeeringConnection", network.update_remote_peering_connection, rpc.id,
         oci.core.models.UpdateRemotePeeringConnectionDetails(display_name="conf-rpc"),
         response_type="RemotePeeringConnection", etag=True)
    call("ConnectRemotePeeringConnections", network.connect_remote_peering_connections, rpc.id,
         oci.core.models.ConnectRemotePeeringConnectionsDetails(peer_id=rpc2.id,
                                                                peer_region_name=OTHER))
    wait("GetRemotePeeringConnection", lambda: call(
        "GetRemotePeeringConnection", network.get_remote_peering_connection, rpc.id,
        response_type="RemotePeeringConnection", etag=True), "PEERED", field="peering_status")

    ssh_key = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()

    # --- An instance, its VNIC, private and public IPs, console connection. ---
    launch = oci.core.models.LaunchInstanceDetails(
        compartment_id=comp, availability_domain=ad, shape="VM.Standard3.Flex",
        display_name="conf01", freeform_tags=tags,
        shape_config=oci.core.models.LaunchInstanceShapeConfigDetails(ocpus=4,
                                                                      memory_in_gbs=16),
        source_details=oci.core.models.InstanceSourceViaImageDetails(image_id=image.id),
        create_vnic_details=oci.core.models.CreateVnicDetails(
            subnet_id=subnet.id, assign_public_ip=False, private_ip="10.0.1.10"),
        metadata={"ssh_authorized_keys": ssh_key})
    inst = call("LaunchInstance", compute.launch_instance, launch,
                opc_retry_token="conformance-instance-1", response_type="Instance",
                etag=True).data
    again = call("LaunchInstance (same retry token)", compute.launch_instance, launch,
                 opc_retry_token="conformance-instance-1", response_type="Instance").data
    if again.id != inst.id:
        fail("LaunchInstance: the same retry token launched a second instance")
    wait("GetInstance", lambda: call("GetInstance", compute.get_instance, inst.id,
                                     response_type="Instance", etag=True), "RUNNING")
    call("ListInstances", compute.list_instances, comp, response_type="list[Instance]")
    call("UpdateInstance", compute.update_instance, inst.id,
         oci.core.models.UpdateInstanceDetails(
             shape_config=oci.core.models.UpdateInstanceShapeConfigDetails(ocpus=4,
                                                                           memory_in_gbs=24)),
         response_type="Instance", etag=True)
    atts = call("ListVnicAttachments", compute.list_vnic_attachments, comp,
                instance_id=inst.id, response_type="list[VnicAttachment]").data
    vnic_id = next(a.vnic_id for a in atts if a.lifecycle_state == "ATTACHED")
    call("GetVnic", network.get_vnic, vnic_id, response_type="Vnic", etag=True)
    by_subnet = call("ListPrivateIps", network.list_private_ips, subnet_id=subnet.id,
                     response_type="list[PrivateIp]").data
    by_vnic = call("ListPrivateIps", network.list_private_ips, vnic_id=vnic_id,
                   response_type="list[PrivateIp]").data
    if [p.id for p in by_vnic] != [p.id for p in by_subnet]:
        fail("ListPrivateIps: by VNIC and by subnet disagree")
    pip = call("GetPrivateIp", network.get_private_ip, by_vnic[0].id,
               response_type="PrivateIp", etag=True).data
    if pip.ip_address != "10.0.1.10":
        fail(f"GetPrivateIp: {pip.ip_address}")
    pub = call("CreatePublicIp", network.create_public_ip,
               oci.core.models.CreatePublicIpDetails(
                   compartment_id=comp, lifetime="RESERVED", private_ip_id=pip.id,
                   display_name="conf01", freeform_tags=tags),
               response_type="PublicIp", etag=True).data
    wait("GetPublicIp", lambda: call("GetPublicIp", network.get_public_ip, pub.id,
                                     response_type="PublicIp", etag=True), "ASSIGNED")
    call("ListPublicIps", network.list_public_ips, "REGION", comp, lifetime="RESERVED",
         response_type="list[PublicIp]")
    call("GetPublicIpByPrivateIpId", network.get_public_ip_by_private_ip_id,
         oci.core.models.GetPublicIpByPrivateIpIdDetails(private_ip_id=pip.id),
         response_type="PublicIp")
    call("UpdatePublicIp", network.update_public_ip, pub.id,
         oci.core.models.UpdatePublicIpDetails(display_name="conf01-ip"),
         response_type="PublicIp", etag=True)

    conn = call("CreateInstanceConsoleConnection", compute.create_instance_console_connection,
                oci.core.models.CreateInstanceConsoleConnectionDetails(
                    instance_id=inst.id,
                    public_key=ssh_key),
                response_type="InstanceConsoleConnection", etag=True).data
    wait("GetInstanceConsoleConnection", lambda: call(
        "GetInstanceConsoleConnection", compute.get_instance_console_connection, conn.id,
        response_type="InstanceConsoleConnection", etag=True), "ACTIVE")
    call("ListInstanceConsoleConnections", compute.list_instance_console_connections, comp,
         instance_id=inst.id, response_type="list[InstanceConsoleConnection]")
    call("DeleteInstanceConsoleConnection", compute.delete_instance_console_connection,
         conn.id)

    call("InstanceAction", compute.instance_action, inst.id, "SOFTSTOP",
         response_type="Instance", etag=True)
    wait("GetInstance", lambda: compute.get_instance(inst.id), "STOPPED")
    call("InstanceAction", compute.instance_action, inst.id, "START",
         response_type="Instance", etag=True)
    wait("GetInstance", lambda: compute.get_instance(inst.id), "RUNNING")

    # --- Deletes, dependents first. ---
    call("DeletePublicIp", network.delete_public_ip, pub.id)
    call("TerminateInstance", compute.terminate_instance, inst.id, work_request=True)
    wait("GetInstance", lambda: compute.get_instance(inst.id), "TERMINATED")
    call("RemoveImageShapeCompatibilityEntry", compute.remove_image_shape_compatibility_entry,
         image.id, "VM.Standard3.Flex")
    call("DeleteImage", compute.delete_image, image.id)
    call("DeleteRemotePeeringConnection", network.delete_remote_peering_connection, rpc.id)
    call("DeleteRemotePeeringConnection", network2.delete_remote_peering_connection, rpc2.id)
    wait("GetRemotePeeringConnection", lambda: network.get_remote_peering_connection(rpc.id),
         "TERMINATED")
    call("DeleteSubnet", network.delete_subnet, subnet.id)
    wait("GetSubnet", lambda: network.get_subnet(subnet.id), "TERMINATED")
    call("DeleteDrgAttachment", network.delete_drg_attachment, att.id)
    wait("GetDrgAttachment", lambda: network.get_drg_attachment(att.id), "DETACHED")
    call("DeleteDrg", network.delete_drg, drg.id)
    call("DeleteDrg", network2.delete_drg, drg2.id)
    call("DeleteSecurityList", network.delete_security_list, sl.id)
    call("DeleteRouteTable", network.delete_route_table, rt.id)
    wait("GetRouteTable", lambda: network.get_route_table(rt.id), "TERMINATED")
    call("DeleteInternetGateway", network.delete_internet_gateway, igw.id)
    wait("GetInternetGateway", lambda: network.get_internet_gateway(igw.id), "TERMINATED")
    wait("GetSecurityList", lambda: network.get_security_list(sl.id), "TERMINATED")
    call("DeleteVcn", network.delete_vcn, vcn.id)
    call("DeleteVcn", network.delete_vcn, vcn_b.id)
    for name, obj in (("conformance-a", "small.ova"), ("conformance-a", "big.ova")):
        call("DeleteObject", osc.delete_object, ns, name, obj)
    for name in ("conformance-a", "conformance-b"):
        call("DeleteBucket", osc.delete_bucket, ns, name)
    advance(3600)
    call("DeleteCompartment", identity.delete_compartment, c2.id, work_request=True)
    call("DeleteCompartment", identity.delete_compartment, comp, work_request=True)

    if failures:
        raise Failure(f"{len(failures)} failures")
    print(json.dumps({"checked": sorted(set(c.split(" (")[0] for c in checked))}))


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"FAIL {e}", flush=True)
        sys.exit(1)
    except ServiceError as e:
        print(f"FAIL unexpected {e.status} {e.code} from {e.operation_name}: {e.message}",
              flush=True)
        sys.exit(1)
