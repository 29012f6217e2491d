//! Components. Each takes the [`Lab`] from context and renders from its snapshot signal.

use crate::lab::Lab;
use crate::model::{
    format_time, message_class, message_position, node_class, parse_seed, ring_position, role_label, simulated_us,
    SPEEDS, VIEW_SIZE,
};
use leaselab::ClientOp;
use leaselab::{ClusterConfig, Command, CommitBroadcast, LeaderLeasePolicy, NodeId, OpOutcome, ReadMode, NODES_MAX};
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

fn lab() -> Lab {
    expect_context::<Lab>()
}

fn wall_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

/// Wall time a frame may spend simulating: the rest of a 30 fps frame goes to the views.
/// A heavier load than the machine can simulate at the chosen speed runs slower instead
/// (and says so beside the speed) rather than making frames long.
const SIMULATION_MS_PER_FRAME: f64 = 20.0;

/// The page loop: the only place wall time is read. Each animation frame advances simulated
/// time by wall time × speed, then stops by itself once the page is gone.
fn run_frames(lab: Lab, last: Rc<Cell<f64>>) {
    request_animation_frame(move || {
        let now = wall_ms();
        let dt = now - last.replace(now);
        // A shared or imported run being replayed has the frame's time; the present waits.
        let replaying = lab.replay_frame(&|| wall_ms() - now < SIMULATION_MS_PER_FRAME);
        let alive = match (lab.playing.try_get_untracked(), lab.speed_index.try_get_untracked()) {
            _ if replaying => true,
            (Some(true), Some(i)) => {
                lab.advance_frame_us(simulated_us(dt, SPEEDS[i].0), &|| wall_ms() - now < SIMULATION_MS_PER_FRAME)
            }
            (Some(false), Some(_)) => true,
            _ => false,
        };
        if alive {
            #[cfg(feature = "frame-times")]
            frame_times::record(now);
            run_frames(lab, last);
        }
    });
}

/// The page's own frame timing, for `make bench` only (feature `frame-times`): the page
/// people use neither spends a task per frame on it nor carries its code.
#[cfg(feature = "frame-times")]
pub mod frame_times {
    use super::wall_ms;

    /// Frame work times (ms) of the most recent frames, oldest first.
    const KEPT: usize = 1_200;

    thread_local! {
        static TIMES: std::cell::RefCell<std::collections::VecDeque<f64>> = Default::default();
    }

    /// Records the frame begun at `start`: measured after the reactive updates it queued
    /// have run and a layout has been forced, so it covers script, DOM updates and
    /// style/layout (the paint that follows is the browser's and is not included).
    pub(crate) fn record(start: f64) {
        leptos::task::spawn_local(async move {
            if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
                let _ = body.offset_height();
            }
            let spent = wall_ms() - start;
            TIMES.with(|f| {
                let mut f = f.borrow_mut();
                if f.len() == KEPT {
                    f.pop_front();
                }
                f.push_back(spent);
            });
        });
    }

    /// The work time of recent animation frames in ms.
    pub fn frame_times_ms() -> Vec<f64> {
        TIMES.with(|f| f.borrow().iter().copied().collect())
    }

    /// Forgets recorded frame times (a benchmark starts measuring from here).
    pub fn clear_frame_times() {
        TIMES.with(|f| f.borrow_mut().clear());
    }
}

#[component]
pub fn App(#[prop(optional)] options: Option<StartOptions>) -> impl IntoView {
    let options = options.unwrap_or_default();
    let lab = Lab::new(options.seed, options.config.clone());
    lab.playing.set(options.autoplay);
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
        lab.speed_index.set(i.min(SPEEDS.len() - 1));
    }
    provide_context(lab);
    // Selecting an operation may move the space-time diagram to its moment.
    Effect::new(move |_| {
        lab.selected_op.track();
        lab.refresh_diagram();
    });
    run_frames(lab, Rc::new(Cell::new(wall_ms())));
    let keys = window_event_listener(leptos::ev::keydown, move |ev| on_key(lab, ev));
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
        clicks.remove();
    });
    view! {
        <div class="app" data-testid="app">
            <header class="topbar">
                <h1>"Lease Lab"</h1>
                <span class="subtitle">"how a raft cluster serves reads"</span>
                <button data-testid="help-button" title="Help and keyboard shortcuts (?)"
                    on:click=move |_| lab.help_open.update(|h| *h = !*h)>"?"</button>
                <Controls seed=options.seed node_count=options.config.node_count />
            </header>
            <main class="layout">
                <section class="panel cluster-panel">
                    <ClusterView />
                    <Legend />
                    <crate::timeline_panel::TimelinePanel />
                    <crate::spacetime_view::SpaceTimeView />
                </section>
                <section class="side">
                    <TourPanel />
                    <NodeTable />
                    <ClientPanel />
                    <OpLog />
                    <Inspector />
                </section>
            </main>
            <EventLog />
            <HelpOverlay />
        </div>
    }
}

/// Closes the Settings drop-down (found in the document: a typed node reference costs the
/// page ≈1 KB of wasm).
fn close_settings() {
    let settings = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("[data-testid=\"settings\"]").ok().flatten());
    if let Some(details) = settings {
        details.remove_attribute("open").ok();
    }
}

/// Keyboard shortcuts, ignored while the user types in a field (a slider or a clicked button
/// does not count: most of the page is buttons).
fn on_key(lab: Lab, ev: web_sys::KeyboardEvent) {
    use crate::model::{shortcut_for, Shortcut};
    let target = ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(t).ok());
    let typing = target.as_ref().is_some_and(|el| match el.tag_name().as_str() {
        "INPUT" => el.get_attribute("type").is_none_or(|t| t != "range" && t != "checkbox"),
        tag => matches!(tag, "SELECT" | "TEXTAREA"),
    });
    // Space on a control reached with the keyboard (Tab: it shows a focus ring) activates
    // that control, as everywhere else; after a mouse click it stays play / pause.
    let keyboard_focus =
        target.as_ref().is_some_and(|el| el.tag_name() != "BODY" && el.matches(":focus-visible").unwrap_or(false));
    if ev.key() == " " && keyboard_focus {
        return;
    }
    let Some(action) = shortcut_for(&ev.key(), typing, lab.help_open.get_untracked()) else { return };
    ev.prevent_default();
    // A focused button would also take the key (space clicks it on release): the shortcut wins.
    if let Some(el) = target.filter(|el| el.tag_name() != "BODY") {
        el.blur().ok();
    }
    match action {
        Shortcut::TogglePlay => lab.toggle_play(),
        Shortcut::Step => lab.step_event(),
        Shortcut::Advance100Ms => {
            lab.advance_us(100_000);
        }
        Shortcut::Faster => lab.set_speed(lab.speed_index.get_untracked() + 1),
        Shortcut::Slower => lab.set_speed(lab.speed_index.get_untracked().saturating_sub(1)),
        Shortcut::ToggleHelp => lab.help_open.update(|h| *h = !*h),
        Shortcut::CloseHelp => lab.help_open.set(false),
    }
}

/// A text box bound to a signal. Every text box on the page is made here, so they share one
/// copy of their code in the wasm (written inline, each box's closures compile separately).
fn text_box(value: RwSignal<String>, testid: String, class: &'static str, aria: Option<&'static str>) -> impl IntoView {
    view! {
        <input type="text" class=class data-testid=testid aria-label=aria
            prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
    }
}

/// A drop-down of `(value, label)` choices bound to a signal (shared code, like [`text_box`]).
fn choice_box(
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
fn enum_box<T>(
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

/// Enter in a text box of the controls applies them (Reset), as a form would.
fn is_enter_in_text_box(ev: &web_sys::KeyboardEvent) -> bool {
    ev.key() == "Enter"
        && ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(t).ok())
            .is_some_and(|input| input.type_() == "text")
}

/// What the page teaches, in a few lines, and the keyboard map.
#[component]
fn HelpOverlay() -> impl IntoView {
    let lab = lab();
    move || {
        lab.help_open.get().then(|| {
            view! {
                <div class="help-overlay" data-testid="help-overlay" role="dialog" aria-modal="true" aria-label="Help"
                    on:click=move |_| lab.help_open.set(false)>
                    <div class="help-card" on:click=|ev| ev.stop_propagation()>
                        <h2>"Lease Lab" <button class="linklike" data-testid="help-close" on:click=move |_| lab.help_open.set(false)>"close"</button></h2>
                        <p>"Every node is a real raft-rs node with its own clock. A linearizable read takes one of these paths:"</p>
                        <ul>
                            <li><span class="badge lease">"lease read"</span>" the leader holds a valid leader lease on its own clock: it answers locally, no messages."</li>
                            <li><span class="badge readindex">"ReadIndex"</span>" the leader has no valid lease: one heartbeat round to a quorum confirms it still leads, then it answers once applied."</li>
                            <li><span class="badge forwarded">"forwarded"</span>" a follower asks the leader for a read index, waits to apply up to it, answers from its own store."</li>
                            <li><span class="badge leasebased">"LeaseBased"</span>" raft-rs trusts check_quorum and checks no clock at all."</li>
                            <li><span class="badge serializable">"serializable"</span>" local state at once: may be stale, and that is allowed."</li>
                        </ul>
                        <p>"The leader lease lasts min(election timeout / 2, 3 × heartbeat) − drift bound. The renew-at-ack policy renews it whenever raft-rs marks a quorum recently active (flags that outlive the acks until the next quorum check, set by rejections too: a new leader gets a lease before its first commit); the safe policy from when the acknowledged round was sent. Followers promise (check_quorum) not to vote for an election timeout after an ack; a restarted node keeps it by waiting that long. A constant clock offset is harmless; a slow clock, a backward jump or a long pause stretches a lease past the followers' promise — the checker flags the stale read that follows."</p>
                        <p>"Followers learn from the leader that entries committed: at once, in an extra append (etcd), or with the next append or heartbeat (TiKV's lazy commit broadcast, in Settings: about 40 % fewer messages per write). Lazily, a follower applies later, so its serializable reads lag further behind."</p>
                        <table class="shortcuts">
                            {crate::model::SHORTCUTS.iter().map(|(k, what)| view! { <tr><td><kbd>{*k}</kbd></td><td>{*what}</td></tr> }).collect_view()}
                        </table>
                    </div>
                </div>
            }
        })
    }
}

#[component]
fn Controls(seed: u64, node_count: usize) -> impl IntoView {
    let lab = lab();
    let seed_text = RwSignal::new(seed.to_string());
    let nodes = RwSignal::new(node_count);
    let seed_error = RwSignal::new(None::<String>);
    let initial = lab.snap.with_untracked(|s| s.config.leader_lease.clone());
    let policy = RwSignal::new(initial.policy);
    let bound_text = RwSignal::new(initial.clock_drift_bound_ms.to_string());
    let lease_enabled = RwSignal::new(initial.enabled);
    // An array of signals is Copy, so the closures below can share it.
    let setting_texts: [RwSignal<String>; crate::model::NUMBER_SETTINGS.len()] = std::array::from_fn(|i| {
        RwSignal::new(lab.snap.with_untracked(|snap| (crate::model::NUMBER_SETTINGS[i].show)(&snap.config)))
    });
    let key_lease_checkpoints = RwSignal::new(lab.snap.with_untracked(|s| s.config.lessor.checkpointing));
    let commit_broadcast = RwSignal::new(lab.snap.with_untracked(|s| s.config.commit_broadcast));
    // Set when a setting is edited (their change events bubble up to the controls; the speed
    // stops its own), cleared by a new run: what is shown beside Reset is not yet in force.
    let edited = RwSignal::new(false);
    // A new run (tour, shared link, import) may have another seed and config: show them, so
    // Reset restarts *that* configuration rather than a stale one.
    Effect::new(move |_| {
        lab.run_generation.track();
        let (seed, config) = lab.snap.with_untracked(|s| (s.seed, s.config.clone()));
        seed_text.set(seed.to_string());
        nodes.set(config.node_count);
        policy.set(config.leader_lease.policy);
        bound_text.set(config.leader_lease.clock_drift_bound_ms.to_string());
        lease_enabled.set(config.leader_lease.enabled);
        for (setting, text) in crate::model::NUMBER_SETTINGS.iter().zip(setting_texts) {
            text.set((setting.show)(&config));
        }
        key_lease_checkpoints.set(config.lessor.checkpointing);
        commit_broadcast.set(config.commit_broadcast);
        edited.set(false);
        // The form now shows the new run: an error about an earlier edit no longer applies.
        seed_error.set(None);
    });
    // The seed and configuration the form describes, or what is wrong with it.
    let read_form = move || -> Result<(u64, ClusterConfig), String> {
        let seed = parse_seed(&seed_text.get_untracked())?;
        let bound = crate::model::parse_bound_ms(&bound_text.get_untracked())?;
        // Start from the current run's config, so settings not on the page (a tour's) survive.
        let mut config = lab.snap.with_untracked(|s| s.config.clone());
        config.node_count = nodes.get_untracked();
        for (setting, text) in crate::model::NUMBER_SETTINGS.iter().zip(setting_texts) {
            setting.apply(&mut config, &text.get_untracked())?;
        }
        config.lessor.checkpointing = key_lease_checkpoints.get_untracked();
        config.commit_broadcast = commit_broadcast.get_untracked();
        config.leader_lease.policy = policy.get_untracked();
        config.leader_lease.clock_drift_bound_ms = bound;
        config.leader_lease.enabled = lease_enabled.get_untracked();
        crate::model::check_timings(&config)?;
        config.validate().map_err(|e| e.to_string())?;
        Ok((seed, config))
    };
    // Settings' network boxes applied to every link now, without a Reset: a command
    // like any fault, so it is recorded and replayed. The whole form must be valid, as for Reset.
    let apply_network_now = move |_| {
        let result = read_form().map(|(_, config)| Command::SetNetwork { link: config.network });
        seed_error.set(result.as_ref().err().cloned());
        if let Ok(command) = result {
            let _ = lab.command(command);
        }
    };
    let reset = move || {
        let (seed, config) = match read_form() {
            Ok(form) => form,
            Err(e) => return seed_error.set(Some(e)),
        };
        seed_error.set(None);
        match lab.reset(seed, config) {
            // The new run is on: the Settings drop-down gets out of the cluster view's way.
            Ok(()) => close_settings(),
            Err(e) => seed_error.set(Some(e)),
        }
    };
    view! {
        <div class="controls" on:keydown=move |ev| if is_enter_in_text_box(&ev) { reset() }
            on:change=move |_| {
                // An edit is checked at once, not only when Reset is pressed.
                edited.set(true);
                seed_error.set(read_form().err());
            }>
            <button data-testid="play-toggle" class="primary"
                title="Play or pause (space)"
                on:click=move |_| lab.toggle_play()>
                {move || if lab.playing.get() { "❚❚ Pause" } else { "▶ Play" }}
            </button>
            <button data-testid="step-event" title="Handle the next event"
                on:click=move |_| lab.step_event()>"Step"</button>
            <button data-testid="advance-100ms" on:click=move |_| { lab.advance_us(100_000); }>"+100 ms"</button>
            <button data-testid="advance-1s" on:click=move |_| { lab.advance_us(1_000_000); }>"+1 s"</button>
            <label>"Speed "
                <select data-testid="speed-select"
                    on:change=move |ev| {
                        ev.stop_propagation();
                        if let Ok(i) = event_target_value(&ev).parse::<usize>() {
                            lab.set_speed(i);
                        }
                    }
                    prop:value=move || lab.speed_index.get().to_string()>
                    {SPEEDS.iter().enumerate().map(|(i, (_, label))| view! {
                        <option value=i.to_string()>{*label}</option>
                    }).collect_view()}
                </select>
            </label>
            // A fixed slot beside the speed, so the toolbar does not move when it fills.
            <span class="behind" data-testid="speed-behind"
                title="The speed the simulation reaches: it cannot keep up with the chosen one on this machine">{move || lab.behind.get()}</span>
            <span class="clock" data-testid="sim-time">{move || format_time(lab.snap.with(|s| s.now))}</span>
            <span class="sep"></span>
            <label>"Seed " {text_box(seed_text, "seed-input".into(), "seed", None)}</label>
            <label>"Nodes "
                <select data-testid="node-count-select" title="Cluster size (applies on Reset)"
                    prop:value=move || nodes.get().to_string()
                    on:change=move |ev| {
                        if let Ok(n) = event_target_value(&ev).parse::<usize>() {
                            nodes.set(n.clamp(1, NODES_MAX));
                        }
                    }>
                    {(1..=NODES_MAX).map(|n| view! { <option value=n.to_string()>{n}</option> }).collect_view()}
                </select>
            </label>
            <label title="How the leader decides its lease is valid (applies on Reset)">"Leader lease "
                {enum_box(policy, "policy-select", &LeaderLeasePolicy::ALL, LeaderLeasePolicy::label)}
            </label>
            <label title="Assumed bound on clock drift, subtracted from the lease (applies on Reset)">"drift bound "
                {text_box(bound_text, "bound-input".into(), "tiny", None)}" ms"
            </label>
            <label><input data-testid="lease-enabled" type="checkbox" prop:checked=move || lease_enabled.get()
                on:change=move |ev| lease_enabled.set(event_target_checked(&ev)) />" leases on"</label>
            <details class="settings" data-testid="settings">
                <summary title="Timings, network and key lease checkpoints (apply on Reset)">"Settings"</summary>
                <div class="settings-grid">
                    {crate::model::NUMBER_SETTINGS.iter().zip(setting_texts).map(|(s, text)| view! {
                        <label>{s.label}
                            {text_box(text, format!("setting-{}", s.id), "tiny", None)}
                            " "{s.unit}
                        </label>
                    }).collect_view()}
                    <label><input type="checkbox" data-testid="setting-key-lease-checkpoints"
                        prop:checked=move || key_lease_checkpoints.get()
                        on:change=move |ev| key_lease_checkpoints.set(event_target_checked(&ev)) />
                        " key lease checkpoints"</label>
                    <label title="How followers learn that entries committed: etcd tells them at once; TiKV waits for the next append or heartbeat (about 40 % fewer messages per write; followers apply later)">
                        "commit broadcast "
                        {enum_box(commit_broadcast, "setting-commit-broadcast", &CommitBroadcast::ALL, CommitBroadcast::label)}
                    </label>
                    <button data-testid="network-now" title="Set latency, jitter, loss and duplicates on every link now, without a Reset"
                        on:click=apply_network_now>"Network: apply now"</button>
                    <span class="muted">"The rest is applied by Reset."</span>
                </div>
            </details>
            <button data-testid="reset-button" on:click=move |_| reset()>"Reset"</button>
            <span class="muted" data-testid="settings-pending">{move || edited.get().then(|| "edited: Reset applies".to_string())}</span>
            <span class="error" data-testid="seed-error">{move || seed_error.get()}</span>
        </div>
    }
}

/// What the audience predicted against what the operation did (a read still in flight says so
/// and updates when it finishes and is checked).
#[component]
fn PredictionResult(reveal: crate::lab::Reveal) -> impl IntoView {
    use leaselab::scenario::QuestionKind;
    let lab = lab();
    move || {
        let actual = lab.ops.with(|rows| {
            let row = rows.iter().find(|r| r.record.id == reveal.op)?;
            match reveal.kind {
                QuestionKind::Path => row.record.trace.as_ref().and_then(|t| t.path).map(|p| p.label()),
                QuestionKind::Stale => row.verdict.as_deref().map(|v| if v == "STALE" { "stale" } else { "not stale" }),
            }
        });
        let text = crate::model::prediction_text(reveal.op, reveal.guess, actual);
        view! { <p class="predict-result" data-testid="predict-result">{text}</p> }
    }
}

/// Guided tours: pick one, step through its narration (back replays from the seed), answer the
/// prediction before the reveal, see its expectations checked at the end.
#[component]
fn TourPanel() -> impl IntoView {
    let lab = lab();
    let choice = RwSignal::new(leaselab::scenario::BUILTIN[0].0.to_string());
    let start = move || {
        if let Err(e) = lab.start_tour(&choice.get_untracked()) {
            lab.error.set(Some(e));
        }
    };
    view! {
        <div class="panel tour" data-testid="tour-panel">
            <h2>"Guided tours"</h2>
            <div class="row">
                <select data-testid="tour-select" on:change=move |ev| choice.set(event_target_value(&ev))>
                    // Each tour by its title, which says what it is about (the names are for files
                    // and the command line).
                    {leaselab::scenario::BUILTIN.iter().map(|(name, _)| {
                        let title = leaselab::scenario::builtin(name).map_or(String::new(), |s| s.title);
                        view! { <option value=*name>{title}</option> }
                    }).collect_view()}
                </select>
                <button data-testid="tour-start" on:click=move |_| start()>"Start tour"</button>
            </div>
            {move || lab.tour_view.get().map(|t| {
                let last = t.applied == t.total;
                let next_label = match (&t.predict, last, &t.results) {
                    (_, true, Some(_)) => "Done",
                    (_, true, None) => "Finish and check",
                    (Some(_), _, _) => "Reveal",
                    (None, _, _) => "Next",
                };
                view! {
                    <div data-testid="tour-active">
                        <p><b>{t.title.clone()}</b>" "<span class="muted" data-testid="tour-progress">{format!("step {} of {}", t.applied, t.total)}</span></p>
                        {t.narration.clone().map(|n| view! { <p class="narration" data-testid="tour-narration">{n}</p> })}
                        {t.upcoming.clone().filter(|_| !last).map(|n| view! { <p class="muted">"Next: "{n}</p> })}
                        {move || lab.tour_reveal.get().map(|r| view! { <PredictionResult reveal=r /> })}
                        {t.predict.clone().filter(|_| !last).map(|q| view! {
                            <p class="predict" data-testid="tour-predict">"Predict: "{q}</p>
                        })}
                        {(!last && !t.choices.is_empty()).then(|| view! {
                            <div class="row choices" role="group" aria-label="Your prediction">
                                {t.choices.iter().enumerate().map(|(i, c)| {
                                    let c: &'static str = c;
                                    view! {
                                        <button data-testid=format!("predict-choice-{i}")
                                            class:chosen=move || lab.tour_guess.get() == Some(c)
                                            on:click=move |_| lab.tour_guess.set(Some(c))>{c}</button>
                                    }
                                }).collect_view()}
                            </div>
                        })}
                        <div class="row">
                            <button data-testid="tour-back" disabled=t.applied == 0 on:click=move |_| lab.tour_back()>"Back"</button>
                            <button data-testid="tour-next" class="primary" disabled=t.results.is_some() on:click=move |_| lab.tour_next()>{next_label}</button>
                            <button data-testid="tour-exit" on:click=move |_| lab.exit_tour()>"Exit tour"</button>
                        </div>
                        {t.results.clone().map(|rs| view! {
                            <ul class="results" data-testid="tour-results">
                                {rs.into_iter().map(|(d, ok, detail)| view! {
                                    <li class=if ok { "pass" } else { "fail" }>{if ok { "✓ " } else { "✗ " }}{d}<span class="muted">{format!(" ({detail})")}</span></li>
                                }).collect_view()}
                            </ul>
                        })}
                    </div>
                }
            })}
        </div>
    }
}

/// How long a dropped message's ✕ stays on its link (true time).
const DROP_SHOWN_US: u64 = 400_000;

#[derive(Clone, Debug, PartialEq)]
struct NodeFace {
    id: NodeId,
    role: Option<leaselab::Role>,
    paused: bool,
    term: u64,
}

#[component]
fn ClusterView() -> impl IntoView {
    let lab = lab();
    let links = Memo::new(move |_| lab.snap.with(|s| (s.nodes.len(), s.links.clone())));
    // What a node's circle shows; the clock and lease parts change every frame, these rarely.
    let nodes = Memo::new(move |_| {
        lab.snap.with(|s| {
            s.nodes
                .iter()
                .map(|n| NodeFace { id: n.id, role: n.role, paused: n.paused, term: n.term })
                .collect::<Vec<_>>()
        })
    });
    let size = VIEW_SIZE.to_string();
    view! {
        <svg data-testid="cluster-view" class="cluster" viewBox=format!("0 0 {size} {size}")
            role="img" aria-label="Cluster: nodes on a ring, links and messages in flight">
            // Links: one line per unordered pair, red and dashed when either direction is cut.
            // (Memoized: redrawn when a link changes, not every frame.)
            {move || links.with(|(n, links)| {
                let n = *n;
                links.iter().filter(|l| l.from < l.to).map(|l| {
                    let back_cut = links.iter().any(|r| r.from == l.to && r.to == l.from && r.cut);
                    let (a, b) = (ring_position(l.from.index(), n), ring_position(l.to.index(), n));
                    let class = match (l.cut, back_cut) {
                        (false, false) => "link",
                        (true, true) => "link cut",
                        _ => "link oneway",
                    };
                    let (from, to, cut_ab) = (l.from, l.to, l.cut);
                    let click = move |ev: leptos::ev::MouseEvent| {
                        for (f, t, cut) in crate::model::link_click(from, to, cut_ab, back_cut, ev.shift_key(), ev.alt_key()) {
                            let command = if cut { Command::CutLink { from: f, to: t } } else { Command::HealLink { from: f, to: t } };
                            if lab.command(command).is_err() { break; }
                        }
                    };
                    view! {
                        // A one-way cut: ✕ near the end that no longer hears the other.
                        {(l.cut != back_cut).then(|| {
                            let (src, dst) = if l.cut { (a, b) } else { (b, a) };
                            let (x, y) = (src.0 + (dst.0 - src.0) * 0.72, src.1 + (dst.1 - src.1) * 0.72);
                            view! { <text class="oneway-mark" x=x y=y + 5.0 text-anchor="middle"
                                data-testid=format!("oneway-{}-{}", if l.cut { from.0 } else { to.0 }, if l.cut { to.0 } else { from.0 })>"✕"</text> }
                        })}
                        <g class="link-group" on:click=click>
                            <title>{format!("{from}–{to}: click to cut or heal both ways; shift-click {from}→{to} only; alt-click {to}→{from} only")}</title>
                            <line class=class x1=a.0 y1=a.1 x2=b.0 y2=b.1 />
                            <line class="link-hit" x1=a.0 y1=a.1 x2=b.0 y2=b.1
                                data-testid=format!("link-{}-{}", l.from.0, l.to.0) />
                        </g>
                    }
                }).collect_view()
            })}
            // Messages in flight; those of the selected read are ringed.
            {move || {
                let selected: Vec<u64> = lab.selected_op.get().and_then(|op| lab.ops.with(|rows| {
                    rows.iter().find(|r| r.record.id == op).and_then(|r| r.record.trace.as_ref().map(|t| t.messages.clone()))
                })).unwrap_or_default();
                // One path of round dots per kind: a handful of DOM updates per frame however
                // many messages fly.
                lab.snap.with(|s| {
                    use std::fmt::Write as _;
                    let n = s.nodes.len();
                    let mut groups: Vec<(&'static str, String)> = Vec::new();
                    let mut ringed = String::new();
                    for m in &s.messages {
                        let (x, y) = message_position(
                            ring_position(m.from.index(), n), ring_position(m.to.index(), n),
                            m.sent_at, m.deliver_at, s.now);
                        let class = message_class(m.kind);
                        let path = match groups.iter_mut().find(|(c, _)| *c == class) {
                            Some((_, p)) => p,
                            None => { groups.push((class, String::new())); &mut groups.last_mut().expect("pushed").1 }
                        };
                        let _ = write!(path, "M{} {}h0", crate::spacetime_view::px(x), crate::spacetime_view::px(y));
                        if selected.contains(&m.id) {
                            let _ = write!(ringed, "M{} {}h0", crate::spacetime_view::px(x), crate::spacetime_view::px(y));
                        }
                    }
                    view! {
                        <path class="msgdots selected" data-testid="messages-selected" d=ringed />
                        {groups.into_iter().map(|(class, d)| view! { <path class=format!("msgdots {class}") d=d /> }).collect_view()}
                    }
                })
            }}
            // The leader lease ring: drains as the lease runs out on the leader's own clock.
            {move || lab.snap.with(|s| {
                let n = s.nodes.len();
                s.nodes.iter().filter_map(|node| {
                    let stats = node.leader_lease.as_ref()?;
                    let expire = stats.expire_at?;
                    if node.role != Some(leaselab::Role::Leader) || stats.duration_us <= 0 { return None; }
                    let left = crate::model::lease_fraction_left(node.local_time, expire, stats.duration_us);
                    let (x, y) = ring_position(node.id.index(), n);
                    let circumference = std::f64::consts::TAU * 42.0;
                    Some(view! {
                        <circle class="lease-ring" data-testid=format!("lease-ring-{}", node.id.0) cx=x cy=y r="42"
                            stroke-dasharray=format!("{:.1} {:.1}", circumference * left, circumference)
                            transform=format!("rotate(-90 {x} {y})") />
                    })
                }).collect_view()
            })}
            // Messages dropped in the last moment: a red ✕ on their link (a message lost as it
            // was sent, near its sender).
            {move || lab.spacetime.with(|d| {
                let n = d.nodes;
                d.arrows.iter().rev()
                    .take_while(|a| a.sent.0 + DROP_SHOWN_US >= d.to.0)
                    .filter(|a| a.dropped && a.end.0 + DROP_SHOWN_US >= d.to.0)
                    .take(24)
                    .map(|a| {
                        let (p, q) = (ring_position(a.from.index(), n), ring_position(a.to.index(), n));
                        let f = if a.end == a.sent { 0.3 } else { 0.6 };
                        let (x, y) = (p.0 + (q.0 - p.0) * f, p.1 + (q.1 - p.1) * f);
                        view! { <text class="drop-mark" x=x y=y + 5.0 text-anchor="middle">"✕"</text> }
                    }).collect_view()
            })}
            // Each node's clock: its local reading and rate, under the node.
            {move || lab.snap.with(|s| {
                let n = s.nodes.len();
                s.nodes.iter().map(|node| {
                    let (x, y) = ring_position(node.id.index(), n);
                    let drifting = node.rate_ppm != 1_000_000;
                    view! {
                        <text class="node-clock" class:drifting=drifting x=x y=y + 50.0 text-anchor="middle"
                            data-testid=format!("ring-clock-{}", node.id.0)>
                            {format!("{:.2} s · {}", node.local_time.as_ms_f64() / 1_000.0, crate::model::rate_label(node.rate_ppm))}
                        </text>
                    }
                }).collect_view()
            })}
            // Nodes.
            {move || nodes.with(|nodes| {
                let n = nodes.len();
                nodes.iter().map(|node| {
                    let (x, y) = ring_position(node.id.index(), n);
                    let label = role_label(node.role, node.paused);
                    view! {
                        <g class=node_class(node.role, node.paused)
                            data-testid=format!("node-{}", node.id.0) data-role=label
                            class:picked=lab.partition_pick.with(|p| p.contains(&node.id))
                            on:click={let id = node.id; move |ev: leptos::ev::MouseEvent| {
                                if ev.shift_key() { lab.toggle_pick(id) } else { lab.selected_node.set(Some(id)) }
                            }}>
                            <circle cx=x cy=y r="34" />
                            <text x=x y=y - 8.0 class="node-name">{node.id.to_string()}</text>
                            <text x=x y=y + 8.0 class="node-role">{label}</text>
                            <text x=x y=y + 21.0 class="node-term">{format!("term {}", node.term)}</text>
                        </g>
                    }
                }).collect_view()
            })}
        </svg>
    }
}

#[component]
fn Legend() -> impl IntoView {
    view! {
        <div class="legend">
            <span><i class="dot leader"></i>"leader"</span>
            <span><i class="dot follower"></i>"follower"</span>
            <span><i class="dot candidate"></i>"candidate"</span>
            <span><i class="dot paused"></i>"paused"</span>
            <span><i class="dot crashed"></i>"crashed"</span>
            <span class="sep"></span>
            <span><i class="dot msg append"></i>"append"</span>
            <span><i class="dot msg heartbeat"></i>"heartbeat"</span>
            <span><i class="dot msg vote"></i>"vote"</span>
            <span><i class="dot msg readindex"></i>"ReadIndex"</span>
        </div>
    }
}

#[component]
fn NodeTable() -> impl IntoView {
    let lab = lab();
    let rows = Memo::new(move |_| {
        lab.panel_snap.with(|s| {
            s.nodes
                .iter()
                .map(|n| {
                    // Isolated: it has links and every one to or from it is cut.
                    let mut links = s.links.iter().filter(|l| l.from == n.id || l.to == n.id).peekable();
                    let isolated = links.peek().is_some() && links.all(|l| l.cut);
                    (n.id, n.crashed, n.paused, n.rate_ppm, isolated)
                })
                .collect::<Vec<_>>()
        })
    });
    let act = move |c: Command| {
        let _ = lab.command(c);
    };
    // How far the −Δ / +Δ buttons step a clock, typed in ms below the table.
    let jump_text = RwSignal::new("500".to_string());
    let jump = move |node: NodeId, sign: i64| match crate::model::parse_jump_us(&jump_text.get_untracked()) {
        Ok(us) => act(Command::JumpClock { node, delta_us: sign * us }),
        Err(e) => lab.error.set(Some(e)),
    };
    view! {
        <div class="panel">
            <h2>"Nodes" <span class="leader-summary" data-testid="leader-summary">{move || lab.panel_snap.with(|s| match s.leader {
                Some(l) => format!("leader {l}"),
                None => "no leader".to_string(),
            })}</span></h2>
            <table class="nodes" data-testid="node-table">
                <thead><tr>
                    <th>"node"</th><th>"role"</th><th>"term"</th><th title="commit index">"commit"</th>
                    <th title="applied index">"applied"</th><th title="leader lease on the node's own clock">"leader lease"</th>
                    <th title="local clock and rate">"clock"</th><th>"faults"</th>
                </tr></thead>
                <tbody>
                // Rows are rebuilt only when a node's buttons change (crash, pause, rate); the
                // cells that move (role, indexes, lease, clock) update in place.
                {move || rows.get().into_iter().map(|(id, crashed, paused, rate_ppm, isolated)| {
                    let cell = move |f: fn(&leaselab::snapshot::NodeView) -> String| {
                        move || lab.panel_snap.with(|s| s.nodes.get(id.index()).map(f).unwrap_or_default())
                    };
                    view! {
                        <tr data-testid=format!("node-row-{}", id.0) on:click=move |_| lab.selected_node.set(Some(id))>
                            <td><label class="pick" title="Pick for a partition (or shift-click the node)">
                                <input type="checkbox" data-testid=format!("pick-{}", id.0)
                                    prop:checked=move || lab.partition_pick.with(|p| p.contains(&id))
                                    on:click=|ev| ev.stop_propagation()
                                    on:change=move |_| lab.toggle_pick(id) />
                                {id.to_string()}</label></td>
                            <td class=cell(|n| node_class(n.role, n.paused).to_string()) data-testid=format!("node-role-{}", id.0)>
                                {cell(|n| role_label(n.role, n.paused).to_string())}</td>
                            <td data-testid=format!("node-term-{}", id.0)>{cell(|n| n.term.to_string())}</td>
                            <td data-testid=format!("node-commit-{}", id.0)>{cell(|n| n.commit.to_string())}</td>
                            <td data-testid=format!("node-applied-{}", id.0)>{cell(|n| n.applied.to_string())}</td>
                            <td class="mono" data-testid=format!("node-lease-{}", id.0)
                                title=cell(|n| n.leader_lease.as_ref().map(|l| format!("{} — {}", l.config_reason, l.last_reason)).unwrap_or_default())>
                                {cell(|n| crate::model::lease_label(n.role, n.local_time, n.leader_lease.as_ref()))}</td>
                            <td class="mono clockcell">
                                <span data-testid=format!("node-clock-{}", id.0)>{cell(|n| format!("{:.1}s", n.local_time.as_ms_f64() / 1000.0))}</span>
                                <input type="range" class="rate" data-testid=format!("rate-{}", id.0) disabled=crashed
                                    min="0" max=(crate::model::RATE_STEPS.len() - 1).to_string() step="1"
                                    aria-label=format!("clock rate of {id}")
                                    title="Drag to drift this clock: 0.1× to 10× true time"
                                    prop:value=crate::model::rate_step_index(rate_ppm).to_string()
                                    // While dragging, the label beside the slider follows it; the
                                    // rate itself changes once, on release.
                                    on:input=|ev| {
                                        let slider = ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok());
                                        let step = event_target_value(&ev).parse::<usize>().ok();
                                        if let (Some(label), Some(ppm)) = (
                                            slider.and_then(|s| s.next_element_sibling()),
                                            step.and_then(|i| crate::model::RATE_STEPS.get(i)),
                                        ) {
                                            label.set_text_content(Some(&crate::model::rate_label(*ppm)));
                                        }
                                    }
                                    on:change=move |ev| {
                                        let step = event_target_value(&ev).parse::<usize>().ok();
                                        if let Some(rate_ppm) = step.and_then(|i| crate::model::RATE_STEPS.get(i)) {
                                            act(Command::SetClockRate { node: id, rate_ppm: *rate_ppm });
                                        }
                                    } />
                                <span class="rate-label" data-testid=format!("rate-label-{}", id.0)>{crate::model::rate_label(rate_ppm)}</span>
                                <button data-testid=format!("jump-back-{}", id.0) title="step this clock back by Δ (set below the table)"
                                    on:click=move |_| jump(id, -1)>"−Δ"</button>
                                <button data-testid=format!("jump-fwd-{}", id.0) title="step this clock forward by Δ (set below the table)"
                                    on:click=move |_| jump(id, 1)>"+Δ"</button>
                            </td>
                            <td class="actions">
                                <button data-testid=format!("pause-{}", id.0) disabled=crashed
                                    on:click=move |_| act(if paused { Command::Resume { node: id } } else { Command::Pause { node: id } })>
                                    {if paused { "resume" } else { "pause" }}</button>
                                <button data-testid=format!("crash-{}", id.0)
                                    on:click=move |_| act(if crashed { Command::Restart { node: id } } else { Command::Crash { node: id } })>
                                    {if crashed { "restart" } else { "crash" }}</button>
                                <button data-testid=format!("isolate-{}", id.0)
                                    on:click=move |_| if isolated { lab.rejoin(id) } else { act(Command::Isolate { node: id }) }>
                                    {if isolated { "rejoin" } else { "isolate" }}</button>
                            </td>
                        </tr>
                    }
                }).collect_view()}
                </tbody>
            </table>
            <div class="row">
                <label title="How far the −Δ and +Δ buttons step a node's clock">"clock jump Δ "
                    {text_box(jump_text, "jump-input".into(), "tiny", None)}" ms"</label>
                <button data-testid="heal-all" on:click=move |_| act(Command::HealAll)>"Heal all links"</button>
                <button data-testid="partition-apply" disabled=move || lab.partition_pick.with(|p| p.is_empty())
                    title="Cut every link between the picked nodes and the others (this replaces any earlier partition and cut links)"
                    on:click=move |_| lab.partition_picked()>
                    {move || lab.partition_pick.with(|p| if p.is_empty() {
                        "Partition: pick nodes".to_string()
                    } else {
                        format!("Partition {{{}}} | rest", p.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", "))
                    })}
                </button>
                <span class="error" data-testid="command-error">{move || lab.error.get()}</span>
            </div>
        </div>
    }
}

/// The client panel's line when it has nowhere to send (shown until a leader is known).
const NO_LEADER: &str = "No leader right now: pick a node to send to.";

#[component]
fn ClientPanel() -> impl IntoView {
    let lab = lab();
    let key = RwSignal::new("x".to_string());
    let value = RwSignal::new("1".to_string());
    // 0 means "the current leader".
    let target = RwSignal::new(0u64);
    let status = RwSignal::new(String::new());
    // The true time (µs) the status line was said at.
    let said_at = StoredValue::new(0u64);
    // The client panel reports its own outcomes (sent, refused, bad input) on its status line,
    // so the cluster panel's error line does not keep an older refusal of a client command.
    let say = move |message: String| {
        lab.error.set(None);
        said_at.set_value(lab.snap.with_untracked(|s| s.now.0));
        status.set(message);
    };
    // A different run (reset, tour, link, import) starts with an empty status line, sending to
    // the leader (the chosen node may not exist in it).
    Effect::new(move |_| {
        lab.run_generation.track();
        status.set(String::new());
        target.set(0);
    });
    let target_node = move || {
        let t = target.get_untracked();
        if t != 0 {
            return Some(NodeId(t));
        }
        lab.snap.with_untracked(|s| s.leader)
    };
    #[derive(Clone, Copy)]
    enum Op {
        Put,
        Delete,
        Read(ReadMode),
    }
    let compact_rev = RwSignal::new("2".to_string());
    let lease_id = RwSignal::new("1".to_string());
    let lease_ttl = RwSignal::new("5".to_string());
    // Sends a command built for the chosen node; bad input is explained, nothing is lost.
    let send_cmd = move |build: Box<dyn Fn(NodeId) -> Command>| {
        let Some(node) = target_node() else {
            say(NO_LEADER.into());
            return;
        };
        match lab.command(build(node)) {
            Ok(Some(op)) => say(format!("{op} sent to {node}")),
            Ok(None) => {}
            Err(e) => say(e.to_string()),
        }
    };
    let send = move |what: Op| {
        let (k, v) = (key.get_untracked(), value.get_untracked());
        send_cmd(Box::new(move |node| match what {
            Op::Put => {
                Command::Client { node, op: ClientOp::Put { key: k.clone(), value: v.clone(), key_lease: None } }
            }
            Op::Delete => Command::Client { node, op: ClientOp::Delete { key: k.clone() } },
            Op::Read(mode) => Command::Client { node, op: ClientOp::Read { key: k.clone(), mode } },
        }))
    };
    // One signal per field of the transaction form, so each box is a plain `text_box`.
    let example = crate::model::TxnForm::example();
    let [if_key, if_target, if_op, if_operand, then_kind, then_key, then_value, else_kind, else_key, else_value] = [
        example.key,
        example.target,
        example.op,
        example.operand,
        example.then_kind,
        example.then_key,
        example.then_value,
        example.else_kind,
        example.else_key,
        example.else_value,
    ]
    .map(RwSignal::new);
    let txn_form = move || crate::model::TxnForm {
        key: if_key.get_untracked(),
        target: if_target.get_untracked(),
        op: if_op.get_untracked(),
        operand: if_operand.get_untracked(),
        then_kind: then_kind.get_untracked(),
        then_key: then_key.get_untracked(),
        then_value: then_value.get_untracked(),
        else_kind: else_kind.get_untracked(),
        else_key: else_key.get_untracked(),
        else_value: else_value.get_untracked(),
    };
    let send_txn = move || match crate::model::build_txn(&txn_form()) {
        Ok((compares, success, failure)) => send_cmd(Box::new(move |node| Command::Client {
            node,
            op: ClientOp::Txn { compares: compares.clone(), success: success.clone(), failure: failure.clone() },
        })),
        Err(e) => say(e),
    };
    let compact = move || match compact_rev.get_untracked().trim().parse::<u64>() {
        Ok(revision) => send_cmd(Box::new(move |node| Command::Client { node, op: ClientOp::Compact { revision } })),
        Err(_) => say("a revision is a whole number up to 18446744073709551615".into()),
    };
    let with_lease = move |action: u8| {
        let id = match crate::model::parse_key_lease_id(&lease_id.get_untracked()) {
            Ok(id) => id,
            Err(e) => return say(e),
        };
        match action {
            0 => match crate::model::parse_ttl_ms(&lease_ttl.get_untracked()) {
                Ok(ttl_ms) => send_cmd(Box::new(move |node| Command::Client {
                    node,
                    op: ClientOp::KeyLeaseGrant { id: id, ttl_ms },
                })),
                Err(e) => say(e),
            },
            1 => send_cmd(Box::new(move |node| Command::Client { node, op: ClientOp::KeyLeaseKeepAlive { id: id } })),
            2 => send_cmd(Box::new(move |node| Command::Client { node, op: ClientOp::KeyLeaseRevoke { id: id } })),
            _ => {
                let (k, v) = (key.get_untracked(), value.get_untracked());
                send_cmd(Box::new(move |node| Command::Client {
                    node,
                    op: ClientOp::Put { key: k.clone(), value: v.clone(), key_lease: Some(id) },
                }))
            }
        }
    };
    view! {
        <div class="panel client">
            <h2>"Client"</h2>
            <div class="row">
                <label>"send to "
                    <select data-testid="write-node" prop:value=move || target.get().to_string()
                        on:change=move |ev| target.set(event_target_value(&ev).parse().unwrap_or(0))>
                        <option value="0">"leader"</option>
                        {move || lab.panel_snap.with(|s| s.nodes.iter().map(|n| view! {
                            <option value=n.id.0.to_string()>{n.id.to_string()}</option>
                        }).collect_view())}
                    </select>
                </label>
                <label>"key " {text_box(key, "write-key".into(), "short", None)}</label>
                <label>"value " {text_box(value, "write-value".into(), "short", None)}</label>
                <button data-testid="write-button" class="primary" on:click=move |_| send(Op::Put)>"Put"</button>
                <button data-testid="delete-button" on:click=move |_| send(Op::Delete)>"Delete"</button>
            </div>
            <div class="row">
                <button data-testid="read-button" class="primary" title="Linearizable read: lease read, ReadIndex or forwarded"
                    on:click=move |_| send(Op::Read(ReadMode::Linearizable))>"Read (linearizable)"</button>
                <button data-testid="serializable-read-button" title="Serializable read: local state, may be stale"
                    on:click=move |_| send(Op::Read(ReadMode::Serializable))>"Read (serializable)"</button>
            </div>
            <div class="row">
                <label title="Seeded background operations: puts and reads on keys w0–w7">"background load "
                    <select data-testid="workload-select"
                        prop:value=move || lab.panel_snap.with(|s| s.workload_ops_per_sec.to_string())
                        on:change=move |ev| {
                            if let Ok(ops_per_sec) = event_target_value(&ev).parse::<u32>() {
                                if let Err(e) = lab.command(Command::SetWorkload { ops_per_sec }) {
                                    say(e.to_string());
                                }
                            }
                        }>
                        {crate::model::WORKLOADS.iter().map(|(rate, label)| view! {
                            <option value=rate.to_string()>{*label}</option>
                        }).collect_view()}
                    </select>
                </label>
            </div>
            <details class="txn" data-testid="txn-builder">
                <summary>"Transaction (if … then … else …)"</summary>
                <div class="row">
                    "if "
                    {text_box(if_key, "txn-key".into(), "short", Some("compare key"))}
                    {choice_box(if_target, "txn-target", "compare target", &[("value", "value"), ("version", "version"), ("create", "create"), ("mod", "mod")])}
                    {choice_box(if_op, "txn-op", "comparison", &[("=", "="), ("!=", "!="), (">", ">"), ("<", "<")])}
                    {text_box(if_operand, "txn-operand".into(), "tiny", Some("compare with"))}
                </div>
                <div class="row">
                    "then "
                    {choice_box(then_kind, "txn-then-kind", "then operation", &[("put", "put"), ("delete", "delete"), ("get", "get")])}
                    {text_box(then_key, "txn-then-key".into(), "short", Some("then key"))}
                    <span class:hidden=move || then_kind.get() != "put">"= "
                        {text_box(then_value, "txn-then-value".into(), "short", Some("then value"))}</span>
                </div>
                <div class="row">
                    "else "
                    {choice_box(else_kind, "txn-else-kind", "else operation", &[("get", "get"), ("put", "put"), ("delete", "delete"), ("", "nothing")])}
                    {text_box(else_key, "txn-else-key".into(), "short", Some("else key"))}
                    <span class:hidden=move || else_kind.get() != "put">"= "
                        {text_box(else_value, "txn-else-value".into(), "short", Some("else value"))}</span>
                    <button data-testid="txn-button" on:click=move |_| send_txn()>"Send txn"</button>
                </div>
            </details>
            <div class="row">
                <label>"compact to rev " {text_box(compact_rev, "compact-rev".into(), "tiny", None)}</label>
                <button data-testid="compact-button" on:click=move |_| compact()>"Compact"</button>
            </div>
            <div class="row">
                <label>"key lease " {text_box(lease_id, "lease-id".into(), "tiny", None)}</label>
                <label>"TTL " {text_box(lease_ttl, "lease-ttl".into(), "tiny", None)}" s"</label>
                <button data-testid="lease-grant" on:click=move |_| with_lease(0)>"Grant"</button>
                <button data-testid="lease-keepalive" on:click=move |_| with_lease(1)>"Keep-alive"</button>
                <button data-testid="lease-revoke" on:click=move |_| with_lease(2)>"Revoke"</button>
                <button data-testid="put-with-lease" on:click=move |_| with_lease(3)>"Put with lease"</button>
            </div>
            // Scrubbed back to before it was said, the line would name an operation not yet sent.
            <div class="status" data-testid="write-status">
                {move || {
                    // "No leader" goes once one is known: it described a moment, not the run.
                    let moot = status.with(|s| s == NO_LEADER) && lab.snap.with(|s| s.leader.is_some());
                    (lab.timeline_view.with(|v| v.now.0) >= said_at.get_value() && !moot).then(|| status.get())
                }}
            </div>
        </div>
    }
}

#[component]
fn OpLog() -> impl IntoView {
    let lab = lab();
    view! {
        <div class="panel">
            <h2>"Operations"
                <span class="checker-summary" data-testid="checker-summary"
                    class:bad=move || lab.checker_summary.with(|c| c.stale > 0)>{move || lab.checker_summary.with(|c| {
                    format!("checker: {} checked, {} stale", crate::model::plural(c.checked as usize, "op"), c.stale)
                })}</span>
            </h2>
            {move || lab.checker_summary.with(|c| c.last_stale.clone()).map(|(text, op)| view! {
                <div class="stale-box" data-testid="stale-explanation"><b>"Stale read caught. "</b>{text}" "
                    // Its row may have scrolled out of the log: this selects it all the same.
                    <button class="linklike" data-testid="stale-show" on:click=move |_| lab.selected_op.set(Some(op))>"show it"</button>
                </div>
            })}
            <table class="ops" data-testid="op-log">
                <thead><tr><th>"op"</th><th>"node"</th><th>"request"</th><th>"path"</th><th>"outcome"</th><th>"latency"</th><th>"verdict"</th></tr></thead>
                <tbody>
                {move || lab.ops.with(|rows| rows.iter().take(14).map(|row| {
                    let op = &row.record;
                    let id = op.id;
                    let (class, text) = match (&op.outcome, &op.read) {
                        (OpOutcome::Ok { .. }, Some(read)) => ("ok", format!(
                            "{} (mod rev {}, rev {})",
                            read.value.clone().unwrap_or_else(|| "(absent)".into()), read.mod_revision, read.revision)),
                        (outcome, _) => (crate::model::outcome_class(outcome), match &op.result {
                            // A transaction: which branch ran and what its gets returned.
                            Some(result) => format!("{outcome} · {result}"),
                            None => outcome.to_string(),
                        }),
                    };
                    let path = op.trace.as_ref().and_then(|t| t.path);
                    let badge = path.map(|p| view! { <span class=format!("badge {}", crate::model::path_class(p))>{p.label()}</span> });
                    let latency = op.completed_at.map(|c| format!("{:.1} ms", c.saturating_sub(op.invoked_at) as f64 / 1000.0)).unwrap_or_default();
                    let verdict = row.verdict.clone().unwrap_or_default();
                    let vclass = if verdict == "STALE" || verdict == "violation" { "verdict bad" } else { "verdict" };
                    let selected = move || lab.selected_op.get() == Some(id);
                    view! {
                        <tr data-testid=format!("op-{}", id.0) class=class class:selected=selected
                            on:click=move |_| lab.selected_op.update(|s| *s = if *s == Some(id) { None } else { Some(id) })>
                            <td>{id.to_string()}</td><td>{op.node.to_string()}</td>
                            <td>{op.kind.summary()}</td>
                            <td data-testid=format!("op-path-{}", id.0)>{badge}</td>
                            <td data-testid=format!("op-outcome-{}", id.0)>{text}</td><td>{latency}</td>
                            <td class=vclass data-testid=format!("op-verdict-{}", id.0)>{verdict}</td>
                        </tr>
                    }
                }).collect_view())}
                </tbody>
            </table>
            <ReadTracePanel />
        </div>
    }
}

/// The node inspector: raft state, leader lease, lessor key leases with TTL bars, MVCC keys.
/// Raft log entries the inspector lists.
const INSPECTOR_LOG_ENTRIES: usize = 10;

#[component]
fn Inspector() -> impl IntoView {
    let lab = lab();
    move || {
        let id = lab.selected_node.get()?;
        lab.panel_snap.with(|s| {
            let n = s.nodes.iter().find(|n| n.id == id)?.clone();
            let log = lab.log_tail(id, INSPECTOR_LOG_ENTRIES);
            Some(view! {
                <div class="panel inspector" data-testid="inspector">
                    <h2>{format!("Inspector — {}", n.id)}
                        <button class="linklike" data-testid="inspector-close" on:click=move |_| lab.selected_node.set(None)>"close"</button></h2>
                    <p class="mono" data-testid="inspector-raft">{format!(
                        "{} · term {} · leader {} · log [{}..{}] · commit {} · applied {} · election timeout {} ticks",
                        role_label(n.role, n.paused), n.term, n.leader, n.first_index, n.last_index, n.commit, n.applied,
                        n.election_timeout_ticks)}</p>
                    {n.leader_lease.as_ref().map(|l| view! {
                        <p class="muted" data-testid="inspector-lease">{format!(
                            "leader lease: {} · renewed {} times · {} · duration {} ms",
                            l.config_reason, l.renew_count, l.last_reason, l.duration_us / 1_000)}</p>
                    })}
                    <h3>{format!("Raft log (newest {}; {} compacted away before index {})", log.len(),
                        if n.first_index > 1 { "older entries" } else { "nothing" }, n.first_index)}</h3>
                    <table class="ops raftlog" data-testid="inspector-log">
                        <thead><tr><th>"index"</th><th>"term"</th><th>"entry"</th><th>"state"</th></tr></thead>
                        <tbody>{log.into_iter().map(|e| {
                            let state = if e.index <= n.applied { "applied" } else if e.index <= n.commit { "committed" } else { "uncommitted" };
                            let marks = format!("{}{}", if e.index == n.commit { "◀ commit " } else { "" }, if e.index == n.applied { "◀ applied" } else { "" });
                            view! {
                                <tr class=state data-testid=format!("log-entry-{}", e.index)>
                                    <td>{e.index}</td><td>{e.term}</td>
                                    <td>{e.summary}{e.op.map(|op| format!(" ({op})"))}</td>
                                    <td>{state}" "<b>{marks}</b></td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                    <h3>{format!("Key leases ({})", if n.lessor_primary { "primary: expiries on this clock" } else { "held forever: not primary" })}</h3>
                    <table class="ops" data-testid="inspector-key-leases">
                        <thead><tr><th>"id"</th><th>"TTL"</th><th>"remaining"</th><th>"checkpoint"</th><th>"keys"</th></tr></thead>
                        <tbody>{n.key_leases.iter().map(|l| {
                            let frac = l.remaining_ms.map_or(1.0, |r| (r as f64 / l.ttl_ms.max(1) as f64).clamp(0.0, 1.0));
                            view! {
                                <tr>
                                    <td>{l.id}</td><td>{format!("{:.1} s", l.ttl_ms as f64 / 1e3)}</td>
                                    <td><span class="ttlbar"><span style=format!("width:{:.0}%", frac * 100.0)></span></span>
                                        {l.remaining_ms.map_or("forever".to_string(), |r| format!(" {:.1} s", r as f64 / 1e3))}</td>
                                    <td>{if l.checkpoint_ms > 0 { format!("{:.1} s", l.checkpoint_ms as f64 / 1e3) } else { "—".into() }}</td>
                                    <td>{l.keys.join(", ")}</td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                    <h3>{format!("MVCC: revision {}, compacted {}, {} keys", n.revision, n.compacted_revision, n.key_count)}</h3>
                    <table class="ops" data-testid="inspector-keys">
                        <thead><tr><th>"key"</th><th>"value"</th><th>"create"</th><th>"mod"</th><th>"version"</th><th>"key lease"</th></tr></thead>
                        <tbody>{n.keys.iter().map(|kv| view! {
                            <tr><td>{kv.key.clone()}</td><td>{kv.value.clone()}</td><td>{kv.create_revision}</td>
                                <td>{kv.mod_revision}</td><td>{kv.version}</td>
                                <td>{kv.key_lease.map_or_else(|| "—".to_string(), |id| id.to_string())}</td></tr>
                        }).collect_view()}</tbody>
                    </table>
                </div>
            })
        })
    }
}

/// The selected operation's trace: each decision with the values behind it.
#[component]
fn ReadTracePanel() -> impl IntoView {
    let lab = lab();
    move || {
        let op = lab.selected_op.get()?;
        lab.ops.with(|rows| {
            let row = rows.iter().find(|r| r.record.id == op)?;
            let trace = row.record.trace.clone();
            let explanation = row.explanation.clone();
            Some(view! {
                <div class="trace" data-testid="read-trace">
                    <h3>{format!("{} — {}", op, row.record.kind.summary())}</h3>
                    {match trace {
                        None => view! { <p>"Not a read: it travels through raft as a log entry and is answered once applied at the node it was sent to."</p> }.into_any(),
                        Some(t) => view! {
                            <ol>
                                {t.steps.iter().map(|st| view! {
                                    <li><span class="mono">{format!("true {} · local {}", st.at, st.local)}</span>" "{st.text.clone()}</li>
                                }).collect_view()}
                            </ol>
                            <p class="muted">{format!(
                                "read index {}, retries {}, messages caused {}{}",
                                t.read_index.map_or("—".to_string(), |i| i.to_string()),
                                t.retries,
                                t.messages.len(),
                                t.revision_lag.map_or(String::new(), |l| format!(", revision lag {l}"))
                            )}</p>
                        }.into_any(),
                    }}
                    {explanation.map(|e| view! { <p class="stale-box">{e}</p> })}
                </div>
            })
        })
    }
}

#[component]
fn EventLog() -> impl IntoView {
    let lab = lab();
    view! {
        <section class="panel events">
            <h2>"Event log"</h2>
            <pre data-testid="event-log">{move || lab.log.with(|l| {
                l.iter().rev().take(40).cloned().collect::<Vec<_>>().join("\n")
            })}</pre>
        </section>
    }
}
