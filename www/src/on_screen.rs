//! Which of the page's self-refreshing regions are on screen.
//!
//! The frame loop redraws the tables ten times a second and the space-time diagram thirty;
//! on a phone, where the panels stack and one or two are in view at a time, redrawing the
//! others cost about a third of each frame. A region out of view is refreshed once a second
//! instead (its text is at most a second old for a screen reader reading it), and again as
//! soon as it scrolls into view. Elements say which regions they show with `data-refresh`, a
//! list of words: `tables` (what reads the tables' snapshot), `ops` (what reads the checker's
//! rows), `diagram` (the space-time diagram).

use wasm_bindgen::JsCast;

/// Whether any element that `selector` picks (`[data-refresh~=REGION]`) is at least partly
/// in the viewport. Hidden elements (`display: none`, as projector mode hides panels) have an
/// empty box at the top left, and are out of view. The frame loop asks before it changes
/// anything, while the layout of the last frame is still clean, so reading positions costs
/// no extra layout. Without a window to ask (no DOM), everything counts as in view.
pub fn in_view(selector: &str) -> bool {
    let Some(window) = web_sys::window() else { return true };
    let Some(list) = window.document().and_then(|d| d.query_selector_all(selector).ok()) else { return true };
    let height = window.inner_height().ok().and_then(|h| h.as_f64()).unwrap_or(f64::INFINITY);
    // The selector picks elements only.
    (0..list.length()).filter_map(|i| list.item(i)).any(|node| {
        let r = node.unchecked_into::<web_sys::Element>().get_bounding_client_rect();
        r.bottom() > 0.0 && r.top() < height
    })
}
