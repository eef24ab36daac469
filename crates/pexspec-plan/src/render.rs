//! The plan for people, in the manner of Terraform: a symbol per change (`+` create,
//! `~` update, `-/+` replace, `-` delete, `…` exists and is waited for, `?` created and not
//! yet listed), grouped by region (global first, the Pexip
//! Management Node last), the fields that differ, and a counts line.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use pexspec_graph::{Group, Lookup, Ref};
use serde_json::Value;

use crate::compare::same_element;
use crate::{Action, Change, FieldDiff, Plan};

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";

fn color_of(action: Action, pending: bool) -> &'static str {
    if pending {
        return "\x1b[36m";
    }
    match action {
        Action::Create => "\x1b[32m",
        Action::Update => "\x1b[33m",
        Action::Replace => "\x1b[35m",
        Action::Delete => "\x1b[31m",
        Action::Noop => "",
    }
}

/// Writes the plan for people. With `color`, symbols and headings carry ANSI colours.
pub fn render_human(plan: &Plan, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let paint = |code: &'static str| if color { code } else { "" };
    let reset = if color { RESET } else { "" };
    let shown: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::Noop || c.pending || c.wait.is_some())
        .collect();
    if shown.is_empty() {
        writeln!(
            out,
            "No changes: the cloud matches the spec ({} resources).",
            plan.summary.noop
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "pexspec will make these changes to stack `{}`:",
        plan.stack
    )?;
    let mut by_group: BTreeMap<Group, Vec<&Change>> = BTreeMap::new();
    for change in shown {
        by_group.entry(change.group()).or_default().push(change);
    }
    for group in plan.groups() {
        let Some(changes) = by_group.remove(&group) else {
            continue;
        };
        writeln!(out)?;
        writeln!(out, "{}{}{reset}", paint(BOLD), group.label())?;
        for change in changes {
            let waits = change.pending || change.wait.is_some();
            let symbol = if change.pending {
                "?"
            } else if change.wait.is_some() {
                "…"
            } else {
                change.action.symbol()
            };
            let code = paint(color_of(change.action, waits));
            let reason = match change.action {
                Action::Create if !change.pending => String::new(),
                _ => format!(": {}", change.reason),
            };
            writeln!(out, "  {code}{symbol:>3} {}{reset}{reason}", change.address)?;
            for diff in &change.diff {
                let restart = change.action == Action::Update
                    && crate::restart::restarts(change.kind, &diff.field);
                write_diff(out, diff, restart)?;
            }
            if !change.delete_after.is_empty() {
                let first: Vec<String> = change
                    .delete_after
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect();
                writeln!(
                    out,
                    "        (the old one is deleted after {})",
                    first.join(", ")
                )?;
            }
        }
    }
    let waiting = plan.changes.iter().filter(|c| c.wait.is_some()).count();
    writeln!(out)?;
    if waiting > 0 {
        writeln!(
            out,
            "{waiting} existing resource{} not ready yet (…): apply waits for {} before what depends on {}.",
            if waiting == 1 { " is" } else { "s are" },
            if waiting == 1 { "it" } else { "them" },
            if waiting == 1 { "it" } else { "them" },
        )?;
    }
    let s = &plan.summary;
    writeln!(
        out,
        "{}Plan:{reset} {} to create, {} to update, {} to replace, {} to delete.",
        paint(BOLD),
        s.create,
        s.update,
        s.replace,
        s.delete
    )
}

fn write_diff(out: &mut dyn Write, diff: &FieldDiff, restart: bool) -> io::Result<()> {
    let note = if diff.forces_replacement {
        "  (forces replacement)"
    } else if restart {
        "  (restarts the node: maintenance mode and a drain first, then its calls are cut)"
    } else {
        ""
    };
    if let (Value::Array(old), Value::Array(new)) = (&diff.old, &diff.new) {
        writeln!(out, "        {}:{note}", diff.field)?;
        let mut used = vec![false; old.len()];
        let mut added = Vec::new();
        for n in new {
            match (0..old.len()).find(|&i| !used[i] && same_element(&old[i], n)) {
                Some(i) => used[i] = true,
                None => added.push(n),
            }
        }
        for n in added {
            writeln!(out, "          + {}", show(n))?;
        }
        for (o, used) in old.iter().zip(used) {
            if !used {
                writeln!(out, "          - {}", show(o))?;
            }
        }
        return Ok(());
    }
    let old = if diff.old.is_null() {
        "(none)".to_owned()
    } else {
        show(&diff.old)
    };
    writeln!(
        out,
        "        {}: {old} → {}{note}",
        diff.field,
        show(&diff.new)
    )
}

/// A value as compact JSON, with references, secrets, files and look-ups in words.
pub fn show(value: &Value) -> String {
    let mut out = String::new();
    show_into(value, &mut out);
    out
}

fn show_into(value: &Value, out: &mut String) {
    if let Some(r) = Ref::from_value(value) {
        let _ = write!(out, "(known after apply: {r})");
        return;
    }
    if let Some(l) = Lookup::from_value(value) {
        let _ = write!(out, "(the {} `{}` in {})", l.kind, l.display_name, l.region);
        return;
    }
    if let Value::Object(map) = value
        && map.len() == 1
    {
        if let Some(Value::String(s)) = map.get("$secret") {
            let _ = write!(out, "(secret {s})");
            return;
        }
        if let Some(Value::String(s)) = map.get("$file") {
            let _ = write!(out, "(file {s})");
            return;
        }
    }
    match value {
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{k}: ");
                show_into(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                show_into(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}
