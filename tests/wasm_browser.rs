//! The same wasm cases in a real headless Chromium
//! (`wasm-pack test --headless --chrome`), where `fetch` and timers are the
//! browser's own.
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod wasm_cases;
