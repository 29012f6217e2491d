//! Keyboard shortcuts (space play/pause, `s`/`.` next event, `n` +100 ms, `+`/`-` speed,
//! `p` projector mode, `?` help), which the help overlay can turn off.

use crate::lab::Lab;
use leptos::prelude::*;
use std::cell::Cell;

thread_local! {
    /// Whether the focus last moved by a pointer (a click or tap) rather than by Tab.
    static POINTER_FOCUS: Cell<bool> = const { Cell::new(false) };
}

/// A press of a mouse button or a tap anywhere on the page: the focus it gives a control is not
/// keyboard focus. (Chromium turns on `:focus-visible` at the next key press even after a
/// click, so the selector alone cannot tell.)
pub(crate) fn on_pointer_down() {
    POINTER_FOCUS.with(|p| p.set(true));
}

/// Keyboard shortcuts, ignored while the user types in a field (a slider or a clicked button
/// does not count: most of the page is buttons).
pub(crate) fn on_key(lab: Lab, ev: web_sys::KeyboardEvent) {
    use crate::model::{shortcut_for, Shortcut};
    let target = ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(t).ok());
    let typing = target.as_ref().is_some_and(|el| match el.tag_name().as_str() {
        "INPUT" => el.get_attribute("type").is_none_or(|t| t != "range" && t != "checkbox"),
        tag => matches!(tag, "SELECT" | "TEXTAREA"),
    });
    // Space on a control reached with the keyboard (Tab: it shows a focus ring) activates
    // that control, as everywhere else; after a mouse click or a tap it stays play / pause (or
    // holds a tour's autoplay: a presenter's clicker sends keys to the button last clicked).
    if ev.key() == "Tab" {
        POINTER_FOCUS.with(|p| p.set(false));
    }
    let keyboard_focus = !POINTER_FOCUS.with(Cell::get)
        && target.as_ref().is_some_and(|el| el.tag_name() != "BODY" && el.matches(":focus-visible").unwrap_or(false));
    if ev.key() == " " && keyboard_focus {
        return;
    }
    let Some(action) = shortcut_for(&ev.key(), typing, lab.help_open.get_untracked(), lab.single_keys.get_untracked())
    else {
        return;
    };
    ev.prevent_default();
    // A focused button would also take the key (space clicks it on release): the shortcut wins.
    if let Some(el) = target.filter(|el| el.tag_name() != "BODY") {
        el.blur().ok();
    }
    match action {
        // While a tour plays itself, space holds and resumes its countdown.
        Shortcut::TogglePlay if lab.tour.autoplay.get_untracked().is_some() => lab.toggle_autoplay_hold(),
        Shortcut::TogglePlay => lab.toggle_play(),
        Shortcut::Step => lab.step_event(),
        Shortcut::Advance100Ms => {
            lab.advance_us(100_000);
        }
        Shortcut::Faster => lab.set_speed(lab.playback.speed_index.get_untracked() + 1),
        Shortcut::Slower => lab.set_speed(lab.playback.speed_index.get_untracked().saturating_sub(1)),
        Shortcut::ToggleHelp => lab.help_open.update(|h| *h = !*h),
        Shortcut::CloseHelp => lab.help_open.set(false),
        Shortcut::Projector => lab.projector.update(|p| *p = !*p),
    }
}

/// Enter in a text box of the controls applies them (Reset), as a form would.
pub(crate) fn is_enter_in_text_box(ev: &web_sys::KeyboardEvent) -> bool {
    ev.key() == "Enter"
        && ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(t).ok())
            .is_some_and(|input| input.type_() == "text")
}
