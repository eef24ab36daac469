//! The call journal hook: every create, update and delete is recorded before the provider
//! sees it and answered after; a call whose intent cannot be recorded is not sent; a result
//! that cannot be recorded fails the step but loses nothing; a hard cancel leaves intents
//! without results; a sensitive output is kept before the result is recorded.

use std::sync::Mutex;
use std::time::Duration;

use pexspec_exec::testing::{Call, CallRecord, Fault, SimProvider, SimTiming};
use pexspec_exec::{
    CallAction, CallId, CallIntent, CallJournal, CallOutcome, CallResult, Cancel, EventLog,
    Executor, MemorySensitiveSink, Outcome, SensitiveSink, SinkError,
};
use pexspec_graph::{Address, Graph, Kind, Node, Ref};
use pexspec_plan::{Action, DynProvider, ObservedState, Plan, ProviderError};
use serde_json::json;

use crate::support::*;

/// One journal line as the test double saw it.
#[derive(Clone, Debug, PartialEq)]
struct Line {
    address: Address,
    action: CallAction,
    retry_token: Option<String>,
    /// Mutating calls the provider had seen for this address when the intent came.
    provider_calls_at_intent: usize,
    /// Mutating calls the provider had seen (and answered) when the result came.
    provider_calls_at_result: Option<usize>,
    outcome: Option<CallOutcome>,
    resource_id: Option<String>,
    /// Whether the sink held the address's sensitive output when the result came.
    output_kept_at_result: Option<bool>,
}

/// A journal that checks each call against the provider's log as it is recorded.
struct Recording<'a> {
    sim: SimProvider,
    sink: &'a MemorySensitiveSink,
    lines: Mutex<Vec<Line>>,
    refuse_intent: Option<Address>,
    refuse_result: Option<Address>,
}

impl<'a> Recording<'a> {
    fn new(sim: &SimProvider, sink: &'a MemorySensitiveSink) -> Self {
        Self {
            sim: sim.clone(),
            sink,
            lines: Mutex::new(Vec::new()),
            refuse_intent: None,
            refuse_result: None,
        }
    }

    fn lines(&self) -> Vec<Line> {
        self.lines.lock().unwrap().clone()
    }

    /// The provider's mutating calls of `address` that have answered, and all of them.
    fn mutating(&self, address: &Address) -> (usize, usize) {
        let calls: Vec<CallRecord> = self
            .sim
            .calls_of(address)
            .into_iter()
            .filter(|c| c.call != Call::Get)
            .collect();
        (
            calls.iter().filter(|c| c.end.is_some()).count(),
            calls.len(),
        )
    }
}

impl CallJournal for Recording<'_> {
    fn intent(&self, call: &CallIntent<'_>) -> Result<CallId, SinkError> {
        if self.refuse_intent.as_ref() == Some(call.address) {
            return Err(SinkError::new("disk full"));
        }
        let (_, seen) = self.mutating(call.address);
        let mut lines = self.lines.lock().unwrap();
        lines.push(Line {
            address: call.address.clone(),
            action: call.action,
            retry_token: call.retry_token.map(str::to_owned),
            provider_calls_at_intent: seen,
            provider_calls_at_result: None,
            outcome: None,
            resource_id: None,
            output_kept_at_result: None,
        });
        Ok(CallId(lines.len() as u64 - 1))
    }

    fn result(&self, id: CallId, result: &CallResult<'_>) -> Result<(), SinkError> {
        let mut lines = self.lines.lock().unwrap();
        let line = &mut lines[id.0 as usize];
        let (answered, _) = self.mutating(&line.address);
        line.provider_calls_at_result = Some(answered);
        line.outcome = Some(result.outcome);
        line.resource_id = result.resource_id.map(str::to_owned);
        line.output_kept_at_result = Some(self.sink.get(&line.address).is_some());
        if self.refuse_result.as_ref() == Some(&line.address) {
            return Err(SinkError::new("disk full"));
        }
        Ok(())
    }
}

async fn run_journalled(
    sim: &SimProvider,
    graph: &Graph,
    p: &Plan,
    observed: &ObservedState,
    journal: &dyn CallJournal,
    sink: &dyn SensitiveSink,
) -> pexspec_exec::Report {
    let providers: Vec<Box<dyn DynProvider>> = vec![Box::new(sim.clone())];
    Executor::new(p, graph, observed, &providers)
        .options(options())
        .journal(journal)
        .sensitive_sink(sink)
        .run(EventLog::new())
        .await
        .expect("the run starts")
}

/// VCNs `a`, `b` (depends on `a`) and, if `with_c`, `c`; `a` named `a_name`.
fn vcns(a_name: &str, with_c: bool) -> Graph {
    let node = |key: &str, name: &str, deps: &[&str]| {
        let refs: Vec<_> = deps.iter().map(|d| Ref::id(vcn(d)).to_value()).collect();
        Node::new(
            vcn(key),
            Some("eu-frankfurt-1".into()),
            json!({ "name": name, "deps": refs }),
        )
    };
    let mut nodes = vec![node("a", a_name, &[]), node("b", "vcn[b]", &["a"])];
    if with_c {
        nodes.push(node("c", "vcn[c]", &[]));
    }
    Graph::new("t", vec!["eu-frankfurt-1".into()], nodes).expect("a valid graph")
}

#[tokio::test(start_paused = true)]
async fn every_create_update_and_delete_is_journalled_before_the_provider_sees_it() {
    let sim = SimProvider::new(SimTiming::realistic());
    let sink = MemorySensitiveSink::new();
    let journal = Recording::new(&sim, &sink);
    let graph = vcns("vcn[a]", true);
    let (p, observed) = plan_now(&sim, &graph);
    let report = run_journalled(&sim, &graph, &p, &observed, &journal, &sink).await;
    assert!(report.is_success(), "{:#?}", report.failures);
    // Rename `a` (an update) and drop `c` (a delete).
    let graph = vcns("renamed", false);
    let (p, observed) = plan_now(&sim, &graph);
    assert_eq!(p.change(&vcn("a")).unwrap().action, Action::Update);
    assert_eq!(p.change(&vcn("c")).unwrap().action, Action::Delete);
    let report = run_journalled(&sim, &graph, &p, &observed, &journal, &sink).await;
    assert!(report.is_success(), "{:#?}", report.failures);

    let lines = journal.lines();
    let actions: Vec<(String, CallAction)> = lines
        .iter()
        .map(|l| (l.address.to_string(), l.action))
        .collect();
    let mut sorted = actions.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            ("vcn[a]".to_owned(), CallAction::Create),
            ("vcn[a]".to_owned(), CallAction::Update),
            ("vcn[b]".to_owned(), CallAction::Create),
            ("vcn[c]".to_owned(), CallAction::Create),
            ("vcn[c]".to_owned(), CallAction::Delete),
        ]
    );
    for (n, line) in lines.iter().enumerate() {
        let earlier = lines[..n]
            .iter()
            .filter(|l| l.address == line.address)
            .count();
        // At the intent, the provider had seen only the calls journalled before it...
        assert_eq!(line.provider_calls_at_intent, earlier, "{line:?}");
        // ...and at the result, it had answered this one too.
        assert_eq!(line.provider_calls_at_result, Some(earlier + 1), "{line:?}");
        assert_eq!(line.outcome, Some(CallOutcome::Succeeded), "{line:?}");
        assert!(line.resource_id.is_some(), "{line:?}");
        assert_eq!(
            line.retry_token.is_some(),
            line.action == CallAction::Create,
            "{line:?}"
        );
    }
    // Every mutating call the provider saw was journalled.
    let mutating = sim.calls().iter().filter(|c| c.call != Call::Get).count();
    assert_eq!(mutating, lines.len());
}

#[tokio::test(start_paused = true)]
async fn a_lost_answer_is_journalled_as_unknown_and_each_attempt_has_its_intent() {
    let sim = SimProvider::new(SimTiming::instant());
    let sink = MemorySensitiveSink::new();
    let journal = Recording::new(&sim, &sink);
    let graph = dag(&[("a", &[])]);
    sim.inject(&vcn("a"), Call::Create, Fault::LoseAnswer { times: 1 });
    sim.inject(
        &vcn("a"),
        Call::Get,
        Fault::Fail {
            times: 1,
            error: ProviderError::Network {
                message: "reset".into(),
            },
        },
    );
    let (p, observed) = plan_now(&sim, &graph);
    let report = run_journalled(&sim, &graph, &p, &observed, &journal, &sink).await;
    assert!(report.is_success(), "{:#?}", report.failures);
    let outcomes: Vec<Option<CallOutcome>> = journal.lines().iter().map(|l| l.outcome).collect();
    // The create went through but its answer was lost; the probe found it: no second create.
    assert_eq!(outcomes, [Some(CallOutcome::Unknown)]);
    assert_eq!(sim.cloud().len("t"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_call_whose_intent_cannot_be_recorded_is_not_sent() {
    let sim = SimProvider::new(SimTiming::instant());
    let sink = MemorySensitiveSink::new();
    let mut journal = Recording::new(&sim, &sink);
    journal.refuse_intent = Some(vcn("a"));
    let graph = dag(&[("a", &[]), ("b", &["a"]), ("c", &[])]);
    let (p, observed) = plan_now(&sim, &graph);
    let report = run_journalled(&sim, &graph, &p, &observed, &journal, &sink).await;
    assert_eq!(report.step(&vcn("a")).unwrap().outcome, Outcome::Failed);
    assert_eq!(report.step(&vcn("b")).unwrap().outcome, Outcome::Skipped);
    assert_eq!(report.step(&vcn("c")).unwrap().outcome, Outcome::Created);
    assert_eq!(
        report.failures[&vcn("a")].message,
        "the journal could not record the create of `vcn[a]`, so it was not sent: disk full"
    );
    assert!(sim.calls_of(&vcn("a")).is_empty());
    assert_eq!(report.step(&vcn("a")).unwrap().calls, 0);
}

#[tokio::test(start_paused = true)]
async fn a_result_that_cannot_be_recorded_fails_the_step_and_the_next_plan_finds_the_resource() {
    let sim = SimProvider::new(SimTiming::instant());
    let sink = MemorySensitiveSink::new();
    let mut journal = Recording::new(&sim, &sink);
    journal.refuse_result = Some(vcn("a"));
    let graph = dag(&[("a", &[]), ("b", &["a"])]);
    let (p, observed) = plan_now(&sim, &graph);
    let report = run_journalled(&sim, &graph, &p, &observed, &journal, &sink).await;
    assert_eq!(report.step(&vcn("a")).unwrap().outcome, Outcome::Failed);
    assert_eq!(report.step(&vcn("b")).unwrap().outcome, Outcome::Skipped);
    assert_eq!(
        report.failures[&vcn("a")].message,
        "the journal could not record the answer to the create of `vcn[a]`: disk full"
    );
    let (p, _) = plan_now(&sim, &graph);
    assert_eq!(p.change(&vcn("a")).unwrap().action, Action::Noop);
    assert_eq!(p.change(&vcn("b")).unwrap().action, Action::Create);
}

#[tokio::test(start_paused = true)]
async fn a_hard_cancel_leaves_the_intent_of_the_call_in_flight_without_a_result() {
    let sim =
        SimProvider::new(SimTiming::instant().with_call(vcn("slow"), Duration::from_secs(30)));
    let sink = MemorySensitiveSink::new();
    let journal = Recording::new(&sim, &sink);
    let graph = dag(&[("slow", &[]), ("fast", &[])]);
    let (p, observed) = plan_now(&sim, &graph);
    let cancel = Cancel::new();
    let handle = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(10)).await;
        handle.cancel();
        handle.cancel();
    });
    let providers: Vec<Box<dyn DynProvider>> = vec![Box::new(sim.clone())];
    let report = Executor::new(&p, &graph, &observed, &providers)
        .options(options())
        .journal(&journal)
        .cancel(cancel)
        .run(EventLog::new())
        .await
        .unwrap();
    assert_eq!(report.step(&vcn("slow")).unwrap().outcome, Outcome::Aborted);
    let lines = journal.lines();
    let slow = lines.iter().find(|l| l.address == vcn("slow")).unwrap();
    assert_eq!(slow.outcome, None);
    let fast = lines.iter().find(|l| l.address == vcn("fast")).unwrap();
    assert_eq!(fast.outcome, Some(CallOutcome::Succeeded));
}

#[tokio::test(start_paused = true)]
async fn a_worker_vm_file_is_kept_before_its_create_is_recorded_as_answered() {
    let graph = fixture("quickstart.yaml");
    let sim = SimProvider::new(SimTiming::instant());
    let sink = MemorySensitiveSink::new();
    let journal = Recording::new(&sim, &sink);
    let (p, observed) = plan_now(&sim, &graph);
    let report = run_journalled(&sim, &graph, &p, &observed, &journal, &sink).await;
    assert!(report.is_success(), "{:#?}", report.failures);
    let workers: Vec<Line> = journal
        .lines()
        .into_iter()
        .filter(|l| l.address.kind() == Kind::WorkerVm)
        .collect();
    assert_eq!(workers.len(), 2);
    for w in &workers {
        assert_eq!(w.output_kept_at_result, Some(true), "{w:?}");
    }
}
