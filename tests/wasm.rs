//! The core compiled to wasm32 under Node (`wasm-pack test --node`): the same
//! decisions hold there, deep input is safe on wasm's small stack, and the
//! `Engine` boundary reports to its host instead of throwing.
#![cfg(target_arch = "wasm32")]

mod wasm_cases;
