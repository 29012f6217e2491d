//! Small form widgets the panels share: a text box, a choice box and an enum box bound to
//! signals.

use leptos::prelude::*;

/// A text box bound to a signal. Every text box on the page is made here, so they share one
/// copy of their code in the wasm (written inline, each box's closures compile separately).
pub(crate) fn text_box(
    value: RwSignal<String>,
    testid: String,
    class: &'static str,
    aria: Option<&'static str>,
) -> impl IntoView {
    view! {
        <input type="text" class=class data-testid=testid aria-label=aria
            prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
    }
}

/// A drop-down of `(value, label)` choices bound to a signal (shared code, like [`text_box`]).
pub(crate) fn choice_box(
    value: RwSignal<String>,
    testid: &'static str,
    aria: &'static str,
    choices: &'static [(&'static str, &'static str)],
) -> impl IntoView {
    view! {
        <select aria-label=aria data-testid=testid prop:value=move || value.get()
            on:change=move |ev| value.set(event_target_value(&ev))>
            {choices.iter().map(|(v, l)| view! { <option value=*v>{*l}</option> }).collect_view()}
        </select>
    }
}

/// A drop-down over every value of a setting's enum, bound to its signal (each option's value
/// is the variant's name).
pub(crate) fn enum_box<T>(
    value: RwSignal<T>,
    testid: &'static str,
    all: &'static [T],
    label: fn(T) -> &'static str,
) -> impl IntoView
where
    T: Copy + PartialEq + std::fmt::Debug + Send + Sync + 'static,
{
    view! {
        <select data-testid=testid
            on:change=move |ev| {
                let v = event_target_value(&ev);
                if let Some(x) = all.iter().find(|x| format!("{x:?}") == v) {
                    value.set(*x);
                }
            }>
            {all.iter().map(|x| view! {
                <option value=format!("{x:?}") selected=move || value.get() == *x>{label(*x)}</option>
            }).collect_view()}
        </select>
    }
}
