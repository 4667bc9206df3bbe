//! JSON-like documents the core reads by hand: Flex's `custom_data` (the
//! configuration, `config` and `pause`) and the backend's answers
//! (`backend_client`). Each reader is written once against `Document`:
//! natively (the backend, the tests) the document is a `serde_json::Value`;
//! in the browser it is a `Tree` the shell read from the JS object
//! (`wasm::answer`), so the wasm carries neither serde_json's `Value` nor its
//! parser.

use serde_json::Value;

/// What a value of a document is. A number is its text as JavaScript writes
/// it (`String(n)`: `1`, `0.5`, `1e+21`), the same whichever side read it.
#[derive(Clone, Debug, PartialEq)]
pub enum Node<D> {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<D>),
    Object,
}

/// A document read member by member.
pub trait Document: Sized {
    /// What this value is.
    fn node(&self) -> Node<Self>;

    /// The member `key` of an object; `None` for a missing member or a
    /// value that is not an object.
    fn get(&self, key: &str) -> Option<Self>;

    /// The member `key` of an object, as a node.
    fn at(&self, key: &str) -> Option<Node<Self>> {
        self.get(key).map(|v| v.node())
    }

    /// The member `key` when it is a string.
    fn str_at(&self, key: &str) -> Option<String> {
        match self.at(key)? {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    /// The member `key` when it is a boolean.
    fn bool_at(&self, key: &str) -> Option<bool> {
        match self.at(key)? {
            Node::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The member `key` when it is a number.
    fn f64_at(&self, key: &str) -> Option<f64> {
        match self.at(key)? {
            Node::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    /// Whether this value is an object (not an array, not null).
    fn is_object(&self) -> bool {
        matches!(self.node(), Node::Object)
    }

    /// The member `key` when it is an object.
    fn object_at(&self, key: &str) -> Option<Self> {
        self.get(key).filter(|v| v.is_object())
    }

    /// The member `key` when it is a whole number within i64.
    fn i64_at(&self, key: &str) -> Option<i64> {
        match self.at(key)? {
            Node::Number(n) => n.parse().ok(),
            _ => None,
        }
    }
}

/// "a string", "an object"... for messages.
pub fn type_name<D>(n: &Node<D>) -> &'static str {
    match n {
        Node::Null => "null",
        Node::Bool(_) => "a boolean",
        Node::Number(_) => "a number",
        Node::String(_) => "a string",
        Node::Array(_) => "an array",
        Node::Object => "an object",
    }
}

impl<'a> Document for &'a Value {
    fn node(&self) -> Node<&'a Value> {
        match self {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Number(crate::attributes::number_of_json(n)),
            Value::String(s) => Node::String(s.clone()),
            Value::Array(items) => Node::Array(items.iter().collect()),
            Value::Object(_) => Node::Object,
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        match self {
            Value::Object(members) => members.get(key),
            _ => None,
        }
    }

    fn f64_at(&self, key: &str) -> Option<f64> {
        self.get(key)?.as_f64()
    }
}

/// A document the shell read into memory (in the browser: from a JS object).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tree {
    Null,
    Bool(bool),
    /// As JavaScript writes the number (see `Node::Number`).
    Number(String),
    String(String),
    Array(Vec<Tree>),
    /// The members in the order read; a key appears once.
    Object(Vec<(String, Tree)>),
}

impl<'a> Document for &'a Tree {
    fn node(&self) -> Node<&'a Tree> {
        match self {
            Tree::Null => Node::Null,
            Tree::Bool(b) => Node::Bool(*b),
            Tree::Number(n) => Node::Number(n.clone()),
            Tree::String(s) => Node::String(s.clone()),
            Tree::Array(items) => Node::Array(items.iter().collect()),
            Tree::Object(_) => Node::Object,
        }
    }

    fn get(&self, key: &str) -> Option<&'a Tree> {
        match self {
            Tree::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}
