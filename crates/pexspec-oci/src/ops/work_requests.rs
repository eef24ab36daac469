//! Core work-request operations (iaas host): status of an asynchronous operation and its errors.

use reqwest::Method;

use crate::client::{OciClient, Request, require};
use crate::endpoints::Service;
use crate::error::OciError;
use crate::models::{WorkRequest, WorkRequestError};
use crate::permissions::Operation;

impl OciClient {
    /// GetWorkRequest.
    pub async fn get_work_request(&self, id: &str) -> Result<WorkRequest, OciError> {
        let id = require("GetWorkRequest", "workRequestId", id)?;
        self.execute(&Request::new(
            Operation::GetWorkRequest,
            Service::Core,
            Method::GET,
            vec!["workRequests".into(), id],
        ))
        .await?
        .json()
    }

    /// ListWorkRequestErrors (all pages).
    pub async fn list_work_request_errors(
        &self,
        id: &str,
    ) -> Result<Vec<WorkRequestError>, OciError> {
        let id = require("ListWorkRequestErrors", "workRequestId", id)?;
        self.list_all(Request::new(
            Operation::ListWorkRequestErrors,
            Service::Core,
            Method::GET,
            vec!["workRequests".into(), id, "errors".into()],
        ))
        .await
    }
}
