//! Custom images: import from Object Storage through a work request (about 22 nominal
//! minutes), deletion, and image/shape compatibility entries.

use serde_json::{Value, json};

use super::{
    Call, Ctx, Kind, at, check_if_match, default_name, is_going, new_work_request, nominal, page,
    reply_res,
};
use crate::oci::catalog;
use crate::oci::store::Res;
use crate::oci::wire::{
    ApiError, Reply, defined_tags, freeform_tags, json_body, opt_obj, opt_str, percent_decode,
    req_str, rfc3339,
};

/// Whether an image may be launched on a shape: an added entry, or one of the shapes custom
/// images get by default (not VM.Optimized3.Flex, E5 or Arm, which must be added).
pub(crate) fn compatible(image: &Res, shape: &str) -> bool {
    if image.internal["shapes"].get(shape).is_some() {
        return true;
    }
    let removed = image.internal["removedDefaults"]
        .as_array()
        .is_some_and(|a| a.iter().any(|s| s == shape));
    !removed && catalog::shape(shape).is_some_and(|s| s.custom_image_default)
}

/// The region named by an Object Storage URL's host: `objectstorage.REGION.oraclecloud.com`,
/// or one of the simulator's own listeners.
fn url_region(ctx: &Ctx<'_>, url: &str) -> Option<String> {
    let host = url.split_once("://")?.1.split('/').next()?;
    if let Some(region) = ctx.hosts.read().ok()?.get(host) {
        return Some(region.clone());
    }
    let rest = host.strip_prefix("objectstorage.")?;
    rest.split_once('.').map(|(region, _)| region.to_owned())
}

/// (namespace, bucket, object) of an Object Storage URL such as a pre-authenticated request.
fn parse_object_url(url: &str) -> Option<(String, String, String)> {
    let path = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p));
    let segs: Vec<&str> = path.split('/').collect();
    let i = segs.iter().position(|s| *s == "n")?;
    match &segs[i..] {
        ["n", ns, "b", b, "o", rest @ ..] if !rest.is_empty() => Some((
            percent_decode(ns, false),
            percent_decode(b, false),
            percent_decode(&rest.join("/"), false),
        )),
        _ => None,
    }
}

pub(crate) fn create_image(ctx: &Ctx<'_>, call: &Call) -> Result<Reply, ApiError> {
    let b = json_body(&call.body)?;
    let compartment = req_str(&b, "compartmentId")?;
    if opt_str(&b, "instanceId")?.is_some() {
        return Err(ApiError::invalid(
            "Creating an image from an instance is not simulated; import from Object Storage",
        ));
    }
    let src = opt_obj(&b, "imageSourceDetails")?
        .ok_or_else(|| ApiError::missing("imageSourceDetails"))?;
    let src = Value::Object(src.clone());
    let source_type = req_str(&src, "sourceType")?;
    // A URI may name another region's bucket (the guide imports every region's images from
    // the home region's bucket); a tuple names one in the image's own region.
    let mut object_region = ctx.region.to_owned();
    let (ns, bucket, object) = match source_type.as_str() {
        "objectStorageTuple" => (
            req_str(&src, "namespaceName")?,
            req_str(&src, "bucketName")?,
            req_str(&src, "objectName")?,
        ),
        "objectStorageUri" => {
            let uri = req_str(&src, "sourceUri")?;
            if let Some(region) = url_region(ctx, &uri) {
                object_region = region;
            }
            parse_object_url(&uri)
                .ok_or_else(|| ApiError::invalid(format!("Invalid sourceUri: {uri}")))?
        }
        other => {
            return Err(ApiError::invalid(format!(
                "Invalid imageSourceDetails.sourceType: {other}"
            )));
        }
    };
    let image_type = opt_str(&src, "sourceImageType")?.unwrap_or_else(|| "QCOW2".into());
    if image_type != "QCOW2" && image_type != "VMDK" {
        return Err(ApiError::invalid(format!(
            "Invalid sourceImageType: {image_type}"
        )));
    }
    let launch_mode = opt_str(&b, "launchMode")?.unwrap_or_else(|| "PARAVIRTUALIZED".into());
    if !matches!(
        launch_mode.as_str(),
        "NATIVE" | "EMULATED" | "PARAVIRTUALIZED" | "CUSTOM"
    ) {
        return Err(ApiError::invalid(format!(
            "Invalid launchMode: {launch_mode}"
        )));
    }
    ctx.check_compartment(&compartment)?;
    let size = ctx
        .tx
        .object_meta(&object_region, &ns, &bucket, &object)?
        .map(|m| m.size);
    let id = ctx.new_ocid(Kind::Image);
    let provisioned = ctx.after(nominal::IMAGE_PROVISION);
    let done = ctx.after(nominal::IMAGE_IMPORT).max(provisioned + 1);
    let size_mb = size.map_or(0, |s| (s + (1 << 20) - 1) >> 20);
    let doc = json!({
        "id": id,
        "compartmentId": compartment,
        "displayName": opt_str(&b, "displayName")?.unwrap_or_else(|| default_name("image", ctx.now)),
        "createImageAllowed": true,
        "launchMode": launch_mode,
        "launchOptions": {
            "bootVolumeType": launch_mode, "firmware": "BIOS", "networkType": "PARAVIRTUALIZED",
            "remoteDataVolumeType": launch_mode, "isPvEncryptionInTransitEnabled": false,
            "isConsistentVolumeNamingEnabled": false
        },
        "operatingSystem": opt_str(&src, "operatingSystem")?.unwrap_or_else(|| "Custom".into()),
        "operatingSystemVersion": opt_str(&src, "operatingSystemVersion")?.unwrap_or_else(|| "Custom".into()),
        "baseImageId": null,
        "listingType": "NONE",
        "sizeInMBs": size_mb,
        "billableSizeInGBs": ((size_mb + 1023) / 1024).max(1),
        "freeformTags": freeform_tags(&b)?,
        "definedTags": defined_tags(&b)?,
        "lifecycleState": "PROVISIONING",
        "timeCreated": rfc3339(ctx.now),
    });
    let failure = size.is_none().then(|| {
        format!("The object {object} was not found in bucket {bucket} of namespace {ns}; the image import failed.")
    });
    let final_state = if failure.is_some() {
        "DELETED"
    } else {
        "AVAILABLE"
    };
    let ts = vec![
        at(provisioned, json!({"lifecycleState": "IMPORTING"})),
        at(done, json!({"lifecycleState": final_state})),
    ];
    let internal = json!({"shapes": {}, "removedDefaults": [], "source": {"namespace": ns, "bucket": bucket, "object": object}});
    ctx.insert(Kind::Image, &id, &compartment, doc, ts, internal)?;
    if failure.is_some() {
        let mut r = ctx.must_get(Kind::Image, &id)?;
        r.purge_ms = Some(ctx.purge_after(done));
        ctx.tx.save(&mut r)?;
    }
    let wr = new_work_request(
        ctx,
        "CreateImage",
        &compartment,
        vec![("CREATED", "image", &id)],
        ctx.now,
        done,
        failure.as_deref().map(|m| ("ImageImportFailed", m)),
    )?;
    let r = ctx.must_get(Kind::Image, &id)?;
    Ok(reply_res(200, &r, ctx.now).header("opc-work-request-id", wr))
}

pub(crate) fn delete_image(ctx: &Ctx<'_>, id: &str, call: &Call) -> Result<Reply, ApiError> {
    let mut r = ctx.must_get(Kind::Image, id)?;
    check_if_match(call, &r.etag)?;
    if r.state() == "DELETED" || r.final_state() == "DELETED" {
        return Ok(Reply::empty(204));
    }
    if matches!(r.state(), "PROVISIONING" | "IMPORTING") {
        return Err(ApiError::incorrect_state(format!(
            "The image {id} is {}; wait until the import ends.",
            r.state()
        )));
    }
    r.doc["lifecycleState"] = "DELETED".into();
    r.pending.clear();
    r.purge_ms = Some(ctx.purge_after(ctx.now));
    ctx.tx.save(&mut r)?;
    Ok(Reply::empty(204))
}

fn entry(image: &Res, shape: &str) -> Value {
    let mut e = json!({"imageId": image.ocid, "shape": shape});
    if let Some(c) = image.internal["shapes"].get(shape) {
        for k in ["memoryConstraints", "ocpuConstraints"] {
            if let Some(v) = c.get(k).filter(|v| !v.is_null()) {
                e[k] = v.clone();
            }
        }
    }
    e
}

pub(crate) fn list_shapes(ctx: &Ctx<'_>, id: &str, call: &Call) -> Result<Reply, ApiError> {
    let image = ctx.must_get(Kind::Image, id)?;
    let v: Vec<Value> = catalog::SHAPES
        .iter()
        .filter(|s| compatible(&image, s.name))
        .map(|s| entry(&image, s.name))
        .collect();
    page(call, v)
}

pub(crate) fn get_shape(ctx: &Ctx<'_>, id: &str, shape: &str) -> Result<Reply, ApiError> {
    let image = ctx.must_get(Kind::Image, id)?;
    if !compatible(&image, shape) {
        return Err(ApiError::not_found());
    }
    Ok(Reply::json(200, entry(&image, shape)))
}

fn constraints(b: &Value, key: &str, min_key: &str, max_key: &str) -> Result<Value, ApiError> {
    match b.get(key) {
        None | Some(Value::Null) => Ok(Value::Null),
        Some(Value::Object(m)) => {
            let mut out = serde_json::Map::new();
            for k in [min_key, max_key] {
                match m.get(k) {
                    None | Some(Value::Null) => {}
                    Some(v) if v.as_i64().is_some_and(|n| n >= 1) => {
                        out.insert(k.to_string(), v.clone());
                    }
                    Some(_) => {
                        return Err(ApiError::invalid(format!(
                            "{key}.{k} must be a positive integer"
                        )));
                    }
                }
            }
            if let (Some(a), Some(z)) = (
                out.get(min_key).and_then(Value::as_i64),
                out.get(max_key).and_then(Value::as_i64),
            ) && a > z
            {
                return Err(ApiError::invalid(format!(
                    "{key}.{min_key} is larger than {key}.{max_key}"
                )));
            }
            Ok(Value::Object(out))
        }
        Some(_) => Err(ApiError::invalid(format!("{key} must be an object"))),
    }
}

pub(crate) fn add_shape(
    ctx: &Ctx<'_>,
    id: &str,
    shape: &str,
    call: &Call,
) -> Result<Reply, ApiError> {
    let mut image = ctx.must_get(Kind::Image, id)?;
    if is_going(&image) || image.state() == "DELETED" {
        return Err(ApiError::incorrect_state(format!(
            "The image {id} is {}.",
            image.state()
        )));
    }
    if catalog::shape(shape).is_none() {
        return Err(ApiError::invalid(format!("Invalid shape: {shape}")));
    }
    let b = json_body(&call.body)?;
    let mem = constraints(&b, "memoryConstraints", "minInGBs", "maxInGBs")?;
    let ocpu = constraints(&b, "ocpuConstraints", "min", "max")?;
    image.internal["shapes"][shape] = json!({"memoryConstraints": mem, "ocpuConstraints": ocpu});
    if let Some(a) = image.internal["removedDefaults"].as_array_mut() {
        a.retain(|s| s != shape);
    }
    ctx.tx.save(&mut image)?;
    Ok(Reply::json(200, entry(&image, shape)))
}

pub(crate) fn remove_shape(ctx: &Ctx<'_>, id: &str, shape: &str) -> Result<Reply, ApiError> {
    let mut image = ctx.must_get(Kind::Image, id)?;
    if !compatible(&image, shape) {
        return Err(ApiError::not_found());
    }
    if let Some(m) = image.internal["shapes"].as_object_mut() {
        m.remove(shape);
    }
    if catalog::shape(shape).is_some_and(|s| s.custom_image_default)
        && let Some(a) = image.internal["removedDefaults"].as_array_mut()
    {
        a.push(shape.into());
    }
    ctx.tx.save(&mut image)?;
    Ok(Reply::empty(204))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_object_urls() {
        let p = parse_object_url(
            "https://objectstorage.eu-frankfurt-1.oraclecloud.com/p/TOKEN/n/ns1/b/images/o/dir%2Fpexip.vmdk",
        );
        assert_eq!(
            p,
            Some(("ns1".into(), "images".into(), "dir/pexip.vmdk".into()))
        );
        assert_eq!(parse_object_url("https://example.com/nothing"), None);
    }
}
