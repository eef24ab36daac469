//! Image import from Object Storage and waiting on work requests: CreateImage, then poll the
//! work request (progress `percentComplete`) until it succeeds or fails, on the client's clock.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::client::OciClient;
use crate::error::OciError;
use crate::models::{
    CreateImageDetails, Image, ImageSourceDetails, LaunchMode, SourceImageType, WorkRequest,
    WorkRequestStatus,
};
use crate::progress::WorkRequestProgress;

/// How to poll a long operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollOptions {
    /// First wait between polls.
    pub initial_interval: Duration,
    /// Waits grow by half each poll up to this.
    pub max_interval: Duration,
    /// Give up after this long (the Terraform provider allows images 2 h).
    pub timeout: Duration,
}

impl Default for PollOptions {
    fn default() -> Self {
        Self {
            initial_interval: Duration::from_secs(5),
            max_interval: Duration::from_secs(30),
            timeout: Duration::from_secs(2 * 3600),
        }
    }
}

/// An image to import from an object.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageImport {
    /// Compartment of the image.
    pub compartment_id: String,
    /// Display name (deterministic, see the book).
    pub display_name: String,
    /// Namespace of the object.
    pub namespace: String,
    /// Bucket of the object.
    pub bucket: String,
    /// Object name.
    pub object: String,
    /// Disk format (`VMDK` for Pexip's OVA files).
    pub source_image_type: SourceImageType,
    /// Launch mode (`PARAVIRTUALIZED` for Pexip).
    pub launch_mode: LaunchMode,
    /// Operating system label (`Linux`).
    pub operating_system: String,
    /// Freeform tags (`pexspec-stack`, `pexspec-address`).
    pub freeform_tags: BTreeMap<String, String>,
    /// Deterministic retry token for the create.
    pub retry_token: Option<String>,
}

impl ImageImport {
    /// The CreateImage body.
    pub fn details(&self) -> CreateImageDetails {
        CreateImageDetails {
            compartment_id: self.compartment_id.clone(),
            display_name: Some(self.display_name.clone()),
            image_source_details: Some(ImageSourceDetails::ObjectStorageTuple {
                namespace_name: self.namespace.clone(),
                bucket_name: self.bucket.clone(),
                object_name: self.object.clone(),
                source_image_type: Some(self.source_image_type.clone()),
                operating_system: Some(self.operating_system.clone()),
                operating_system_version: None,
            }),
            instance_id: None,
            launch_mode: Some(self.launch_mode.clone()),
            freeform_tags: self.freeform_tags.clone(),
        }
    }
}

/// Polls a work request until it ends. `SUCCEEDED` returns it; `FAILED` or `CANCELED` is an
/// error carrying the work request's own error messages.
pub async fn wait_for_work_request(
    client: &OciClient,
    work_request_id: &str,
    poll: &PollOptions,
    progress: &dyn WorkRequestProgress,
) -> Result<WorkRequest, OciError> {
    let clock = client.clock();
    let start = clock.now();
    let mut interval = poll.initial_interval;
    loop {
        let wr = client.get_work_request(work_request_id).await?;
        let waited = clock.now().saturating_sub(start);
        progress.update(&wr, waited);
        match wr.status {
            WorkRequestStatus::Succeeded => return Ok(wr),
            WorkRequestStatus::Failed | WorkRequestStatus::Canceled => {
                let message = match client.list_work_request_errors(work_request_id).await {
                    Ok(errors) if !errors.is_empty() => errors
                        .iter()
                        .map(|e| format!("{}: {}", e.code, e.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                    Ok(_) => "no error details".to_string(),
                    Err(e) => format!("error details unavailable: {e}"),
                };
                return Err(OciError::WorkRequestFailed {
                    id: wr.id,
                    operation: wr.operation_type,
                    status: wr.status.to_string(),
                    message,
                });
            }
            _ => {}
        }
        if waited.saturating_add(interval) > poll.timeout {
            return Err(OciError::Timeout {
                operation: "GetWorkRequest",
                waited_secs: waited.as_secs(),
                what: format!(
                    "work request `{work_request_id}` is still {} at {:.0}%",
                    wr.status, wr.percent_complete
                ),
            });
        }
        clock.sleep(interval).await;
        let grown =
            Duration::try_from_secs_f64(interval.as_secs_f64() * 1.5).unwrap_or(Duration::MAX);
        interval = grown.min(poll.max_interval.max(poll.initial_interval));
    }
}

/// Imports an image from an object: CreateImage (with the import's retry token), then waits on
/// its work request, reporting `percentComplete`, and returns the image as it is at the end.
pub async fn import_image(
    client: &OciClient,
    import: &ImageImport,
    poll: &PollOptions,
    progress: &dyn WorkRequestProgress,
) -> Result<Image, OciError> {
    let created = client
        .create_image(&import.details(), import.retry_token.as_deref())
        .await?;
    let image_id = created.resource.id.clone();
    match created.work_request_id {
        Some(wr) => {
            wait_for_work_request(client, &wr, poll, progress).await?;
        }
        None => {
            return Err(OciError::Decode {
                operation: "CreateImage",
                message: format!("no `opc-work-request-id` for image `{image_id}`"),
                opc_request_id: String::new(),
            });
        }
    }
    client.get_image(&image_id).await
}
