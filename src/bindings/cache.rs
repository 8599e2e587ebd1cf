//! The `client.cache` half of the JS API (raw methods on `RawClient`; the friendly `Cache`
//! class, updater functions and function rules are in `pkg-template/index.js`).

use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::prelude::*;

use super::{listener_error, stringify, to_js, Opts, RawClient};
use crate::core::error::{Error, ErrorCode};
use crate::core::invalidation::{Action, Template};
use crate::core::query_cache::{Filters, Query, QueryStatus, QueryType, RefetchType};
use crate::core::query_key::Value;
use crate::platform::glue;

fn bad(what: &str) -> JsValue {
    to_js(&Error::new(ErrorCode::InvalidArgument, what))
}

fn key_from_js(key: &JsValue) -> Result<Value, JsValue> {
    match Value::parse(&stringify(key, "query key", None)?) {
        Ok(v @ Value::Arr(_)) => Ok(v),
        _ => Err(bad("a query key must be a JSON array")),
    }
}

fn key_to_js(key: &Value) -> JsValue {
    js_sys::JSON::parse(&key.hash()).unwrap_or(JsValue::NULL)
}

/// The keys of query filters (TanStack's `QueryFilters`): `predicate` runs in JS (client.js),
/// so `watch` has none; `invalidateQueries` also takes `refetchType`.
const INVALIDATE: &[&str] = &[
    "queryKey",
    "exact",
    "type",
    "stale",
    "predicate",
    "refetchType",
];
const FILTERS: &[&str] = INVALIDATE.split_at(5).0;
const WATCH: &[&str] = INVALIDATE.split_at(4).0;

fn filters_from_js(f: JsValue, known: &[&str]) -> Result<(Filters, RefetchType), JsValue> {
    let mut filters = Filters::default();
    let Some(f) = Opts::of(f, "", known)? else {
        return Ok((filters, RefetchType::Active));
    };
    let key = f.raw("queryKey");
    if !key.is_undefined() {
        filters.query_key = Some(key_from_js(&key)?); // null: an error, not "every query"
    }
    filters.exact = f.bool("exact")?.unwrap_or(false);
    filters.kind = match f.choice("type", &["all", "active", "inactive"])? {
        None | Some(0) => QueryType::All,
        Some(1) => QueryType::Active,
        Some(_) => QueryType::Inactive,
    };
    filters.stale = f.bool("stale")?;
    let refetch = match f.choice("refetchType", &["active", "inactive", "all", "none"])? {
        None | Some(0) => RefetchType::Active,
        Some(1) => RefetchType::Inactive,
        Some(2) => RefetchType::All,
        Some(_) => RefetchType::None,
    };
    Ok((filters, refetch))
}

/// `{ status, data, error, dataUpdatedAt, isStale, isFetching, isInvalidated }`.
fn state_to_js(q: &Query) -> JsValue {
    let o: JsValue = Object::new().into();
    let set = |k: &str, v: JsValue| glue::set(&o, k, &v);
    let (status, error) = match &q.status {
        QueryStatus::Pending => ("pending", JsValue::NULL),
        QueryStatus::Success => ("success", JsValue::NULL),
        QueryStatus::Error(e) => ("error", e.as_str().into()),
    };
    set("status", status.into());
    set("error", error);
    set(
        "data",
        q.data
            .as_deref()
            .and_then(|d| js_sys::JSON::parse(d).ok())
            .unwrap_or(JsValue::UNDEFINED),
    );
    set("dataUpdatedAt", (q.data_updated_at as f64).into());
    // The cache's clock is the wall clock (`dataUpdatedAt` is epoch ms, as in TanStack).
    set(
        "isStale",
        q.is_stale(crate::platform::timers::wall_now()).into(),
    );
    set("isFetching", q.fetching.into());
    set("isInvalidated", q.invalidated.into());
    o
}

fn templates_from_js(list: &JsValue) -> Result<Vec<Template>, JsValue> {
    Array::from(list)
        .iter()
        .map(|t| Template::parse(&stringify(&t, "key template", None)?).map_err(|e| bad(&e)))
        .collect()
}

#[wasm_bindgen]
impl RawClient {
    /// `setQueryData(key, data)` (the wrapper resolves updater functions first). `local`:
    /// from an event rule, so not told to other tabs (they receive the event themselves).
    #[wasm_bindgen(js_name = cacheSet)]
    pub fn cache_set(
        &self,
        key: JsValue,
        data: JsValue,
        local: Option<bool>,
    ) -> Result<(), JsValue> {
        let key = stringify(&key, "query key", None)?;
        let data = stringify(&data, "query data", None)?;
        self.session
            .cache
            .set_data_json(&key, data, !local.unwrap_or(false))
            .map_err(|e| bad(&e))
    }

    /// `getQueryData(key)`: the data, or `undefined`.
    #[wasm_bindgen(js_name = cacheGet)]
    pub fn cache_get(&self, key: JsValue) -> Result<JsValue, JsValue> {
        let key = key_from_js(&key)?;
        Ok(self
            .session
            .cache
            .get_data(&key)
            .and_then(|d| js_sys::JSON::parse(&d).ok())
            .unwrap_or(JsValue::UNDEFINED))
    }

    /// The state of one query, or `undefined`.
    #[wasm_bindgen(js_name = cacheState)]
    pub fn cache_state(&self, key: JsValue) -> Result<JsValue, JsValue> {
        Ok(self
            .session
            .cache
            .query(&key_from_js(&key)?)
            .map_or(JsValue::UNDEFINED, |q| state_to_js(&q)))
    }

    /// `invalidateQueries(filters)`: returns the number of queries matched.
    #[wasm_bindgen(js_name = cacheInvalidate)]
    pub fn cache_invalidate(&self, filters: JsValue, local: Option<bool>) -> Result<u32, JsValue> {
        let (f, refetch) = filters_from_js(filters, INVALIDATE)?;
        Ok(self
            .session
            .cache
            .invalidate(&f, refetch, !local.unwrap_or(false)) as u32)
    }

    /// `removeQueries(filters)`.
    #[wasm_bindgen(js_name = cacheRemove)]
    pub fn cache_remove(&self, filters: JsValue) -> Result<u32, JsValue> {
        Ok(self
            .session
            .cache
            .remove(&filters_from_js(filters, FILTERS)?.0) as u32)
    }

    /// `resetQueries(filters)`.
    #[wasm_bindgen(js_name = cacheReset)]
    pub fn cache_reset(&self, filters: JsValue) -> Result<u32, JsValue> {
        Ok(self
            .session
            .cache
            .reset(&filters_from_js(filters, FILTERS)?.0) as u32)
    }

    /// `hook(keys)` whenever an invalidation or patch touches matching keys; returns an id.
    #[wasm_bindgen(js_name = cacheWatch)]
    pub fn cache_watch(&self, filters: JsValue, hook: Function) -> Result<f64, JsValue> {
        let (f, _) = filters_from_js(filters, WATCH)?;
        let report = self.client.reporter();
        Ok(self.session.cache.watch_raw(f, move |keys| {
            let list: Array = keys.iter().map(key_to_js).collect();
            if let Err(e) = hook.call1(&JsValue::NULL, &list) {
                report(&listener_error(&e));
            }
        }) as f64)
    }

    /// Removes a watch hook.
    #[wasm_bindgen(js_name = cacheUnwatch)]
    pub fn cache_unwatch(&self, id: f64) {
        self.session.cache.unwatch(id as u64);
    }

    /// Observes `key` with `queryFn` (may be async); `listener(state)` on every change.
    #[wasm_bindgen(js_name = cacheObserve)]
    pub fn cache_observe(
        &self,
        key: JsValue,
        options: JsValue,
        listener: Function,
    ) -> Result<f64, JsValue> {
        let key = key_from_js(&key)?;
        let o = Opts::of(options, "", &["queryFn", "staleTime", "gcTime"])?;
        let (query_fn, stale_time, gc_time) = match o {
            Some(o) => (o.function("queryFn")?, o.ms("staleTime")?, o.ms("gcTime")?),
            None => (None, None, None),
        };
        let query_fn = query_fn.ok_or_else(|| bad("observe needs { queryFn }"))?;
        let f = Rc::new(move || {
            let query_fn = query_fn.clone();
            Box::pin(async move {
                let mut v = query_fn
                    .call0(&JsValue::NULL)
                    .map_err(|e| super::error::describe(&e))?;
                if let Some(p) = v.dyn_ref::<Promise>() {
                    v = wasm_bindgen_futures::JsFuture::from(p.clone())
                        .await
                        .map_err(|e| super::error::describe(&e))?;
                }
                js_sys::JSON::stringify(&v)
                    .ok()
                    .and_then(|s| s.as_string())
                    .ok_or_else(|| "query data is not JSON".to_owned())
            }) as crate::driver::LocalFuture<Result<String, String>>
        });
        let report = self.client.reporter();
        let id = self.session.cache.observe_raw(
            &key,
            f,
            stale_time.unwrap_or(0),
            // Not given: the cache's default, which is `maxAgeMs` when persisting.
            gc_time,
            move |q| {
                if let Err(e) = listener.call1(&JsValue::NULL, &state_to_js(q)) {
                    report(&listener_error(&e));
                }
            },
        );
        Ok(id as f64)
    }

    /// Stops observing.
    #[wasm_bindgen(js_name = cacheUnobserve)]
    pub fn cache_unobserve(&self, id: f64) {
        self.session.cache.unobserve(id as u64);
    }

    /// Resolves once stored queries are restored (at once when not persisting).
    #[wasm_bindgen(js_name = cacheReady)]
    pub fn cache_ready(&self) -> Promise {
        let cache = self.session.cache.clone();
        Promise::new(&mut |resolve, _| {
            cache.when_ready(move || {
                let _ = resolve.call0(&JsValue::NULL);
            })
        })
    }

    /// "off", "loading", "indexeddb" or "memory".
    #[wasm_bindgen(js_name = cachePersistence)]
    pub fn cache_persistence(&self) -> String {
        self.session.cache.persistence().as_str().into()
    }

    /// The queries `filters` selects: `[{ queryKey, queryHash, state }]`.
    #[wasm_bindgen(js_name = cacheFind)]
    pub fn cache_find(&self, filters: JsValue) -> Result<Array, JsValue> {
        let (f, _) = filters_from_js(filters, FILTERS)?;
        Ok(self
            .session
            .cache
            .find(&f)
            .iter()
            .map(|q| {
                let o = Object::new();
                glue::set(&o, "queryKey", &key_to_js(&q.key));
                glue::set(&o, "queryHash", &q.hash.as_str().into());
                glue::set(&o, "state", &state_to_js(q));
                JsValue::from(o)
            })
            .collect())
    }

    /// The server's data beneath any optimistic layers, or `undefined`.
    #[wasm_bindgen(js_name = cacheServerData)]
    pub fn cache_server_data(&self, key: JsValue) -> Result<JsValue, JsValue> {
        Ok(self
            .session
            .cache
            .server_data(&key_from_js(&key)?)
            .and_then(|d| js_sys::JSON::parse(&d).ok())
            .unwrap_or(JsValue::UNDEFINED))
    }

    /// Covers a key with optimistic layers (`true`) or uncovers it.
    #[wasm_bindgen(js_name = cacheSetLayered)]
    pub fn cache_set_layered(&self, key: JsValue, layered: bool) -> Result<(), JsValue> {
        self.session.cache.set_layered(&key_from_js(&key)?, layered);
        Ok(())
    }

    /// Writes the data the layers made (`undefined`: none).
    #[wasm_bindgen(js_name = cacheSetVisible)]
    pub fn cache_set_visible(&self, key: JsValue, data: JsValue) -> Result<(), JsValue> {
        let key = key_from_js(&key)?;
        let data = if data.is_undefined() {
            None
        } else {
            Some(stringify(&data, "query data", None)?)
        };
        self.session.cache.set_visible(&key, data);
        Ok(())
    }

    /// `f(key, serverData)` whenever server data reaches a layered query.
    #[wasm_bindgen(js_name = cacheOnRebase)]
    pub fn cache_on_rebase(&self, f: Function) {
        let report = self.client.reporter();
        self.session.cache.on_rebase(Rc::new(move |key, base| {
            let base = base
                .and_then(|d| js_sys::JSON::parse(d).ok())
                .unwrap_or(JsValue::UNDEFINED);
            if let Err(e) = f.call3(&JsValue::NULL, &key_to_js(key), &base, &key.hash().into()) {
                report(&listener_error(&e));
            }
        }));
    }

    /// The key `template` gives for `payload`, as the event rules fill it (`"{path}"` strings
    /// replaced by the payload's value there: object fields, array indexes); `undefined` when
    /// the payload lacks one. For the rules that run in JS (bridges, optimistic keys).
    #[wasm_bindgen(js_name = fillKey)]
    pub fn fill_key(&self, template: JsValue, payload: JsValue) -> Result<JsValue, JsValue> {
        let t =
            Template::parse(&stringify(&template, "key template", None)?).map_err(|e| bad(&e))?;
        // A payload that is not JSON fills no placeholder.
        let payload = stringify(&payload, "payload", None)
            .ok()
            .and_then(|p| Value::parse(&p).ok())
            .unwrap_or(Value::Null);
        Ok(t.fill(&payload)
            .map_or(JsValue::UNDEFINED, |k| key_to_js(&k)))
    }

    /// A query key's hash: the key as canonical JSON (object keys sorted), TanStack's `hashKey`.
    #[wasm_bindgen(js_name = queryHash)]
    pub fn query_hash(&self, key: JsValue) -> Result<String, JsValue> {
        Ok(key_from_js(&key)?.hash())
    }

    /// A declarative rule: `event` invalidates the keys its templates fill. Returns an id.
    #[wasm_bindgen(js_name = ruleInvalidate)]
    pub fn rule_invalidate(&self, event: String, templates: JsValue) -> Result<f64, JsValue> {
        Ok(self
            .session
            .cache
            .add_rule(&event, Action::Invalidate(templates_from_js(&templates)?)) as f64)
    }

    /// A declarative rule: `event` sets the data of the key its template fills to its payload.
    #[wasm_bindgen(js_name = ruleSetData)]
    pub fn rule_set_data(&self, event: String, template: JsValue) -> Result<f64, JsValue> {
        let t =
            Template::parse(&stringify(&template, "key template", None)?).map_err(|e| bad(&e))?;
        Ok(self.session.cache.add_rule(&event, Action::SetData(t)) as f64)
    }

    /// Removes a rule.
    #[wasm_bindgen(js_name = ruleRemove)]
    pub fn rule_remove(&self, id: f64) {
        self.session.cache.remove_rule(id as u64);
    }
}
