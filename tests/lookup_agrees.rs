//! The native lookup (serde_json, as the backend reads task attributes)
//! against the oracle of tests/lookup_cases on generated documents and
//! paths. The browser's lookup is checked against both in tests/wasm_cases.
#![cfg(not(target_arch = "wasm32"))]

mod lookup_cases;

use dual_channel_recording::attributes::Attributes;
use lookup_cases::{document, oracle, path, paths_of, to_json};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn native_lookup_follows_javascript(doc in document(), paths in prop::collection::vec(path(), 1..12)) {
        let text = to_json(&doc);
        let native = Attributes::parse(&text);
        for p in paths.iter().chain(&paths_of(&doc, 40)) {
            prop_assert_eq!(native.lookup(p), oracle(&doc, p), "{} in {}", p, text);
        }
    }
}

/// The generated cases reach what they are meant to: every kind of value,
/// duplicate keys, dotted keys and the special numbers, not only misses.
#[test]
fn generated_lookups_reach_every_kind() {
    use dual_channel_recording::attributes::Found;
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut scalars, mut arrays, mut objects, mut nulls, mut misses) = (0, 0, 0, 0, 0);
    let mut infinity = false;
    let strategy = (document(), prop::collection::vec(path(), 1..12));
    for _ in 0..300 {
        let (doc, paths) = strategy.new_tree(&mut runner).unwrap().current();
        for p in paths.iter().chain(&paths_of(&doc, 40)) {
            match oracle(&doc, p) {
                Found::Scalar(s) => {
                    infinity |= s == "Infinity";
                    scalars += 1
                }
                Found::Array { .. } => arrays += 1,
                Found::Object => objects += 1,
                Found::Null => nulls += 1,
                Found::Missing => misses += 1,
                Found::Unreadable(_) => unreachable!("the oracle reads everything"),
            }
        }
    }
    let hits = scalars + arrays + objects + nulls;
    assert!(
        scalars > 500 && arrays > 100 && objects > 100 && nulls > 50,
        "{scalars} {arrays} {objects} {nulls}"
    );
    assert!(hits > misses, "{hits} hits, {misses} misses");
    assert!(infinity, "1e400 was generated and found");
}
