//! Event rules: which query keys an incoming event invalidates or patches. A rule's keys are
//! templates, `["order", "{orderId}"]`, whose `"{path}"` strings are replaced by the value at
//! that path of the event's payload (`"{location.city}"` for nested fields), so the common
//! cases need no JavaScript callback at all.

use super::query_key::Value;

/// A key template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template(pub Value);

impl Template {
    /// Parses a template from JSON text (an array).
    pub fn parse(raw: &str) -> Result<Template, String> {
        match Value::parse(raw) {
            Ok(v @ Value::Arr(_)) => Ok(Template(v)),
            Ok(_) => Err("a key template must be an array".into()),
            Err(e) => Err(e.text()),
        }
    }

    /// The key for `payload`, or `None` when a placeholder names a field the payload lacks.
    pub fn fill(&self, payload: &Value) -> Option<Value> {
        fill(&self.0, payload)
    }
}

fn lookup<'a>(payload: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(payload, |v, field| match v {
        Value::Obj(fields) => fields
            .iter()
            .rev()
            .find(|(k, _)| k == field)
            .map(|(_, v)| v),
        Value::Arr(items) => field.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

fn fill(t: &Value, payload: &Value) -> Option<Value> {
    Some(match t {
        Value::Str(s) if s.len() > 2 && s.starts_with('{') && s.ends_with('}') => {
            lookup(payload, &s[1..s.len() - 1])?.clone()
        }
        Value::Arr(items) => Value::Arr(
            items
                .iter()
                .map(|i| fill(i, payload))
                .collect::<Option<_>>()?,
        ),
        Value::Obj(fields) => Value::Obj(
            fields
                .iter()
                .map(|(k, v)| Some((k.clone(), fill(v, payload)?)))
                .collect::<Option<_>>()?,
        ),
        other => other.clone(),
    })
}

/// What a rule does to the keys it names.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Invalidate queries matching each key (prefix/subset, as `invalidateQueries`).
    Invalidate(Vec<Template>),
    /// Replace the data of exactly this key with the payload.
    SetData(Template),
}

/// Rules by event name.
#[derive(Debug, Default)]
pub struct Rules {
    rules: Vec<(u64, String, Action)>,
    next: u64,
}

impl Rules {
    /// Adds a rule for `event`; returns its id.
    pub fn add(&mut self, event: &str, action: Action) -> u64 {
        self.next += 1;
        self.rules.push((self.next, event.to_owned(), action));
        self.next
    }

    /// Removes a rule. Returns whether it existed.
    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.rules.len();
        self.rules.retain(|(i, _, _)| *i != id);
        self.rules.len() < before
    }

    /// Whether any rule listens to `event`.
    pub fn wants(&self, event: &str) -> bool {
        self.rules.iter().any(|(_, e, _)| e == event)
    }

    /// For one event: the keys to invalidate and the `(key, data)` pairs to set.
    pub fn apply(&self, event: &str, payload: &Value) -> (Vec<Value>, Vec<Value>) {
        let mut invalidate = Vec::new();
        let mut set = Vec::new();
        for (_, e, action) in &self.rules {
            if e != event {
                continue;
            }
            match action {
                Action::Invalidate(templates) => {
                    invalidate.extend(templates.iter().filter_map(|t| t.fill(payload)))
                }
                Action::SetData(t) => set.extend(t.fill(payload)),
            }
        }
        (invalidate, set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(raw: &str) -> Value {
        Value::parse(raw).unwrap()
    }

    #[test]
    fn templates_fill_from_the_payload() {
        let payload =
            v(r#"{"orderId":"ord_1","location":{"city":"Lisbon"},"items":[{"sku":"A"}],"n":3}"#);
        let cases = [
            (r#"["order", "{orderId}"]"#, Some(r#"["order","ord_1"]"#)),
            (r#"["orders"]"#, Some(r#"["orders"]"#)),
            (
                r#"["city", "{location.city}", {"n": "{n}"}]"#,
                Some(r#"["city","Lisbon",{"n":3}]"#),
            ),
            (r#"["sku", "{items.0.sku}"]"#, Some(r#"["sku","A"]"#)),
            (r#"["order", "{missing}"]"#, None),
            (
                r#"["literal", "{}", "x{orderId}"]"#,
                Some(r#"["literal","{}","x{orderId}"]"#),
            ),
        ];
        for (template, want) in cases {
            let got = Template::parse(template)
                .unwrap()
                .fill(&payload)
                .map(|k| k.hash());
            assert_eq!(got.as_deref(), want, "{template}");
        }
        assert!(Template::parse(r#"{"a":1}"#).is_err());
    }

    #[test]
    fn rules_by_event_name() {
        let mut r = Rules::default();
        let id = r.add(
            "order:status_update",
            Action::Invalidate(vec![
                Template::parse(r#"["orders"]"#).unwrap(),
                Template::parse(r#"["order","{orderId}"]"#).unwrap(),
            ]),
        );
        r.add(
            "order:status_update",
            Action::SetData(Template::parse(r#"["order-status","{orderId}"]"#).unwrap()),
        );
        let (inv, set) = r.apply("order:status_update", &v(r#"{"orderId":"7"}"#));
        assert_eq!(
            inv.iter().map(Value::hash).collect::<Vec<_>>(),
            [r#"["orders"]"#, r#"["order","7"]"#]
        );
        assert_eq!(
            set.iter().map(Value::hash).collect::<Vec<_>>(),
            [r#"["order-status","7"]"#]
        );
        assert!(r.apply("chat:message", &v("{}")).0.is_empty());
        assert!(r.remove(id));
        assert!(r
            .apply("order:status_update", &v(r#"{"orderId":"7"}"#))
            .0
            .is_empty());
        assert!(r.wants("order:status_update"));
    }
}
