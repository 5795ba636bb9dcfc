//! Helpers for decoding the agent's JSON: Go's encodings of empty values, and string enums that
//! keep values this client does not know yet.

use serde::{Deserialize, Deserializer};

/// A field that Go may encode as `null` (a nil slice or map, a nil pointer) decodes as its
/// default (an empty `Vec`, map or string) instead of failing the whole answer. Use with
/// `#[serde(default, deserialize_with = "null_as_default")]`, so a missing field is the default
/// too.
pub(super) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Defines a string enum with an `Other` variant for values this client does not know yet:
/// `as_str` gives the wire string, `Display` prints it, and it deserializes from it. A missing
/// value (`null` or `""`) decodes as the variant named after `default`.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident, default $default:ident {
            $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value this client does not know yet, as sent.
            Other(String),
        }

        impl $name {
            /// The wire string.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)*
                    $name::Other(s) => s,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s: Option<std::borrow::Cow<'de, str>> = serde::Deserialize::deserialize(d)?;
                Ok(match s.as_deref() {
                    None | Some("") => $name::$default,
                    $(Some($wire) => $name::$variant,)*
                    Some(other) => $name::Other(other.to_owned()),
                })
            }
        }
    };
}
pub(super) use wire_enum;
