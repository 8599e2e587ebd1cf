//! An index of query keys so that finding the queries a filter matches costs in proportion to
//! what matches, not to the cache size (query-core scans every query: TanStack/query#9588).
//!
//! A trie over key elements: each level maps an element's hash to the keys continuing with it.
//! A filter element that is a primitive is one lookup; an object or array element (matched by
//! subset / prefix) scans that level's children only. Everything under the node where the
//! filter ends matches (array prefix semantics).

use std::collections::BTreeMap;

use super::query_key::{partial_match, Value};

#[derive(Debug)]
struct Node<T> {
    element: Option<Value>,
    children: BTreeMap<String, Node<T>>,
    here: Vec<T>,
}

impl<T> Node<T> {
    fn new(element: Option<Value>) -> Node<T> {
        Node {
            element,
            children: BTreeMap::new(),
            here: Vec::new(),
        }
    }
}

/// Query keys (JSON arrays) → items (e.g. query ids).
#[derive(Debug)]
pub struct KeyIndex<T> {
    root: Node<T>,
    len: usize,
}

impl<T> Default for KeyIndex<T> {
    fn default() -> Self {
        KeyIndex {
            root: Node::new(None),
            len: 0,
        }
    }
}

fn elements(key: &Value) -> &[Value] {
    match key {
        Value::Arr(items) => items,
        _ => &[],
    }
}

impl<T: Clone + PartialEq> KeyIndex<T> {
    /// Number of items.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds `item` under `key` (an array).
    pub fn insert(&mut self, key: &Value, item: T) {
        let mut node = &mut self.root;
        for e in elements(key) {
            node = node
                .children
                .entry(e.hash())
                .or_insert_with(|| Node::new(Some(e.clone())));
        }
        node.here.push(item);
        self.len += 1;
    }

    /// Removes `item` from under `key`; prunes empty branches. Returns whether it was there.
    pub fn remove(&mut self, key: &Value, item: &T) -> bool {
        let hashes: Vec<String> = elements(key).iter().map(Value::hash).collect();
        let removed = remove_in(&mut self.root, &hashes, item);
        if removed {
            self.len -= 1;
        }
        removed
    }

    /// The items whose key equals `key` (by hash, as `exact: true`).
    pub fn exact(&self, key: &Value) -> Vec<T> {
        let mut node = &self.root;
        for e in elements(key) {
            match node.children.get(&e.hash()) {
                Some(n) => node = n,
                None => return Vec::new(),
            }
        }
        node.here.clone()
    }

    /// The items whose key partially matches `filter` (TanStack's `partialMatchKey`).
    pub fn matching(&self, filter: &Value) -> Vec<T> {
        let mut out = Vec::new();
        walk(&self.root, elements(filter), &mut out);
        out
    }
}

fn remove_in<T: PartialEq>(node: &mut Node<T>, hashes: &[String], item: &T) -> bool {
    match hashes.split_first() {
        None => match node.here.iter().position(|x| x == item) {
            Some(at) => {
                node.here.swap_remove(at);
                true
            }
            None => false,
        },
        Some((h, rest)) => {
            let Some(child) = node.children.get_mut(h) else {
                return false;
            };
            let removed = remove_in(child, rest, item);
            if child.here.is_empty() && child.children.is_empty() {
                node.children.remove(h);
            }
            removed
        }
    }
}

fn collect<T: Clone>(node: &Node<T>, out: &mut Vec<T>) {
    out.extend(node.here.iter().cloned());
    for child in node.children.values() {
        collect(child, out);
    }
}

fn walk<T: Clone>(node: &Node<T>, filter: &[Value], out: &mut Vec<T>) {
    let Some((first, rest)) = filter.split_first() else {
        return collect(node, out);
    };
    match first {
        Value::Arr(_) | Value::Obj(_) => {
            for child in node.children.values() {
                if child
                    .element
                    .as_ref()
                    .is_some_and(|e| partial_match(e, first))
                {
                    walk(child, rest, out);
                }
            }
        }
        primitive => {
            if let Some(child) = node.children.get(&primitive.hash()) {
                walk(child, rest, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(raw: &str) -> Value {
        Value::parse(raw).unwrap()
    }

    #[test]
    fn prefix_subset_and_exact_lookups() {
        let mut ix = KeyIndex::default();
        let keys = [
            r#"["orders"]"#,
            r#"["orders", "1"]"#,
            r#"["orders", "2"]"#,
            r#"["orders", {"status": "open", "page": 1}]"#,
            r#"["orders", {"status": "done", "page": 1}]"#,
            r#"["feed", 1]"#,
        ];
        for (i, k) in keys.iter().enumerate() {
            ix.insert(&v(k), i);
        }
        let sorted = |mut x: Vec<usize>| {
            x.sort();
            x
        };
        assert_eq!(sorted(ix.matching(&v(r#"["orders"]"#))), [0, 1, 2, 3, 4]);
        assert_eq!(
            sorted(ix.matching(&v(r#"["orders", {"status": "open"}]"#))),
            [3]
        );
        assert_eq!(sorted(ix.matching(&v(r#"["orders", {}]"#))), [3, 4]);
        assert_eq!(
            ix.exact(&v(r#"["orders", {"page": 1, "status": "open"}]"#)),
            [3]
        );
        assert_eq!(ix.exact(&v(r#"["orders"]"#)), [0]);
        assert_eq!(sorted(ix.matching(&v("[]"))), [0, 1, 2, 3, 4, 5]);
        assert!(ix.remove(&v(r#"["orders", "1"]"#), &1));
        assert!(!ix.remove(&v(r#"["orders", "1"]"#), &1));
        assert_eq!(sorted(ix.matching(&v(r#"["orders"]"#))), [0, 2, 3, 4]);
        assert_eq!(ix.len(), 5);
    }
}
