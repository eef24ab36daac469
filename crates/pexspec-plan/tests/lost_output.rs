//! A `worker_vm` whose configuration file is lost ([`ObservedState::lost_outputs`]) is
//! replaced: the node is registered again, its `node_bootstrap` created, and nothing else
//! moves.

mod common;

use common::*;
use pexspec_graph::Kind;
use pexspec_plan::{Action, DeleteRequest, InMemoryProvider, apply_plan, plan};

#[test]
fn a_worker_vm_whose_file_is_lost_is_registered_again() {
    let cloud = InMemoryProvider::new();
    let g = graph(&spec_file(&specs_dir().join("quickstart.yaml")));
    converge(&g, &cloud);

    // The node was registered, its file never uploaded, and the file is gone.
    let bootstrap = observe(&g, &cloud)
        .get(&a("node_bootstrap[pexconf01]"))
        .cloned()
        .unwrap();
    cloud
        .delete_now(&DeleteRequest {
            stack: g.stack(),
            address: &bootstrap.address,
            kind: bootstrap.kind,
            region: None,
            id: &bootstrap.id,
            etag: None,
        })
        .unwrap();
    let mut observed = observe(&g, &cloud);
    let before = observed.fingerprint();
    observed.lost_outputs.insert(a("worker_vm[pexconf01]"));
    assert_ne!(
        before,
        observed.fingerprint(),
        "a saved plan must see the loss"
    );

    let p = plan(&g, &observed);
    let worker = p.change(&a("worker_vm[pexconf01]")).unwrap();
    assert_eq!(worker.action, Action::Replace);
    assert!(
        worker.reason.contains("configuration file was lost")
            && worker.reason.contains("registered again"),
        "{}",
        worker.reason
    );
    assert_eq!(
        p.change(&a("node_bootstrap[pexconf01]")).unwrap().action,
        Action::Create
    );
    // The other node, the instance and everything else stay as they are.
    assert_eq!(p.summary.replace, 1, "{:?}", p.summary);
    assert_eq!(p.summary.create, 1, "{:?}", p.summary);
    assert_eq!(p.summary.update + p.summary.delete, 0, "{:?}", p.summary);
    assert_eq!(
        p.change(&a("instance[pexconf01]")).unwrap().action,
        Action::Noop
    );

    // Applied, the plan is empty again.
    apply_plan(&g, &p, &cloud).unwrap();
    let again = plan(&g, &observe(&g, &cloud));
    assert!(again.is_empty(), "{:?}", again.summary);
    assert_eq!(count(&again, Kind::WorkerVm), 2);
}

#[test]
fn a_lost_output_of_a_resource_that_is_not_there_changes_nothing() {
    let g = graph(&spec_file(&specs_dir().join("quickstart.yaml")));
    let mut observed = pexspec_plan::ObservedState::new();
    observed.lost_outputs.insert(a("worker_vm[pexconf01]"));
    let p = plan(&g, &observed);
    assert_eq!(
        p.change(&a("worker_vm[pexconf01]")).unwrap().action,
        Action::Create
    );
    assert_eq!(p.summary.create, g.len());
}
