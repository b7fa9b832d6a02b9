// SPDX-License-Identifier: GPL-2.0

//! Everything that differs between the kernel series rnsid supports, in one place.
//!
//! `Kbuild` sets `cfg(rnsid_v7)` when building against a 7.x tree; nothing else in the crate
//! looks at the kernel version.

/// The series the module was built for, as the log shows it.
#[cfg(rnsid_v7)]
pub(crate) const SERIES: &str = "7.x";
/// The series the module was built for, as the log shows it.
#[cfg(not(rnsid_v7))]
pub(crate) const SERIES: &str = "6.12";

/// `module!` with one author: 6.12 spells it `author: ".."`, 7.x `authors: [".."]`.
///
/// The fragments are `tt` on purpose: `module!` parses raw tokens and does not look inside the
/// invisible groups that `ident` or `literal` fragments would hand it.
#[cfg(rnsid_v7)]
macro_rules! module_with_author {
    (type: $type:tt, name: $name:tt, author: $author:tt, $($rest:tt)*) => {
        kernel::prelude::module! {
            type: $type,
            name: $name,
            authors: [$author],
            $($rest)*
        }
    };
}

/// `module!` with one author: 6.12 spells it `author: ".."`, 7.x `authors: [".."]`.
#[cfg(not(rnsid_v7))]
macro_rules! module_with_author {
    (type: $type:tt, name: $name:tt, author: $author:tt, $($rest:tt)*) => {
        kernel::prelude::module! {
            type: $type,
            name: $name,
            author: $author,
            $($rest)*
        }
    };
}
