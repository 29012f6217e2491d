//! The timeline bar: scrub to any earlier true time (the run replays from the nearest
//! checkpoint), go back to the live end, share the run as a link, export it as JSON and
//! import one. Every failure is said in the status line and leaves the current run as it was.

use crate::lab::{Lab, OPENED_LINK};
use crate::model::{format_time, JudgedVerdict};
use leaselab::SimTime;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

#[component]
pub fn TimelinePanel() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let share_url = RwSignal::new(None::<String>);
    // A different run (reset, tour, import) makes the shared link and the address bar's `#run=`
    // describe a run no longer on the page: drop both (not on the first run, nor once a long
    // link's replay opens: that is the link's own run).
    Effect::new(move |first: Option<()>| {
        lab.run_generation.track();
        let from_link = lab.timeline_note.with_untracked(|n| n.as_deref().is_some_and(|n| n.starts_with(OPENED_LINK)));
        if first.is_some() && !from_link {
            share_url.set(None);
            if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
                // The page's address without its fragment (a query string stays).
                let location = web_sys::window().map(|w| w.location());
                let path = location.map(|l| l.pathname().unwrap_or_default() + &l.search().unwrap_or_default());
                history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", path.as_deref()).ok();
            }
        }
    });
    let view = lab.timeline_view;
    let horizon_ms = move || view.with(|v| v.horizon.as_ms());
    let scrub = move |ev: leptos::ev::Event| {
        if let Ok(ms) = event_target_value(&ev).parse::<u64>() {
            lab.playback.playing.set(false);
            lab.seek(SimTime::from_ms(ms));
        }
    };
    let share = move |_| match lab.share_fragment() {
        Ok(fragment) => {
            let url = page_url_with(&fragment);
            // The address bar now reproduces the run too (replace: no history entry per click).
            if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
                history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&format!("#{fragment}"))).ok();
            }
            share_url.set(Some(url));
        }
        Err(e) => lab.set_timeline_note(Some(Err(e))),
    };
    let export = move |_| match lab.export_json().and_then(|json| download("leaselab-run.json", &json)) {
        Ok(()) => lab.set_timeline_note(Some(Ok("Exported the run as leaselab-run.json".to_string()))),
        Err(e) => lab.set_timeline_note(Some(Err(format!("Export failed: {e}")))),
    };
    let import = move |ev: leptos::ev::Event| {
        let Some(file) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0))
        else {
            return;
        };
        leptos::task::spawn_local(async move {
            let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
            let result = match text.ok().and_then(|t| t.as_string()) {
                Some(text) => lab.import_file(&text),
                None => Err("the file could not be read as text".to_string()),
            };
            if let Err(e) = result {
                lab.set_timeline_note(Some(Err(format!("Import failed, the current run is unchanged: {e}"))));
            }
        });
    };
    view! {
        <div class="timeline" data-testid="timeline-panel">
            <label class="scrub" title="Drag to go back in time; commands issued in the past fork the run">
                <span class="muted">"Time "</span>
                <input type="range" data-testid="timeline-scrub" min="0" step="10"
                    prop:max=move || horizon_ms().to_string()
                    prop:value=move || view.with(|v| v.now.as_ms()).to_string()
                    on:input=scrub />
            </label>
            <span class="clock" data-testid="timeline-position">
                {move || view.with(|v| format!("{} / {}", format_time(v.now), format_time(v.horizon)))}
            </span>
            <button data-testid="timeline-live" title="Jump to the end of the recorded run"
                disabled=move || !view.with(|v| v.in_past)
                on:click=move |_| lab.seek(view.with_untracked(|v| v.horizon))>"Live ⇥"</button>
            <span class="badge past" data-testid="timeline-past" class:hidden=move || !view.with(|v| v.in_past)>
                "in the past: Play replays the recording; a command forks"
            </span>
            <span class="sep"></span>
            <button data-testid="share-button" on:click=share title="A link that reproduces this run">"Share link"</button>
            <button data-testid="export-button" on:click=export title="Download the run as JSON">"Export JSON"</button>
            <label class="file-button" title="Open a run exported as JSON, or check a history (Jepsen log or EDN, JSON lines)">
                "Import"
                <input type="file" accept=".json,.jsonl,.log,.edn,.txt,application/json,text/plain" data-testid="import-input" on:change=import />
            </label>
            {move || share_url.get().map(|url| view! {
                <input class="share-url" data-testid="share-url" readonly prop:value=url
                    on:focus=|ev| { if let Some(i) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) { i.select(); } } />
            })}
            <span class="muted mono" data-testid="trace-hash" title="Fingerprint of every event so far: equal hashes, equal runs">
                {move || format!("trace {:016x}", lab.snap.with(|s| s.trace_hash))}
            </span>
            {move || lab.judged_history.get().map(|h| view! {
                <section class="judged-history" data-testid="judged-history">
                    <p>
                        <strong class:bad=h.verdict != JudgedVerdict::Linearizable data-testid="judged-verdict">{h.headline()}</strong>
                        " "
                        <button data-testid="judged-close" on:click=move |_| lab.judged_history.set(None)>"Close"</button>
                    </p>
                    <pre class="judged-detail" data-testid="judged-detail">{h.detail.clone()}</pre>
                    <ol class="judged-ops mono">
                        {h.ops.into_iter().map(|(text, named)| view! {
                            <li class:named=named>{if named { "✗ " } else { "" }}{text}</li>
                        }).collect_view()}
                    </ol>
                </section>
            })}
            // A failure reads as one (red), other notes as the muted status they are.
            <p class="timeline-note" data-testid="timeline-note"
                class:failure=move || lab.timeline_note_failed.get()>
                {move || lab.timeline_note.get()}
            </p>
        </div>
    }
}

/// This page's address with `fragment` as its hash.
fn page_url_with(fragment: &str) -> String {
    let base = web_sys::window()
        .and_then(|w| w.location().href().ok())
        .map(|href| href.split('#').next().unwrap_or_default().to_string())
        .unwrap_or_default();
    format!("{base}#{fragment}")
}

/// Offers `text` as a file download.
fn download(name: &str, text: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/json");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(|_| "no Blob")?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| "no object URL")?;
    let doc = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement =
        doc.create_element("a").map_err(|_| "no anchor")?.dyn_into().map_err(|_| "no anchor")?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    // Revoked later: a browser may still be reading the blob when click() returns.
    set_timeout(move || drop(web_sys::Url::revoke_object_url(&url)), std::time::Duration::from_secs(10));
    Ok(())
}
