//! How long each operation is expected to take, per kind: the weights of the critical-path
//! priority and the basis of poll intervals and wait timeouts. A table in code, overridable.

use std::collections::BTreeMap;
use std::time::Duration;

use pexspec_graph::Kind;
use pexspec_plan::{Action, Change};
use serde::Serialize;

/// One provider operation a step performs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Create, including the wait for the final lifecycle state.
    Create,
    /// Update in place, including the wait.
    Update,
    /// Delete, including the wait until the resource is gone.
    Delete,
}

const fn s(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

const fn min(mins: u64) -> Duration {
    Duration::from_secs(mins * 60)
}

/// The built-in estimate of an operation, from the call until the final lifecycle state.
///
/// The figures come from the deployment guide and the OCI provider's experience
/// (`reference/perf-reliability.md` §3.2): an image import from an OVA takes 20–25 minutes,
/// an instance launch 2–5 minutes, a Conferencing Node's first sync with the Management Node
/// about 5 minutes; network resources take seconds. They only need to be right relative to
/// each other: the executor uses them to start the slow chains first, to space its polls, and
/// to give up on a wait (four times the estimate, at least ten minutes).
pub const fn default_estimate(kind: Kind, op: Operation) -> Duration {
    use Operation::{Create, Delete, Update};
    match (kind, op) {
        (Kind::Compartment, Create) => s(10),
        (Kind::Compartment, Update) => s(5),
        (Kind::Compartment, Delete) => min(2),
        (Kind::Bucket, _) => s(2),
        // The create is the upload of a multi-gigabyte OVA file: a long call, not a wait.
        (Kind::Object, Create | Update) => min(2),
        (Kind::Object, Delete) => s(2),
        (Kind::Image, Create) => min(25),
        (Kind::Image, Update) => s(5),
        (Kind::Image, Delete) => s(10),
        (Kind::ImageShape, _) => s(2),
        (Kind::Vcn, Create | Delete) => s(5),
        (Kind::Vcn, Update) => s(2),
        (Kind::InternetGateway | Kind::RouteTable | Kind::SecurityList | Kind::PublicIp, _) => s(3),
        (Kind::Drg, Create | Delete) => s(60),
        (Kind::Drg, Update) => s(5),
        (Kind::DrgAttachment, Create | Delete) => s(30),
        (Kind::DrgAttachment, Update) => s(5),
        (Kind::Rpc, Create | Delete) => s(10),
        (Kind::Rpc, Update) => s(2),
        // Until both sides report PEERED.
        (Kind::RpcPeering, Create) => s(60),
        (Kind::RpcPeering, Update) => s(5),
        (Kind::RpcPeering, Delete) => s(30),
        (Kind::Subnet, Create | Delete) => s(5),
        (Kind::Subnet, Update) => s(3),
        (Kind::Instance, Create) => min(3),
        (Kind::Instance, Update | Delete) => min(1),
        // The installation wizard, then the reboot until the management API answers.
        (Kind::ManagementBootstrap, Create | Update) => min(5),
        (Kind::ManagementBootstrap, Delete) => s(1),
        (Kind::WorkerVm, _) => s(2),
        // The configuration file uploaded, then the node's first sync (sync_status SYNCED).
        (Kind::NodeBootstrap, Create | Update) => min(5),
        (Kind::NodeBootstrap, Delete) => s(1),
        (
            Kind::DnsServer
            | Kind::NtpServer
            | Kind::Licence
            | Kind::SystemLocation
            | Kind::TlsCertificate
            | Kind::Conference
            | Kind::ConferenceAlias,
            _,
        ) => s(1),
    }
}

/// The estimated duration of every operation: the built-in table
/// ([`default_estimate`]) with overrides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Durations {
    overrides: BTreeMap<(Kind, Operation), Duration>,
}

impl Durations {
    /// The built-in table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every operation estimated at the same duration: priority by the number of steps on
    /// the longest chain.
    pub fn flat(duration: Duration) -> Self {
        let mut out = Self::default();
        for kind in Kind::ALL {
            for op in [Operation::Create, Operation::Update, Operation::Delete] {
                out.overrides.insert((*kind, op), duration);
            }
        }
        out
    }

    /// Overrides one estimate.
    pub fn set(&mut self, kind: Kind, op: Operation, duration: Duration) {
        self.overrides.insert((kind, op), duration);
    }

    /// Overrides one estimate, builder style.
    #[must_use]
    pub fn with(mut self, kind: Kind, op: Operation, duration: Duration) -> Self {
        self.set(kind, op, duration);
        self
    }

    /// The estimate of one operation.
    pub fn estimate(&self, kind: Kind, op: Operation) -> Duration {
        self.overrides
            .get(&(kind, op))
            .copied()
            .unwrap_or_else(|| default_estimate(kind, op))
    }

    /// The estimate of a whole change: a replace is a delete then a create; a noop still
    /// pending (created, not yet listed) is a create's wait; other noops take no time.
    pub fn of_change(&self, change: &Change) -> Duration {
        let kind = change.kind;
        match change.action {
            Action::Create => self.estimate(kind, Operation::Create),
            Action::Update => self.estimate(kind, Operation::Update),
            Action::Delete => self.estimate(kind, Operation::Delete),
            Action::Replace => {
                self.estimate(kind, Operation::Delete) + self.estimate(kind, Operation::Create)
            }
            Action::Noop if change.pending => self.estimate(kind, Operation::Create),
            Action::Noop => Duration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slow_operations_dominate_and_overrides_win() {
        let d = Durations::new();
        assert_eq!(
            d.estimate(Kind::Image, Operation::Create),
            Duration::from_secs(1500)
        );
        assert!(
            d.estimate(Kind::Instance, Operation::Create)
                > d.estimate(Kind::Vcn, Operation::Create)
        );
        let d = d.with(Kind::Image, Operation::Create, Duration::from_secs(60));
        assert_eq!(
            d.estimate(Kind::Image, Operation::Create),
            Duration::from_secs(60)
        );
        let flat = Durations::flat(Duration::from_secs(1));
        assert_eq!(
            flat.estimate(Kind::NodeBootstrap, Operation::Delete),
            Duration::from_secs(1)
        );
    }
}
