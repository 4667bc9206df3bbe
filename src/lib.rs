//! Decision core of the Flex dual-channel recording plugin.
//!
//! Functional core, imperative shell: everything here except `wasm` is plain
//! Rust with no I/O and no JS types, tested natively. See ARCHITECTURE.md.

pub mod api;
pub mod insights;
pub mod sid;

#[cfg(target_arch = "wasm32")]
mod wasm;
