//! The catalog's three views agree: the Rust structs (serde), the schemas (runtime validation)
//! and the generated TypeScript (`pkg-template/catalog.d.ts`).
#![cfg(not(target_arch = "wasm32"))]

use wiresync::core::schema::{validate, Type};
use wiresync::events::{self, *};

/// A JSON document of the type, every optional field filled and null-free.
fn sample(ty: &Type) -> String {
    match ty {
        Type::Str => "\"s\"".into(),
        Type::Num => "1".into(),
        Type::Bool => "true".into(),
        Type::Any => "{}".into(),
        Type::Opt(inner) => sample(inner),
        Type::Array(inner) => format!("[{}]", sample(inner)),
        Type::OneOf { values, .. } => format!("\"{}\"", values[values.len() - 1]),
        Type::Object { fields, .. } => {
            let parts: Vec<String> = fields
                .iter()
                .map(|f| format!("\"{}\":{}", f.name, sample(f.ty)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        other => panic!("the catalog uses only the types above, not {other:?}"),
    }
}

/// A document with every optional field left out.
fn minimal(ty: &Type) -> String {
    match ty {
        Type::Object { fields, .. } => {
            let parts: Vec<String> = fields
                .iter()
                .filter(|f| !matches!(f.ty, Type::Opt(_)))
                .map(|f| format!("\"{}\":{}", f.name, minimal(f.ty)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Type::Array(_) => "[]".into(),
        other => sample(other),
    }
}

fn agree<E: Event + std::fmt::Debug>() {
    for doc in [sample(E::TYPE), minimal(E::TYPE)] {
        validate(E::TYPE, &doc)
            .unwrap_or_else(|e| panic!("{}: schema rejects its own sample: {e}", E::NAME));
        let value: E = serde_json::from_str(&doc)
            .unwrap_or_else(|e| panic!("{}: serde rejects {doc}: {e}", E::NAME));
        let back = serde_json::to_string(&value).unwrap();
        validate(E::TYPE, &back)
            .unwrap_or_else(|e| panic!("{}: schema rejects serde's {back}: {e}", E::NAME));
    }
}

#[test]
fn structs_and_schemas_agree_for_every_event() {
    agree::<OrderStatusUpdate>();
    agree::<OrderLocationUpdate>();
    agree::<OrderEtaUpdate>();
    agree::<ChatMessage>();
    agree::<ChatTyping>();
    agree::<ChatRead>();
    agree::<ChatAgentStatus>();
    agree::<FeedNewPost>();
    agree::<FeedPostLiked>();
    agree::<FeedPostCommented>();
    agree::<FeedUserFollowed>();
    agree::<LeaderboardUpdate>();
    agree::<LeaderboardRankChange>();
    agree::<LeaderboardAchievement>();
    agree::<CartSync>();
    agree::<CartItemReserved>();
    agree::<CartItemReleased>();
    agree::<WalletBalanceUpdated>();
    agree::<InvestmentCreated>();
    agree::<InvestmentConfirmed>();
    agree::<TransactionStatusChanged>();
    agree::<PropertyFundingUpdated>();
    agree::<PropertyStatusChanged>();
    agree::<RewardDistributed>();
    agree::<NotificationNew>();
    agree::<PortfolioUpdated>();
    agree::<UserOnline>();
    agree::<UserOffline>();
    agree::<ChatSendMessage>();
    agree::<ChatTypingInput>();
    agree::<ChatReadInput>();
    agree::<NotificationRead>();
    agree::<PresenceUpdate>();
    assert_eq!(
        events::LISTEN.len() + events::EMIT.len(),
        33,
        "a new event needs a line above"
    );
}

#[test]
fn every_catalog_name_is_unique_per_direction_and_looks_up() {
    for list in [events::LISTEN, events::EMIT] {
        let mut names: Vec<&str> = list.iter().map(|(n, _)| *n).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), list.len());
    }
    for (name, _) in events::LISTEN {
        assert!(events::listen_schema(name).is_some());
    }
    assert!(events::listen_schema("not:in_catalog").is_none());
    assert!(events::validate_incoming("not:in_catalog", "1").is_ok());
    assert!(events::validate_outgoing("chat:send_message", r#"{"chatId":"c"}"#).is_err());
}

#[test]
fn validation_names_the_field_and_the_reason() {
    let bad = r#"{"orderId":"o","location":{"latitude":"52.1","longitude":4.3},"timestamp":"t"}"#;
    assert_eq!(
        events::validate_incoming("order:location_update", bad),
        Err("field `location.latitude`: expected number, got string".to_owned())
    );
}

#[test]
fn generated_typescript_is_up_to_date() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/pkg-template/catalog.d.ts");
    let fresh = events::typescript();
    if std::env::var_os("WIRESYNC_BLESS").is_some() {
        std::fs::write(path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == fresh,
        "pkg-template/catalog.d.ts is stale: run WIRESYNC_BLESS=1 cargo test --test catalog"
    );
    assert!(fresh.contains("\"order:status_update\": OrderStatusUpdate;"));
    assert!(fresh
        .contains("export interface OrderStatusUpdate {\n  /** The order. */\n  orderId: string;"));
}
