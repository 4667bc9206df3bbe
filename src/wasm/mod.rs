//! The browser shell (wasm32 only): the `#[wasm_bindgen]` entry points and
//! the readers of JS values. Everything outside this module is plain Rust
//! with no JS types, tested natively.

pub mod answer;
pub mod api;
pub mod configuration;
pub mod lookup;
pub mod object;
