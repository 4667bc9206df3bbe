//! The native lookup (serde_json, as the backend reads task attributes)
//! against the oracle of tests/lookup_cases on generated documents and
//! paths. The browser's lookup is checked against both in tests/wasm_cases.
#![cfg(not(target_arch = "wasm32"))]

mod lookup_cases;

use dual_channel_recording::attributes::Attributes;
use lookup_cases::{document, oracle, path, to_json};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn native_lookup_follows_javascript(doc in document(), paths in prop::collection::vec(path(), 1..12)) {
        let text = to_json(&doc);
        let native = Attributes::parse(&text);
        for p in &paths {
            prop_assert_eq!(native.lookup(p), oracle(&doc, p), "{} in {}", p, text);
        }
    }
}
