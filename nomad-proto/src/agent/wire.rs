//! Helpers for decoding the agent's JSON: answers and nested values that must be JSON objects,
//! Go's encodings of empty values, and string enums that keep values this client does not know
//! yet.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::endpoint::Object;

/// A field that must be a JSON object (see [`Object`]). Use with
/// `#[serde(default, deserialize_with = "object")]`.
pub(super) fn object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Object::deserialize(d).map(|o| o.0)
}

/// A field that is a JSON object or `null` (`None`).
pub(super) fn option_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Object<T>>::deserialize(d)?.map(|o| o.0))
}

/// A field that is an array of JSON objects, or `null` (a nil Go slice) for an empty one.
pub(super) fn objects_or_null<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Objects<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for Objects<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of JSON objects or null")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
            d.deserialize_seq(self)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(Object(item)) = seq.next_element()? {
                items.push(item);
            }
            Ok(items)
        }
    }
    d.deserialize_option(Objects(PhantomData))
}

/// A field that is a JSON object whose values are JSON objects, or `null` for an empty map.
pub(super) fn object_map_or_null<'de, D, T>(d: D) -> Result<BTreeMap<String, T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let map: Option<BTreeMap<String, Object<T>>> = Option::deserialize(d)?;
    Ok(map
        .unwrap_or_default()
        .into_iter()
        .map(|(key, value)| (key, value.0))
        .collect())
}

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
/// `as_str` gives the wire string, `Display` prints it (honouring width and alignment), it
/// deserializes from it and serializes to it (`Other(s)` as `s`). A missing value (`null` or `""`)
/// decodes as the variant named after
/// `default`.
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
            /// The wire string, padded to the formatter's width (`{:<8}`). A value this client
            /// does not know ([`Other`](Self::Other)) is shown with its control characters
            /// escaped.
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    $name::Other(s) if s.chars().any(|c| c.escape_debug().len() > 1) => {
                        f.pad(&crate::text::Escaped::new(s, usize::MAX).to_string())
                    }
                    _ => f.pad(self.as_str()),
                }
            }
        }

        impl serde::Serialize for $name {
            /// The wire string ([`as_str`](Self::as_str)).
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
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
