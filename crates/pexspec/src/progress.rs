//! How `apply` and `destroy` show a run: live progress bars on a terminal (indicatif), plain
//! lines otherwise, or one JSON event per line (`--output json`); and the summary at the end.
//!
//! The executor never prints: its [`Event`]s come here. No event holds a secret (desired
//! states only hold references), so every renderer may show all of an event.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use pexspec_exec::{Event, EventSink, Outcome, Report};
use pexspec_graph::Address;
use pexspec_plan::Action;

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

/// An [`EventSink`] that renders.
pub(crate) struct Progress<'a> {
    style: Style,
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    hook: Option<Hook<'a>>,
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
        self.render(&event);
    }
}

/// The summary for people: counts, time, the longest chain, and each failure with what to do.
pub(crate) fn summary(report: &Report, verb: &str, err: &mut dyn Write) {
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
