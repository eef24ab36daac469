//! Conferencing Node configuration files that are lost: a `worker_vm` create returns its
//! node's file once; the journal keeps it (sealed) until the `node_bootstrap` uploads it. If
//! the journal is gone (deleted, or the run was killed between the create's answer and the
//! journal's write) while the node was registered but never configured, nothing can upload
//! it any more. Rather than a `node_bootstrap` that fails, the plan then shows the node
//! registered again: its `worker_vm` replaced (a new file, kept this time) and its
//! `node_bootstrap` created ([`pexspec_plan::ObservedState::lost_outputs`]).
//!
//! A node that reported to the Management Node (its `node_bootstrap` observed) needs no file
//! any more; a node whose upload is still awaited (`pending`) is left to the executor.

use std::io::Write;

use pexspec_exec::SENSITIVE_OUTPUT_KINDS;
use pexspec_graph::{Address, Graph, Kind};
use pexspec_journal::{Journal, JournalError};
use pexspec_plan::ObservedState;

use crate::apply::Prepared;

/// The observed resources of `graph` whose one-time output a step still needs and that
/// `journal` does not hold (or holds but cannot unseal), by address.
pub(crate) fn lost_outputs(
    journal: &Journal,
    graph: &Graph,
    observed: &ObservedState,
) -> Result<Vec<Address>, JournalError> {
    let mut lost = Vec::new();
    for node in graph.nodes() {
        let address = &node.address;
        if !SENSITIVE_OUTPUT_KINDS.contains(&node.kind()) || observed.get(address).is_none() {
            continue;
        }
        // The steps that take the output as their input: never configured, not awaited.
        let needed = graph.dependents(address).into_iter().any(|d| {
            d.kind() == Kind::NodeBootstrap
                && observed.get(d).is_none()
                && !observed.pending.contains(d)
        });
        if !needed {
            continue;
        }
        match journal.sensitive(graph.stack(), address) {
            Ok(Some(_)) => {}
            Ok(None) | Err(JournalError::Unseal { .. }) => lost.push(address.clone()),
            Err(e) => return Err(e),
        }
    }
    Ok(lost)
}

/// Adds the lost outputs ([`lost_outputs`]) to `observed.lost_outputs`, with a note for each
/// on `err`. A journal that cannot be read marks nothing (a warning says so): the
/// `node_bootstrap` then fails, naming the file it lacks.
pub(crate) fn mark(
    journal: &Journal,
    graph: &Graph,
    observed: &mut ObservedState,
    err: &mut dyn Write,
) {
    match lost_outputs(journal, graph, observed) {
        Ok(lost) => {
            for address in lost {
                let _ = writeln!(
                    err,
                    "note: the configuration file of `{address}` is not in the journal and its node never reported: the node will be registered again"
                );
                observed.lost_outputs.insert(address);
            }
        }
        Err(e) => {
            let _ = writeln!(
                err,
                "warning: cannot tell which node configuration files the journal holds: {e}"
            );
        }
    }
}

/// [`mark`] with the journal of the prepared spec's state directory (`.pexspec/` beside
/// it): for `plan`, which holds no journal of its own.
pub(crate) fn mark_in(prepared: &Prepared, observed: &mut ObservedState, err: &mut dyn Write) {
    let state_dir = prepared.spec_dir.join(".pexspec");
    // Read-only: a plan beside a running apply never makes the apply's journal writes wait
    // or fail.
    match Journal::open_read_only(&state_dir) {
        Ok(journal) => mark(&journal, &prepared.graph, observed, err),
        Err(e) => {
            let _ = writeln!(
                err,
                "warning: cannot open the journal to tell which node configuration files it holds: {e}"
            );
            if let Some(advice) = e.advice() {
                let _ = writeln!(err, "  help: {}", crate::indent(&advice));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use pexspec_plan::{InMemoryProvider, Scope, Sensitive, apply_plan, plan};

    use super::*;

    fn quickstart() -> Graph {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../specs/quickstart.yaml");
        let spec = pexspec_spec::load_file(&path).unwrap().spec.unwrap();
        pexspec_graph::compile(&spec).unwrap()
    }

    fn a(text: &str) -> Address {
        Address::parse(text).unwrap()
    }

    /// Everything applied in memory, then `node_bootstrap[pexconf01]` forgotten (its node
    /// never reported).
    fn applied(graph: &Graph) -> ObservedState {
        let cloud = InMemoryProvider::new();
        for node in graph.nodes() {
            if let Some(lookup) = node
                .desired()
                .get("source_details")
                .and_then(|s| s.get("image_id"))
                .and_then(pexspec_graph::Lookup::from_value)
            {
                cloud.add_lookup(&lookup, "ocid1.image.replica".to_owned());
            }
        }
        let scope = Scope::of(graph);
        let p = plan(graph, &cloud.observe_now(&scope));
        apply_plan(graph, &p, &cloud).unwrap();
        let mut observed = cloud.observe_now(&scope);
        observed.resources.remove(&a("node_bootstrap[pexconf01]"));
        observed
    }

    #[test]
    fn a_registered_node_without_its_file_is_lost_until_the_journal_holds_it() {
        let graph = quickstart();
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        let mut observed = applied(&graph);

        let mut err = Vec::new();
        mark(&journal, &graph, &mut observed, &mut err);
        let lost: Vec<&Address> = observed.lost_outputs.iter().collect();
        assert_eq!(lost, [&a("worker_vm[pexconf01]")]);
        let note = String::from_utf8(err).unwrap();
        assert!(note.contains("registered again"), "{note}");

        // A kept file: nothing is lost.
        let run = journal
            .begin_run(&pexspec_journal::RunInfo {
                command: "apply".into(),
                stack: graph.stack().into(),
                spec_hash: String::new(),
                who: "test".into(),
            })
            .unwrap();
        pexspec_exec::SensitiveSink::store(
            &run,
            &a("worker_vm[pexconf01]"),
            &Sensitive::new(b"<xml/>".to_vec()),
        )
        .unwrap();
        assert!(
            lost_outputs(&journal, &graph, &applied(&graph))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn an_awaited_upload_or_a_missing_node_is_not_lost() {
        let graph = quickstart();
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        let mut observed = applied(&graph);
        observed.pending.insert(a("node_bootstrap[pexconf01]"));
        assert!(
            lost_outputs(&journal, &graph, &observed)
                .unwrap()
                .is_empty()
        );
        let mut observed = applied(&graph);
        observed.resources.remove(&a("worker_vm[pexconf01]"));
        assert!(
            lost_outputs(&journal, &graph, &observed)
                .unwrap()
                .is_empty()
        );
    }
}
