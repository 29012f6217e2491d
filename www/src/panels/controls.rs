//! The toolbar: playback (play, step, speed) and the run form (seed, size, leader lease
//! policy, settings, Reset).

use crate::keys::is_enter_in_text_box;
use crate::lab::{lab, Playback};
use crate::model::{format_time, parse_seed, SPEEDS};
use crate::widgets::{enum_box, text_box};
use leaselab::{ClusterConfig, Command, CommitBroadcast, LeaderLeasePolicy, NODES_MAX};
use leptos::prelude::*;

/// The toolbar: playback, then the run form.
#[component]
pub(crate) fn Controls(seed: u64, node_count: usize) -> impl IntoView {
    view! {
        <div class="controls">
            <PlaybackControls />
            <span class="sep"></span>
            <RunForm seed node_count />
        </div>
    }
}

/// Play, pause, step, advance and speed, and the simulated time.
#[component]
fn PlaybackControls() -> impl IntoView {
    let lab = lab();
    let playback = expect_context::<Playback>();
    view! {
            <button data-testid="play-toggle" class="primary"
                title="Play or pause (space)"
                on:click=move |_| lab.toggle_play()>
                {move || if playback.playing.get() { "❚❚ Pause" } else { "▶ Play" }}
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
                    prop:value=move || playback.speed_index.get().to_string()>
                    {SPEEDS.iter().enumerate().map(|(i, (_, label))| view! {
                        <option value=i.to_string()>{*label}</option>
                    }).collect_view()}
                </select>
            </label>
            // A fixed slot beside the speed, so the toolbar does not move when it fills.
            <span class="behind" data-testid="speed-behind"
                title="The speed the simulation reaches: it cannot keep up with the chosen one on this machine">{move || playback.behind.get()}</span>
            <span class="clock" data-testid="sim-time">{move || format_time(lab.snap.with(|s| s.now))}</span>
    }
}

/// The run form: seed, size, leader lease policy and settings, applied by Reset (edits are
/// checked as they are made).
#[component]
fn RunForm(seed: u64, node_count: usize) -> impl IntoView {
    let lab = lab();
    let seed_text = RwSignal::new(seed.to_string());
    let nodes = RwSignal::new(node_count);
    let seed_error = RwSignal::new(None::<String>);
    let initial = lab.snap.with_untracked(|s| s.config.leader_lease.clone());
    let policy = RwSignal::new(initial.policy);
    let bound_text = RwSignal::new(initial.clock_drift_bound_ms.to_string());
    let leader_lease_enabled = RwSignal::new(initial.enabled);
    // An array of signals is Copy, so the closures below can share it.
    let setting_texts: [RwSignal<String>; crate::model::NUMBER_SETTINGS.len()] = std::array::from_fn(|i| {
        RwSignal::new(lab.snap.with_untracked(|snap| (crate::model::NUMBER_SETTINGS[i].show)(&snap.config)))
    });
    let key_lease_checkpoints = RwSignal::new(lab.snap.with_untracked(|s| s.config.lessor.checkpointing));
    let pre_vote = RwSignal::new(lab.snap.with_untracked(|s| s.config.pre_vote));
    let check_quorum = RwSignal::new(lab.snap.with_untracked(|s| s.config.check_quorum));
    let transfer_guard = RwSignal::new(lab.snap.with_untracked(|s| s.config.leader_lease.transfer_guard));
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
        leader_lease_enabled.set(config.leader_lease.enabled);
        for (setting, text) in crate::model::NUMBER_SETTINGS.iter().zip(setting_texts) {
            text.set((setting.show)(&config));
        }
        key_lease_checkpoints.set(config.lessor.checkpointing);
        pre_vote.set(config.pre_vote);
        check_quorum.set(config.check_quorum);
        transfer_guard.set(config.leader_lease.transfer_guard);
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
        config.pre_vote = pre_vote.get_untracked();
        config.check_quorum = check_quorum.get_untracked();
        config.leader_lease.transfer_guard = transfer_guard.get_untracked();
        config.commit_broadcast = commit_broadcast.get_untracked();
        config.leader_lease.policy = policy.get_untracked();
        config.leader_lease.clock_drift_bound_ms = bound;
        config.leader_lease.enabled = leader_lease_enabled.get_untracked();
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
        <span class="run-form" on:keydown=move |ev| if is_enter_in_text_box(&ev) { reset() }
            on:change=move |_| {
                // An edit is checked at once, not only when Reset is pressed.
                edited.set(true);
                seed_error.set(read_form().err());
            }>
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
            <label title="Assumed bound on clock drift, subtracted from the leader lease (applies on Reset)">"drift bound "
                {text_box(bound_text, "bound-input".into(), "tiny", None)}" ms"
            </label>
            <label><input data-testid="leader-lease-enabled" type="checkbox" prop:checked=move || leader_lease_enabled.get()
                on:change=move |ev| leader_lease_enabled.set(event_target_checked(&ev)) />" leader leases on"</label>
            <details class="settings" data-testid="settings">
                <summary title="Timings, network and key lease checkpoints (apply on Reset)">"Settings"</summary>
                <div class="settings-grid">
                    {crate::model::NUMBER_SETTINGS.iter().zip(setting_texts).map(|(s, text)| view! {
                        <label>{s.label}
                            {text_box(text, format!("setting-{}", s.id), "tiny", None)}
                            " "{s.unit}
                        </label>
                    }).collect_view()}
                    <label title="raft-rs pre_vote: a candidate first asks whether it could win, so a node cut off and rejoining does not raise the term and depose a healthy leader">
                        <input type="checkbox" data-testid="setting-pre-vote"
                        prop:checked=move || pre_vote.get()
                        on:change=move |ev| pre_vote.set(event_target_checked(&ev)) />" pre-vote"</label>
                    <label title="raft-rs check_quorum: a leader that has not heard from a quorum for an election timeout steps down, and a follower that heard from its leader ignores vote requests that long — the promise every clock-based leader lease rests on">
                        <input type="checkbox" data-testid="setting-check-quorum"
                        prop:checked=move || check_quorum.get()
                        on:change=move |ev| check_quorum.set(event_target_checked(&ev)) />" check-quorum"</label>
                    <label title="While a leadership transfer is pending, and after an abandoned one until an entry appended after it commits, a clock-based leader lease is suspect and reads go through ReadIndex; a TimeoutNow older than its receiver's log is ignored">
                        <input type="checkbox" data-testid="setting-transfer-guard"
                        prop:checked=move || transfer_guard.get()
                        on:change=move |ev| transfer_guard.set(event_target_checked(&ev)) />" transfer guard"</label>
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
        </span>
    }
}

/// Closes the Settings drop-down (found in the document: a typed node reference costs the
/// page ≈1 KB of wasm).
pub(crate) fn close_settings() {
    let settings = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("[data-testid=\"settings\"]").ok().flatten());
    if let Some(details) = settings {
        details.remove_attribute("open").ok();
    }
}
