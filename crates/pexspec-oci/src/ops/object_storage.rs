//! Object Storage operations: namespace, buckets, objects (with conditional writes for a lock
//! object), and multipart uploads. PutObject and UploadPart sign only `date (request-target)
//! host` and carry `Content-MD5`.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use md5::{Digest as _, Md5};
use reqwest::Method;

use crate::client::{Body, OciClient, Request, object_segments, require};
use crate::endpoints::Service;
use crate::error::OciError;
use crate::models::*;
use crate::permissions::Operation;
use crate::signer::BodySigning;

fn req(op: Operation, method: Method, path: Vec<String>) -> Request {
    Request::new(op, Service::ObjectStorage, method, path)
}

fn bucket_path(op: &'static str, namespace: &str, bucket: &str) -> Result<Vec<String>, OciError> {
    Ok(vec![
        "n".into(),
        require(op, "namespaceName", namespace)?,
        "b".into(),
        require(op, "bucketName", bucket)?,
    ])
}

fn object_path(
    op: &'static str,
    namespace: &str,
    bucket: &str,
    kind: &str,
    object: &str,
) -> Result<Vec<String>, OciError> {
    let mut p = bucket_path(op, namespace, bucket)?;
    p.push(kind.into());
    p.extend(object_segments(op, object)?);
    Ok(p)
}

/// base64(MD5(data)), the `Content-MD5` value.
pub(crate) fn content_md5(data: &[u8]) -> String {
    STANDARD.encode(Md5::digest(data))
}

/// Options of [`OciClient::put_object`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutObjectOptions {
    /// `Content-Type` (default `application/octet-stream`).
    pub content_type: Option<&'static str>,
    /// Write only if the object's ETag is this one (`if-match`).
    pub if_match: Option<String>,
    /// Write only if no object has this name (`if-none-match: *`): a 412 `IfNoneMatchFailed`
    /// (class conflict) means someone else holds it. Used for the team lock object.
    pub if_none_match_any: bool,
    /// `opc-meta-*` metadata.
    pub metadata: BTreeMap<String, String>,
}

fn head_from(resp: &crate::client::Response) -> Result<ObjectHead, OciError> {
    let size = match resp.header("content-length") {
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map_err(|_| resp.decode_error(format!("bad `content-length` `{v}`")))?,
        None => resp.body.len() as u64,
    };
    let metadata = resp
        .headers
        .iter()
        .filter_map(|(k, v)| {
            Some((
                k.as_str().strip_prefix("opc-meta-")?.to_string(),
                v.to_str().ok()?.to_string(),
            ))
        })
        .collect();
    Ok(ObjectHead {
        size,
        etag: resp.header("etag"),
        content_md5: resp.header("content-md5"),
        multipart_md5: resp.header("opc-multipart-md5"),
        last_modified: resp.header("last-modified"),
        metadata,
    })
}

impl OciClient {
    /// GetNamespace: the tenancy's Object Storage namespace.
    pub async fn get_namespace(&self) -> Result<String, OciError> {
        self.execute(&req(Operation::GetNamespace, Method::GET, vec!["n".into()]))
            .await?
            .json()
    }

    /// CreateBucket.
    pub async fn create_bucket(
        &self,
        namespace: &str,
        details: &CreateBucketDetails,
    ) -> Result<Bucket, OciError> {
        let mut p = vec![
            "n".into(),
            require("CreateBucket", "namespaceName", namespace)?,
            "b".into(),
        ];
        p.shrink_to_fit();
        let r = req(Operation::CreateBucket, Method::POST, p).json(details)?;
        self.execute(&r).await?.resource()
    }

    /// ListBuckets of a compartment (all pages; summaries carry name, tags and ETag, not the
    /// access type or storage tier).
    pub async fn list_buckets(
        &self,
        namespace: &str,
        compartment_id: &str,
    ) -> Result<Vec<Bucket>, OciError> {
        let p = vec![
            "n".into(),
            require("ListBuckets", "namespaceName", namespace)?,
            "b".into(),
        ];
        let c = require("ListBuckets", "compartmentId", compartment_id)?;
        self.list_all(
            req(Operation::ListBuckets, Method::GET, p)
                .query("compartmentId", c)
                .query("fields", "tags"),
        )
        .await
    }

    /// GetBucket.
    pub async fn get_bucket(&self, namespace: &str, bucket: &str) -> Result<Bucket, OciError> {
        self.get_resource(req(
            Operation::GetBucket,
            Method::GET,
            bucket_path("GetBucket", namespace, bucket)?,
        ))
        .await
    }

    /// DeleteBucket (it must be empty).
    pub async fn delete_bucket(
        &self,
        namespace: &str,
        bucket: &str,
        if_match: Option<&str>,
    ) -> Result<(), OciError> {
        self.delete(
            req(
                Operation::DeleteBucket,
                Method::DELETE,
                bucket_path("DeleteBucket", namespace, bucket)?,
            ),
            if_match,
        )
        .await
        .map(|_| ())
    }

    /// HeadObject: size, ETag and MD5 of an object, or `None` when it does not exist.
    pub async fn head_object(
        &self,
        namespace: &str,
        bucket: &str,
        object: &str,
    ) -> Result<Option<ObjectHead>, OciError> {
        let r = req(
            Operation::HeadObject,
            Method::HEAD,
            object_path("HeadObject", namespace, bucket, "o", object)?,
        );
        match self.execute(&r).await {
            Ok(resp) => head_from(&resp).map(Some),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// GetObject for small objects (read whole; bounded by the client's response size limit).
    pub async fn get_object(
        &self,
        namespace: &str,
        bucket: &str,
        object: &str,
    ) -> Result<ObjectContent, OciError> {
        let r = req(
            Operation::GetObject,
            Method::GET,
            object_path("GetObject", namespace, bucket, "o", object)?,
        );
        let resp = self.execute(&r).await?;
        Ok(ObjectContent {
            etag: resp.header("etag"),
            data: resp.body.to_vec(),
        })
    }

    /// PutObject with `Content-MD5`; checks the `opc-content-md5` the service answers.
    pub async fn put_object(
        &self,
        namespace: &str,
        bucket: &str,
        object: &str,
        data: Bytes,
        options: &PutObjectOptions,
    ) -> Result<PutObjectResult, OciError> {
        let md5 = content_md5(&data);
        let mut r = req(
            Operation::PutObject,
            Method::PUT,
            object_path("PutObject", namespace, bucket, "o", object)?,
        )
        .header("content-md5", md5.clone())
        .header("expect", "100-continue")
        .header_opt("if-match", options.if_match.as_deref());
        if options.if_none_match_any {
            r = r.header("if-none-match", "*");
        }
        for (k, v) in &options.metadata {
            r = r.header(format!("opc-meta-{k}"), v.clone());
        }
        r.body = Body::Raw(
            data,
            options
                .content_type
                .unwrap_or("application/octet-stream")
                .to_string(),
        );
        r.body_signing = BodySigning::Excluded;
        r.upload = true;
        let resp = self.execute(&r).await?;
        let result = PutObjectResult {
            etag: resp.header("etag"),
            content_md5: resp.header("opc-content-md5"),
            version_id: resp.header("version-id"),
        };
        if let Some(got) = &result.content_md5
            && *got != md5
        {
            return Err(OciError::Integrity {
                operation: "PutObject",
                what: format!("object `{object}`"),
                expected: md5,
                actual: got.clone(),
            });
        }
        Ok(result)
    }

    /// ListObjects with `name,size,md5,etag,timeCreated`, following `nextStartWith`.
    pub async fn list_objects(
        &self,
        namespace: &str,
        bucket: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<ObjectSummary>, OciError> {
        let mut p = bucket_path("ListObjects", namespace, bucket)?;
        p.push("o".into());
        let mut out = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let r = req(Operation::ListObjects, Method::GET, p.clone())
                .query_opt("prefix", prefix)
                .query_opt("start", start.as_deref())
                .query("fields", "name,size,md5,etag,timeCreated");
            let resp = self.execute(&r).await?;
            let page: ListObjects = resp.json()?;
            out.extend(page.objects);
            match page.next_start_with {
                Some(next) if Some(&next) != start.as_ref() && !next.is_empty() => {
                    start = Some(next)
                }
                Some(next) if !next.is_empty() => {
                    return Err(resp.decode_error(format!(
                        "`nextStartWith` repeats `{next}`: the listing does not end"
                    )));
                }
                _ => return Ok(out),
            }
        }
    }

    /// DeleteObject (with `if-match`: delete only the version you read, e.g. your own lock).
    pub async fn delete_object(
        &self,
        namespace: &str,
        bucket: &str,
        object: &str,
        if_match: Option<&str>,
    ) -> Result<(), OciError> {
        let r = req(
            Operation::DeleteObject,
            Method::DELETE,
            object_path("DeleteObject", namespace, bucket, "o", object)?,
        );
        self.delete(r, if_match).await.map(|_| ())
    }

    /// CreateMultipartUpload.
    pub async fn create_multipart_upload(
        &self,
        namespace: &str,
        bucket: &str,
        details: &CreateMultipartUploadDetails,
    ) -> Result<MultipartUpload, OciError> {
        let mut p = bucket_path("CreateMultipartUpload", namespace, bucket)?;
        p.push("u".into());
        let r = req(Operation::CreateMultipartUpload, Method::POST, p).json(details)?;
        self.execute(&r).await?.json()
    }

    /// UploadPart with `Content-MD5`; checks the `opc-content-md5` the service answers.
    pub async fn upload_part(
        &self,
        namespace: &str,
        bucket: &str,
        object: &str,
        upload_id: &str,
        part_number: u32,
        data: Bytes,
    ) -> Result<UploadPartResult, OciError> {
        if !(1..=10_000).contains(&part_number) {
            return Err(OciError::InvalidArgument {
                operation: "UploadPart",
                problem: format!("part number {part_number} is outside 1..=10000"),
            });
        }
        let md5 = content_md5(&data);
        let mut r = req(
            Operation::UploadPart,
            Method::PUT,
            object_path("UploadPart", namespace, bucket, "u", object)?,
        )
        .query("uploadId", require("UploadPart", "uploadId", upload_id)?)
        .query("uploadPartNum", part_number.to_string())
        .header("content-md5", md5.clone())
        .header("expect", "100-continue");
        r.body = Body::Raw(data, "application/octet-stream".to_string());
        r.body_signing = BodySigning::Excluded;
        r.upload = true;
        let resp = self.execute(&r).await?;
        let etag = resp
            .header("etag")
            .ok_or_else(|| resp.decode_error("UploadPart answer has no `etag` header".into()))?;
        let content_md5 = resp.header("opc-content-md5");
        if let Some(got) = &content_md5
            && *got != md5
        {
            return Err(OciError::Integrity {
                operation: "UploadPart",
                what: format!("part {part_number}"),
                expected: md5,
                actual: got.clone(),
            });
        }
        Ok(UploadPartResult { etag, content_md5 })
    }

    /// ListMultipartUploadParts (all pages).
    pub async fn list_multipart_upload_parts(
        &self,
        namespace: &str,
        bucket: &str,
        object: &str,
        upload_id: &str,
    ) -> Result<Vec<MultipartUploadPart>, OciError> {
        let r = req(
            Operation::ListMultipartUploadParts,
            Method::GET,
            object_path("ListMultipartUploadParts", namespace, bucket, "u", object)?,
        )
        .query(
            "uploadId",
            require("ListMultipartUploadParts", "uploadId", upload_id)?,
        );
        self.list_all(r).await
    }

    /// ListMultipartUploads of a bucket (all pages).
    pub async fn list_multipart_uploads(
        &self,
        namespace: &str,
        bucket: &str,
    ) -> Result<Vec<MultipartUpload>, OciError> {
        let mut p = bucket_path("ListMultipartUploads", namespace, bucket)?;
        p.push("u".into());
        self.list_all(req(Operation::ListMultipartUploads, Method::GET, p))
            .await
    }

    /// CommitMultipartUpload.
    pub async fn commit_multipart_upload(
        &self,
        namespace: &str,
        bucket: &str,
        object: &str,
        upload_id: &str,
        details: &CommitMultipartUploadDetails,
    ) -> Result<CommitResult, OciError> {
        let r = req(
            Operation::CommitMultipartUpload,
            Method::POST,
            object_path("CommitMultipartUpload", namespace, bucket, "u", object)?,
        )
        .query(
            "uploadId",
            require("CommitMultipartUpload", "uploadId", upload_id)?,
        )
        .json(details)?;
        let resp = self.execute(&r).await?;
        Ok(CommitResult {
            etag: resp.header("etag"),
            multipart_md5: resp.header("opc-multipart-md5"),
        })
    }

    /// AbortMultipartUpload.
    pub async fn abort_multipart_upload(
        &self,
        namespace: &str,
        bucket: &str,
        object: &str,
        upload_id: &str,
    ) -> Result<(), OciError> {
        let r = req(
            Operation::AbortMultipartUpload,
            Method::DELETE,
            object_path("AbortMultipartUpload", namespace, bucket, "u", object)?,
        )
        .query(
            "uploadId",
            require("AbortMultipartUpload", "uploadId", upload_id)?,
        );
        self.execute(&r).await.map(|_| ())
    }
}
