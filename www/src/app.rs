//! The page: [`App`] provides the [`Lab`] and lays out the panels (each in `panels/`).

use crate::frames::{run_frames, wall_ms};
use crate::keys::on_key;
use crate::lab::Lab;
use crate::model::SPEEDS;
use crate::panels::*;
use leaselab::{ClusterConfig, Command};
use leptos::prelude::*;
use std::cell::Cell;
use std::rc::Rc;

/// How the page starts. Tests start paused so they control time.
#[derive(Clone, Debug)]
pub struct StartOptions {
    pub seed: u64,
    pub config: ClusterConfig,
    pub autoplay: bool,
    /// A shared run's URL fragment to open instead (`run=…`); a damaged one is reported and
    /// the page starts fresh.
    pub shared_fragment: Option<String>,
    /// Commands applied at the start (e.g. a background load for a demo or a benchmark).
    pub commands: Vec<Command>,
    /// Index into [`SPEEDS`] to start at (default: the page's default speed).
    pub speed_index: Option<usize>,
}

impl Default for StartOptions {
    fn default() -> Self {
        StartOptions {
            seed: 1,
            config: ClusterConfig::default(),
            autoplay: true,
            shared_fragment: None,
            commands: Vec::new(),
            speed_index: None,
        }
    }
}

#[component]
pub fn App(#[prop(optional)] options: Option<StartOptions>) -> impl IntoView {
    let options = options.unwrap_or_default();
    let lab = Lab::new(options.seed, options.config.clone());
    lab.playback.playing.set(options.autoplay);
    if let Some(fragment) = &options.shared_fragment {
        if let Err(e) = lab.open_fragment(fragment) {
            lab.set_timeline_note(Some(Err(format!("Could not open the shared link, so this is a fresh run: {e}"))));
        }
    }
    for command in options.commands.iter().cloned() {
        // A refusal is shown next to the controls like any other.
        let _ = lab.command(command);
    }
    if let Some(i) = options.speed_index {
        lab.playback.speed_index.set(i.min(SPEEDS.len() - 1));
    }
    lab.provide();
    // Selecting an operation may move the space-time diagram to its moment.
    Effect::new(move |_| {
        lab.selection.op.track();
        lab.refresh_diagram();
    });
    run_frames(lab, Rc::new(Cell::new(wall_ms())));
    let keys = window_event_listener(leptos::ev::keydown, move |ev| on_key(lab, ev));
    let pointer = window_event_listener(leptos::ev::mousedown, |_| crate::keys::on_pointer_down());
    // A click anywhere outside the Settings drop-down closes it, as a menu would; not Reset's,
    // which applies the settings (and leaves them open if one is refused, to mend it).
    let clicks = window_event_listener(leptos::ev::click, |ev| {
        let target = ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok());
        let keeps_open = ".settings, [data-testid=\"reset-button\"]";
        if target.is_none_or(|el| el.closest(keeps_open).ok().flatten().is_none()) {
            close_settings();
        }
    });
    on_cleanup(move || {
        keys.remove();
        pointer.remove();
        clicks.remove();
    });
    view! {
        <div class="app" class:projector=move || lab.projector.get() data-testid="app">
            // Operations answered, batched for screen readers (crate::announcer); not shown.
            <div class="sr-only" aria-live="polite" data-testid="announcer">{move || lab.announcement.get()}</div>
            <header class="topbar">
                <h1>"Lease Lab"</h1>
                <span class="subtitle">"how a raft cluster serves reads"</span>
                <button data-testid="help-button" title="Help and keyboard shortcuts (?)"
                    on:click=move |_| lab.help_open.update(|h| *h = !*h)>"?"</button>
                <button data-testid="projector-toggle" title="Projector mode (p): large text, thick lines, secondary panels hidden"
                    aria-pressed=move || lab.projector.get().to_string()
                    on:click=move |_| lab.projector.update(|p| *p = !*p)>"Projector"</button>
                <Controls seed=options.seed node_count=options.config.node_count />
            </header>
            <main class="layout">
                <section class="panel cluster-panel">
                    <ClusterView />
                    <Legend />
                    <TimelinePanel />
                    <SpaceTimeView />
                    <ComparePanel />
                    <PathsPanel />
                </section>
                <section class="side">
                    <TourPanel />
                    <NodeTable />
                    <ClientPanel />
                    <WatchesPanel />
                    <OpLog />
                    <Inspector />
                </section>
            </main>
            <EventLog />
            <HelpOverlay />
        </div>
    }
}
