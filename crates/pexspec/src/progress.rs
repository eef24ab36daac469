//! How `apply` and `destroy` show a run: live progress bars on a terminal (indicatif), plain
//! lines otherwise, or one JSON event per line (`--output json`); and the summary at the end.
//!
//! The executor never prints: its [`Event`]s come here. No event holds a secret (desired
//! states only hold references), so every renderer may show all of an event, and `--debug`
//! may print each one in full.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use pexspec_exec::{Event, EventSink, Outcome, Report};
use pexspec_graph::{Address, Graph};
use pexspec_plan::{Action, Plan};

use crate::world::{Retries, World};

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// indicatif on standard error.
    Live,
    /// A line per event that matters, on standard error.
    Plain,
    /// One JSON object per event on standard output.
    Json,
}

/// Called with each event before it is shown (the `--sim` wizard hook).
pub(crate) type Hook<'a> = Box<dyn FnMut(&Event) + 'a>;

/// Reads the retries made beyond the executor's (the world's counters), for the `retries`
/// event that `--output json` writes before the summary.
pub(crate) type RetrySource<'a> = Box<dyn Fn() -> Retries + 'a>;

/// An [`EventSink`] that renders.
pub(crate) struct Progress<'a> {
    style: Style,
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    hook: Option<Hook<'a>>,
    retries: Option<RetrySource<'a>>,
    debug: bool,
    live: Option<Live>,
    total: usize,
    done: usize,
    /// What the run is: "apply" or "destroy".
    verb: &'static str,
}

struct Live {
    multi: MultiProgress,
    main: ProgressBar,
    running: BTreeMap<Address, ProgressBar>,
}

fn secs(ms: u64) -> String {
    let s = Duration::from_millis(ms).as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    }
}

/// The past tense of an outcome, for people.
pub(crate) fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Created => "created",
        Outcome::Updated => "updated",
        Outcome::Replaced => "replaced",
        Outcome::Deleted => "deleted",
        Outcome::Appeared => "appeared",
        Outcome::Failed => "FAILED",
        Outcome::Skipped => "skipped",
        Outcome::NotStarted => "not started",
        Outcome::Aborted => "aborted",
    }
}

fn action_word(a: Action) -> &'static str {
    match a {
        Action::Create => "creating",
        Action::Update => "updating",
        Action::Replace => "replacing",
        Action::Delete => "deleting",
        Action::Noop => "waiting for",
    }
}

impl<'a> Progress<'a> {
    /// A renderer in `style`.
    pub fn new(
        style: Style,
        verb: &'static str,
        out: &'a mut dyn Write,
        err: &'a mut dyn Write,
    ) -> Self {
        Progress {
            style,
            out,
            err,
            hook: None,
            retries: None,
            debug: false,
            live: None,
            total: 0,
            done: 0,
            verb,
        }
    }

    /// Calls `hook` with every event first.
    pub fn with_hook(mut self, hook: Hook<'a>) -> Self {
        self.hook = Some(hook);
        self
    }

    /// With `--output json`, writes the `retries` event from `source` before the summary.
    pub fn with_retries(mut self, source: RetrySource<'a>) -> Self {
        self.retries = Some(source);
        self
    }

    /// `--debug`: also writes every event, in its `Debug` form, to standard error.
    pub fn with_debug(mut self, debug: bool) -> Self {
        self.debug = debug;
        self
    }

    fn debug_event(&mut self, event: &Event) {
        let line = format!("debug: {event:?}");
        if let Some(live) = &self.live {
            live.multi.suspend(|| {
                let _ = writeln!(self.err, "{line}");
            });
        } else {
            let _ = writeln!(self.err, "{line}");
        }
    }

    fn start_live(&mut self, steps: usize) {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let main = multi.add(ProgressBar::new(steps as u64));
        main.set_style(
            ProgressStyle::with_template(
                "{spinner} {prefix} [{bar:30}] {pos}/{len} steps  {elapsed_precise}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        main.set_prefix(self.verb);
        main.enable_steady_tick(Duration::from_millis(120));
        self.live = Some(Live {
            multi,
            main,
            running: BTreeMap::new(),
        });
    }

    fn step_bar(live: &mut Live, address: &Address, action: Action) {
        let bar = live.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("  {spinner} {msg} {elapsed:>4}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(format!("{} {address}", action_word(action)));
        bar.enable_steady_tick(Duration::from_millis(120));
        live.running.insert(address.clone(), bar);
    }

    fn plain(&mut self, at_ms: u64, text: std::fmt::Arguments<'_>) {
        let line = format!("[{:>7}] {text}", secs(at_ms));
        if let Some(live) = &self.live {
            live.multi.suspend(|| {
                let _ = writeln!(self.err, "{line}");
            });
        } else {
            let _ = writeln!(self.err, "{line}");
        }
    }

    fn render(&mut self, event: &Event) {
        if self.style == Style::Json {
            if let (Event::Summary { .. }, Some(source)) = (event, &self.retries) {
                let retries = RetriesEvent {
                    event: "retries",
                    retries: &source(),
                };
                if let Ok(text) = serde_json::to_string(&retries) {
                    let _ = writeln!(self.out, "{text}");
                }
            }
            if let Ok(text) = serde_json::to_string(event) {
                let _ = writeln!(self.out, "{text}");
                let _ = self.out.flush();
            }
            return;
        }
        match event {
            Event::PlanStarted {
                steps, parallelism, ..
            } => {
                self.total = *steps;
                if self.style == Style::Live {
                    self.start_live(*steps);
                } else {
                    let _ = writeln!(
                        self.err,
                        "{} {steps} steps, at most {parallelism} calls at once",
                        self.verb
                    );
                }
            }
            Event::StepStarted {
                at_ms,
                address,
                action,
                ..
            } => {
                if let Some(live) = &mut self.live {
                    Self::step_bar(live, address, *action);
                } else {
                    self.plain(*at_ms, format_args!("{} {address}", action_word(*action)));
                }
            }
            Event::StepWaiting {
                at_ms,
                address,
                state,
            } => {
                let state = state.as_deref().unwrap_or("not listed yet");
                if let Some(bar) = self.live.as_ref().and_then(|l| l.running.get(address)) {
                    let base = bar.message();
                    let base = base.split(" — ").next().unwrap_or_default().to_owned();
                    bar.set_message(format!("{base} — {state}"));
                } else if self.live.is_none() {
                    self.plain(*at_ms, format_args!("{address}: {state}"));
                }
            }
            Event::StepRetrying {
                at_ms,
                address,
                attempt,
                error,
                delay_ms,
                ..
            } => {
                self.plain(
                    *at_ms,
                    format_args!(
                        "{address}: {error}; attempt {attempt} in {}",
                        secs(*delay_ms)
                    ),
                );
            }
            Event::StepFinished {
                at_ms,
                address,
                outcome,
                duration_ms,
                error,
                ..
            } => {
                self.done += 1;
                if let Some(live) = &mut self.live {
                    if let Some(bar) = live.running.remove(address) {
                        bar.finish_and_clear();
                        live.multi.remove(&bar);
                    }
                    live.main.inc(1);
                }
                let mark = if outcome.is_success() { "✓" } else { "✗" };
                match error {
                    Some(f) => self.plain(
                        *at_ms,
                        format_args!(
                            "{mark} {address} {} after {}: {}",
                            outcome_word(*outcome),
                            secs(*duration_ms),
                            f.message
                        ),
                    ),
                    None => self.plain(
                        *at_ms,
                        format_args!(
                            "{mark} {address} {} ({})",
                            outcome_word(*outcome),
                            secs(*duration_ms)
                        ),
                    ),
                }
            }
            Event::StepSkipped {
                at_ms,
                address,
                because,
                ..
            } => {
                self.done += 1;
                if let Some(live) = &self.live {
                    live.main.inc(1);
                }
                self.plain(
                    *at_ms,
                    format_args!("- {address} skipped: it needs {because}, which failed"),
                );
            }
            Event::Cancelled {
                at_ms,
                hard,
                in_flight,
            } => {
                if *hard {
                    self.plain(
                        *at_ms,
                        format_args!(
                            "interrupted again: abandoning {in_flight} steps in flight (the next plan sees what they did)"
                        ),
                    );
                } else {
                    self.plain(
                        *at_ms,
                        format_args!(
                            "interrupted: starting nothing more, letting {in_flight} steps in flight finish (Ctrl-C again to abandon them)"
                        ),
                    );
                }
            }
            Event::Stopping { at_ms, because } => {
                self.plain(
                    *at_ms,
                    format_args!(
                        "--fail-fast: {because} failed, starting nothing more; steps in flight finish"
                    ),
                );
            }
            Event::Summary { .. } => {
                if let Some(live) = self.live.take() {
                    for (_, bar) in live.running {
                        bar.finish_and_clear();
                    }
                    live.main.finish_and_clear();
                    let _ = live.multi.clear();
                }
            }
        }
    }
}

impl EventSink for Progress<'_> {
    fn emit(&mut self, event: Event) {
        if let Some(hook) = &mut self.hook {
            hook(&event);
        }
        if self.debug {
            self.debug_event(&event);
        }
        self.render(&event);
    }
}

/// The JSON line of the retries beyond the executor's: `{"event":"retries","throttled":n,
/// "server_errors":n,"other":n,"placement":[{"address","from","to","message"}]}`.
#[derive(serde::Serialize)]
struct RetriesEvent<'a> {
    event: &'static str,
    #[serde(flatten)]
    retries: &'a Retries,
}

/// The summary for people: counts, time, the longest chain, the retries (the executor's, the
/// OCI client's by cause, and launches moved for want of capacity), and each failure with
/// what to do.
pub(crate) fn summary(report: &Report, verb: &str, retries: &Retries, err: &mut dyn Write) {
    let mut parts = Vec::new();
    for (n, word) in [
        (report.created, "created"),
        (report.updated, "updated"),
        (report.replaced, "replaced"),
        (report.deleted, "deleted"),
        (report.appeared, "appeared"),
        (report.failed, "failed"),
        (report.skipped, "skipped"),
        (report.not_started, "not started"),
        (report.aborted, "aborted"),
    ] {
        if n > 0 || matches!(word, "failed" | "skipped") {
            parts.push(format!("{n} {word}"));
        }
    }
    let status = if report.is_success() {
        format!("{verb} complete")
    } else if report.cancelled.is_some() {
        format!("{verb} interrupted")
    } else {
        format!("{verb} failed")
    };
    let _ = writeln!(
        err,
        "\n{status}: {} in {} ({} API calls, {} retries).",
        parts.join(", "),
        secs(report.wall_time_ms),
        report.calls,
        report.retries
    );
    if retries.throttled + retries.server_errors + retries.other > 0 {
        let mut causes = Vec::new();
        for (n, word) in [
            (retries.throttled, "throttled (429)"),
            (retries.server_errors, "server errors (5xx)"),
            (retries.other, "conflicts or network errors"),
        ] {
            if n > 0 {
                causes.push(format!("{n} {word}"));
            }
        }
        let _ = writeln!(
            err,
            "The OCI client sent calls again after {}.",
            causes.join(", ")
        );
    }
    for p in &retries.placement {
        let _ = writeln!(
            err,
            "{}: out of host capacity in {} ({}); tried {} next.",
            p.address,
            p.from,
            p.message.trim_end_matches('.'),
            p.to
        );
    }
    if !report.critical_path.chain.is_empty() {
        let chain: Vec<String> = report
            .critical_path
            .chain
            .iter()
            .map(|l| l.address.to_string())
            .collect();
        let _ = writeln!(
            err,
            "Longest chain ({}): {}",
            secs(report.critical_path.total_ms),
            chain.join(" → ")
        );
    }
    if !report.failures.is_empty() {
        let _ = writeln!(err, "\nFailed:");
        for (address, failure) in &report.failures {
            let _ = writeln!(err, "  ✗ {address}: {}", failure.message);
        }
        let _ = writeln!(
            err,
            "\nEverything that succeeded is kept. Fix the cause and run the same command again:\nfinished steps are not repeated (docs: book, \"When a step fails\")."
        );
    } else if report.cancelled.is_some() {
        let _ = writeln!(
            err,
            "\nRun the same command again to finish: steps that were done are not repeated."
        );
    }
}

/// `--debug`: the world a command talks to (providers, their settings, the simulators, the
/// executor's options), in its `Debug` form, which holds no secret.
pub(crate) fn debug_world(world: &World, err: &mut dyn Write) {
    let _ = writeln!(err, "debug: {world:#?}");
}

/// `--debug`: each change of the plan with its desired state from the graph (secrets are
/// `{"$secret": "env:NAME"}` references there, never values).
pub(crate) fn debug_plan(plan: &Plan, graph: &Graph, err: &mut dyn Write) {
    for change in &plan.changes {
        let desired = graph
            .get(&change.address)
            .map(|n| n.desired().to_string())
            .unwrap_or_else(|| "(not in the spec)".into());
        let _ = writeln!(
            err,
            "debug: {} {:?} ({}): desired {desired}, diff {:?}",
            change.address, change.action, change.reason, change.diff
        );
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use pexspec_exec::{CriticalPath, Report};

    use super::*;
    use crate::world::Placement;

    fn report() -> Report {
        Report {
            created: 32,
            updated: 0,
            replaced: 0,
            deleted: 0,
            appeared: 0,
            unchanged: 0,
            failed: 0,
            skipped: 0,
            not_started: 0,
            aborted: 0,
            retries: 1,
            calls: 70,
            cancelled: None,
            wall_time_ms: 7_300,
            critical_path: CriticalPath::default(),
            failures: BTreeMap::new(),
            rates: BTreeMap::new(),
            steps: Vec::new(),
        }
    }

    fn text(retries: &Retries) -> String {
        let mut err = Vec::new();
        summary(&report(), "apply", retries, &mut err);
        String::from_utf8(err).unwrap()
    }

    #[test]
    fn the_summary_names_each_kind_of_retry() {
        let retries = Retries {
            throttled: 43,
            server_errors: 11,
            other: 0,
            placement: vec![Placement {
                address: "instance[pexmgr]".into(),
                from: "Pjwf:EU-FRANKFURT-1-AD-1".into(),
                to: "Pjwf:EU-FRANKFURT-1-AD-2".into(),
                message: "Out of host capacity.".into(),
            }],
        };
        let text = text(&retries);
        assert!(
            text.contains(
                "apply complete: 32 created, 0 failed, 0 skipped in 7.3s (70 API calls, 1 retries)."
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "The OCI client sent calls again after 43 throttled (429), 11 server errors (5xx)."
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "instance[pexmgr]: out of host capacity in Pjwf:EU-FRANKFURT-1-AD-1 (Out of host capacity); tried Pjwf:EU-FRANKFURT-1-AD-2 next."
            ),
            "{text}"
        );
    }

    #[test]
    fn a_run_without_retries_says_nothing_of_them() {
        let text = text(&Retries::default());
        assert!(!text.contains("OCI client"), "{text}");
        assert!(!text.contains("capacity"), "{text}");
    }

    #[test]
    fn the_json_event_is_flat() {
        let retries = Retries {
            throttled: 2,
            ..Retries::default()
        };
        let value = serde_json::to_value(RetriesEvent {
            event: "retries",
            retries: &retries,
        })
        .unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "event": "retries", "throttled": 2, "server_errors": 0, "other": 0,
                "placement": []
            })
        );
    }
}
