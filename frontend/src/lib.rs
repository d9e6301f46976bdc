//! Hydrates the islands (the only interactive parts) of the server-rendered page.

// The islands are exported from the app crate; naming it makes sure it is linked.
use app as _;

/// Called by the generated JavaScript once the WebAssembly module has loaded.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
