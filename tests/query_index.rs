//! The query-key index agrees with a brute-force scan (TanStack's way) on random keys and
//! filters: prefix arrays, subset objects, nested values, exact hashes.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use wiresync::core::query_index::KeyIndex;
use wiresync::core::query_key::{hash_of_plain, partial_match, Value};

fn element() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (0u8..4).prop_map(|n| Value::Num(n.to_string())),
        prop::sample::select(vec!["a", "b", "orders", "1"]).prop_map(|s| Value::Str(s.into())),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Arr),
            prop::collection::vec((prop::sample::select(vec!["x", "y", "0"]), inner), 0..3)
                .prop_map(|fields| Value::Obj(
                    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
        ]
    })
}

fn key() -> impl Strategy<Value = Value> {
    prop::collection::vec(element(), 0..4).prop_map(Value::Arr)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn index_matches_equal_a_full_scan(keys in prop::collection::vec(key(), 1..40), filters in prop::collection::vec(key(), 1..8)) {
        let mut ix = KeyIndex::default();
        for (i, k) in keys.iter().enumerate() {
            ix.insert(k, i);
        }
        // Filters: random ones, plus prefixes of stored keys (which must match).
        let mut all = filters.clone();
        for k in keys.iter().take(5) {
            if let Value::Arr(items) = k {
                all.push(Value::Arr(items[..items.len() / 2].to_vec()));
                all.push(k.clone());
            }
        }
        for f in &all {
            let mut got = ix.matching(f);
            got.sort();
            let want: Vec<usize> = keys.iter().enumerate().filter(|(_, k)| partial_match(k, f)).map(|(i, _)| i).collect();
            prop_assert_eq!(&got, &want, "filter {:?}", f);
            let mut exact = ix.exact(f);
            exact.sort();
            let want_exact: Vec<usize> = keys.iter().enumerate().filter(|(_, k)| k.hash() == f.hash()).map(|(i, _)| i).collect();
            prop_assert_eq!(exact, want_exact);
        }
        // Removing everything leaves nothing behind.
        for (i, k) in keys.iter().enumerate() {
            prop_assert!(ix.remove(k, &i));
        }
        prop_assert!(ix.is_empty());
        prop_assert!(ix.matching(&Value::Arr(vec![])).is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// The fast path (a key's JSON text taken as its hash) agrees with parsing and hashing.
    #[test]
    fn plain_key_text_hashes_agree_with_parsing(k in key(), spaced in any::<bool>()) {
        let text = if spaced { k.hash().replace(',', ", ") } else { k.hash() };
        if let Some(fast) = hash_of_plain(&text) {
            prop_assert_eq!(fast, Value::parse(&text).unwrap().hash());
        }
    }
}

/// The point of the index: a two-match invalidation among 100,000 keys touches a handful of
/// nodes. Counted, not timed: the matches found equal the matches that exist.
#[test]
fn a_narrow_filter_in_a_large_index_finds_exactly_its_matches() {
    let mut ix = KeyIndex::default();
    for i in 0..100_000u32 {
        let k = Value::Arr(vec![
            Value::Str("orders".into()),
            Value::Str(format!("{}", i % 50_000)),
            Value::Num((i / 50_000).to_string()),
        ]);
        ix.insert(&k, i);
    }
    let f = Value::Arr(vec![Value::Str("orders".into()), Value::Str("123".into())]);
    let mut got = ix.matching(&f);
    got.sort();
    assert_eq!(got, [123, 50_123]);
}
