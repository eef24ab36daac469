//! Core compute operations: instances, power actions, VNIC attachments and VNICs, custom images
//! (import from Object Storage) and their shape compatibility.

use reqwest::Method;

use crate::client::{OciClient, Request, WithWorkRequest, require};
use crate::endpoints::Service;
use crate::error::OciError;
use crate::models::*;
use crate::permissions::Operation;

fn req(op: Operation, method: Method, path: Vec<String>) -> Request {
    Request::new(op, Service::Core, method, path)
}

impl OciClient {
    /// LaunchInstance: answers at once with the instance in `PROVISIONING` and the work request.
    pub async fn launch_instance(
        &self,
        details: &LaunchInstanceDetails,
        retry_token: Option<&str>,
    ) -> Result<WithWorkRequest<Instance>, OciError> {
        let r = req(
            Operation::LaunchInstance,
            Method::POST,
            vec!["instances".into()],
        )
        .json(details)?;
        self.create_resource(r, retry_token).await
    }

    /// GetInstance (records the ETag).
    pub async fn get_instance(&self, id: &str) -> Result<Instance, OciError> {
        let id = require("GetInstance", "instanceId", id)?;
        self.get_resource(req(
            Operation::GetInstance,
            Method::GET,
            vec!["instances".into(), id],
        ))
        .await
    }

    /// ListInstances of a compartment (all pages).
    pub async fn list_instances(&self, compartment_id: &str) -> Result<Vec<Instance>, OciError> {
        let c = require("ListInstances", "compartmentId", compartment_id)?;
        self.list_all(
            req(
                Operation::ListInstances,
                Method::GET,
                vec!["instances".into()],
            )
            .query("compartmentId", c),
        )
        .await
    }

    /// InstanceAction (`POST /instances/{id}?action=STOP|START|SOFTSTOP|…`, empty signed body):
    /// answers with the instance in its transitional state.
    pub async fn instance_action(
        &self,
        id: &str,
        action: &InstanceAction,
        retry_token: Option<&str>,
        if_match: Option<&str>,
    ) -> Result<Instance, OciError> {
        let id = require("InstanceAction", "instanceId", id)?;
        let r = req(
            Operation::InstanceAction,
            Method::POST,
            vec!["instances".into(), id],
        )
        .query("action", action.as_str())
        .header("opc-retry-token", self.retry_token(retry_token))
        .header_opt("if-match", if_match);
        self.execute(&r).await?.resource()
    }

    /// UpdateInstance (display name, flex shape sizing, tags).
    pub async fn update_instance(
        &self,
        id: &str,
        details: &UpdateInstanceDetails,
        if_match: Option<&str>,
    ) -> Result<Instance, OciError> {
        let id = require("UpdateInstance", "instanceId", id)?;
        let r = req(
            Operation::UpdateInstance,
            Method::PUT,
            vec!["instances".into(), id],
        )
        .json(details)?;
        self.update_resource(r, if_match).await
    }

    /// TerminateInstance (`DELETE …?preserveBootVolume=`): returns the work request id.
    pub async fn terminate_instance(
        &self,
        id: &str,
        preserve_boot_volume: bool,
        if_match: Option<&str>,
    ) -> Result<WithWorkRequest<()>, OciError> {
        let id = require("TerminateInstance", "instanceId", id)?;
        let r = req(
            Operation::TerminateInstance,
            Method::DELETE,
            vec!["instances".into(), id],
        )
        .query(
            "preserveBootVolume",
            if preserve_boot_volume {
                "true"
            } else {
                "false"
            },
        );
        Ok(WithWorkRequest {
            resource: (),
            work_request_id: self.delete(r, if_match).await?,
        })
    }

    /// ListVnicAttachments of a compartment, optionally of one instance.
    pub async fn list_vnic_attachments(
        &self,
        compartment_id: &str,
        instance_id: Option<&str>,
    ) -> Result<Vec<VnicAttachment>, OciError> {
        let c = require("ListVnicAttachments", "compartmentId", compartment_id)?;
        let r = req(
            Operation::ListVnicAttachments,
            Method::GET,
            vec!["vnicAttachments".into()],
        )
        .query("compartmentId", c)
        .query_opt("instanceId", instance_id);
        self.list_all(r).await
    }

    /// GetVnic (private and public IP of an instance).
    pub async fn get_vnic(&self, id: &str) -> Result<Vnic, OciError> {
        let id = require("GetVnic", "vnicId", id)?;
        self.get_resource(req(
            Operation::GetVnic,
            Method::GET,
            vec!["vnics".into(), id],
        ))
        .await
    }

    /// CreateImage (import from Object Storage): answers at once (`PROVISIONING`/`IMPORTING`)
    /// with the work request to wait on (see [`crate::import_image`]).
    pub async fn create_image(
        &self,
        details: &CreateImageDetails,
        retry_token: Option<&str>,
    ) -> Result<WithWorkRequest<Image>, OciError> {
        let r = req(Operation::CreateImage, Method::POST, vec!["images".into()]).json(details)?;
        self.create_resource(r, retry_token).await
    }

    /// GetImage (records the ETag).
    pub async fn get_image(&self, id: &str) -> Result<Image, OciError> {
        let id = require("GetImage", "imageId", id)?;
        self.get_resource(req(
            Operation::GetImage,
            Method::GET,
            vec!["images".into(), id],
        ))
        .await
    }

    /// ListImages of a compartment, optionally by display name (all pages; platform images
    /// may be included: filter by tags).
    pub async fn list_images(
        &self,
        compartment_id: &str,
        display_name: Option<&str>,
    ) -> Result<Vec<Image>, OciError> {
        let c = require("ListImages", "compartmentId", compartment_id)?;
        let r = req(Operation::ListImages, Method::GET, vec!["images".into()])
            .query("compartmentId", c)
            .query_opt("displayName", display_name);
        self.list_all(r).await
    }

    /// UpdateImage (display name, tags).
    pub async fn update_image(
        &self,
        id: &str,
        details: &UpdateNameDetails,
        if_match: Option<&str>,
    ) -> Result<Image, OciError> {
        let id = require("UpdateImage", "imageId", id)?;
        let r = req(
            Operation::UpdateImage,
            Method::PUT,
            vec!["images".into(), id],
        )
        .json(details)?;
        self.update_resource(r, if_match).await
    }

    /// RemoveImageShapeCompatibilityEntry (`DELETE /images/{id}/shapes/{shape}`).
    pub async fn remove_image_shape_compatibility(
        &self,
        image_id: &str,
        shape: &str,
    ) -> Result<(), OciError> {
        let id = require("RemoveImageShapeCompatibilityEntry", "imageId", image_id)?;
        let shape = require("RemoveImageShapeCompatibilityEntry", "shapeName", shape)?;
        self.delete(
            req(
                Operation::RemoveImageShapeCompatibilityEntry,
                Method::DELETE,
                vec!["images".into(), id, "shapes".into(), shape],
            ),
            None,
        )
        .await
        .map(|_| ())
    }

    /// DeleteImage.
    pub async fn delete_image(&self, id: &str, if_match: Option<&str>) -> Result<(), OciError> {
        let id = require("DeleteImage", "imageId", id)?;
        self.delete(
            req(
                Operation::DeleteImage,
                Method::DELETE,
                vec!["images".into(), id],
            ),
            if_match,
        )
        .await
        .map(|_| ())
    }

    /// AddImageShapeCompatibilityEntry (`PUT /images/{id}/shapes/{shape}`), body optional.
    pub async fn add_image_shape_compatibility(
        &self,
        image_id: &str,
        shape: &str,
        details: Option<&AddImageShapeCompatibilityEntryDetails>,
    ) -> Result<ImageShapeCompatibility, OciError> {
        let id = require("AddImageShapeCompatibilityEntry", "imageId", image_id)?;
        let shape = require("AddImageShapeCompatibilityEntry", "shapeName", shape)?;
        let mut r = req(
            Operation::AddImageShapeCompatibilityEntry,
            Method::PUT,
            vec!["images".into(), id, "shapes".into(), shape],
        );
        if let Some(d) = details {
            r = r.json(d)?;
        }
        self.execute(&r).await?.json()
    }

    /// ListImageShapeCompatibilityEntries of an image (all pages).
    pub async fn list_image_shape_compatibility(
        &self,
        image_id: &str,
    ) -> Result<Vec<ImageShapeCompatibility>, OciError> {
        let id = require("ListImageShapeCompatibilityEntries", "imageId", image_id)?;
        self.list_all(req(
            Operation::ListImageShapeCompatibilityEntries,
            Method::GET,
            vec!["images".into(), id, "shapes".into()],
        ))
        .await
    }
}
