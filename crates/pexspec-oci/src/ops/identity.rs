//! Identity operations: compartments, regions, region subscriptions, availability domains.
//! Compartment writes must go to the tenancy's home region (`client.in_region(home)`).

use reqwest::Method;

use crate::client::{OciClient, Request, WithWorkRequest, require};
use crate::endpoints::Service;
use crate::error::OciError;
use crate::models::{
    AvailabilityDomain, Compartment, CreateCompartmentDetails, Region, RegionSubscription,
    UpdateCompartmentDetails,
};
use crate::permissions::Operation;

fn req(op: Operation, method: Method, path: Vec<String>) -> Request {
    Request::new(op, Service::Identity, method, path)
}

impl OciClient {
    /// CreateCompartment (`POST /compartments`), home region only.
    pub async fn create_compartment(
        &self,
        details: &CreateCompartmentDetails,
        retry_token: Option<&str>,
    ) -> Result<Compartment, OciError> {
        let r = req(
            Operation::CreateCompartment,
            Method::POST,
            vec!["compartments".into()],
        )
        .json(details)?;
        Ok(self.create_resource(r, retry_token).await?.resource)
    }

    /// GetCompartment.
    pub async fn get_compartment(&self, compartment_id: &str) -> Result<Compartment, OciError> {
        let id = require("GetCompartment", "compartmentId", compartment_id)?;
        self.get_resource(req(
            Operation::GetCompartment,
            Method::GET,
            vec!["compartments".into(), id],
        ))
        .await
    }

    /// ListCompartments: the direct children of `parent_id` (all pages), optionally by name.
    pub async fn list_compartments(
        &self,
        parent_id: &str,
        name: Option<&str>,
    ) -> Result<Vec<Compartment>, OciError> {
        let parent = require("ListCompartments", "compartmentId", parent_id)?;
        let r = req(
            Operation::ListCompartments,
            Method::GET,
            vec!["compartments".into()],
        )
        .query("compartmentId", parent)
        .query_opt("name", name);
        self.list_all(r).await
    }

    /// UpdateCompartment (name, description, tags), home region only.
    pub async fn update_compartment(
        &self,
        compartment_id: &str,
        details: &UpdateCompartmentDetails,
        if_match: Option<&str>,
    ) -> Result<Compartment, OciError> {
        let id = require("UpdateCompartment", "compartmentId", compartment_id)?;
        let r = req(
            Operation::UpdateCompartment,
            Method::PUT,
            vec!["compartments".into(), id],
        )
        .json(details)?;
        self.update_resource(r, if_match).await
    }

    /// DeleteCompartment (asynchronous: returns the work request id), home region only.
    pub async fn delete_compartment(
        &self,
        compartment_id: &str,
        if_match: Option<&str>,
    ) -> Result<WithWorkRequest<()>, OciError> {
        let id = require("DeleteCompartment", "compartmentId", compartment_id)?;
        let wr = self
            .delete(
                req(
                    Operation::DeleteCompartment,
                    Method::DELETE,
                    vec!["compartments".into(), id],
                ),
                if_match,
            )
            .await?;
        Ok(WithWorkRequest {
            resource: (),
            work_request_id: wr,
        })
    }

    /// ListRegions: every region of the realm.
    pub async fn list_regions(&self) -> Result<Vec<Region>, OciError> {
        self.list_all(req(
            Operation::ListRegions,
            Method::GET,
            vec!["regions".into()],
        ))
        .await
    }

    /// ListRegionSubscriptions of the client's tenancy (which one is home, which are ready).
    pub async fn list_region_subscriptions(&self) -> Result<Vec<RegionSubscription>, OciError> {
        let tenancy = require("ListRegionSubscriptions", "tenancyId", self.tenancy_id())?;
        let r = req(
            Operation::ListRegionSubscriptions,
            Method::GET,
            vec!["tenancies".into(), tenancy, "regionSubscriptions".into()],
        );
        self.list_all(r).await
    }

    /// ListAvailabilityDomains of the client's region (`compartment_id`: usually the tenancy).
    pub async fn list_availability_domains(
        &self,
        compartment_id: &str,
    ) -> Result<Vec<AvailabilityDomain>, OciError> {
        let c = require("ListAvailabilityDomains", "compartmentId", compartment_id)?;
        self.list_all(
            req(
                Operation::ListAvailabilityDomains,
                Method::GET,
                vec!["availabilityDomains".into()],
            )
            .query("compartmentId", c),
        )
        .await
    }
}
