//! JSON objects written with their keys in a given order.
//!
//! The agent encodes its answers with go-msgpack's `JsonHandle`: a struct's fields come out in
//! their Go declaration order, a Go map's keys in Go's (random) map order. `serde_json`'s own
//! map sorts its keys, so the fixtures that mirror Go structs are built as [`Node`]s with
//! [`go_struct!`], which keeps the order they are written in; Go maps stay `serde_json` maps
//! (sorted, one of the orders Go may produce).

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// A JSON value whose objects keep the order their keys were written in.
pub(crate) enum Node {
    /// Any JSON value (its objects, if any, are sorted: Go maps).
    Value(Value),
    /// A Go struct: its fields in declaration order.
    Struct(Vec<(&'static str, Node)>),
    /// A JSON array of nodes.
    Array(Vec<Node>),
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Value(v) => v.serialize(s),
            Node::Struct(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (key, value) in fields {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
            Node::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}

/// What a field of [`go_struct!`] can hold.
pub(crate) trait ToNode {
    fn to_node(self) -> Node;
}

impl ToNode for Node {
    fn to_node(self) -> Node {
        self
    }
}

impl ToNode for Value {
    fn to_node(self) -> Node {
        Node::Value(self)
    }
}

impl ToNode for Vec<Node> {
    fn to_node(self) -> Node {
        Node::Array(self)
    }
}

macro_rules! scalar_nodes {
    ($($t:ty),*) => {
        $(impl ToNode for $t {
            fn to_node(self) -> Node {
                Node::Value(Value::from(self))
            }
        })*
    };
}
scalar_nodes!(&str, String, bool, u8, u16, u32, u64, i64, usize, Vec<String>);

/// A Go struct's JSON, fields in the order written: `go_struct! { "Name" => name, "Port" => 4648 }`.
macro_rules! go_struct {
    ($($key:literal => $value:expr),* $(,)?) => {
        $crate::test_agent::json::Node::Struct(vec![
            $(($key, $crate::test_agent::json::ToNode::to_node($value))),*
        ])
    };
}
pub(crate) use go_struct;

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn struct_fields_keep_their_order_and_maps_stay_sorted() {
        let node = go_struct! {
            "Name" => "nomad-1.global",
            "Addr" => "10.0.0.1",
            "Tags" => json!({"role": "nomad", "dc": "dc1"}),
            "Inner" => go_struct! { "Z" => 1u32, "A" => true },
            "List" => vec![go_struct! { "B" => 2u32, "A" => 1u32 }],
        };
        assert_eq!(
            serde_json::to_string(&node).unwrap(),
            r#"{"Name":"nomad-1.global","Addr":"10.0.0.1","Tags":{"dc":"dc1","role":"nomad"},"Inner":{"Z":1,"A":true},"List":[{"B":2,"A":1}]}"#
        );
    }
}
