//! Placeholder until the wasm layer lands.
