//! Decision core of the Flex dual-channel recording plugin.
//!
//! Functional core, imperative shell: everything here except the `wasm` module is plain
//! Rust with no I/O and no JS types, tested natively. See ARCHITECTURE.md.

pub mod api;
pub mod attributes;
pub mod backend_client;
pub mod conference;
pub mod config;
pub mod document;
pub mod event;
pub mod exclusion;
pub mod insights;
pub mod leg;
pub mod merge;
pub mod pause;
pub mod retry;
pub mod session;
pub mod settings;
pub mod sid;
pub mod snapshot;
pub mod status;
pub mod strings;
pub mod vec_map;

#[cfg(target_arch = "wasm32")]
pub mod wasm;
