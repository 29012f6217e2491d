use leptos::prelude::*;

fn main() {
    leaselab_www::install_panic_hook();
    // A shared link carries its run in the URL fragment (`#run=…`).
    let shared = web_sys::window().and_then(|w| w.location().hash().ok()).filter(|h| h.len() > 1);
    let options = leaselab_www::StartOptions { shared_fragment: shared, ..Default::default() };
    leptos::mount::mount_to_body(move || view! { <leaselab_www::App options=options /> });
}
