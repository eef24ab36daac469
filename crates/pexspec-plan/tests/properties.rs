//! Properties of plans over generated specs: a plan after apply is empty, also after moving
//! from one spec to another; the same spec always gives the same bytes; the order of rules
//! (in the spec or in the cloud) never changes a plan.

mod common;

use common::*;
use pexspec_graph::testing::{ExtraRule, SpecParams, spec_yaml};
use pexspec_graph::{Address, Kind};
use pexspec_plan::{InMemoryProvider, ObservedState, apply_plan, plan};
use proptest::prelude::*;

fn rule() -> impl Strategy<Value = ExtraRule> {
    (
        prop::sample::select(vec!["198.51.100.0/24", "203.0.113.0/24", "2001:DB8::/32"]),
        prop::sample::select(vec!["tcp", "udp", "icmp", "esp"]),
        prop::option::of(prop::sample::select(vec![
            "443",
            "5060-5061",
            "40000-49999",
        ])),
        prop::option::of(prop::sample::select(vec!["a", "b"])),
    )
        .prop_map(|(source, protocol, ports, description)| ExtraRule {
            source: source.into(),
            protocol: protocol.into(),
            ports: ports.map(Into::into),
            description: description.map(Into::into),
        })
}

fn params() -> impl Strategy<Value = SpecParams> {
    (
        1usize..=3,
        0usize..=6,
        0usize..=3,
        prop::sample::select(vec!["public", "private", "hybrid"]),
        any::<bool>(),
        prop::collection::vec(rule(), 0..4),
        prop::sample::select(vec![
            vec!["VM.Optimized3.Flex", "VM.Standard3.Flex"],
            vec!["VM.Standard3.Flex"],
            vec!["VM.Standard.E4.Flex", "VM.Optimized3.Flex"],
        ]),
    )
        .prop_map(
            |(regions, nodes, rooms, deployment, replicate, extra_ingress, shapes)| SpecParams {
                name: "prop".into(),
                deployment: deployment.into(),
                regions,
                nodes,
                rooms,
                replicate,
                on_premises: vec!["172.16.0.0/16".into()],
                extra_ingress,
                shapes: shapes.into_iter().map(Into::into).collect(),
                ..SpecParams::default()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_plan_after_apply_is_empty(p in params()) {
        let g = graph(&spec_text(&spec_yaml(&p)));
        let cloud = InMemoryProvider::new();
        let first = converge(&g, &cloud);
        prop_assert_eq!(first.summary.create, g.len());
        let again = plan(&g, &observe(&g, &cloud));
        prop_assert!(again.is_empty(), "{:?}", again.changes.iter().filter(|c| c.action != pexspec_plan::Action::Noop).collect::<Vec<_>>());
    }

    #[test]
    fn moving_from_one_spec_to_another_converges(a in params(), b in params()) {
        let ga = graph(&spec_text(&spec_yaml(&a)));
        let gb = graph(&spec_text(&spec_yaml(&b)));
        let cloud = InMemoryProvider::new();
        converge(&ga, &cloud);
        replicate_images(&gb, &cloud);
        let to_b = plan(&gb, &observe(&gb, &cloud));
        // Deletes come dependents first: nothing deleted is referred to by a later delete.
        apply_plan(&gb, &to_b, &cloud).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let again = plan(&gb, &observe(&gb, &cloud));
        prop_assert!(again.is_empty(), "{:?}", again.changes.iter().filter(|c| c.action != pexspec_plan::Action::Noop).collect::<Vec<_>>());
        prop_assert_eq!(cloud.len("prop"), gb.len());
    }

    #[test]
    fn the_same_spec_gives_the_same_bytes(p in params()) {
        let text = spec_yaml(&p);
        let one = plan(&graph(&spec_text(&text)), &ObservedState::new()).to_json();
        let two = plan(&graph(&spec_text(&text)), &ObservedState::new()).to_json();
        prop_assert_eq!(one, two);
    }

    #[test]
    fn rule_order_never_changes_a_plan(
        p in params(),
        seed in any::<u64>(),
        internal in prop::collection::vec(prop::sample::select(vec!["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]), 1..4),
    ) {
        let mut q = p.clone();
        q.internal_cidrs = Some(internal.iter().map(|s| (*s).to_owned()).collect());
        let mut shuffled = q.clone();
        shuffle(&mut shuffled.extra_ingress, seed);
        if let Some(cidrs) = shuffled.internal_cidrs.as_mut() {
            shuffle(cidrs, seed.rotate_left(7));
        }
        let gq = graph(&spec_text(&spec_yaml(&q)));
        let gs = graph(&spec_text(&spec_yaml(&shuffled)));
        prop_assert_eq!(
            plan(&gq, &ObservedState::new()).to_json(),
            plan(&gs, &ObservedState::new()).to_json()
        );
        // Applied, then the cloud lists the rules in another order: still nothing to do.
        let cloud = InMemoryProvider::new();
        converge(&gq, &cloud);
        for region in gq.regions() {
            let address = Address::new(Kind::SecurityList, region);
            cloud.mutate("prop", &address, |o| {
                if let Some(rules) = o.fields["ingress_security_rules"].as_array_mut() {
                    shuffle(rules, seed);
                }
            });
        }
        prop_assert!(plan(&gs, &observe(&gs, &cloud)).is_empty());
    }
}

/// A deterministic shuffle (xorshift), so failures reproduce from the seed.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut x = seed | 1;
    for i in (1..items.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let j = (x % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}
