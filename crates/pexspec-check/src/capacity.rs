//! Shape and capacity checks: every node's shape is one pexspec knows and is sized within
//! Oracle's limits and the guide's recommendations, the platform stays within the guide's
//! 20 Conferencing Nodes, and the transcoding nodes carry the HD calls the spec asks for.

use pexspec_diagnostics::{Code, Diagnostic};
use pexspec_spec::{Role, Shape, Sp, Spec};

use crate::Ctx;
use crate::shapes::{self, CapacityBasis, ShapeInfo};

pub(crate) fn run(ctx: &mut Ctx<'_>) {
    let nodes = node_shapes(ctx);
    below_recommended_ocpus(ctx, &nodes);
    memory_per_ocpu(ctx, &nodes);
    too_many_nodes(ctx);
    capacity_short(ctx, &nodes);
}

/// The guide's recommended minimum for the Management Node and transcoding nodes.
const MIN_RECOMMENDED_OCPUS: f64 = 2.0;

/// The guide's recommendations are "for deployments of up to 20 Conferencing Nodes".
const MAX_RECOMMENDED_NODES: usize = 20;

/// The estimated concurrent HD (720p) calls of one transcoding node of `shape` with `ocpus`
/// OCPUs, from the guide's table ("performance guidelines for HD call capacity per
/// Transcoding Conferencing Node"): VM.Standard2 4/8/24 OCPUs → 12/23/63 HD,
/// VM.Optimized3.Flex 4/8/18 OCPUs → 23/44/82 HD.
///
/// The estimate is piecewise linear through the table's points: from 0 calls at 0 OCPUs to
/// the first point, between points, and beyond the last point along the last segment's
/// slope (Standard2: 2.5 HD per OCPU). Extrapolation only matters for shapes larger than
/// the measured ones (VM.Standard3.Flex up to 32 OCPUs, the E-series up to 64 and 94), which
/// use the Standard2 curve, itself an underestimate for newer processors. Shapes Pexip does
/// not run on, and OCPU counts that are not positive numbers, carry 0 calls.
pub fn estimate_hd_calls(shape: &ShapeInfo, ocpus: f64) -> f64 {
    interpolate(shape.hd_curve, ocpus)
}

fn interpolate(curve: &[(f64, f64)], ocpus: f64) -> f64 {
    if !(ocpus.is_finite() && ocpus > 0.0) || curve.is_empty() {
        return 0.0;
    }
    let mut prev = (0.0, 0.0);
    for &(x, y) in curve {
        if ocpus <= x {
            let span = x - prev.0;
            if span <= 0.0 {
                return y;
            }
            return prev.1 + (y - prev.1) * (ocpus - prev.0) / span;
        }
        prev = (x, y);
    }
    // Beyond the last point: the last segment's slope.
    let before = if curve.len() >= 2 {
        curve[curve.len() - 2]
    } else {
        (0.0, 0.0)
    };
    let span = prev.0 - before.0;
    let slope = if span > 0.0 {
        (prev.1 - before.1) / span
    } else {
        0.0
    };
    prev.1 + slope * (ocpus - prev.0)
}

/// What a node is, for the recommendations that depend on it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Management,
    Transcoding,
    Proxying,
}

/// One node's shape as the rules after `unknown-shape` and `shape-config` see it.
struct NodeShape<'a> {
    node: &'a Sp<String>,
    kind: Kind,
    shape: &'a Shape,
    /// The shape, if it is known and runs Pexip.
    info: Option<&'static ShapeInfo>,
    /// The OCPUs, if the shape is known and its OCPUs are valid (fixed: the shape's).
    ocpus: Option<f64>,
    /// The memory, if the whole configuration is valid (fixed: the shape's).
    memory_gb: Option<f64>,
}

/// `unknown-shape` and `shape-config` for every node; returns what later rules may rely on.
fn node_shapes<'a>(ctx: &mut Ctx<'a>) -> Vec<NodeShape<'a>> {
    let spec = ctx.spec;
    let mut out = Vec::with_capacity(spec.conferencing_nodes.len() + 1);
    if let Some(m) = &spec.management_node
        && let Some(shape) = &m.shape
    {
        out.push(node_shape(ctx, &m.name, Kind::Management, shape));
    }
    for n in &spec.conferencing_nodes {
        let kind = match n.role.value {
            Role::Transcoding => Kind::Transcoding,
            Role::Proxying => Kind::Proxying,
        };
        out.push(node_shape(ctx, &n.name, kind, &n.shape));
    }
    out
}

fn node_shape<'a>(
    ctx: &mut Ctx<'_>,
    node: &'a Sp<String>,
    kind: Kind,
    shape: &'a Shape,
) -> NodeShape<'a> {
    let mut ns = NodeShape {
        node,
        kind,
        shape,
        info: None,
        ocpus: None,
        memory_gb: None,
    };
    match shapes::shape(&shape.name.value) {
        None => ctx.report(unknown_shape(node, &shape.name)),
        Some(info) if !info.runs_pexip() => ctx.report(arm_shape(node, &shape.name, info)),
        Some(info) => {
            ns.info = Some(info);
            let (ocpus, memory) = shape_config(ctx, node, shape, info);
            ns.ocpus = ocpus;
            ns.memory_gb = memory;
        }
    }
    ns
}

/// `unknown-shape`: a name that is not in the catalogue.
fn unknown_shape(node: &Sp<String>, name: &Sp<String>) -> Diagnostic {
    let help = match shapes::closest(&name.value) {
        Some(guess) => format!("did you mean `{guess}`?"),
        None => format!(
            "use a shape Pexip runs on: `{}` (the guide's recommendation), `VM.Optimized3.Flex`, the AMD `VM.Standard.E3/E4/E5.Flex`, or `VM.Standard2.1` to `VM.Standard2.24`",
            shapes::RECOMMENDED
        ),
    };
    Diagnostic::new(
        Code::UnknownShape,
        format!(
            "`{}` of `{}` is not an OCI compute shape pexspec knows",
            name.value, node.value
        ),
    )
    .with_primary(name.span, "unknown shape")
    .with_help(help)
}

/// `unknown-shape` for a shape that exists but that Pexip Infinity cannot run on (Arm).
fn arm_shape(node: &Sp<String>, name: &Sp<String>, info: &ShapeInfo) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownShape,
        format!(
            "`{}` of `{}` is an Arm shape: Pexip Infinity runs only on x86-64 processors",
            info.name, node.value
        ),
    )
    .with_primary(name.span, "Arm (Ampere) processor")
    .with_help(format!(
        "choose an Intel or AMD shape: `{}` is the guide's recommendation",
        shapes::RECOMMENDED
    ))
}

/// A valid example configuration of a flex shape, for help lines.
fn example(info: &ShapeInfo, ocpus: Option<f64>) -> String {
    let ocpus = ocpus.unwrap_or(if info.name == "VM.Optimized3.Flex" {
        4.0
    } else {
        2.0
    });
    let per = if info.name == "VM.Optimized3.Flex" {
        2.0
    } else {
        8.0
    };
    let range = info.memory_range_for(ocpus);
    let memory = (ocpus * per).clamp(*range.start(), *range.end());
    format!(
        "{{ name: {}, ocpus: {ocpus}, memory_gb: {memory} }}",
        info.name
    )
}

/// `shape-config`: a flex shape needs `ocpus` and `memory_gb` within Oracle's limits; a
/// fixed shape takes neither. Returns the valid OCPUs and memory (fixed: the shape's own).
fn shape_config(
    ctx: &mut Ctx<'_>,
    node: &Sp<String>,
    shape: &Shape,
    info: &'static ShapeInfo,
) -> (Option<f64>, Option<f64>) {
    if let Some((ocpus, memory)) = info.fixed() {
        for (field, value) in [("ocpus", &shape.ocpus), ("memory_gb", &shape.memory_gb)] {
            if let Some(value) = value {
                ctx.report(
                    Diagnostic::new(
                        Code::ShapeConfig,
                        format!(
                            "`{}` sets `{field}`, but `{}` is a fixed shape ({ocpus} OCPUs, {memory} GB)",
                            node.value, info.name
                        ),
                    )
                    .with_primary(value.span, "fixed shapes take no configuration")
                    .with_secondary(shape.name.span, "a fixed shape")
                    .with_help(format!(
                        "remove `{field}`, or choose a flex shape to size the node, e.g. `{}`",
                        example(shapes::shape(shapes::RECOMMENDED).unwrap_or(info), None)
                    )),
                );
            }
        }
        return (Some(ocpus), Some(memory));
    }
    let missing: Vec<&str> = [("ocpus", &shape.ocpus), ("memory_gb", &shape.memory_gb)]
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(f, _)| *f)
        .collect();
    if !missing.is_empty() {
        let fields = missing
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(" and ");
        let ocpus = shape
            .ocpus
            .as_ref()
            .map(|o| o.value)
            .filter(|o| info.accepts_ocpus(*o));
        ctx.report(
            Diagnostic::new(
                Code::ShapeConfig,
                format!(
                    "`{}` of `{}` is a flex shape without {fields}",
                    info.name, node.value
                ),
            )
            .with_primary(shape.name.span, format!("needs {fields}"))
            .with_help(format!(
                "size the node: `{}`; OCI has no default for a flex shape",
                example(info, ocpus)
            )),
        );
    }
    let (lo, hi) = (*info.ocpus.start(), *info.ocpus.end());
    let mut ocpus_ok = None;
    if let Some(ocpus) = &shape.ocpus {
        let v = ocpus.value;
        if info.accepts_ocpus(v) {
            ocpus_ok = Some(v);
        } else {
            let (message, label) = if info.ocpus.contains(&v) {
                (
                    format!(
                        "`{}` has {v} OCPUs; `{}` takes whole OCPUs",
                        node.value, info.name
                    ),
                    "not a whole number",
                )
            } else {
                (
                    format!(
                        "`{}` has {v} OCPUs; `{}` takes {lo} to {hi}",
                        node.value, info.name
                    ),
                    "outside the shape's range",
                )
            };
            ctx.report(
                Diagnostic::new(Code::ShapeConfig, message)
                    .with_primary(ocpus.span, label)
                    .with_secondary(shape.name.span, "this shape")
                    .with_help(format!("choose a whole number of OCPUs from {lo} to {hi}")),
            );
        }
    }
    let mut memory_ok = None;
    if let Some(memory) = &shape.memory_gb {
        let v = memory.value;
        let range = match ocpus_ok {
            Some(o) => info.memory_range_for(o),
            None => info.memory_gb.clone(),
        };
        if range.contains(&v) {
            memory_ok = Some(v);
        } else {
            let (mlo, mhi) = (*range.start(), *range.end());
            let with = ocpus_ok.map_or(String::new(), |o| format!(" with {o} OCPUs"));
            let per = info.memory_per_ocpu_gb.clone();
            ctx.report(
                Diagnostic::new(
                    Code::ShapeConfig,
                    format!(
                        "`{}` has {v} GB of memory; `{}`{with} takes {mlo} to {mhi} GB",
                        node.value, info.name
                    ),
                )
                .with_primary(memory.span, "outside the shape's range")
                .with_secondary(shape.name.span, "this shape")
                .with_help(format!(
                    "choose `memory_gb` from {mlo} to {mhi}: OCI allows {} to {} GB per OCPU, at most {} GB in all",
                    per.start(),
                    per.end(),
                    info.memory_gb.end()
                )),
            );
        }
    }
    (ocpus_ok, ocpus_ok.and(memory_ok))
}

/// `below-recommended-ocpus`: the guide recommends at least 2 OCPUs for the Management Node
/// ("with 2 OCPUs or larger") and transcoding nodes ("with a minimum of 2 OCPUs").
fn below_recommended_ocpus(ctx: &mut Ctx<'_>, nodes: &[NodeShape<'_>]) {
    for n in nodes {
        let (Some(info), Some(ocpus)) = (n.info, n.ocpus) else {
            continue;
        };
        if ocpus >= MIN_RECOMMENDED_OCPUS || n.kind == Kind::Proxying {
            continue;
        }
        let what = if n.kind == Kind::Management {
            "the Management Node"
        } else {
            "a transcoding Conferencing Node"
        };
        let span = match (&n.shape.ocpus, info.flex) {
            (Some(o), true) => o.span,
            _ => n.shape.name.span,
        };
        let help = if info.flex {
            "give it at least 2 OCPUs: `ocpus: 2`".to_owned()
        } else {
            format!(
                "use a shape with at least 2 OCPUs, e.g. `{}` with `ocpus: 2` (or `VM.Standard2.2`)",
                shapes::RECOMMENDED
            )
        };
        ctx.report(
            Diagnostic::new(
                Code::BelowRecommendedOcpus,
                format!(
                    "`{}` has {ocpus} OCPU; the guide recommends at least 2 for {what}",
                    n.node.value
                ),
            )
            .with_primary(span, format!("{ocpus} OCPU"))
            .with_help(help),
        );
    }
}

/// `memory-per-ocpu`: the guide: "if you select an Optimized3.Flex Intel-shape you need to
/// configure the number of OCPUs and memory (assign 2GB of memory for each OCPU)".
fn memory_per_ocpu(ctx: &mut Ctx<'_>, nodes: &[NodeShape<'_>]) {
    for n in nodes {
        let (Some(info), Some(ocpus), Some(memory)) = (n.info, n.ocpus, n.memory_gb) else {
            continue;
        };
        if info.name != "VM.Optimized3.Flex" || (memory - 2.0 * ocpus).abs() < 1e-9 {
            continue;
        }
        let Some(span) = n.shape.memory_gb.as_ref().map(|m| m.span) else {
            continue;
        };
        let want = 2.0 * ocpus;
        ctx.report(
            Diagnostic::new(
                Code::MemoryPerOcpu,
                format!(
                    "`{}` has {memory} GB for {ocpus} OCPUs on `VM.Optimized3.Flex`; the guide assigns 2 GB per OCPU",
                    n.node.value
                ),
            )
            .with_primary(span, format!("{} GB per OCPU", memory / ocpus))
            .with_help(format!(
                "assign 2GB of memory for each OCPU: `memory_gb: {want}`"
            )),
        );
    }
}

/// `too-many-nodes`: the guide's recommendations are "for deployments of up to 20
/// Conferencing Nodes".
fn too_many_nodes(ctx: &mut Ctx<'_>) {
    let nodes = &ctx.spec.conferencing_nodes;
    let Some(first_over) = nodes.get(MAX_RECOMMENDED_NODES) else {
        return;
    };
    ctx.report(
        Diagnostic::new(
            Code::TooManyNodes,
            format!(
                "{} Conferencing Nodes; the guide's recommendations are for deployments of up to {MAX_RECOMMENDED_NODES}",
                nodes.len()
            ),
        )
        .with_primary(first_over.name.span, format!("Conferencing Node {}", MAX_RECOMMENDED_NODES + 1))
        .with_help(
            "size a deployment of this scale with Pexip's server design recommendations (shapes, Management Node size), or split it into several platforms",
        ),
    );
}

/// `capacity-short`: `capacity.hd_calls` above the sum of the transcoding nodes' estimates
/// ([`estimate_hd_calls`]). Not judged while any transcoding node's shape or OCPUs is wrong:
/// that is reported already, and the sum would be a guess.
fn capacity_short(ctx: &mut Ctx<'_>, nodes: &[NodeShape<'_>]) {
    let Some(required) = ctx.spec.capacity.as_ref().and_then(|c| c.hd_calls.as_ref()) else {
        return;
    };
    let mut total = 0.0;
    let mut count = 0usize;
    let mut assumed: Vec<&str> = Vec::new();
    // The node that carries the most: the unit of the suggestion.
    let mut best: Option<(&str, f64)> = None;
    for n in nodes.iter().filter(|n| n.kind == Kind::Transcoding) {
        let (Some(info), Some(ocpus)) = (n.info, n.ocpus) else {
            return;
        };
        let calls = estimate_hd_calls(info, ocpus);
        total += calls;
        count += 1;
        if info.capacity_basis == CapacityBasis::AssumedStandard2 && !assumed.contains(&info.name) {
            assumed.push(info.name);
        }
        if best.is_none_or(|b| calls > b.1) {
            best = Some((n.node.value.as_str(), calls));
        }
    }
    let need = required.value as f64;
    if need <= total {
        return;
    }
    let estimate = total.floor();
    let mut message = match count {
        0 => format!(
            "`capacity.hd_calls` is {}, but there is no transcoding Conferencing Node",
            required.value
        ),
        1 => format!(
            "`capacity.hd_calls` is {}, but the transcoding node carries about {estimate} HD calls by the guide's table",
            required.value
        ),
        _ => format!(
            "`capacity.hd_calls` is {}, but the {count} transcoding nodes carry about {estimate} HD calls by the guide's table",
            required.value
        ),
    };
    if !assumed.is_empty() {
        let names = assumed
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        message.push_str(&format!(
            " ({names} estimated with the guide's VM.Standard2 figures, a conservative estimate)"
        ));
    }
    let help = match best {
        Some((name, calls)) if calls > 0.0 => {
            let more = ((need - total) / calls).ceil();
            let nodes = if more <= 1.0 {
                format!("one more node like `{name}` (about {} HD calls)", calls.floor())
            } else {
                format!(
                    "{more} more nodes like `{name}` (about {} HD calls each)",
                    calls.floor()
                )
            };
            format!("add transcoding capacity: {nodes}, or more OCPUs per node")
        }
        _ => "add transcoding Conferencing Nodes: the guide measured 44 HD calls on a VM.Optimized3.Flex with 8 OCPUs".to_owned(),
    };
    ctx.report(
        Diagnostic::new(Code::CapacityShort, message)
            .with_primary(
                required.span,
                format!("{} HD calls required", required.value),
            )
            .with_help(help),
    );
}

/// The Conferencing Nodes of one system location and the calls they carry, by the same
/// estimate as `capacity-short` ([`estimate_hd_calls`]).
#[derive(Clone, Debug, PartialEq)]
pub struct LocationCapacity {
    /// The location's name, as the spec writes it.
    pub name: String,
    /// The transcoding nodes of the location, in spec order.
    pub transcoding: Vec<String>,
    /// The proxying edge nodes of the location, in spec order: they add no call capacity.
    pub proxying: Vec<String>,
    /// The estimated concurrent HD (720p) calls of the transcoding nodes; `None` when a
    /// transcoding node's shape or OCPUs is unknown (lint reports it), since a sum with a
    /// hole would be a guess.
    pub hd_calls: Option<f64>,
}

impl LocationCapacity {
    /// The estimated Full HD (1080p) calls: Pexip's resource allocation examples: "A Full
    /// HD connection typically uses twice the resource of a HD connection"
    /// (<https://docs.pexip.com/server_design/resource_allocation_scenarios.htm>).
    pub fn full_hd_calls(&self) -> Option<f64> {
        self.hd_calls.map(|hd| hd / 2.0)
    }
}

/// Every location of the spec (declared ones in their order, then any a node names that is
/// not declared), with its nodes and estimated capacity. Pure: the same spec gives the same
/// answer, so `plan`, the report and the topology page agree.
pub fn location_capacity(spec: &Spec) -> Vec<LocationCapacity> {
    let mut out: Vec<LocationCapacity> = spec
        .platform
        .locations
        .iter()
        .map(|l| LocationCapacity {
            name: l.name.value.clone(),
            transcoding: Vec::new(),
            proxying: Vec::new(),
            hd_calls: Some(0.0),
        })
        .collect();
    let mut index: std::collections::HashMap<String, usize> = out
        .iter()
        .enumerate()
        .map(|(i, l)| (l.name.clone(), i))
        .collect();
    for node in &spec.conferencing_nodes {
        let i = *index.entry(node.location.value.clone()).or_insert_with(|| {
            out.push(LocationCapacity {
                name: node.location.value.clone(),
                transcoding: Vec::new(),
                proxying: Vec::new(),
                hd_calls: Some(0.0),
            });
            out.len() - 1
        });
        let location = &mut out[i];
        match node.role.value {
            Role::Proxying => location.proxying.push(node.name.value.clone()),
            Role::Transcoding => {
                location.transcoding.push(node.name.value.clone());
                let estimate = shapes::shape(&node.shape.name).and_then(|info| {
                    let ocpus = match info.fixed() {
                        Some((ocpus, _)) => ocpus,
                        None => node.shape.ocpus.as_ref()?.value,
                    };
                    (info.runs_pexip() && ocpus.is_finite() && ocpus > 0.0)
                        .then(|| estimate_hd_calls(info, ocpus))
                });
                location.hd_calls = match (location.hd_calls, estimate) {
                    (Some(sum), Some(calls)) => Some(sum + calls),
                    _ => None,
                };
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shapes::shape;

    fn est(name: &str, ocpus: f64) -> f64 {
        estimate_hd_calls(shape(name).unwrap(), ocpus)
    }

    #[test]
    fn estimates_hit_the_guides_points() {
        for (ocpus, calls) in [(4.0, 12.0), (8.0, 23.0), (24.0, 63.0)] {
            assert_eq!(est("VM.Standard3.Flex", ocpus), calls);
        }
        for (ocpus, calls) in [(4.0, 23.0), (8.0, 44.0), (18.0, 82.0)] {
            assert_eq!(est("VM.Optimized3.Flex", ocpus), calls);
        }
        assert_eq!(est("VM.Standard2.4", 4.0), 12.0);
        assert_eq!(est("VM.Standard2.24", 24.0), 63.0);
    }

    #[test]
    fn estimates_interpolate_between_points() {
        assert_eq!(est("VM.Optimized3.Flex", 6.0), 33.5);
        assert_eq!(est("VM.Optimized3.Flex", 13.0), 63.0);
        assert_eq!(est("VM.Standard2.16", 16.0), 43.0);
    }

    #[test]
    fn estimates_scale_from_zero_below_the_first_point() {
        assert_eq!(est("VM.Standard2.2", 2.0), 6.0);
        assert_eq!(est("VM.Standard2.1", 1.0), 3.0);
        assert_eq!(est("VM.Optimized3.Flex", 2.0), 11.5);
    }

    #[test]
    fn estimates_extrapolate_the_last_slope() {
        // Standard2's last segment: (63 - 23) / (24 - 8) = 2.5 HD per OCPU.
        assert_eq!(est("VM.Standard3.Flex", 32.0), 83.0);
        assert_eq!(est("VM.Standard.E4.Flex", 64.0), 163.0);
    }

    #[test]
    fn estimates_are_zero_for_nonsense_and_arm() {
        assert_eq!(est("VM.Standard3.Flex", 0.0), 0.0);
        assert_eq!(est("VM.Standard3.Flex", -4.0), 0.0);
        assert_eq!(est("VM.Standard3.Flex", f64::NAN), 0.0);
        assert_eq!(est("VM.Standard3.Flex", f64::INFINITY), 0.0);
        assert_eq!(est("VM.Standard.A1.Flex", 8.0), 0.0);
        assert_eq!(interpolate(&[(4.0, 10.0)], 8.0), 20.0);
        assert_eq!(interpolate(&[(4.0, 10.0), (4.0, 12.0)], 8.0), 12.0);
    }

    use crate::files::spec_tests::{codes, findings, only};

    const MGR: &str = "{ name: VM.Standard3.Flex, ocpus: 2, memory_gb: 16 }";
    const CONF: &str = "{ name: VM.Optimized3.Flex, ocpus: 4, memory_gb: 8 }";

    #[test]
    fn fixed_shapes_take_no_config() {
        let found = findings(&[(MGR, "{ name: VM.Standard2.2, ocpus: 2, memory_gb: 30 }")]);
        let found_codes: Vec<&str> = found.iter().map(|d| d.code().as_str()).collect();
        assert_eq!(found_codes, ["shape-config", "shape-config"], "{found:#?}");
        assert!(codes(&[(MGR, "{ name: VM.Standard2.2 }")]).is_empty());
    }

    #[test]
    fn flex_shapes_need_both_values_in_range() {
        let m = only(
            "shape-config",
            &[(MGR, "{ name: VM.Standard3.Flex, ocpus: 2 }")],
        );
        assert!(m.contains("without `memory_gb`"), "{m}");
        let m = only("shape-config", &[(MGR, "{ name: VM.Standard3.Flex }")]);
        assert!(m.contains("without `ocpus` and `memory_gb`"), "{m}");
        let m = only(
            "shape-config",
            &[(
                MGR,
                "{ name: VM.Standard3.Flex, ocpus: 2.5, memory_gb: 16 }",
            )],
        );
        assert!(m.contains("whole OCPUs"), "{m}");
        // 2 OCPUs allow at most 128 GB.
        let m = only(
            "shape-config",
            &[(MGR, "{ name: VM.Standard3.Flex, ocpus: 2, memory_gb: 200 }")],
        );
        assert!(m.contains("2 to 128 GB"), "{m}");
        // Absurd numbers are findings, never panics. (`.nan` and `.inf` are not numbers a
        // JSON Schema can hold: the loader refuses them as `invalid-value`.)
        for bad in ["-1", "1e308", "0"] {
            let yaml = format!("{{ name: VM.Standard3.Flex, ocpus: {bad}, memory_gb: {bad} }}");
            let c = codes(&[(MGR, yaml.as_str())]);
            assert!(
                c.iter().all(|c| *c == "shape-config") && !c.is_empty(),
                "{bad}: {c:?}"
            );
        }
    }

    #[test]
    fn arm_is_an_unknown_shape_with_its_reason() {
        let m = only(
            "unknown-shape",
            &[(
                CONF,
                "{ name: VM.Standard.A1.Flex, ocpus: 4, memory_gb: 24 }",
            )],
        );
        assert!(m.contains("Arm"), "{m}");
    }

    #[test]
    fn a_fixed_shape_with_one_ocpu_is_below_the_recommendation() {
        only(
            "below-recommended-ocpus",
            &[(MGR, "{ name: VM.Standard2.1 }")],
        );
        // Proxying nodes are not judged.
        assert!(
            codes(&[
                (CONF, "{ name: VM.Standard3.Flex, ocpus: 1, memory_gb: 8 }"),
                ("role: transcoding", "role: proxying"),
            ])
            .is_empty()
        );
    }

    #[test]
    fn capacity_counts_transcoding_nodes_only() {
        let hd = |n: &str| {
            format!("ssh_password: {{ env: PEXCONF_SSH_PASSWORD }}\ncapacity:\n  hd_calls: {n}\n")
        };
        let tail = "ssh_password: { env: PEXCONF_SSH_PASSWORD }\n";
        assert!(codes(&[(tail, hd("23").as_str())]).is_empty());
        let m = only("capacity-short", &[(tail, hd("24").as_str())]);
        assert!(m.contains("carries about 23 HD calls"), "{m}");
        assert!(!m.contains("conservative"), "{m}");
        let m = only(
            "capacity-short",
            &[
                (tail, hd("1").as_str()),
                ("role: transcoding", "role: proxying"),
            ],
        );
        assert!(m.contains("no transcoding"), "{m}");
        // Standard3 is estimated with Standard2's figures, and says so.
        let m = only(
            "capacity-short",
            &[
                (tail, hd("13").as_str()),
                (CONF, "{ name: VM.Standard3.Flex, ocpus: 4, memory_gb: 16 }"),
            ],
        );
        assert!(
            m.contains("about 12 HD calls") && m.contains("conservative"),
            "{m}"
        );
    }

    #[test]
    fn capacity_is_not_judged_on_a_broken_shape() {
        let tail = "ssh_password: { env: PEXCONF_SSH_PASSWORD }\n";
        let hd = "ssh_password: { env: PEXCONF_SSH_PASSWORD }\ncapacity:\n  hd_calls: 500\n";
        assert_eq!(
            codes(&[(tail, hd), (CONF, "{ name: VM.Nope }")]),
            ["unknown-shape"]
        );
        assert_eq!(
            codes(&[
                (tail, hd),
                (
                    CONF,
                    "{ name: VM.Optimized3.Flex, ocpus: 40, memory_gb: 80 }"
                )
            ]),
            ["shape-config"]
        );
    }

    #[test]
    fn location_capacity_sums_the_transcoding_nodes_of_each_location() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../specs/zurich-frankfurt.yaml"
        );
        let spec = pexspec_spec::load_file(std::path::Path::new(path))
            .unwrap()
            .spec
            .unwrap();
        let locations = location_capacity(&spec);
        let names: Vec<&str> = locations.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["Frankfurt", "Zurich"]);
        // Two Optimized3.Flex at 4 OCPUs (23 HD each) and one Standard3.Flex at 4 (12 HD).
        assert_eq!(locations[0].transcoding, ["pexconf01", "pexconf02"]);
        assert_eq!(locations[0].hd_calls, Some(46.0));
        assert_eq!(locations[0].full_hd_calls(), Some(23.0));
        assert_eq!(locations[1].transcoding, ["pexconf-zrh01"]);
        assert_eq!(locations[1].hd_calls, Some(12.0));
        assert!(locations.iter().all(|l| l.proxying.is_empty()));
    }

    #[test]
    fn location_capacity_has_no_estimate_with_an_unknown_shape_and_counts_proxies() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../specs/hybrid.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        let spec = pexspec_spec::load(path, &text, std::path::PathBuf::from("."))
            .spec
            .unwrap();
        let with_proxy = location_capacity(&spec);
        assert!(
            with_proxy.iter().any(|l| !l.proxying.is_empty()
                && l.transcoding.is_empty()
                && l.hd_calls == Some(0.0)),
            "{with_proxy:#?}"
        );
        let broken = text.replacen(
            "VM.Standard3.Flex, ocpus: 8",
            "VM.Nonexistent.Flex, ocpus: 8",
            1,
        );
        let spec = pexspec_spec::load(path, &broken, std::path::PathBuf::from("."))
            .spec
            .unwrap();
        let holes: Vec<_> = location_capacity(&spec)
            .into_iter()
            .filter(|l| l.hd_calls.is_none())
            .collect();
        assert_eq!(holes.len(), 1, "{holes:#?}");
    }
}
