//! Core networking operations: VCN, internet gateway, route table, security list, subnet,
//! reserved public IPs and private IP lookup, DRG, DRG attachment, remote peering.

use reqwest::Method;

use crate::client::{OciClient, Request, require};
use crate::endpoints::Service;
use crate::error::OciError;
use crate::models::*;
use crate::permissions::Operation;

fn req(op: Operation, method: Method, path: Vec<String>) -> Request {
    Request::new(op, Service::Core, method, path)
}

/// Generates create / get / delete for a collection whose create is a plain POST.
macro_rules! crud {
    ($collection:literal, $ty:ty, $details:ty,
     $create:ident = $create_op:ident, $get:ident = $get_op:ident, $delete:ident = $delete_op:ident) => {
        #[doc = concat!("`", stringify!($create_op), "` (`POST /", $collection, "`) with an `opc-retry-token` (the caller's deterministic one, or a random one reused on retries).")]
        pub async fn $create(&self, details: &$details, retry_token: Option<&str>) -> Result<$ty, OciError> {
            let r = req(Operation::$create_op, Method::POST, vec![$collection.into()]).json(details)?;
            Ok(self.create_resource(r, retry_token).await?.resource)
        }

        #[doc = concat!("`", stringify!($get_op), "` (records the ETag).")]
        pub async fn $get(&self, id: &str) -> Result<$ty, OciError> {
            let id = require(Operation::$get_op.name(), "id", id)?;
            self.get_resource(req(Operation::$get_op, Method::GET, vec![$collection.into(), id])).await
        }

        #[doc = concat!("`", stringify!($delete_op), "`, with `if-match` when an ETag is given.")]
        pub async fn $delete(&self, id: &str, if_match: Option<&str>) -> Result<(), OciError> {
            let id = require(Operation::$delete_op.name(), "id", id)?;
            self.delete(req(Operation::$delete_op, Method::DELETE, vec![$collection.into(), id]), if_match).await.map(|_| ())
        }
    };
}

impl OciClient {
    crud!(
        "vcns",
        Vcn,
        CreateVcnDetails,
        create_vcn = CreateVcn,
        get_vcn = GetVcn,
        delete_vcn = DeleteVcn
    );
    crud!(
        "internetGateways",
        InternetGateway,
        CreateInternetGatewayDetails,
        create_internet_gateway = CreateInternetGateway,
        get_internet_gateway = GetInternetGateway,
        delete_internet_gateway = DeleteInternetGateway
    );
    crud!(
        "routeTables",
        RouteTable,
        CreateRouteTableDetails,
        create_route_table = CreateRouteTable,
        get_route_table = GetRouteTable,
        delete_route_table = DeleteRouteTable
    );
    crud!(
        "securityLists",
        SecurityList,
        CreateSecurityListDetails,
        create_security_list = CreateSecurityList,
        get_security_list = GetSecurityList,
        delete_security_list = DeleteSecurityList
    );
    crud!(
        "subnets",
        Subnet,
        CreateSubnetDetails,
        create_subnet = CreateSubnet,
        get_subnet = GetSubnet,
        delete_subnet = DeleteSubnet
    );
    crud!(
        "drgs",
        Drg,
        CreateDrgDetails,
        create_drg = CreateDrg,
        get_drg = GetDrg,
        delete_drg = DeleteDrg
    );
    crud!(
        "drgAttachments",
        DrgAttachment,
        CreateDrgAttachmentDetails,
        create_drg_attachment = CreateDrgAttachment,
        get_drg_attachment = GetDrgAttachment,
        delete_drg_attachment = DeleteDrgAttachment
    );
    crud!(
        "remotePeeringConnections",
        RemotePeeringConnection,
        CreateRemotePeeringConnectionDetails,
        create_remote_peering_connection = CreateRemotePeeringConnection,
        get_remote_peering_connection = GetRemotePeeringConnection,
        delete_remote_peering_connection = DeleteRemotePeeringConnection
    );
    crud!(
        "publicIps",
        PublicIp,
        CreatePublicIpDetails,
        create_public_ip = CreatePublicIp,
        get_public_ip = GetPublicIp,
        delete_public_ip = DeletePublicIp
    );

    /// UpdateVcn (display name, tags), with `if-match` when an ETag is given.
    pub async fn update_vcn(
        &self,
        id: &str,
        details: &UpdateNameDetails,
        if_match: Option<&str>,
    ) -> Result<Vcn, OciError> {
        let id = require("UpdateVcn", "vcnId", id)?;
        let r = req(Operation::UpdateVcn, Method::PUT, vec!["vcns".into(), id]).json(details)?;
        self.update_resource(r, if_match).await
    }

    /// UpdateInternetGateway (display name, enabled, tags).
    pub async fn update_internet_gateway(
        &self,
        id: &str,
        details: &UpdateInternetGatewayDetails,
        if_match: Option<&str>,
    ) -> Result<InternetGateway, OciError> {
        let id = require("UpdateInternetGateway", "igId", id)?;
        let r = req(
            Operation::UpdateInternetGateway,
            Method::PUT,
            vec!["internetGateways".into(), id],
        )
        .json(details)?;
        self.update_resource(r, if_match).await
    }

    /// UpdateSubnet (display name, route table, security lists, tags).
    pub async fn update_subnet(
        &self,
        id: &str,
        details: &UpdateSubnetDetails,
        if_match: Option<&str>,
    ) -> Result<Subnet, OciError> {
        let id = require("UpdateSubnet", "subnetId", id)?;
        let r = req(
            Operation::UpdateSubnet,
            Method::PUT,
            vec!["subnets".into(), id],
        )
        .json(details)?;
        self.update_resource(r, if_match).await
    }

    /// UpdateDrg (display name, tags).
    pub async fn update_drg(
        &self,
        id: &str,
        details: &UpdateNameDetails,
        if_match: Option<&str>,
    ) -> Result<Drg, OciError> {
        let id = require("UpdateDrg", "drgId", id)?;
        let r = req(Operation::UpdateDrg, Method::PUT, vec!["drgs".into(), id]).json(details)?;
        self.update_resource(r, if_match).await
    }

    /// UpdateDrgAttachment (display name, tags).
    pub async fn update_drg_attachment(
        &self,
        id: &str,
        details: &UpdateNameDetails,
        if_match: Option<&str>,
    ) -> Result<DrgAttachment, OciError> {
        let id = require("UpdateDrgAttachment", "drgAttachmentId", id)?;
        let r = req(
            Operation::UpdateDrgAttachment,
            Method::PUT,
            vec!["drgAttachments".into(), id],
        )
        .json(details)?;
        self.update_resource(r, if_match).await
    }

    /// UpdateRemotePeeringConnection (display name, tags).
    pub async fn update_remote_peering_connection(
        &self,
        id: &str,
        details: &UpdateNameDetails,
        if_match: Option<&str>,
    ) -> Result<RemotePeeringConnection, OciError> {
        let id = require(
            "UpdateRemotePeeringConnection",
            "remotePeeringConnectionId",
            id,
        )?;
        let r = req(
            Operation::UpdateRemotePeeringConnection,
            Method::PUT,
            vec!["remotePeeringConnections".into(), id],
        )
        .json(details)?;
        self.update_resource(r, if_match).await
    }

    /// ListPrivateIps of a subnet (every VNIC's addresses in it, all pages).
    pub async fn list_private_ips_by_subnet(
        &self,
        subnet_id: &str,
    ) -> Result<Vec<PrivateIp>, OciError> {
        let s = require("ListPrivateIps", "subnetId", subnet_id)?;
        self.list_all(
            req(
                Operation::ListPrivateIps,
                Method::GET,
                vec!["privateIps".into()],
            )
            .query("subnetId", s),
        )
        .await
    }

    /// ListVcns of a compartment (all pages).
    pub async fn list_vcns(&self, compartment_id: &str) -> Result<Vec<Vcn>, OciError> {
        let c = require("ListVcns", "compartmentId", compartment_id)?;
        self.list_all(
            req(Operation::ListVcns, Method::GET, vec!["vcns".into()]).query("compartmentId", c),
        )
        .await
    }

    /// ListInternetGateways of a compartment, optionally of one VCN.
    pub async fn list_internet_gateways(
        &self,
        compartment_id: &str,
        vcn_id: Option<&str>,
    ) -> Result<Vec<InternetGateway>, OciError> {
        let c = require("ListInternetGateways", "compartmentId", compartment_id)?;
        let r = req(
            Operation::ListInternetGateways,
            Method::GET,
            vec!["internetGateways".into()],
        )
        .query("compartmentId", c)
        .query_opt("vcnId", vcn_id);
        self.list_all(r).await
    }

    /// ListRouteTables of a compartment, optionally of one VCN.
    pub async fn list_route_tables(
        &self,
        compartment_id: &str,
        vcn_id: Option<&str>,
    ) -> Result<Vec<RouteTable>, OciError> {
        let c = require("ListRouteTables", "compartmentId", compartment_id)?;
        let r = req(
            Operation::ListRouteTables,
            Method::GET,
            vec!["routeTables".into()],
        )
        .query("compartmentId", c)
        .query_opt("vcnId", vcn_id);
        self.list_all(r).await
    }

    /// UpdateRouteTable: the given rules replace all existing ones; send the ETag of the
    /// table you read (`if-match`) so a concurrent change is not overwritten (412 otherwise).
    pub async fn update_route_table(
        &self,
        id: &str,
        details: &UpdateRouteTableDetails,
        if_match: Option<&str>,
    ) -> Result<RouteTable, OciError> {
        let id = require("UpdateRouteTable", "rtId", id)?;
        let r = req(
            Operation::UpdateRouteTable,
            Method::PUT,
            vec!["routeTables".into(), id],
        )
        .json(details)?
        .header_opt("if-match", if_match);
        self.execute(&r).await?.resource()
    }

    /// ListSecurityLists of a compartment, optionally of one VCN.
    pub async fn list_security_lists(
        &self,
        compartment_id: &str,
        vcn_id: Option<&str>,
    ) -> Result<Vec<SecurityList>, OciError> {
        let c = require("ListSecurityLists", "compartmentId", compartment_id)?;
        let r = req(
            Operation::ListSecurityLists,
            Method::GET,
            vec!["securityLists".into()],
        )
        .query("compartmentId", c)
        .query_opt("vcnId", vcn_id);
        self.list_all(r).await
    }

    /// UpdateSecurityList: given rule arrays replace the existing ones (`if-match` as above).
    pub async fn update_security_list(
        &self,
        id: &str,
        details: &UpdateSecurityListDetails,
        if_match: Option<&str>,
    ) -> Result<SecurityList, OciError> {
        let id = require("UpdateSecurityList", "securityListId", id)?;
        let r = req(
            Operation::UpdateSecurityList,
            Method::PUT,
            vec!["securityLists".into(), id],
        )
        .json(details)?
        .header_opt("if-match", if_match);
        self.execute(&r).await?.resource()
    }

    /// ListSubnets of a compartment, optionally of one VCN.
    pub async fn list_subnets(
        &self,
        compartment_id: &str,
        vcn_id: Option<&str>,
    ) -> Result<Vec<Subnet>, OciError> {
        let c = require("ListSubnets", "compartmentId", compartment_id)?;
        let r = req(Operation::ListSubnets, Method::GET, vec!["subnets".into()])
            .query("compartmentId", c)
            .query_opt("vcnId", vcn_id);
        self.list_all(r).await
    }

    /// ListPublicIps: the reserved public IPs of a compartment (`scope=REGION`, `lifetime=RESERVED`).
    pub async fn list_reserved_public_ips(
        &self,
        compartment_id: &str,
    ) -> Result<Vec<PublicIp>, OciError> {
        let c = require("ListPublicIps", "compartmentId", compartment_id)?;
        let r = req(
            Operation::ListPublicIps,
            Method::GET,
            vec!["publicIps".into()],
        )
        .query("scope", PublicIpScope::Region.as_str())
        .query("compartmentId", c)
        .query("lifetime", PublicIpLifetime::Reserved.as_str());
        self.list_all(r).await
    }

    /// UpdatePublicIp: assign a reserved IP to a private IP (`private_ip_id`), or unassign it
    /// with `Some("")`.
    pub async fn update_public_ip(
        &self,
        id: &str,
        details: &UpdatePublicIpDetails,
        if_match: Option<&str>,
    ) -> Result<PublicIp, OciError> {
        let id = require("UpdatePublicIp", "publicIpId", id)?;
        let r = req(
            Operation::UpdatePublicIp,
            Method::PUT,
            vec!["publicIps".into(), id],
        )
        .json(details)?
        .header_opt("if-match", if_match);
        self.execute(&r).await?.resource()
    }

    /// GetPublicIpByPrivateIpId: the public IP assigned to a private IP (404 when none).
    pub async fn get_public_ip_by_private_ip_id(
        &self,
        private_ip_id: &str,
    ) -> Result<PublicIp, OciError> {
        let p = require("GetPublicIpByPrivateIpId", "privateIpId", private_ip_id)?;
        let r = req(
            Operation::GetPublicIpByPrivateIpId,
            Method::POST,
            vec![
                "publicIps".into(),
                "actions".into(),
                "getByPrivateIpId".into(),
            ],
        )
        .json(&serde_json::json!({ "privateIpId": p }))?;
        self.execute(&r).await?.resource()
    }

    /// ListPrivateIps of a VNIC (the primary private IP is the one with `isPrimary`).
    pub async fn list_private_ips_by_vnic(
        &self,
        vnic_id: &str,
    ) -> Result<Vec<PrivateIp>, OciError> {
        let v = require("ListPrivateIps", "vnicId", vnic_id)?;
        self.list_all(
            req(
                Operation::ListPrivateIps,
                Method::GET,
                vec!["privateIps".into()],
            )
            .query("vnicId", v),
        )
        .await
    }

    /// GetPrivateIp.
    pub async fn get_private_ip(&self, id: &str) -> Result<PrivateIp, OciError> {
        let id = require("GetPrivateIp", "privateIpId", id)?;
        self.get_resource(req(
            Operation::GetPrivateIp,
            Method::GET,
            vec!["privateIps".into(), id],
        ))
        .await
    }

    /// ListDrgs of a compartment.
    pub async fn list_drgs(&self, compartment_id: &str) -> Result<Vec<Drg>, OciError> {
        let c = require("ListDrgs", "compartmentId", compartment_id)?;
        self.list_all(
            req(Operation::ListDrgs, Method::GET, vec!["drgs".into()]).query("compartmentId", c),
        )
        .await
    }

    /// ListDrgAttachments of a compartment, optionally of one DRG.
    pub async fn list_drg_attachments(
        &self,
        compartment_id: &str,
        drg_id: Option<&str>,
    ) -> Result<Vec<DrgAttachment>, OciError> {
        let c = require("ListDrgAttachments", "compartmentId", compartment_id)?;
        let r = req(
            Operation::ListDrgAttachments,
            Method::GET,
            vec!["drgAttachments".into()],
        )
        .query("compartmentId", c)
        .query_opt("drgId", drg_id);
        self.list_all(r).await
    }

    /// ListRemotePeeringConnections of a compartment, optionally of one DRG.
    pub async fn list_remote_peering_connections(
        &self,
        compartment_id: &str,
        drg_id: Option<&str>,
    ) -> Result<Vec<RemotePeeringConnection>, OciError> {
        let c = require(
            "ListRemotePeeringConnections",
            "compartmentId",
            compartment_id,
        )?;
        let r = req(
            Operation::ListRemotePeeringConnections,
            Method::GET,
            vec!["remotePeeringConnections".into()],
        )
        .query("compartmentId", c)
        .query_opt("drgId", drg_id);
        self.list_all(r).await
    }

    /// ConnectRemotePeeringConnections: call it in the requesting RPC's region; `peeringStatus`
    /// then goes PENDING → PEERED on both sides (poll with `get_remote_peering_connection`).
    pub async fn connect_remote_peering_connections(
        &self,
        rpc_id: &str,
        details: &ConnectRemotePeeringConnectionsDetails,
    ) -> Result<(), OciError> {
        let id = require(
            "ConnectRemotePeeringConnections",
            "remotePeeringConnectionId",
            rpc_id,
        )?;
        let r = req(
            Operation::ConnectRemotePeeringConnections,
            Method::POST,
            vec![
                "remotePeeringConnections".into(),
                id,
                "actions".into(),
                "connect".into(),
            ],
        )
        .json(details)?;
        self.execute(&r).await.map(|_| ())
    }
}
