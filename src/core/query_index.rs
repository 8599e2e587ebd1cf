//! An index of query keys so that finding the queries a filter matches costs in proportion to
//! what matches, not to the cache size (query-core scans every query: TanStack/query#9588).
//!
//! A trie over key elements: each level maps an element's hash to the keys continuing with it.
//! A filter element that is a primitive is one lookup; an object or array element (matched by
//! subset / prefix) scans that level's children only. Everything under the node where the
//! filter ends matches (array prefix semantics).

use std::collections::BTreeMap;

use super::query_key::{partial_match, Value};

/// A trie node. Nodes live in one arena and refer to their children by index, so the index
/// shares its map type (`BTreeMap<String, u32>`) with the rest of the cache: one copy of the
/// B-tree code in the wasm instead of one per node type.
#[derive(Debug)]
struct Node<T> {
    element: Option<Value>,
    children: BTreeMap<String, u32>,
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
    /// The arena; the root is node 0.
    nodes: Vec<Node<T>>,
    /// Arena slots of pruned nodes, for reuse.
    free: Vec<u32>,
    len: usize,
}

impl<T> Default for KeyIndex<T> {
    fn default() -> Self {
        KeyIndex {
            nodes: vec![Node::new(None)],
            free: Vec::new(),
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

    fn node(&self, at: u32) -> &Node<T> {
        &self.nodes[at as usize]
    }

    fn child(&self, at: u32, hash: &str) -> Option<u32> {
        self.node(at).children.get(hash).copied()
    }

    /// Adds `item` under `key` (an array).
    pub fn insert(&mut self, key: &Value, item: T) {
        let mut at = 0;
        for e in elements(key) {
            let hash = e.hash();
            at = match self.child(at, &hash) {
                Some(child) => child,
                None => {
                    let node = Node::new(Some(e.clone()));
                    let child = match self.free.pop() {
                        Some(slot) => {
                            self.nodes[slot as usize] = node;
                            slot
                        }
                        None => {
                            self.nodes.push(node);
                            (self.nodes.len() - 1) as u32
                        }
                    };
                    self.nodes[at as usize].children.insert(hash, child);
                    child
                }
            };
        }
        self.nodes[at as usize].here.push(item);
        self.len += 1;
    }

    /// Removes `item` from under `key`; prunes empty branches. Returns whether it was there.
    pub fn remove(&mut self, key: &Value, item: &T) -> bool {
        let mut path: Vec<(u32, String)> = Vec::new();
        let mut at = 0;
        for e in elements(key) {
            let hash = e.hash();
            let Some(child) = self.child(at, &hash) else {
                return false;
            };
            path.push((at, hash));
            at = child;
        }
        let here = &mut self.nodes[at as usize].here;
        let Some(i) = here.iter().position(|x| x == item) else {
            return false;
        };
        here.swap_remove(i);
        self.len -= 1;
        // Prune from the bottom up while nodes are left empty.
        for (parent, hash) in path.iter().rev() {
            let child = self.child(*parent, hash).unwrap_or(0);
            let n = self.node(child);
            if child == 0 || !n.here.is_empty() || !n.children.is_empty() {
                break;
            }
            self.nodes[*parent as usize].children.remove(hash);
            self.nodes[child as usize] = Node::new(None);
            self.free.push(child);
        }
        true
    }

    /// The items whose key equals `key` (by hash, as `exact: true`).
    pub fn exact(&self, key: &Value) -> Vec<T> {
        let mut at = 0;
        for e in elements(key) {
            match self.child(at, &e.hash()) {
                Some(child) => at = child,
                None => return Vec::new(),
            }
        }
        self.node(at).here.clone()
    }

    /// The items whose key partially matches `filter` (TanStack's `partialMatchKey`).
    pub fn matching(&self, filter: &Value) -> Vec<T> {
        let mut out = Vec::new();
        self.walk(0, elements(filter), &mut out);
        out
    }

    fn collect(&self, at: u32, out: &mut Vec<T>) {
        let node = self.node(at);
        out.extend(node.here.iter().cloned());
        for &child in node.children.values() {
            self.collect(child, out);
        }
    }

    fn walk(&self, at: u32, filter: &[Value], out: &mut Vec<T>) {
        let Some((first, rest)) = filter.split_first() else {
            return self.collect(at, out);
        };
        match first {
            Value::Arr(_) | Value::Obj(_) => {
                for &child in self.node(at).children.values() {
                    let element = self.node(child).element.as_ref();
                    if element.is_some_and(|e| partial_match(e, first)) {
                        self.walk(child, rest, out);
                    }
                }
            }
            primitive => {
                if let Some(child) = self.child(at, &primitive.hash()) {
                    self.walk(child, rest, out);
                }
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

    #[test]
    fn pruned_nodes_are_reused_and_leave_no_stale_matches() {
        let mut ix = KeyIndex::default();
        for round in 0..3 {
            ix.insert(&v(r#"["a", "b", "c"]"#), round);
            ix.insert(&v(r#"["a", "x"]"#), 100 + round);
            assert!(ix.remove(&v(r#"["a", "b", "c"]"#), &round));
            assert!(ix.remove(&v(r#"["a", "x"]"#), &(100 + round)));
            assert!(ix.matching(&v(r#"["a"]"#)).is_empty());
            assert!(ix.exact(&v(r#"["a", "b"]"#)).is_empty());
        }
        // The root and the four nodes one round needs: pruned slots were reused.
        assert_eq!(ix.nodes.len(), 5);
        ix.insert(&v(r#"["a", "b"]"#), 7);
        assert_eq!(ix.matching(&v(r#"["a"]"#)), [7]);
        assert!(!ix.remove(&v(r#"["a", "b", "c"]"#), &7));
        assert_eq!(ix.len(), 1);
    }
}
