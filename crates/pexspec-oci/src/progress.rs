//! Progress reporting for long operations (image upload, work requests) through callback
//! traits, so the binary can draw bars without this crate knowing how.

use std::time::Duration;

use crate::models::WorkRequest;

/// What an upload is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadPhase {
    /// Hashing the local file to compare it with the object already in the bucket.
    Checking,
    /// Sending parts (parts already uploaded by an interrupted run count as done).
    Uploading,
    /// Committing the multipart upload.
    Committing,
    /// Finished: the object is in the bucket.
    Done,
    /// Nothing to do: the same bytes are already in the bucket.
    AlreadyPresent,
}

/// A snapshot of an upload's progress.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransferProgress {
    /// The phase.
    pub phase: UploadPhase,
    /// Bytes done in this phase (hashed, or uploaded plus reused).
    pub bytes_done: u64,
    /// Bytes in total (the file size).
    pub bytes_total: u64,
    /// Bytes reused from an interrupted upload (counted in `bytes_done`, not in throughput).
    pub bytes_reused: u64,
    /// Bytes per second actually read or sent in this phase.
    pub bytes_per_second: f64,
    /// Parts done.
    pub parts_done: u32,
    /// Parts in total.
    pub parts_total: u32,
}

/// Receives upload progress. Implemented for closures `Fn(&TransferProgress)`.
pub trait UploadProgress: Send + Sync {
    /// Called after every part and at every phase change.
    fn update(&self, progress: &TransferProgress);
}

impl<F: Fn(&TransferProgress) + Send + Sync> UploadProgress for F {
    fn update(&self, progress: &TransferProgress) {
        self(progress)
    }
}

/// Receives work-request progress (`percentComplete`, status). Implemented for closures
/// `Fn(&WorkRequest, Duration)`.
pub trait WorkRequestProgress: Send + Sync {
    /// Called after every poll with the work request and the time waited so far.
    fn update(&self, work_request: &WorkRequest, waited: Duration);
}

impl<F: Fn(&WorkRequest, Duration) + Send + Sync> WorkRequestProgress for F {
    fn update(&self, work_request: &WorkRequest, waited: Duration) {
        self(work_request, waited)
    }
}

/// Ignores all progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl UploadProgress for NoProgress {
    fn update(&self, _: &TransferProgress) {}
}

impl WorkRequestProgress for NoProgress {
    fn update(&self, _: &WorkRequest, _: Duration) {}
}
