//! The steps of a plan as a dependency graph (which step waits for which), and the critical
//! path: the longest chain of durations through it, the bound no executor can beat.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use pexspec_graph::Address;
use pexspec_plan::{Action, Change, Plan};
use serde::Serialize;

use crate::error::ExecError;

/// Whether a change needs a step: every action but noop, and a noop still pending (created
/// by an earlier run, not yet listed: the step waits for it).
pub fn is_step(change: &Change) -> bool {
    change.action != Action::Noop || change.pending || change.wait.is_some()
}

/// The steps of a plan: indices into `changes`, what each waits for and who waits for it,
/// and a topological order (ties by plan order).
#[derive(Debug)]
pub(crate) struct StepGraph<'p> {
    pub(crate) changes: Vec<&'p Change>,
    pub(crate) deps: Vec<Vec<usize>>,
    pub(crate) dependents: Vec<Vec<usize>>,
    /// For a replace: the steps whose delete its old resource's delete waits for
    /// ([`Change::delete_after`]).
    pub(crate) del_deps: Vec<Vec<usize>>,
    /// The replaces whose old resource's delete waits for this step's delete.
    pub(crate) del_dependents: Vec<Vec<usize>>,
    pub(crate) order: Vec<usize>,
    pub(crate) unchanged: usize,
}

impl<'p> StepGraph<'p> {
    /// Builds the graph; refuses an address listed twice and a cycle. A dependency on an
    /// address that has no step (a noop, or not in the plan) is already satisfied.
    pub(crate) fn new(plan: &'p Plan) -> Result<Self, ExecError> {
        let mut seen = BTreeSet::new();
        for c in &plan.changes {
            if !seen.insert(&c.address) {
                return Err(ExecError::DuplicateAddress {
                    address: c.address.clone(),
                });
            }
        }
        let changes: Vec<&Change> = plan.changes.iter().filter(|c| is_step(c)).collect();
        let index: BTreeMap<&Address, usize> = changes
            .iter()
            .enumerate()
            .map(|(i, c)| (&c.address, i))
            .collect();
        let mut deps = vec![Vec::new(); changes.len()];
        let mut dependents = vec![Vec::new(); changes.len()];
        for (i, c) in changes.iter().enumerate() {
            let mut ds: Vec<usize> = c
                .depends_on
                .iter()
                .filter_map(|a| index.get(a).copied())
                .filter(|&d| d != i)
                .collect();
            ds.sort_unstable();
            ds.dedup();
            for &d in &ds {
                dependents[d].push(i);
            }
            deps[i] = ds;
        }
        let mut del_deps = vec![Vec::new(); changes.len()];
        let mut del_dependents = vec![Vec::new(); changes.len()];
        for (i, c) in changes.iter().enumerate() {
            if c.action != Action::Replace {
                continue;
            }
            let mut ds: Vec<usize> = c
                .delete_after
                .iter()
                .filter_map(|a| index.get(a).copied())
                .filter(|&d| {
                    d != i && matches!(changes[d].action, Action::Replace | Action::Delete)
                })
                .collect();
            ds.sort_unstable();
            ds.dedup();
            for &d in &ds {
                del_dependents[d].push(i);
            }
            del_deps[i] = ds;
        }
        // Kahn, the ready set ordered by plan position: deterministic.
        let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
        let mut ready: BTreeSet<usize> = (0..changes.len()).filter(|&i| waiting[i] == 0).collect();
        let mut order = Vec::with_capacity(changes.len());
        while let Some(i) = ready.pop_first() {
            order.push(i);
            for &t in &dependents[i] {
                waiting[t] -= 1;
                if waiting[t] == 0 {
                    ready.insert(t);
                }
            }
        }
        if order.len() < changes.len() {
            let stuck = (0..changes.len())
                .filter(|&i| waiting[i] > 0)
                .map(|i| &changes[i].address)
                .min()
                .cloned();
            if let Some(address) = stuck {
                return Err(ExecError::Cycle { address });
            }
        }
        let unchanged = plan.changes.len() - changes.len();
        Ok(Self {
            changes,
            deps,
            dependents,
            del_deps,
            del_dependents,
            order,
            unchanged,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.changes.len()
    }

    /// For each step, the longest chain of durations from it (included) to the end of the
    /// run through its dependents: its priority.
    pub(crate) fn remaining(&self, durations: &[Duration]) -> Vec<Duration> {
        let mut out = vec![Duration::ZERO; self.len()];
        for &i in self.order.iter().rev() {
            let tail = self.dependents[i]
                .iter()
                .map(|&d| out[d])
                .max()
                .unwrap_or_default();
            out[i] = durations[i].saturating_add(tail);
        }
        out
    }

    /// The longest chain of durations through the graph, with its steps.
    pub(crate) fn longest_chain(&self, durations: &[Duration]) -> CriticalPath {
        let n = self.len();
        let mut finish = vec![Duration::ZERO; n];
        let mut previous: Vec<Option<usize>> = vec![None; n];
        for &i in &self.order {
            let mut best: Option<usize> = None;
            for &d in &self.deps[i] {
                best = match best {
                    Some(b) if finish[b] > finish[d] => Some(b),
                    Some(b)
                        if finish[b] == finish[d]
                            && self.changes[b].address <= self.changes[d].address =>
                    {
                        Some(b)
                    }
                    _ => Some(d),
                };
            }
            previous[i] = best;
            finish[i] = durations[i].saturating_add(best.map_or(Duration::ZERO, |b| finish[b]));
        }
        let mut end: Option<usize> = None;
        for &i in &self.order {
            end = match end {
                Some(e) if finish[e] >= finish[i] => Some(e),
                _ => Some(i),
            };
        }
        let mut chain = Vec::new();
        let mut at = end;
        while let Some(i) = at {
            chain.push(ChainLink {
                address: self.changes[i].address.clone(),
                duration_ms: ms(durations[i]),
            });
            at = previous[i];
        }
        chain.reverse();
        CriticalPath {
            total_ms: end.map_or(0, |e| ms(finish[e])),
            chain,
        }
    }
}

pub(crate) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// One step of a chain, with its duration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainLink {
    /// The resource.
    pub address: Address,
    /// The step's duration.
    pub duration_ms: u64,
}

/// The longest chain of dependent steps and the sum of their durations.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CriticalPath {
    /// The sum of the durations along the chain.
    pub total_ms: u64,
    /// The steps of the chain, first to last.
    pub chain: Vec<ChainLink>,
}

impl CriticalPath {
    /// The sum of the durations along the chain.
    pub fn total(&self) -> Duration {
        Duration::from_millis(self.total_ms)
    }

    /// The addresses along the chain.
    pub fn addresses(&self) -> Vec<&Address> {
        self.chain.iter().map(|l| &l.address).collect()
    }
}

/// The critical path of a plan: the longest chain of dependent steps, each weighing
/// `duration(change)`. With each step's true duration this is the lower bound on any
/// executor's wall time, however many calls it may have in flight; a benchmark reports
/// wall time / critical path. Noops (that are not pending) are not steps and weigh nothing.
///
/// Fails on a plan that lists an address twice or whose steps wait for each other in a
/// cycle (a hand-edited plan file).
pub fn critical_path(
    plan: &Plan,
    mut duration: impl FnMut(&Change) -> Duration,
) -> Result<CriticalPath, ExecError> {
    let g = StepGraph::new(plan)?;
    let durations: Vec<Duration> = g.changes.iter().map(|c| duration(c)).collect();
    Ok(g.longest_chain(&durations))
}

#[cfg(test)]
mod tests {
    use pexspec_graph::Kind;
    use pexspec_plan::Summary;

    use super::*;

    fn change(key: &str, action: Action, deps: &[&str]) -> Change {
        Change {
            address: Address::new(Kind::Vcn, key),
            kind: Kind::Vcn,
            action,
            reason: String::new().into(),
            depends_on: deps.iter().map(|d| Address::new(Kind::Vcn, *d)).collect(),
            region: None,
            id: None,
            diff: Vec::new(),
            pending: false,
            wait: None,
            delete_after: Vec::new(),
        }
    }

    fn plan(changes: Vec<Change>) -> Plan {
        Plan {
            version: 1,
            stack: "t".into(),
            observed: String::new(),
            regions: Vec::new(),
            changes,
            summary: Summary::default(),
            source: None,
        }
    }

    #[test]
    fn the_longest_chain_wins_and_noops_weigh_nothing() {
        //   a(1) ── b(5) ── d(1)
        //     \
        //      c(2) ── e(noop) ── f(1)
        let p = plan(vec![
            change("a", Action::Create, &[]),
            change("b", Action::Create, &["a"]),
            change("c", Action::Create, &["a"]),
            change("d", Action::Create, &["b"]),
            change("e", Action::Noop, &["c"]),
            change("f", Action::Create, &["e", "c"]),
        ]);
        let secs = |c: &Change| match c.address.key() {
            Some("b") => Duration::from_secs(5),
            Some("c") => Duration::from_secs(2),
            _ => Duration::from_secs(1),
        };
        let cp = critical_path(&p, secs).unwrap();
        assert_eq!(cp.total(), Duration::from_secs(7));
        let keys: Vec<&str> = cp.chain.iter().filter_map(|l| l.address.key()).collect();
        assert_eq!(keys, ["a", "b", "d"]);
    }

    #[test]
    fn remaining_paths_rank_the_heads_of_slow_chains_first() {
        let p = plan(vec![
            change("a", Action::Create, &[]),
            change("b", Action::Create, &[]),
            change("c", Action::Create, &["b"]),
        ]);
        let g = StepGraph::new(&p).unwrap();
        let r = g.remaining(&[
            Duration::from_secs(3),
            Duration::from_secs(1),
            Duration::from_secs(4),
        ]);
        assert_eq!(
            r,
            [
                Duration::from_secs(3),
                Duration::from_secs(5),
                Duration::from_secs(4)
            ]
        );
    }

    #[test]
    fn duplicates_and_cycles_are_refused() {
        let dup = plan(vec![
            change("a", Action::Create, &[]),
            change("a", Action::Delete, &[]),
        ]);
        assert!(matches!(
            critical_path(&dup, |_| Duration::ZERO),
            Err(ExecError::DuplicateAddress { .. })
        ));
        let cycle = plan(vec![
            change("a", Action::Create, &["b"]),
            change("b", Action::Create, &["a"]),
        ]);
        assert_eq!(
            critical_path(&cycle, |_| Duration::ZERO)
                .unwrap_err()
                .to_string(),
            "the plan's steps wait for each other in a cycle through `vcn[a]`"
        );
        let empty = plan(vec![]);
        assert_eq!(
            critical_path(&empty, |_| Duration::ZERO).unwrap(),
            CriticalPath::default()
        );
    }
}
