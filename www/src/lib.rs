//! # Lease Lab page
//!
//! The only crate that knows Leptos and the DOM. It owns a [`leaselab::Sim`], advances it from
//! the browser's animation frames, sends it [`leaselab::Command`]s from controls and draws
//! its [`leaselab::Snapshot`].

pub mod announcer;
pub mod app;
pub mod autoplay;
mod frames;
mod keys;
pub mod lab;
pub mod model;
mod on_screen;
pub mod panels;
mod timers;
mod widgets;

pub use app::{App, StartOptions};
#[cfg(feature = "frame-times")]
pub use frames::frame_times::{clear_frame_times, frame_times_ms};

/// The page's allocator (and the browser tests' and bench's, which link this crate): a cache
/// of freed small blocks in front of talc ([`leaselab::size_classes`]). A write costs ≈47
/// small allocations across five replicas; natively the simulation allocates with mimalloc
/// for the same reason.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: leaselab::size_classes::PageAllocator = leaselab::size_classes::page_allocator();

/// Installs a panic hook that logs to the console *and* tells the user on the page, so a bug
/// never leaves a silently frozen page.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            if let Ok(div) = doc.create_element("div") {
                div.set_class_name("panic-banner");
                div.set_attribute("data-testid", "panic-banner").ok();
                div.set_text_content(Some(&format!(
                    "Lease Lab hit an internal error and stopped: {info}. Reload the page to start again."
                )));
                if let Some(body) = doc.body() {
                    body.append_child(&div).ok();
                }
            }
        }
    }));
}
