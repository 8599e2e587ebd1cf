//! A Leptos 0.8 CSR app on wiresync's Rust API, as the README tells Leptos users to hold it:
//!
//! - `Client` is `!Send` (it lives on the page's thread, as the WebSocket and IndexedDB do), so
//!   the root keeps it in a local store, `StoredValue::new_local`, and provides that (a `Copy`,
//!   `Send` handle) as context; children take it with [`use_client`].
//! - Every guard (`Subscription`, `Membership`) is dropped to unsubscribe. Each component keeps
//!   its guards in a `StoredValue::new_local` too, which its reactive owner drops when the
//!   component is unmounted: registered for exactly the component's life. (`on_cleanup` wants a
//!   `Send + Sync` closure, which a `!Send` guard cannot be moved into.)
//!
//! The server URL comes from the page's query string: `index.html?server=http://127.0.0.1:PORT`.
//! Everything the browser test reads carries a `data-testid`.
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use wiresync::events::{ChatSendMessage, OrderRoom, OrderStatusUpdate};
use wiresync::OutboxEvent;
use wiresync::{key, Auth, Client, Options};

/// The client as the context holds it.
type ClientStore = StoredValue<Client, LocalStorage>;

/// The client the root provided (a cheap clone: another handle to the same connection).
fn use_client() -> Client {
    use_context::<ClientStore>()
        .expect("the wiresync client is provided at the root (App)")
        .get_value()
}

/// Keeps `guard` (a `Subscription`, a `Membership`, or a tuple of them) until the current
/// component is unmounted.
fn keep<T: 'static>(guard: T) {
    let _ = StoredValue::new_local(guard);
}

/// `?server=...` of the page's URL.
fn server_url() -> Option<String> {
    let search = window().location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get("server")
}

/// The order the cache holds under `["order", id]`: what an app's REST fetch would give.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Order {
    order_id: String,
    status: String,
}

fn main() {
    mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let Some(url) = server_url() else {
        return view! { <p data-testid="error">"no ?server=http://host:port in the page URL"</p> }
            .into_any();
    };
    let mut options = Options::new(url);
    // The test server accepts the tokens good, alice and bob only.
    options.auth = Auth::Json(r#"{"token":"good"}"#.into());
    let client = Client::connect(options);
    // The outbox opens on first use: at start-up, so that entries an earlier page stored are
    // sent at once.
    let _ = client.outbox();
    let store: ClientStore = StoredValue::new_local(client);
    provide_context(store);
    view! {
        <h1>"wiresync + Leptos"</h1>
        <Connection/>
        <LiveUpdates/>
        <Room/>
        <CachedOrder/>
        <Send/>
        <Tracking/>
    }
    .into_any()
}

/// 1. The connection status, and the last error the client reported.
#[component]
fn Connection() -> impl IntoView {
    let client = use_client();
    let status = RwSignal::new(client.state().status.as_str().to_owned());
    let error = RwSignal::new(String::new());
    keep((
        client.on_state(move |s| status.set(s.status.as_str().to_owned())),
        client.on_error(move |e| error.set(e.to_string())),
    ));
    view! {
        <section>
            <p>"Connection: " <b data-testid="status">{status}</b></p>
            <p>"Last error: " <span data-testid="last-error">{error}</span></p>
        </section>
    }
}

/// 2. Live typed events: the latest order status and how many updates came.
#[component]
fn LiveUpdates() -> impl IntoView {
    let client = use_client();
    let latest = RwSignal::new(String::from("none"));
    let count = RwSignal::new(0u32);
    keep(client.on::<OrderStatusUpdate>(move |u| {
        latest.set(format!("{}: {}", u.order_id, u.status));
        count.update(|n| *n += 1);
    }));
    view! {
        <section>
            <p>"Latest update: " <span data-testid="live-status">{latest}</span></p>
            <p>"Updates: " <span data-testid="live-count">{count}</span></p>
        </section>
    }
}

/// 3. A room, joined for the component's life; "joined" once the server acked the join.
#[component]
fn Room() -> impl IntoView {
    let client = use_client();
    let joined = RwSignal::new(String::from("joining"));
    match client.subscribe(&OrderRoom {
        order_id: "ord_1".into(),
    }) {
        Ok(mut room) => {
            let ready = room.ready();
            keep(room);
            spawn_local(async move {
                let text = match ready.await {
                    Ok(()) => "joined".to_owned(),
                    Err(e) => format!("error: {e}"),
                };
                // The component may be gone by now: then nobody shows it.
                joined.try_set(text);
            });
        }
        Err(e) => joined.set(format!("error: {e}")),
    }
    view! {
        <section>
            <p>"Room order:ord_1: " <span data-testid="room">{joined}</span></p>
        </section>
    }
}

/// 5. The query cache: `["order", "ord_1"]` observed (fetched once, then patched by every
/// `order:status_update` for it), and `["orders"]` observed and invalidated by every such event
/// (so it is fetched again).
#[component]
fn CachedOrder() -> impl IntoView {
    let cache = use_client().cache();
    let order_status = RwSignal::new(String::from("loading"));
    let order_fetches = RwSignal::new(0u32);
    let orders_fetches = RwSignal::new(0u32);
    let orders = RwSignal::new(String::new());
    keep((
        cache.patch_on::<OrderStatusUpdate, Order>(
            |u| key!["order", &u.order_id],
            |order, u| {
                order.map(|o| Order {
                    status: u.status.clone(),
                    ..o
                })
            },
        ),
        cache.invalidate_on::<OrderStatusUpdate>(|_| vec![key!["orders"]]),
        cache.observe(
            key!["order", "ord_1"],
            60_000,
            move || {
                order_fetches.update(|n| *n += 1);
                // The app's REST call would go here.
                async {
                    Ok(Order {
                        order_id: "ord_1".into(),
                        status: "placed".into(),
                    })
                }
            },
            move |order: Option<Order>, _query| {
                if let Some(o) = order {
                    order_status.set(o.status);
                }
            },
        ),
        cache.observe(
            key!["orders"],
            60_000,
            move || {
                orders_fetches.update(|n| *n += 1);
                async { Ok(vec!["ord_1".to_owned()]) }
            },
            move |ids: Option<Vec<String>>, query| {
                let ids = ids.map(|ids| ids.join(",")).unwrap_or_default();
                orders.set(if query.fetching {
                    format!("{ids} (fetching)")
                } else {
                    ids
                });
            },
        ),
    ));
    view! {
        <section>
            <p>"Cached order ord_1: " <span data-testid="cached-status">{order_status}</span>
               " (fetched " <span data-testid="order-fetches">{order_fetches}</span> " times)"</p>
            <p>"Orders: " <span data-testid="orders">{orders}</span>
               " (fetched " <span data-testid="orders-fetches">{orders_fetches}</span> " times)"</p>
        </section>
    }
}

/// 4. A chat message sent through the durable outbox: the entry id once stored, and the counts.
#[component]
fn Send() -> impl IntoView {
    let client = use_client();
    let outbox = client.outbox();
    let entry = RwSignal::new(String::new());
    let counts = RwSignal::new(String::new());
    let delivered = RwSignal::new(Vec::<String>::new());
    let show = move |s: &wiresync::OutboxStatus| {
        counts.set(format!(
            "pending {}, in flight {}, failed {}",
            s.pending, s.in_flight, s.failed
        ))
    };
    show(&outbox.status().0);
    keep(outbox.on(move |ev| match ev {
        OutboxEvent::Change(s, _persistence) => show(s),
        OutboxEvent::Delivered(e) => delivered.update(|d| d.push(e.id.clone())),
        OutboxEvent::Failed(_) | OutboxEvent::Dropped(..) => {}
    }));
    let store = use_context::<ClientStore>().expect("provided at the root");
    let sent = StoredValue::new(0u32);
    let send = move |_| {
        sent.update_value(|n| *n += 1);
        let message = ChatSendMessage {
            chat_id: "chat_1".into(),
            message: format!("hello #{}", sent.get_value()),
            timestamp: String::from(js_sys::Date::new_0().to_iso_string()),
        };
        let stored = store.with_value(|client| client.outbox().enqueue(&message));
        entry.set("storing".into());
        spawn_local(async move {
            entry.try_set(match stored.await {
                Ok(id) => id.0,
                Err(e) => format!("error: {e}"),
            });
        });
    };
    view! {
        <section>
            <button data-testid="send" on:click=send>"Send a chat message (outbox)"</button>
            <p>"Stored as entry: " <span data-testid="entry-id">{entry}</span></p>
            <p>"Outbox: " <span data-testid="outbox-counts">{counts}</span></p>
            <p>"Delivered: " <span data-testid="delivered">{move || delivered.get().join(",")}</span></p>
        </section>
    }
}

/// 6. Guards live exactly as long as their component: a button mounts and unmounts a
/// [`Tracker`] (a room and a typed handler of its own). Unmounted, its owner drops its
/// `StoredValue`s, and with them the guards: the room is left and the handler removed at once.
#[component]
fn Tracking() -> impl IntoView {
    let shown = RwSignal::new(false);
    // Owned here, outside the tracker, so it still shows what the tracker heard once it is gone.
    let heard = RwSignal::new(0u32);
    view! {
        <section>
            <button data-testid="toggle-tracker" on:click=move |_| shown.update(|s| *s = !*s)>
                {move || if shown.get() { "Stop tracking ord_9" } else { "Track ord_9" }}
            </button>
            <p>"Updates the tracker heard: " <span data-testid="tracker-heard">{heard}</span></p>
            <Show when=move || shown.get()>
                <Tracker order_id="ord_9".to_owned() heard=heard/>
            </Show>
        </section>
    }
}

/// Joins `order_id`'s room and counts every `order:status_update` into `heard`, while mounted.
#[component]
fn Tracker(order_id: String, heard: RwSignal<u32>) -> impl IntoView {
    let client = use_client();
    let joined = RwSignal::new(String::from("joining"));
    keep(client.on::<OrderStatusUpdate>(move |_| heard.update(|n| *n += 1)));
    match client.subscribe(&OrderRoom {
        order_id: order_id.clone(),
    }) {
        Ok(mut room) => {
            let ready = room.ready();
            keep(room);
            spawn_local(async move {
                joined.try_set(match ready.await {
                    Ok(()) => "joined".to_owned(),
                    Err(e) => format!("error: {e}"),
                });
            });
        }
        Err(e) => joined.set(format!("error: {e}")),
    }
    view! {
        <p>"Tracking " {order_id} ": " <span data-testid="tracker">{joined}</span></p>
    }
}
