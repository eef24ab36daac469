//! Object Storage wire types: buckets, objects, multipart uploads, and the header-only answers
//! (HeadObject, PutObject, UploadPart, CommitMultipartUpload).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{LifecycleState, OciResource};

/// `CreateBucketDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBucketDetails {
    /// Bucket name.
    pub name: String,
    /// Compartment OCID.
    pub compartment_id: String,
    /// `NoPublicAccess` (default), `ObjectRead`, `ObjectReadWithoutList`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_access_type: Option<String>,
    /// `Standard` (default) or `Archive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_tier: Option<String>,
    /// `Enabled` or `Disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versioning: Option<String>,
    /// User metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: BTreeMap<String, String>,
}

/// `Bucket`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bucket {
    /// Namespace.
    #[serde(default)]
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Compartment OCID.
    #[serde(default)]
    pub compartment_id: String,
    /// OCID (optional on the wire).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Creator OCID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// RFC 3339 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
    /// Public access type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_access_type: Option<String>,
    /// Storage tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_tier: Option<String>,
    /// Approximate object count (only when asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approximate_count: Option<u64>,
    /// Freeform tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub freeform_tags: BTreeMap<String, String>,
    /// ETag (in the body, and in the `etag` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

impl OciResource for Bucket {
    fn id(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.name)
    }
    fn display_name(&self) -> Option<&str> {
        Some(&self.name)
    }
    fn lifecycle_state(&self) -> Option<&LifecycleState> {
        None
    }
    fn freeform_tags(&self) -> &BTreeMap<String, String> {
        &self.freeform_tags
    }
    fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }
    fn set_etag(&mut self, etag: Option<String>) {
        if etag.is_some() {
            self.etag = etag;
        }
    }
}

/// `ObjectSummary` (ListObjects with `fields=name,size,md5,etag,timeCreated`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectSummary {
    /// Object name.
    pub name: String,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Base64 MD5 (or multipart MD5 `…-N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    /// ETag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// RFC 3339 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
}

/// `ListObjects` (one page).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListObjects {
    /// Objects.
    #[serde(default)]
    pub objects: Vec<ObjectSummary>,
    /// Prefixes (with a delimiter).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefixes: Vec<String>,
    /// The `start` of the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_start_with: Option<String>,
}

/// What HeadObject tells about an object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectHead {
    /// `content-length`.
    pub size: u64,
    /// `etag`.
    pub etag: Option<String>,
    /// `content-md5` (objects written by one PutObject).
    pub content_md5: Option<String>,
    /// `opc-multipart-md5` (objects written by a multipart upload): `base64-N`.
    pub multipart_md5: Option<String>,
    /// `last-modified`.
    pub last_modified: Option<String>,
    /// `opc-meta-*` headers, prefix removed.
    pub metadata: BTreeMap<String, String>,
}

/// What PutObject answers (headers only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutObjectResult {
    /// `etag`.
    pub etag: Option<String>,
    /// `opc-content-md5`.
    pub content_md5: Option<String>,
    /// `version-id`.
    pub version_id: Option<String>,
}

/// An object's content (GetObject).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectContent {
    /// The bytes.
    pub data: Vec<u8>,
    /// `etag`.
    pub etag: Option<String>,
}

/// `CreateMultipartUploadDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateMultipartUploadDetails {
    /// Object name.
    pub object: String,
    /// Content type of the final object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Storage tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_tier: Option<String>,
    /// User metadata (`opc-meta-*` of the final object).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// `MultipartUpload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MultipartUpload {
    /// Namespace.
    #[serde(default)]
    pub namespace: String,
    /// Bucket.
    #[serde(default)]
    pub bucket: String,
    /// Object name.
    pub object: String,
    /// Upload id.
    pub upload_id: String,
    /// RFC 3339 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<String>,
}

/// `MultipartUploadPartSummary` (ListMultipartUploadParts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MultipartUploadPart {
    /// Part number (1-based).
    pub part_number: u32,
    /// ETag to commit with.
    pub etag: String,
    /// Base64 MD5 of the part.
    pub md5: String,
    /// Size in bytes.
    pub size: u64,
}

/// What UploadPart answers (headers only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadPartResult {
    /// `etag` (to commit with).
    pub etag: String,
    /// `opc-content-md5`.
    pub content_md5: Option<String>,
}

/// `CommitMultipartUploadPartDetails`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitPart {
    /// Part number.
    pub part_num: u32,
    /// ETag returned by UploadPart.
    pub etag: String,
}

/// `CommitMultipartUploadDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitMultipartUploadDetails {
    /// Parts to commit, by part number.
    pub parts_to_commit: Vec<CommitPart>,
    /// Parts uploaded but left out.
    #[serde(default)]
    pub parts_to_exclude: Vec<u32>,
}

/// What CommitMultipartUpload answers (headers only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitResult {
    /// `etag` of the object.
    pub etag: Option<String>,
    /// `opc-multipart-md5`: `base64-N`.
    pub multipart_md5: Option<String>,
}
