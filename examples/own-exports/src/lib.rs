//! An app's own `#[wasm_bindgen] fn connect`, beside wiresync's Rust client.
use wasm_bindgen::prelude::*;

/// The app's own export, named as wiresync's JavaScript API's would be.
#[wasm_bindgen]
pub fn connect(url: &str) -> bool {
    let client = wiresync::Client::connect(wiresync::Options::new(url));
    let open = client.state().status == wiresync::Status::Open;
    client.close();
    open
}
