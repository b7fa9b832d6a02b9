// SPDX-License-Identifier: GPL-2.0

//! The raw C items rnsid needs beyond the kernel's own `rust/bindings`.
//!
//! Generated at build time by bindgen from `bindings_helper.h` against the very kernel tree the
//! module is built for, so `struct net` here has that kernel's real layout. Only the thin wrappers
//! (`net.rs` and friends) may touch this module; the logic works on their safe types.

#![allow(
    clippy::all,
    clippy::as_underscore,
    clippy::cast_lossless,
    clippy::ptr_as_ptr,
    clippy::ref_as_ptr,
    clippy::undocumented_unsafe_blocks,
    dead_code,
    improper_ctypes,
    missing_docs,
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    unreachable_pub,
    unsafe_op_in_unsafe_fn,
    unnecessary_transmutes
)]

// The kernel's `bindgen_parameters` blocklist these so that they map to the Rust types below.
type __kernel_size_t = usize;
type __kernel_ssize_t = isize;
type __kernel_ptrdiff_t = isize;

include!("bindings_generated.rs");
