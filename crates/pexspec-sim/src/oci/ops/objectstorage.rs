//! Object Storage: namespace, buckets, objects with MD5 checks and conditional writes
//! (`if-match`, `if-none-match: *`), and multipart uploads.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use md5::{Digest as _, Md5};
use serde_json::{Value, json};

use super::{Call, Ctx, Os, limit, page};
use crate::oci::auth::TEST_USER_OCID;
use crate::oci::catalog;
use crate::oci::store::ObjectMeta;
use crate::oci::wire::{
    ApiError, Body, Reply, defined_tags, freeform_tags, http_date, json_body, opt_str, req_str,
    rfc3339, string_map,
};

/// The namespace of the simulated tenancy (made once per state directory).
pub(crate) fn namespace(ctx: &Ctx<'_>) -> Result<String, ApiError> {
    ctx.tx
        .meta("namespace")?
        .ok_or_else(|| ApiError::internal("The simulator has no Object Storage namespace"))
}

fn check_ns(ctx: &Ctx<'_>, ns: &str) -> Result<(), ApiError> {
    if namespace(ctx)? == ns {
        Ok(())
    } else {
        Err(ApiError::new(
            404,
            "NamespaceNotFound",
            format!(
                "You do not have authorization to perform this request, or the requested resource could not be found. Namespace {ns} not found."
            ),
        ))
    }
}

fn bucket_not_found(ns: &str, b: &str) -> ApiError {
    ApiError::new(
        404,
        "BucketNotFound",
        format!(
            "Either the bucket named '{b}' does not exist in the namespace '{ns}' or you are not authorized to access it"
        ),
    )
}

fn object_not_found(b: &str, o: &str) -> ApiError {
    ApiError::new(
        404,
        "ObjectNotFound",
        format!("The object '{o}' was not found in the bucket '{b}'"),
    )
}

fn upload_not_found(id: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchUpload",
        format!("The upload with id '{id}' was not found"),
    )
}

fn bucket(ctx: &Ctx<'_>, ns: &str, b: &str) -> Result<(Value, String), ApiError> {
    check_ns(ctx, ns)?;
    ctx.tx
        .bucket(ctx.region, ns, b)?
        .ok_or_else(|| bucket_not_found(ns, b))
}

fn base_url(call: &Call) -> String {
    format!("http://{}", call.header("host").unwrap_or("127.0.0.1"))
}

fn md5_b64(data: &[u8]) -> String {
    B64.encode(Md5::digest(data))
}

/// Checks `Content-MD5` against the body: 400 InvalidContentMD5 / UnmatchedContentMD5.
fn check_md5(call: &Call, computed: &str) -> Result<(), ApiError> {
    let Some(sent) = call.header("content-md5") else {
        return Ok(());
    };
    match B64.decode(sent.trim()) {
        Ok(raw) if raw.len() == 16 => {}
        _ => {
            return Err(ApiError::new(
                400,
                "InvalidContentMD5",
                format!("The Content-MD5 header '{sent}' is not a base64 MD5 digest"),
            ));
        }
    }
    if sent.trim() != computed {
        return Err(ApiError::new(
            400,
            "UnmatchedContentMD5",
            format!(
                "The computed MD5 of the request body ({computed}) does not match the Content-MD5 header ({sent})"
            ),
        ));
    }
    Ok(())
}

/// Applies `if-match` / `if-none-match: *` to the object's current etag.
fn check_conditions(
    if_match: Option<&str>,
    if_none_match: Option<&str>,
    current: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(m) = if_match
        && current != Some(m)
        && !(m == "*" && current.is_some())
    {
        return Err(ApiError::new(
            412,
            "IfMatchFailed",
            format!("The If-Match header ('{m}') does not match the current entity tag"),
        ));
    }
    match if_none_match {
        None => Ok(()),
        Some("*") if current.is_some() => Err(ApiError::new(
            412,
            "IfNoneMatchFailed",
            "The If-None-Match header is '*' but there is an existing entity",
        )),
        Some("*") => Ok(()),
        Some(v) => Err(ApiError::new(
            400,
            "InvalidConditionalHeaders",
            format!("The If-None-Match header only accepts '*', not '{v}'"),
        )),
    }
}

/// The headers of HeadObject and GetObject. An object put in one request carries
/// `Content-MD5`; a multipart one carries `opc-multipart-md5` instead ("Content-MD5 ...
/// Unavailable for objects uploaded using multipart upload": the SDKs' HeadObjectResponse /
/// GetObjectResponse, e.g.
/// <https://docs.oracle.com/en-us/iaas/tools/typescript/1.19.4/interfaces/_objectstorage_lib_response_head_object_response_.headobjectresponse.html>,
/// <https://docs.oracle.com/en-us/iaas/tools/dotnet/latest/api/Oci.ObjectstorageService.Responses.GetObjectResponse.html>).
/// `opc-content-md5` belongs to the answers of PutObject and UploadPart only.
fn object_headers(mut reply: Reply, m: &ObjectMeta) -> Reply {
    reply = reply
        .header("etag", m.etag.clone())
        .header("last-modified", http_date(m.modified_ms));
    if let Some(md5) = &m.md5 {
        reply = reply.header("content-md5", md5.clone());
    }
    if let Some(mp) = &m.multipart_md5 {
        reply = reply.header("opc-multipart-md5", mp.clone());
    }
    if let Some(meta) = m.metadata.as_object() {
        for (k, v) in meta {
            if let Some(v) = v.as_str() {
                reply = reply.header(k, v);
            }
        }
    }
    reply
        .header("storage-tier", "Standard")
        .header("accept-ranges", "bytes")
}

/// The `opc-meta-*` headers of a request, as stored metadata.
fn meta_headers(call: &Call) -> Value {
    let mut m = serde_json::Map::new();
    for (k, v) in &call.headers {
        if k.as_str().starts_with("opc-meta-")
            && let Ok(v) = v.to_str()
        {
            m.insert(k.as_str().to_string(), v.into());
        }
    }
    Value::Object(m)
}

pub(crate) fn dispatch(ctx: &Ctx<'_>, route: &Os, call: &Call) -> Result<Reply, ApiError> {
    let mut reply = match route {
        Os::GetNamespace => Ok(Reply::json(200, Value::String(namespace(ctx)?))),
        Os::GetNamespaceMetadata(ns) => {
            check_ns(ctx, ns)?;
            Ok(Reply::json(
                200,
                json!({"namespace": ns, "defaultS3CompartmentId": crate::oci::auth::TEST_TENANCY_OCID,
                       "defaultSwiftCompartmentId": crate::oci::auth::TEST_TENANCY_OCID}),
            ))
        }
        Os::CreateBucket(ns) => create_bucket(ctx, ns, call),
        Os::ListBuckets(ns) => list_buckets(ctx, ns, call),
        Os::GetBucket(ns, b) | Os::HeadBucket(ns, b) => {
            let (doc, etag) = bucket(ctx, ns, b)?;
            if let Some(m) = call.header("if-match")
                && m != etag
            {
                return Err(ApiError::new(
                    412,
                    "IfMatchFailed",
                    "The If-Match header does not match the bucket's entity tag",
                ));
            }
            if matches!(route, Os::HeadBucket(..)) {
                Ok(Reply::empty(200).header("etag", etag))
            } else {
                let mut doc = doc;
                let count = ctx.tx.object_count(ctx.region, ns, b)?;
                doc["approximateCount"] = count.into();
                Ok(Reply::json(200, doc).header("etag", etag))
            }
        }
        Os::DeleteBucket(ns, b) => {
            let (_, etag) = bucket(ctx, ns, b)?;
            if let Some(m) = call.header("if-match")
                && m != etag
            {
                return Err(ApiError::new(
                    412,
                    "IfMatchFailed",
                    "The If-Match header does not match the bucket's entity tag",
                ));
            }
            if ctx.tx.object_count(ctx.region, ns, b)? > 0
                || !ctx.tx.uploads(ctx.region, ns, b)?.is_empty()
            {
                return Err(ApiError::new(
                    409,
                    "BucketNotEmpty",
                    format!(
                        "Bucket named '{b}' is not empty. Delete all objects and multipart uploads first."
                    ),
                ));
            }
            ctx.tx.delete_bucket(ctx.region, ns, b)?;
            Ok(Reply::empty(204))
        }
        Os::ListObjects(ns, b) => list_objects(ctx, ns, b, call),
        Os::PutObject(ns, b, o) => put_object(ctx, ns, b, o, call),
        Os::GetObject(ns, b, o) | Os::HeadObject(ns, b, o) => {
            get_object(ctx, ns, b, o, call, matches!(route, Os::HeadObject(..)))
        }
        Os::DeleteObject(ns, b, o) => {
            bucket(ctx, ns, b)?;
            let m = ctx
                .tx
                .object_meta(ctx.region, ns, b, o)?
                .ok_or_else(|| object_not_found(b, o))?;
            check_conditions(call.header("if-match"), None, Some(&m.etag))?;
            ctx.tx.delete_object(ctx.region, ns, b, o)?;
            Ok(Reply::empty(204).header("last-modified", http_date(ctx.now)))
        }
        Os::CreateMultipartUpload(ns, b) => create_upload(ctx, ns, b, call),
        Os::ListMultipartUploads(ns, b) => {
            bucket(ctx, ns, b)?;
            // Only the fields of the SDK's MultipartUpload model (oci-python-sdk
            // src/oci/object_storage/models/multipart_upload.py): namespace, bucket, object,
            // uploadId, timeCreated, storageTier. What the simulator keeps beside them (the
            // content type, metadata and conditions the commit applies) is not on the wire.
            let uploads = ctx
                .tx
                .uploads(ctx.region, ns, b)?
                .into_iter()
                .map(public_upload)
                .collect();
            page(call, uploads)
        }
        Os::UploadPart(ns, b, o) => upload_part(ctx, ns, b, o, call),
        Os::ListMultipartUploadParts(ns, b, o) => {
            let id = upload_of(ctx, ns, b, o, call)?.0;
            let parts: Vec<Value> = ctx
                .tx
                .parts(&id)?
                .into_iter()
                .map(|(n, size, md5, etag)| json!({"partNumber": n, "etag": etag, "md5": md5, "size": size}))
                .collect();
            page(call, parts)
        }
        Os::CommitMultipartUpload(ns, b, o) => commit_upload(ctx, ns, b, o, call),
        Os::AbortMultipartUpload(ns, b, o) => {
            let id = upload_of(ctx, ns, b, o, call)?.0;
            ctx.tx.delete_upload(&id)?;
            Ok(Reply::empty(204))
        }
    }?;
    if let Some(c) = call.header("opc-client-request-id") {
        reply = reply.header("opc-client-request-id", c);
    }
    Ok(reply)
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 256
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn create_bucket(ctx: &Ctx<'_>, ns: &str, call: &Call) -> Result<Reply, ApiError> {
    check_ns(ctx, ns)?;
    let body = json_body(&call.body)?;
    let name = req_str(&body, "name")?;
    let compartment = req_str(&body, "compartmentId")?;
    if !valid_name(&name) {
        return Err(ApiError::new(
            400,
            "InvalidBucketName",
            format!("The bucket name '{name}' is not valid: use letters, digits, '-', '_' and '.'"),
        ));
    }
    ctx.check_compartment(&compartment)?;
    if ctx.tx.bucket(ctx.region, ns, &name)?.is_some() {
        return Err(ApiError::new(
            409,
            "BucketAlreadyExists",
            format!(
                "Either the bucket '{name}' in namespace '{ns}' already exists or you are not authorized to create it"
            ),
        ));
    }
    let etag = catalog::uuid();
    let doc = json!({
        "namespace": ns,
        "name": name,
        "compartmentId": compartment,
        "metadata": string_map(&body, "metadata")?,
        "createdBy": TEST_USER_OCID,
        "timeCreated": rfc3339(ctx.now),
        "etag": etag,
        "publicAccessType": opt_str(&body, "publicAccessType")?.unwrap_or_else(|| "NoPublicAccess".into()),
        "storageTier": opt_str(&body, "storageTier")?.unwrap_or_else(|| "Standard".into()),
        "objectEventsEnabled": false,
        "freeformTags": freeform_tags(&body)?,
        "definedTags": defined_tags(&body)?,
        "kmsKeyId": null,
        "versioning": "Disabled",
        "autoTiering": "Disabled",
        "replicationEnabled": false,
        "isReadOnly": false,
        "id": catalog::ocid("bucket", ctx.region),
    });
    ctx.tx
        .insert_bucket(ctx.region, ns, &name, &compartment, &doc, &etag, ctx.now)?;
    Ok(Reply::json(200, doc)
        .header("etag", etag)
        .header("location", format!("{}/n/{ns}/b/{name}", base_url(call))))
}

fn list_buckets(ctx: &Ctx<'_>, ns: &str, call: &Call) -> Result<Reply, ApiError> {
    check_ns(ctx, ns)?;
    let c = call.req_q("compartmentId")?;
    let lim = limit(call)?;
    let start = call.q("page").unwrap_or("");
    let all: Vec<Value> = ctx
        .tx
        .buckets(ctx.region, ns)?
        .into_iter()
        .filter(|b| b["compartmentId"] == c && b["name"].as_str().unwrap_or("") >= start)
        .map(|b| {
            json!({"namespace": b["namespace"], "name": b["name"], "compartmentId": b["compartmentId"],
                   "createdBy": b["createdBy"], "timeCreated": b["timeCreated"], "etag": b["etag"],
                   "freeformTags": b["freeformTags"], "definedTags": b["definedTags"]})
        })
        .collect();
    let next = all
        .get(lim)
        .and_then(|b| b["name"].as_str())
        .map(str::to_string);
    let mut reply = Reply::json(200, Value::Array(all.into_iter().take(lim).collect()));
    if let Some(n) = next {
        reply = reply.header("opc-next-page", n);
    }
    Ok(reply)
}

fn list_objects(ctx: &Ctx<'_>, ns: &str, b: &str, call: &Call) -> Result<Reply, ApiError> {
    bucket(ctx, ns, b)?;
    let prefix = call.q("prefix").unwrap_or("");
    let start = call.q("start").unwrap_or("");
    let end = call.q("end");
    let delimiter = call.q("delimiter").filter(|d| !d.is_empty());
    let lim = match call.q("limit") {
        None => 1000,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| ApiError::new(400, "InvalidLimit", format!("Invalid limit: {l}")))?,
    };
    let fields: Vec<&str> = call
        .q("fields")
        .map(|f| f.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let mut objects = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut next = None;
    for m in ctx.tx.objects(ctx.region, ns, b, prefix)? {
        if m.name.as_str() < start || end.is_some_and(|e| m.name.as_str() >= e) {
            continue;
        }
        if let Some(d) = delimiter
            && let Some(pos) = m.name[prefix.len()..].find(d)
        {
            let p = m.name[..prefix.len() + pos + d.len()].to_string();
            if !prefixes.contains(&p) {
                prefixes.push(p);
            }
            continue;
        }
        if objects.len() == lim {
            next = Some(m.name.clone());
            break;
        }
        let mut o = json!({"name": m.name});
        for f in &fields {
            match *f {
                "size" => o["size"] = m.size.into(),
                "etag" => o["etag"] = m.etag.clone().into(),
                "md5" => {
                    o["md5"] = m
                        .md5
                        .clone()
                        .or(m.multipart_md5.clone())
                        .map_or(Value::Null, Value::from)
                }
                "timeCreated" => o["timeCreated"] = rfc3339(m.created_ms).into(),
                "timeModified" => o["timeModified"] = rfc3339(m.modified_ms).into(),
                "storageTier" => o["storageTier"] = "Standard".into(),
                _ => {}
            }
        }
        objects.push(o);
    }
    let mut body = json!({"objects": objects});
    if delimiter.is_some() {
        body["prefixes"] = prefixes.into();
    }
    if let Some(n) = next {
        body["nextStartWith"] = n.into();
    }
    Ok(Reply::json(200, body))
}

fn put_object(ctx: &Ctx<'_>, ns: &str, b: &str, o: &str, call: &Call) -> Result<Reply, ApiError> {
    bucket(ctx, ns, b)?;
    let md5 = md5_b64(&call.body);
    check_md5(call, &md5)?;
    let current = ctx.tx.object_meta(ctx.region, ns, b, o)?;
    check_conditions(
        call.header("if-match"),
        call.header("if-none-match"),
        current.as_ref().map(|m| m.etag.as_str()),
    )?;
    let m = ObjectMeta {
        name: o.to_string(),
        size: call.body.len() as i64,
        md5: Some(md5.clone()),
        multipart_md5: None,
        etag: catalog::uuid(),
        content_type: call
            .header("content-type")
            .unwrap_or("application/octet-stream")
            .to_string(),
        metadata: meta_headers(call),
        created_ms: current.as_ref().map_or(ctx.now, |c| c.created_ms),
        modified_ms: ctx.now,
    };
    let file = ctx.tx.write_blob(&call.body)?;
    ctx.tx.put_object(ctx.region, ns, b, &m, &[file])?;
    Ok(Reply::empty(200)
        .header("etag", m.etag)
        .header("opc-content-md5", md5)
        .header("last-modified", http_date(ctx.now))
        .header("version-id", catalog::uuid()))
}

fn get_object(
    ctx: &Ctx<'_>,
    ns: &str,
    b: &str,
    o: &str,
    call: &Call,
    head: bool,
) -> Result<Reply, ApiError> {
    bucket(ctx, ns, b)?;
    let m = ctx
        .tx
        .object_meta(ctx.region, ns, b, o)?
        .ok_or_else(|| object_not_found(b, o))?;
    check_conditions(call.header("if-match"), None, Some(&m.etag))?;
    if call.header("if-none-match") == Some(m.etag.as_str()) {
        return Ok(Reply::empty(304).header("etag", m.etag.clone()));
    }
    let total = m.size as usize;
    let range = call.header("range").and_then(|r| parse_range(r, total));
    let data = if head {
        Vec::new()
    } else {
        ctx.tx
            .object_data(ctx.region, ns, b, o, range)?
            .unwrap_or_default()
    };
    let mut reply = match (&range, head) {
        (Some((a, z)), false) => Reply {
            status: 206,
            headers: Vec::new(),
            body: Body::Bytes {
                data,
                content_type: m.content_type.clone(),
            },
            ocid: None,
        }
        .header("content-range", format!("bytes {a}-{z}/{total}")),
        _ => Reply {
            status: 200,
            headers: Vec::new(),
            body: Body::Bytes {
                data,
                content_type: m.content_type.clone(),
            },
            ocid: None,
        },
    };
    if head {
        reply = reply.header("content-length", total.to_string());
    }
    Ok(object_headers(reply, &m))
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` within `total`.
fn parse_range(r: &str, total: usize) -> Option<(usize, usize)> {
    let spec = r.trim().strip_prefix("bytes=")?;
    let (a, z) = spec.split_once('-')?;
    if total == 0 {
        return None;
    }
    let (a, z) = match (a.trim(), z.trim()) {
        ("", n) => {
            let n: usize = n.parse().ok()?;
            (total.saturating_sub(n), total - 1)
        }
        (a, "") => (a.parse().ok()?, total - 1),
        (a, z) => (a.parse().ok()?, z.parse::<usize>().ok()?.min(total - 1)),
    };
    (a <= z && z < total).then_some((a, z))
}

fn create_upload(ctx: &Ctx<'_>, ns: &str, b: &str, call: &Call) -> Result<Reply, ApiError> {
    bucket(ctx, ns, b)?;
    let body = json_body(&call.body)?;
    let object = req_str(&body, "object")?;
    let current = ctx.tx.object_meta(ctx.region, ns, b, &object)?;
    check_conditions(
        call.header("if-match"),
        call.header("if-none-match"),
        current.as_ref().map(|m| m.etag.as_str()),
    )?;
    let id = catalog::uuid();
    let doc = json!({
        "namespace": ns,
        "bucket": b,
        "object": object,
        "uploadId": id,
        "timeCreated": rfc3339(ctx.now),
        "storageTier": opt_str(&body, "storageTier")?.unwrap_or_else(|| "Standard".into()),
    });
    let mut stored = doc.clone();
    stored["_contentType"] = opt_str(&body, "contentType")?
        .unwrap_or_else(|| "application/octet-stream".into())
        .into();
    stored["_metadata"] = string_map(&body, "metadata")?;
    stored["_ifMatch"] = call.header("if-match").map_or(Value::Null, Value::from);
    stored["_ifNoneMatch"] = call
        .header("if-none-match")
        .map_or(Value::Null, Value::from);
    ctx.tx
        .insert_upload(&id, ctx.region, ns, b, &object, &stored, ctx.now)?;
    Ok(Reply::json(200, doc).header(
        "location",
        format!("{}/n/{ns}/b/{b}/u/{object}?uploadId={id}", base_url(call)),
    ))
}

/// A stored upload document without the simulator's own `_`-prefixed keys.
fn public_upload(mut doc: Value) -> Value {
    if let Some(o) = doc.as_object_mut() {
        o.retain(|k, _| !k.starts_with('_'));
    }
    doc
}

/// The upload named by `?uploadId=` for this bucket and object: (id, stored document).
fn upload_of(
    ctx: &Ctx<'_>,
    ns: &str,
    b: &str,
    o: &str,
    call: &Call,
) -> Result<(String, Value), ApiError> {
    bucket(ctx, ns, b)?;
    let id = call.req_q("uploadId")?.to_string();
    match ctx.tx.upload(&id)? {
        Some((region, uns, ub, uo, doc))
            if region == ctx.region && uns == ns && ub == b && uo == o =>
        {
            Ok((id, doc))
        }
        _ => Err(upload_not_found(&id)),
    }
}

fn upload_part(ctx: &Ctx<'_>, ns: &str, b: &str, o: &str, call: &Call) -> Result<Reply, ApiError> {
    let (id, _) = upload_of(ctx, ns, b, o, call)?;
    let num_s = call.req_q("uploadPartNum")?;
    let num = num_s
        .parse::<i64>()
        .ok()
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| {
            ApiError::new(
                400,
                "InvalidUploadPartNumber",
                format!("Invalid uploadPartNum: {num_s}; it must be from 1 to 10000"),
            )
        })?;
    let md5 = md5_b64(&call.body);
    check_md5(call, &md5)?;
    let etag = catalog::uuid();
    let file = ctx.tx.write_blob(&call.body)?;
    ctx.tx.put_part(&id, num, &file, &md5, &etag, ctx.now)?;
    Ok(Reply::empty(200)
        .header("etag", etag)
        .header("opc-content-md5", md5))
}

fn commit_upload(
    ctx: &Ctx<'_>,
    ns: &str,
    b: &str,
    o: &str,
    call: &Call,
) -> Result<Reply, ApiError> {
    let (id, doc) = upload_of(ctx, ns, b, o, call)?;
    let body = json_body(&call.body)?;
    let commit = body
        .get("partsToCommit")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::missing("partsToCommit"))?;
    let exclude: Vec<i64> = body
        .get("partsToExclude")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    if commit.is_empty() {
        return Err(ApiError::new(
            400,
            "InvalidUploadPart",
            "partsToCommit may not be empty",
        ));
    }
    let stored = ctx.tx.parts(&id)?;
    let mut wanted: Vec<(i64, String)> = Vec::new();
    for p in commit {
        let num = p
            .get("partNum")
            .and_then(Value::as_i64)
            .ok_or_else(|| ApiError::missing("partsToCommit[].partNum"))?;
        let etag = p
            .get("etag")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::missing("partsToCommit[].etag"))?;
        match stored.iter().find(|s| s.0 == num) {
            Some(s) if s.3 == etag => wanted.push((num, s.2.clone())),
            Some(_) => {
                return Err(ApiError::new(
                    400,
                    "InvalidUploadPart",
                    format!("The etag of part {num} does not match the uploaded part"),
                ));
            }
            None => {
                return Err(ApiError::new(
                    400,
                    "InvalidUploadPart",
                    format!("Part {num} was not uploaded"),
                ));
            }
        }
    }
    for s in &stored {
        if !wanted.iter().any(|w| w.0 == s.0) && !exclude.contains(&s.0) {
            return Err(ApiError::new(
                400,
                "InvalidUploadPart",
                format!(
                    "Part {} was uploaded but is neither in partsToCommit nor in partsToExclude",
                    s.0
                ),
            ));
        }
    }
    wanted.sort_by_key(|w| w.0);
    wanted.dedup_by_key(|w| w.0);
    let current = ctx.tx.object_meta(ctx.region, ns, b, o)?;
    let cur_etag = current.as_ref().map(|m| m.etag.as_str());
    check_conditions(
        doc["_ifMatch"].as_str(),
        doc["_ifNoneMatch"].as_str(),
        cur_etag,
    )?;
    check_conditions(
        call.header("if-match"),
        call.header("if-none-match"),
        cur_etag,
    )?;
    let mut md5s = Vec::new();
    for (_, md5) in &wanted {
        md5s.extend(B64.decode(md5).unwrap_or_default());
    }
    let multipart_md5 = format!("{}-{}", B64.encode(Md5::digest(&md5s)), wanted.len());
    // The committed parts' files become the object's segments; the excluded ones go with the
    // upload.
    let nums: Vec<i64> = wanted.iter().map(|w| w.0).collect();
    let segments = ctx.tx.take_parts(&id, &nums)?;
    let m = ObjectMeta {
        name: o.to_string(),
        size: segments.iter().map(|s| s.1).sum(),
        md5: None,
        multipart_md5: Some(multipart_md5.clone()),
        etag: catalog::uuid(),
        content_type: doc["_contentType"]
            .as_str()
            .unwrap_or("application/octet-stream")
            .to_string(),
        metadata: doc["_metadata"].clone(),
        created_ms: current.as_ref().map_or(ctx.now, |c| c.created_ms),
        modified_ms: ctx.now,
    };
    ctx.tx.put_object(ctx.region, ns, b, &m, &segments)?;
    ctx.tx.delete_upload(&id)?;
    Ok(Reply::empty(200)
        .header("etag", m.etag)
        .header("opc-multipart-md5", multipart_md5)
        .header("last-modified", http_date(ctx.now)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-3", 10), Some((0, 3)));
        assert_eq!(parse_range("bytes=5-", 10), Some((5, 9)));
        assert_eq!(parse_range("bytes=-4", 10), Some((6, 9)));
        assert_eq!(parse_range("bytes=9-100", 10), Some((9, 9)));
        assert_eq!(parse_range("bytes=11-12", 10), None);
        assert_eq!(parse_range("items=1-2", 10), None);
    }

    #[test]
    fn conditions() {
        assert!(check_conditions(None, Some("*"), None).is_ok());
        assert_eq!(
            check_conditions(None, Some("*"), Some("e"))
                .unwrap_err()
                .code,
            "IfNoneMatchFailed"
        );
        assert_eq!(
            check_conditions(Some("x"), None, Some("e"))
                .unwrap_err()
                .code,
            "IfMatchFailed"
        );
        assert_eq!(
            check_conditions(Some("x"), None, None).unwrap_err().code,
            "IfMatchFailed"
        );
        assert!(check_conditions(Some("e"), None, Some("e")).is_ok());
    }
}
