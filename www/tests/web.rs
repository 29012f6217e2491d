//! Browser tests (headless Chromium and Firefox via wasm-bindgen-test-runner).
#![cfg(target_arch = "wasm32")]

use leaselab::reference::{parse_golden, reference_run, REFERENCE_RUNS};
use leaselab::ClusterConfig;
use leaselab_www::{App, StartOptions};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

const GOLDEN: &str = include_str!("../../tests/golden/trace_hashes.txt");

/// The browser computes exactly the trace hashes the native tests pin: same seed and commands
/// give a byte-identical trace on wasm32 and x86_64.
#[wasm_bindgen_test]
fn reference_runs_hash_like_native() {
    let golden = parse_golden(GOLDEN);
    assert_eq!(golden.len(), REFERENCE_RUNS.len());
    for (nodes, seed, hash) in golden {
        let actual = reference_run(nodes, seed).trace_hash();
        assert_eq!(actual, hash, "nodes={nodes} seed={seed}: browser {actual:016x} vs native {hash:016x}");
    }
}

/// Mounts a fresh, paused app into its own element.
fn mount(nodes: usize) -> (HtmlElement, impl Drop) {
    mount_with(StartOptions {
        seed: 1,
        config: ClusterConfig { node_count: nodes, ..ClusterConfig::default() },
        autoplay: false,
        ..StartOptions::default()
    })
}

fn mount_with(options: StartOptions) -> (HtmlElement, impl Drop) {
    let doc = document();
    let host: HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone(), move || view! { <App options=options /> });
    (host, handle)
}

fn by_test_id(host: &HtmlElement, id: &str) -> HtmlElement {
    host.query_selector(&format!("[data-testid=\"{id}\"]"))
        .unwrap()
        .unwrap_or_else(|| panic!("no element with data-testid={id}"))
        .unchecked_into()
}

fn text(host: &HtmlElement, id: &str) -> String {
    by_test_id(host, id).text_content().unwrap_or_default()
}

async fn click(host: &HtmlElement, id: &str) {
    by_test_id(host, id).click();
    leptos::task::tick().await;
}

#[wasm_bindgen_test]
async fn the_app_mounts_and_shows_a_leader() {
    let (host, _handle) = mount(3);
    assert_eq!(text(&host, "leader-summary"), "no leader");
    for _ in 0..4 {
        click(&host, "advance-1s").await;
    }
    let summary = text(&host, "leader-summary");
    assert!(summary.starts_with("leader n"), "{summary}");
    let leaders = host.query_selector_all("[data-role=\"leader\"]").unwrap().length();
    assert_eq!(leaders, 1);
    assert_eq!(text(&host, "sim-time"), "4.000 s");
    host.remove();
}

#[wasm_bindgen_test]
async fn a_write_commits_on_every_node() {
    let (host, _handle) = mount(5);
    for _ in 0..4 {
        click(&host, "advance-1s").await;
    }
    click(&host, "write-button").await;
    assert!(text(&host, "write-status").starts_with("op1 sent to n"));
    click(&host, "advance-1s").await;
    assert_eq!(text(&host, "op-outcome-1"), "ok, rev 2");
    let applied: Vec<String> = (1..=5).map(|i| text(&host, &format!("node-applied-{i}"))).collect();
    assert!(applied.iter().all(|a| a == &applied[0]), "{applied:?}");
    host.remove();
}

/// Step is the finest control: the event log lists everything a step did, message traffic
/// included, which playing and the +100 ms / +1 s buttons leave to the diagrams.
#[wasm_bindgen_test]
async fn a_step_logs_everything_it_did() {
    let (host, _handle) = mount(3);
    for _ in 0..2 {
        click(&host, "advance-1s").await;
    }
    let log = text(&host, "event-log");
    assert!(!log.contains(" deliver ") && !log.contains(" send "), "no traffic logged while time runs: {log}");
    // A leader heartbeats every tick: a few steps handle a tick (sends) and deliveries.
    for _ in 0..12 {
        click(&host, "step-event").await;
    }
    let log = text(&host, "event-log");
    assert!(log.contains(" send ") && log.contains(" deliver "), "{log}");
    // Time running again logs only the notable events (the log lists the newest first).
    click(&host, "write-button").await;
    click(&host, "advance-1s").await;
    let log = text(&host, "event-log");
    let newest: Vec<&str> = log.lines().take(5).collect();
    assert!(newest.iter().all(|l| !l.contains(" deliver ") && !l.contains(" send ")), "{newest:?}");
    assert!(log.contains("invoke   op1"), "{log}");
    host.remove();
}

/// A refused client command and bad input in the client panel are reported on its own status
/// line (the latest outcome only, never an older refusal elsewhere); a reset clears it.
#[wasm_bindgen_test]
async fn the_client_panel_reports_its_latest_outcome_in_one_place() {
    let (host, _handle) = mount(3);
    let target = by_test_id(&host, "write-node").parent_element().unwrap().text_content().unwrap();
    assert!(target.starts_with("send to "), "the target node's label: {target:?}");
    // Before the first election there is nowhere to send; the line says so until a leader is.
    leptos::task::tick().await; // the panel's effects have their first run (it clears the line)
    click(&host, "write-button").await;
    assert_eq!(text(&host, "write-status"), "No leader right now: pick a node to send to.");
    for _ in 0..3 {
        click(&host, "advance-1s").await;
    }
    assert_eq!(text(&host, "write-status"), "", "a leader is known now: the line went");
    set_input(&host, "write-key", "").await;
    click(&host, "write-button").await;
    assert_eq!(text(&host, "write-status"), "invalid key: a key must not be empty");
    assert_eq!(text(&host, "command-error"), "", "the cluster panel does not repeat a client refusal");
    set_input(&host, "key-lease-ttl", "1.5").await;
    click(&host, "key-lease-grant").await;
    assert!(text(&host, "write-status").contains("whole seconds"), "{}", text(&host, "write-status"));
    set_input(&host, "write-key", "x").await;
    click(&host, "write-button").await;
    assert!(text(&host, "write-status").starts_with("op1 sent to n"), "{}", text(&host, "write-status"));
    choose(&host, "write-node", "3").await;
    click(&host, "reset-button").await;
    assert_eq!(text(&host, "write-status"), "", "a new run starts with an empty status line");
    leptos::task::tick().await;
    let target: web_sys::HtmlSelectElement = by_test_id(&host, "write-node").unchecked_into();
    assert_eq!(target.value(), "0", "and sends to the leader (the chosen node may not exist in it)");
    host.remove();
}

/// Dragging a clock's slider previews the rate beside it; releasing applies it.
#[wasm_bindgen_test]
async fn dragging_a_clock_slider_previews_the_rate_and_release_applies_it() {
    let (host, _handle) = mount(3);
    let slider: web_sys::HtmlInputElement = by_test_id(&host, "rate-1").unchecked_into();
    slider.set_value("5");
    slider.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    leptos::task::tick().await;
    assert_eq!(text(&host, "rate-label-1"), "0.8×", "the label follows the drag");
    assert!(!text(&host, "event-log").contains("rate"), "no command yet");
    // Released at the same step (the table may have been redrawn meanwhile: find it again).
    let slider: web_sys::HtmlInputElement = by_test_id(&host, "rate-1").unchecked_into();
    slider.set_value("5");
    slider.dispatch_event(&web_sys::Event::new("change").unwrap()).unwrap();
    leptos::task::tick().await;
    click(&host, "advance-1s").await;
    assert_eq!(text(&host, "rate-label-1"), "0.8×", "applied on release");
    let clock = text(&host, "node-clock-1");
    assert!(clock.starts_with("0.8"), "n1's clock ran at 0.8× for a true second: {clock}");
    host.remove();
}

/// The ±Δ buttons step a clock by the Δ typed below the node table; a bad Δ is refused with a
/// message and steps nothing.
#[wasm_bindgen_test]
async fn clock_jumps_step_by_the_typed_delta_and_a_bad_one_is_refused() {
    let (host, _handle) = mount(3);
    let clock = |host: &HtmlElement| text(host, "node-clock-2");
    assert_eq!(clock(&host), "0.0s");
    set_input(&host, "jump-input", "2500").await;
    click(&host, "jump-fwd-2").await;
    assert_eq!(clock(&host), "2.5s", "stepped forward by the typed 2.5 s");
    set_input(&host, "jump-input", "1000").await;
    click(&host, "jump-back-2").await;
    assert_eq!(clock(&host), "1.5s");
    set_input(&host, "jump-input", "soon").await;
    click(&host, "jump-fwd-2").await;
    assert!(text(&host, "command-error").contains("“soon” is not a clock jump"), "{}", text(&host, "command-error"));
    assert_eq!(clock(&host), "1.5s", "a refused jump changes nothing");
    let log = text(&host, "event-log");
    assert!(log.contains("n2 clock jumps +2500 ms") && log.contains("n2 clock jumps -1000 ms"), "{log}");
    host.remove();
}

/// Settings' network boxes apply to every link now, without a Reset (the other settings wait
/// for it); a bad box is refused next to the controls and changes nothing.
#[wasm_bindgen_test]
async fn the_network_settings_apply_now_to_every_link() {
    let (host, _handle) = mount(3);
    click(&host, "advance-1s").await;
    set_input(&host, "setting-latency", "40").await;
    set_input(&host, "setting-loss", "101").await;
    click(&host, "network-now").await;
    assert!(text(&host, "seed-error").starts_with("loss: “101” is not valid"), "{}", text(&host, "seed-error"));
    assert!(!text(&host, "event-log").contains("all links"), "a refused change changes nothing");
    set_input(&host, "setting-loss", "100").await;
    click(&host, "network-now").await;
    assert_eq!(text(&host, "seed-error"), "");
    let log = text(&host, "event-log");
    assert!(log.contains("all links: latency 40000±5000 µs, drop 1000000 ppm, dup 0 ppm"), "{log}");
    assert_eq!(text(&host, "sim-time"), "1.000 s", "the run goes on: no Reset");
    // Every message is lost now: the space-time diagram draws the second's messages as drops.
    click(&host, "advance-1s").await;
    leptos::task::tick().await;
    let dropped = by_test_id(&host, "spacetime-dropped").get_attribute("d").unwrap_or_default();
    assert!(dropped.matches('M').count() > 5, "few drops drawn: {dropped}");
    host.remove();
}

/// Leaves the text box `id` after typing, as a user would: its change event (which bubbles).
async fn leave(host: &HtmlElement, id: &str) {
    let change = web_sys::Event::new("change").unwrap();
    #[allow(deprecated)]
    change.init_event_with_bubbles("change", true);
    by_test_id(host, id).dispatch_event(&change).unwrap();
    leptos::task::tick().await;
}

/// Picks `value` in the drop-down `id`, as a user's choice would (a change event) — after the
/// page's pending effects have run, as they have by the time a person can click.
async fn choose(host: &HtmlElement, id: &str, value: &str) {
    leptos::task::tick().await;
    let select: web_sys::HtmlSelectElement = by_test_id(host, id).unchecked_into();
    select.set_value(value);
    // A user's change event bubbles (the controls listen for edits).
    let change = web_sys::Event::new("change").unwrap();
    #[allow(deprecated)]
    change.init_event_with_bubbles("change", true);
    select.dispatch_event(&change).unwrap();
    leptos::task::tick().await;
}

async fn set_input(host: &HtmlElement, id: &str, value: &str) {
    let input: web_sys::HtmlInputElement = by_test_id(host, id).unchecked_into();
    input.set_value(value);
    input.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    leptos::task::tick().await;
}

#[wasm_bindgen_test]
async fn the_timeline_scrubs_back_replays_forward_and_forks() {
    let (host, _handle) = mount(3);
    for _ in 0..3 {
        click(&host, "advance-1s").await;
    }
    click(&host, "write-button").await;
    click(&host, "advance-1s").await;
    let end_hash = text(&host, "trace-hash");
    assert_eq!(text(&host, "timeline-position"), "4.000 s / 4.000 s");
    assert!(by_test_id(&host, "timeline-past").class_list().contains("hidden"));
    set_input(&host, "timeline-scrub", "2500").await;
    assert_eq!(text(&host, "timeline-position"), "2.500 s / 4.000 s");
    assert!(!by_test_id(&host, "timeline-past").class_list().contains("hidden"));
    assert!(host.query_selector("[data-testid=\"op-outcome-1\"]").unwrap().is_none(), "the write is in the future");
    assert_eq!(text(&host, "write-status"), "", "the client has not sent op1 yet at 2.5 s");
    click(&host, "timeline-live").await;
    assert_eq!(text(&host, "trace-hash"), end_hash, "replaying forward reproduces the run");
    assert!(text(&host, "write-status").starts_with("op1 sent to n"), "{}", text(&host, "write-status"));
    assert_eq!(text(&host, "op-outcome-1"), "ok, rev 2");
    set_input(&host, "timeline-scrub", "3500").await;
    click(&host, "write-button").await;
    assert!(text(&host, "timeline-note").contains("Forked at 3.500 s"), "{}", text(&host, "timeline-note"));
    assert_eq!(text(&host, "timeline-position"), "3.500 s / 3.500 s");
    host.remove();
}

#[wasm_bindgen_test]
async fn a_shared_link_reproduces_the_run_and_a_damaged_one_is_refused() {
    use leaselab::share::Recording;
    let run = leaselab::reference::reference_run(3, 5);
    let fragment = Recording::of(&run).unwrap().to_url_fragment();
    let (host, _handle) =
        mount_with(StartOptions { shared_fragment: Some(format!("#{fragment}")), ..StartOptions::default() });
    assert!(text(&host, "timeline-note").starts_with("Opened the shared run"), "{}", text(&host, "timeline-note"));
    assert!(!by_test_id(&host, "timeline-note").class_list().contains("failure"), "success is the muted status");
    assert_eq!(text(&host, "trace-hash"), format!("trace {:016x}", run.trace_hash()));
    assert_eq!(by_test_id(&host, "play-toggle").text_content().unwrap(), "▶ Play", "a shared run opens paused");
    // Share gives a link (and puts it in the address bar); a new run drops both.
    click(&host, "share-button").await;
    assert!(text(&host, "share-url").is_empty(), "an input: its text is its value");
    let location = || web_sys::window().unwrap().location().hash().unwrap();
    assert!(location().starts_with("#run="), "{}", location());
    click(&host, "reset-button").await;
    leptos::task::tick().await;
    assert!(host.query_selector("[data-testid=\"share-url\"]").unwrap().is_none(), "the old link is gone");
    assert_eq!(location(), "", "and the address bar no longer reopens the old run");
    host.remove();
    let damaged = format!("#{}", &fragment[..fragment.len() - 10]);
    let (host, _handle) =
        mount_with(StartOptions { shared_fragment: Some(damaged), autoplay: false, ..StartOptions::default() });
    assert!(
        text(&host, "timeline-note").contains("Could not open the shared link"),
        "{}",
        text(&host, "timeline-note")
    );
    assert!(by_test_id(&host, "timeline-note").class_list().contains("failure"), "a failure is shown as one");
    assert_eq!(text(&host, "sim-time"), "0.000 s", "a fresh run instead");
    host.remove();
}

#[wasm_bindgen_test]
async fn settings_apply_on_reset_and_bad_values_are_refused() {
    let (host, _handle) = mount(3);
    click(&host, "advance-1s").await;
    let settings = by_test_id(&host, "settings");
    settings.set_attribute("open", "").unwrap();
    set_input(&host, "setting-latency", "fast").await;
    // Leaving the field (its change event) checks it at once, before any Reset.
    leave(&host, "setting-latency").await;
    assert!(text(&host, "seed-error").starts_with("latency:"), "{}", text(&host, "seed-error"));
    assert_eq!(text(&host, "sim-time"), "1.000 s");
    click(&host, "reset-button").await;
    assert!(text(&host, "seed-error").starts_with("latency:"), "{}", text(&host, "seed-error"));
    assert_eq!(text(&host, "sim-time"), "1.000 s", "the current run is kept");
    assert!(settings.has_attribute("open"), "still open to mend the value");
    set_input(&host, "setting-latency", "40").await;
    leave(&host, "setting-latency").await;
    assert_eq!(text(&host, "seed-error"), "", "a mended value clears the error at once");
    click(&host, "reset-button").await;
    assert_eq!(text(&host, "seed-error"), "");
    assert_eq!(text(&host, "sim-time"), "0.000 s");
    assert!(!settings.has_attribute("open"), "a new run closes the drop-down");
    // Like a menu, it closes on a click elsewhere, and not on one inside it.
    settings.set_attribute("open", "").unwrap();
    click(&host, "setting-latency").await;
    assert!(settings.has_attribute("open"), "a click on a field inside keeps it open");
    click(&host, "advance-100ms").await;
    assert!(!settings.has_attribute("open"), "a click elsewhere closes it");
    // The fields are refilled from the new run's config: 40 stuck.
    let latency: web_sys::HtmlInputElement = by_test_id(&host, "setting-latency").unchecked_into();
    assert_eq!(latency.value(), "40");
    host.remove();
}

#[wasm_bindgen_test]
async fn the_commit_broadcast_setting_reaches_the_simulation_on_reset() {
    let (host, _handle) = mount(3);
    choose(&host, "speed-select", "3").await;
    assert_eq!(text(&host, "settings-pending"), "", "the speed is not a setting Reset applies");
    let mut hashes = Vec::new();
    for choice in ["Lazy", "Eager"] {
        choose(&host, "setting-commit-broadcast", choice).await;
        assert_eq!(text(&host, "settings-pending"), "edited: Reset applies", "said until Reset");
        click(&host, "reset-button").await;
        assert_eq!(text(&host, "seed-error"), "");
        assert_eq!(text(&host, "settings-pending"), "", "the run now is what the controls show");
        let select: web_sys::HtmlSelectElement = by_test_id(&host, "setting-commit-broadcast").unchecked_into();
        assert_eq!(select.value(), choice, "refilled from the new run's config");
        for _ in 0..3 {
            click(&host, "advance-1s").await;
        }
        click(&host, "write-button").await;
        click(&host, "advance-1s").await;
        assert_eq!(text(&host, "op-outcome-1"), "ok, rev 2", "{choice}");
        hashes.push(text(&host, "trace-hash"));
    }
    assert_ne!(hashes[0], hashes[1], "lazy followers learn the write's commit without the extra appends");
    host.remove();
}

/// raft's pre-vote and check-quorum are switches applied by Reset; with check-quorum off the
/// smart config turns the clock-based leader lease off and says why.
#[wasm_bindgen_test]
async fn pre_vote_and_check_quorum_switches_apply_on_reset() {
    let (host, _handle) = mount(3);
    for id in ["setting-pre-vote", "setting-check-quorum"] {
        let boxed: web_sys::HtmlInputElement = by_test_id(&host, id).unchecked_into();
        assert!(boxed.checked(), "{id} is on by default");
        boxed.set_checked(false);
        leave(&host, id).await; // its change event, as a click makes it
    }
    assert_eq!(text(&host, "settings-pending"), "edited: Reset applies");
    click(&host, "reset-button").await;
    assert_eq!(text(&host, "seed-error"), "");
    for _ in 0..3 {
        click(&host, "advance-1s").await;
    }
    let leader = (1..=3).find(|n| text(&host, &format!("node-role-{n}")) == "leader").expect("a leader");
    assert_eq!(text(&host, &format!("node-leader-lease-{leader}")), "disabled");
    click(&host, &format!("node-row-{leader}")).await;
    assert!(
        text(&host, "inspector-leader-lease").contains("check_quorum is off"),
        "{}",
        text(&host, "inspector-leader-lease")
    );
    let boxed: web_sys::HtmlInputElement = by_test_id(&host, "setting-check-quorum").unchecked_into();
    assert!(!boxed.checked(), "refilled from the new run's config");
    host.remove();
}

/// Clicks any element (SVG too), optionally with shift held, and lets the page react.
async fn click_with(host: &HtmlElement, id: &str, shift: bool) {
    let init = web_sys::MouseEventInit::new();
    init.set_bubbles(true);
    init.set_shift_key(shift);
    let ev = web_sys::MouseEvent::new_with_mouse_event_init_dict("click", &init).unwrap();
    let el: web_sys::Element = host.query_selector(&format!("[data-testid=\"{id}\"]")).unwrap().unwrap();
    el.dispatch_event(&ev).unwrap();
    leptos::task::tick().await;
}

fn class_of(host: &HtmlElement, selector: &str) -> String {
    host.query_selector(selector).unwrap().map(|e| e.get_attribute("class").unwrap_or_default()).unwrap_or_default()
}

#[wasm_bindgen_test]
async fn clicking_a_link_cuts_and_heals_it_and_shift_cuts_one_way() {
    let (host, _handle) = mount(3);
    let link = "[data-testid=\"link-1-2\"]";
    let drawn = |host: &HtmlElement| class_of(host, &format!("g:has(> {link}) > line.link"));
    assert_eq!(drawn(&host), "link");
    click_with(&host, "link-1-2", false).await;
    assert_eq!(drawn(&host), "link cut");
    click_with(&host, "link-1-2", false).await;
    assert_eq!(drawn(&host), "link");
    click_with(&host, "link-1-2", true).await;
    assert_eq!(drawn(&host), "link oneway");
    assert!(host.query_selector("[data-testid=\"oneway-1-2\"]").unwrap().is_some(), "n1→n2 is the cut direction");
    host.remove();
}

#[wasm_bindgen_test]
async fn picked_nodes_are_partitioned_from_the_rest() {
    let (host, _handle) = mount(5);
    click_with(&host, "node-1", true).await;
    click(&host, "pick-2").await;
    assert_eq!(text(&host, "partition-apply"), "Partition {n1, n2} | rest");
    click(&host, "partition-apply").await;
    assert_eq!(text(&host, "partition-apply"), "Partition: pick nodes");
    for (a, b, cut) in [(1, 2, false), (1, 3, true), (2, 5, true), (3, 4, false)] {
        let class = class_of(&host, &format!("g:has(> [data-testid=\"link-{a}-{b}\"]) > line.link"));
        assert_eq!(class == "link cut", cut, "link {a}-{b}: {class}");
    }
    // Picking every node is no partition: refused, and the cuts stay.
    for n in 1..=5 {
        click(&host, &format!("pick-{n}")).await;
    }
    click(&host, "partition-apply").await;
    assert!(text(&host, "command-error").contains("not all"), "{}", text(&host, "command-error"));
    assert_eq!(class_of(&host, "g:has(> [data-testid=\"link-1-3\"]) > line.link"), "link cut");
    host.remove();
}

/// Isolate and rejoin are one button, like pause / resume and crash / restart.
#[wasm_bindgen_test]
async fn isolate_toggles_to_rejoin_and_back() {
    let (host, _handle) = mount(3);
    let link = |a: u64, b: u64| class_of(&host, &format!("g:has(> [data-testid=\"link-{a}-{b}\"]) > line.link"));
    click(&host, "isolate-2").await;
    assert_eq!(text(&host, "isolate-2"), "rejoin");
    assert_eq!(text(&host, "isolate-1"), "isolate", "n1 still reaches n3");
    assert_eq!((link(1, 2), link(2, 3), link(1, 3)), ("link cut".into(), "link cut".into(), "link".into()));
    click(&host, "isolate-2").await;
    assert_eq!(text(&host, "isolate-2"), "isolate");
    assert_eq!((link(1, 2), link(2, 3)), ("link".into(), "link".into()));
    host.remove();
}

#[wasm_bindgen_test]
async fn the_txn_builder_sends_a_transaction_and_refuses_a_bad_one() {
    let (host, _handle) = mount(3);
    for _ in 0..3 {
        click(&host, "advance-1s").await;
    }
    // Only a put has a value: the example's else branch is a get.
    let value_hidden = |id: &str| class_of(&host, &format!("span:has(> [data-testid=\"{id}\"])")) == "hidden";
    assert!(!value_hidden("txn-then-value") && value_hidden("txn-else-value"));
    click(&host, "txn-button").await;
    assert!(text(&host, "write-status").starts_with("op1 sent to n"), "{}", text(&host, "write-status"));
    click(&host, "advance-1s").await;
    assert_eq!(
        text(&host, "op-outcome-1"),
        "ok, rev 1 · else ran: get x → (absent)",
        "x is absent: the else branch (a get) ran"
    );
    choose(&host, "txn-target", "version").await;
    set_input(&host, "txn-operand", "one").await;
    click(&host, "txn-button").await;
    assert!(text(&host, "write-status").contains("whole number"), "{}", text(&host, "write-status"));
    assert!(host.query_selector("[data-testid=\"op-outcome-2\"]").unwrap().is_none(), "nothing was sent");
    host.remove();
}

#[wasm_bindgen_test]
async fn the_inspector_lists_the_raft_log_with_commit_and_applied_marks() {
    let (host, _handle) = mount(3);
    for _ in 0..3 {
        click(&host, "advance-1s").await;
    }
    click(&host, "write-button").await;
    click(&host, "advance-1s").await;
    click(&host, "node-row-1").await;
    let log = text(&host, "inspector-log");
    assert!(log.contains("no-op"), "{log}");
    assert!(log.contains("put x=1 (op1)"), "{log}");
    assert!(log.contains("◀ commit") && log.contains("◀ applied"), "{log}");
    host.remove();
}

#[wasm_bindgen_test]
async fn the_space_time_diagram_draws_messages_terms_and_the_stale_window() {
    let tour = leaselab::scenario::builtin("lease-based-two-leaders").unwrap();
    let (host, _handle) =
        mount_with(StartOptions { seed: tour.seed, config: tour.config, autoplay: false, ..StartOptions::default() });
    for _ in 0..3 {
        click(&host, "advance-1s").await;
    }
    let summary = text(&host, "spacetime-summary");
    assert!(summary.contains("1 leader term") && summary.contains("no stale-read window in view"), "{summary}");
    let paths = host.query_selector_all("[data-testid=\"spacetime\"] path").unwrap().length();
    assert!(paths >= 5, "message paths drawn: {paths}");
    let leader = text(&host, "leader-summary").trim_start_matches("leader n").parse::<u64>().unwrap();
    click(&host, &format!("isolate-{leader}")).await;
    for _ in 0..30 {
        click(&host, "advance-100ms").await;
    }
    let summary = text(&host, "spacetime-summary");
    assert!(summary.contains("1 stale-read window"), "{summary}");
    assert!(host.query_selector("[data-testid=\"stale-window-0\"]").unwrap().is_some());
    let dropped = by_test_id(&host, "spacetime-dropped").get_attribute("d").unwrap_or_default();
    assert!(!dropped.is_empty(), "messages to and from the isolated leader are drawn as drops");
    // ...and not logged: three seconds of heartbeats dropped on the cut links would otherwise
    // fill the event log and push out the isolation and the election it caused.
    let log = text(&host, "event-log");
    assert!(!log.contains(" drop "), "{log}");
    assert!(log.contains(&format!("isolate n{leader}")) && log.contains(" is Leader in term 2"), "{log}");
    host.remove();
}

#[wasm_bindgen_test]
async fn a_prediction_is_answered_before_the_reveal_and_checked_after() {
    let (host, _handle) = mount(3);
    choose(&host, "tour-select", "healthy-lease-read").await;
    click(&host, "tour-start").await;
    click(&host, "tour-next").await;
    click(&host, "tour-next").await;
    // Step 3 asks which path its read takes: answer "lease read" (choice 0), then reveal.
    assert_eq!(text(&host, "predict-choice-0"), "lease read");
    click(&host, "predict-choice-0").await;
    assert!(class_of(&host, "[data-testid=\"predict-choice-0\"]").contains("chosen"));
    click(&host, "tour-next").await;
    assert_eq!(text(&host, "predict-result"), "✓ You predicted lease read: right.");
    // Step 4 asks again: a wrong answer is called wrong, with what happened.
    click(&host, "predict-choice-0").await;
    click(&host, "tour-next").await;
    click(&host, "advance-1s").await;
    assert_eq!(text(&host, "predict-result"), "✗ You predicted lease read; it was forwarded.");
    // Without a prediction the step still shows the answer (self-study: look, then think).
    click(&host, "tour-back").await;
    click(&host, "tour-next").await;
    click(&host, "advance-1s").await;
    assert_eq!(text(&host, "predict-result"), "Answer: forwarded.");
    host.remove();
}

/// Selecting a stale read that scrolled out of the diagram moves the diagram to its moment,
/// where the stale-read window that allowed it is shaded.
#[wasm_bindgen_test]
async fn selecting_an_old_stale_read_shows_its_moment_and_window() {
    let (host, _handle) = mount(3);
    choose(&host, "tour-select", "clock-drift-stale").await;
    click(&host, "tour-start").await;
    for _ in 0..17 {
        click(&host, "tour-next").await;
    }
    let stale = host.query_selector_all("[data-testid^=\"op-verdict-\"]").unwrap();
    let stale_id = (0..stale.length())
        .filter_map(|i| stale.item(i))
        .find(|n| n.text_content().as_deref() == Some("STALE"))
        .and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(n).ok())
        .and_then(|e| e.get_attribute("data-testid"))
        .map(|t| t.trim_start_matches("op-verdict-").to_string())
        .expect("the tour produces a stale read");
    assert!(host.query_selector("[data-testid=\"spacetime-focus\"]").unwrap().is_none());
    click(&host, &format!("op-{stale_id}")).await;
    let focus = text(&host, "spacetime-focus");
    assert!(focus.starts_with("Showing up to") && focus.contains("around the selected operation"), "{focus}");
    let summary = text(&host, "spacetime-summary");
    assert!(summary.contains("1 stale-read window"), "{summary}");
    let selected = by_test_id(&host, "spacetime-selected-op").get_attribute("d").unwrap_or_default();
    assert!(!selected.is_empty(), "the selected read's bar is drawn");
    // The button stays the same element while the run goes on (a rebuilt one loses clicks).
    let live = by_test_id(&host, "spacetime-live");
    click(&host, "advance-100ms").await;
    assert!(live.is_connected(), "the back-to-the-present button survives the run moving on");
    assert!(text(&host, "spacetime-focus").contains("the present is"), "{}", text(&host, "spacetime-focus"));
    click(&host, "spacetime-live").await;
    assert!(host.query_selector("[data-testid=\"spacetime-focus\"]").unwrap().is_none());
    // Once the window has scrolled past it, the summary points to where the stale read is.
    for _ in 0..10 {
        click(&host, "advance-1s").await;
    }
    let summary = text(&host, "spacetime-summary");
    assert!(
        summary.ends_with("no stale-read window in view (“show it” under Operations draws the last stale read's)"),
        "{summary}"
    );
    assert!(class_of(&host, "[data-testid=\"checker-summary\"]").contains("bad"), "a stale count is not green");
    // "show it" selects the stale read even when its row has left the log.
    click(&host, "stale-show").await;
    let focus = text(&host, "spacetime-focus");
    assert!(focus.starts_with("Showing up to") && focus.contains("around the selected operation"), "{focus}");
    assert!(text(&host, "spacetime-summary").contains("1 stale-read window"), "{}", text(&host, "spacetime-summary"));
    host.remove();
}

#[wasm_bindgen_test]
async fn a_crashed_node_is_shown_and_restarts() {
    let (host, _handle) = mount(3);
    click(&host, "advance-1s").await;
    click(&host, "crash-2").await;
    assert_eq!(text(&host, "node-role-2"), "crashed");
    click(&host, "crash-2").await;
    assert_ne!(text(&host, "node-role-2"), "crashed");
    host.remove();
}

#[wasm_bindgen_test]
async fn a_bad_seed_is_refused_next_to_the_input_and_the_run_survives() {
    let (host, _handle) = mount(3);
    click(&host, "advance-1s").await;
    let input: web_sys::HtmlInputElement = by_test_id(&host, "seed-input").unchecked_into();
    input.set_value("not-a-seed");
    input.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    click(&host, "reset-button").await;
    assert!(text(&host, "seed-error").contains("not a seed"));
    assert_eq!(text(&host, "sim-time"), "1.000 s", "the current run is kept");
    host.remove();
}

/// Enter in a text box of the controls applies them, like a form: here a new seed restarts
/// the run; Enter on a bad seed is refused like the Reset button's.
#[wasm_bindgen_test]
async fn enter_in_the_seed_box_resets_with_that_seed() {
    let (host, _handle) = mount(3);
    click(&host, "advance-1s").await;
    let input: web_sys::HtmlInputElement = by_test_id(&host, "seed-input").unchecked_into();
    let type_and_enter = |value: &str| {
        input.set_value(value);
        input.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
        let init = web_sys::KeyboardEventInit::new();
        init.set_key("Enter");
        init.set_bubbles(true);
        input
            .dispatch_event(&web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap())
            .unwrap();
    };
    type_and_enter("oops");
    leptos::task::tick().await;
    assert!(text(&host, "seed-error").contains("not a seed"));
    assert_eq!(text(&host, "sim-time"), "1.000 s", "the current run is kept");
    type_and_enter("77");
    leptos::task::tick().await;
    assert_eq!(text(&host, "seed-error"), "");
    assert_eq!(text(&host, "sim-time"), "0.000 s", "a new run started");
    host.remove();
}

#[wasm_bindgen_test]
async fn a_read_at_the_leader_shows_the_lease_read_badge_and_a_checked_verdict() {
    let (host, _handle) = mount(3);
    for _ in 0..4 {
        click(&host, "advance-1s").await;
    }
    click(&host, "write-button").await;
    click(&host, "advance-100ms").await;
    click(&host, "read-button").await;
    assert_eq!(text(&host, "op-path-2"), "lease read");
    assert!(text(&host, "op-outcome-2").starts_with("1 (mod rev 2"), "{}", text(&host, "op-outcome-2"));
    // Answered at once, judged at once: no need for time to move on.
    assert_eq!(text(&host, "op-verdict-2"), "linearizable");
    assert!(text(&host, "checker-summary").contains("0 stale"));
    assert!(!class_of(&host, "[data-testid=\"checker-summary\"]").contains("bad"), "no stale read: green");
    // Selecting the read shows its trace.
    click(&host, "op-2").await;
    assert!(text(&host, "read-trace").contains("leader lease valid on the local clock"));
    // A log read goes through the raft log: it waits for its entry to apply.
    click(&host, "log-read-button").await;
    assert_eq!(text(&host, "op-outcome-3"), "pending…");
    click(&host, "advance-100ms").await;
    assert_eq!(text(&host, "op-path-3"), "log read");
    assert_eq!(text(&host, "op-verdict-3"), "linearizable");
    host.remove();
}

/// The inspector's body follows the run, but its close button stays the same element (a button
/// rebuilt on every table refresh could swallow a click), and closing works.
#[wasm_bindgen_test]
async fn the_inspector_close_button_survives_refreshes_and_closes_it() {
    let (host, _handle) = mount(3);
    click(&host, "advance-1s").await;
    click(&host, "node-row-1").await;
    let close = by_test_id(&host, "inspector-close");
    let before = text(&host, "inspector-raft");
    for _ in 0..3 {
        click(&host, "advance-1s").await;
    }
    assert_ne!(text(&host, "inspector-raft"), before, "the body follows the run");
    assert!(close.is_connected(), "the close button was not rebuilt");
    click(&host, "inspector-close").await;
    assert!(host.query_selector("[data-testid=\"inspector\"]").unwrap().is_none());
    host.remove();
}

#[wasm_bindgen_test]
async fn key_leases_are_granted_attached_and_shown_in_the_inspector() {
    let (host, _handle) = mount(3);
    for _ in 0..4 {
        click(&host, "advance-1s").await;
    }
    click(&host, "key-lease-grant").await;
    click(&host, "advance-100ms").await;
    click(&host, "put-with-key-lease").await;
    click(&host, "advance-100ms").await;
    click(&host, "node-row-1").await;
    let leases = text(&host, "inspector-key-leases");
    assert!(leases.contains("5.0 s"), "{leases}");
    let keys = text(&host, "inspector-keys");
    assert!(keys.contains('x'), "{keys}");
    // The primary says what its promotion did to the expiries (none spread below 1,000).
    let promotion = text(&host, "inspector-promotion");
    assert!(promotion.contains("none spread (only from 1000 key leases on)"), "{promotion}");
    // Bad input is explained and loses nothing.
    let ttl: web_sys::HtmlInputElement = by_test_id(&host, "key-lease-ttl").unchecked_into();
    ttl.set_value("soon");
    ttl.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    let id: web_sys::HtmlInputElement = by_test_id(&host, "key-lease-id").unchecked_into();
    id.set_value("2");
    id.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    click(&host, "key-lease-grant").await;
    assert!(text(&host, "write-status").contains("not a TTL"));
    assert!(text(&host, "inspector-key-leases").contains("5.0 s"), "the existing key lease is still there");
    // A blank id asks the node for one, as etcd's server assigns it; TTLs are whole seconds.
    set_input(&host, "key-lease-id", "").await;
    set_input(&host, "key-lease-ttl", "3").await;
    click(&host, "key-lease-grant").await;
    click(&host, "advance-100ms").await;
    let leases = text(&host, "inspector-key-leases");
    assert!(leases.contains("3.0 s") && leases.contains("5.0 s"), "{leases}");
    let log = text(&host, "op-log");
    let id: u64 = log
        .split("grant key lease ")
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .max()
        .expect("a granted key lease id in the log");
    assert!(id >= 1 << 48, "an id from a node's generator (node id in the top 16 bits): {id}");
    assert!(log.contains(&format!("grant key lease {id} (ttl 3 s)")), "{log}");
    host.remove();
}

const SCENARIO_GOLDEN: &str = include_str!("../../tests/golden/scenario_hashes.txt");

/// Every built-in tour meets its expectations in the browser too, with the native trace hash.
#[wasm_bindgen_test]
fn every_builtin_tour_runs_in_the_browser_like_natively() {
    use leaselab::scenario::{builtin, run, BUILTIN};
    for (name, _) in BUILTIN {
        let (report, _) = run(&builtin(name).unwrap());
        assert!(report.passed(), "{name}: {:?}", report.expectations);
        let pinned = SCENARIO_GOLDEN
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("{name} not pinned"));
        assert_eq!(format!("{:016x}", report.trace_hash), pinned, "{name}");
    }
}

#[wasm_bindgen_test]
async fn a_guided_tour_steps_forward_and_back_and_checks_its_expectations() {
    let (host, _handle) = mount(3);
    // The menu names each tour by what it is about.
    let picked = || {
        let option = host.query_selector("[data-testid=\"tour-select\"] option:checked").unwrap();
        option.and_then(|o| o.text_content()).unwrap_or_default()
    };
    assert_eq!(picked(), "A healthy cluster: lease reads, forwarded reads, serializable reads");
    choose(&host, "tour-select", "clock-drift-stale").await;
    assert_eq!(picked(), "A slow clock: the renew-at-ack policy serves a stale read");
    click(&host, "tour-start").await;
    assert_eq!(text(&host, "tour-progress"), "step 0 of 16");
    click(&host, "tour-next").await;
    click(&host, "tour-next").await;
    assert_eq!(text(&host, "tour-progress"), "step 2 of 16");
    let after_two = text(&host, "sim-time");
    click(&host, "tour-next").await;
    click(&host, "tour-back").await;
    assert_eq!(text(&host, "tour-progress"), "step 2 of 16");
    assert_eq!(text(&host, "sim-time"), after_two, "back replays to exactly the earlier time");
    // The read step asks for a prediction before the reveal.
    for _ in 0..2 {
        click(&host, "tour-next").await;
    }
    assert!(text(&host, "tour-predict").contains("old leader"));
    // Scrubbed back, Next goes on from the tour's own moment, not from the one on show.
    let before_scrub = text(&host, "sim-time");
    set_input(&host, "timeline-scrub", "1000").await;
    assert_eq!(text(&host, "sim-time"), "1.000 s");
    click(&host, "tour-next").await;
    assert_eq!(text(&host, "tour-progress"), "step 5 of 16");
    let seconds = |t: String| t.trim_end_matches(" s").parse::<f64>().unwrap();
    assert!(
        seconds(text(&host, "sim-time")) >= seconds(before_scrub.clone()),
        "{before_scrub} → {}",
        text(&host, "sim-time")
    );
    for _ in 0..12 {
        click(&host, "tour-next").await;
    }
    let results = text(&host, "tour-results");
    assert!(results.contains('✓') && !results.contains('✗'), "{results}");
    let summary = text(&host, "checker-summary");
    assert!(summary.contains(" stale") && !summary.contains(", 0 stale"), "{summary}");
    host.remove();
}

#[wasm_bindgen_test]
async fn keyboard_shortcuts_drive_time_and_open_the_help() {
    let (host, _handle) = mount(3);
    let press = |key: &str| {
        let init = web_sys::KeyboardEventInit::new();
        init.set_key(key);
        let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
        web_sys::window().unwrap().dispatch_event(&ev).unwrap();
    };
    press("n");
    leptos::task::tick().await;
    assert_eq!(text(&host, "sim-time"), "0.100 s");
    press("?");
    leptos::task::tick().await;
    assert!(text(&host, "help-overlay").contains("lease read"));
    // The help is modal: time does not move behind it.
    press("n");
    leptos::task::tick().await;
    assert_eq!(text(&host, "sim-time"), "0.100 s", "n is ignored while the help is open");
    press("Escape");
    leptos::task::tick().await;
    assert!(host.query_selector("[data-testid=\"help-overlay\"]").unwrap().is_none());
    // After a click the focus is on a button: shortcuts still work (dispatched on the button,
    // as a real key press on a focused button is).
    click(&host, "advance-100ms").await;
    let button = by_test_id(&host, "advance-100ms");
    button.focus().unwrap();
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("n");
    init.set_bubbles(true);
    let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    button.dispatch_event(&ev).unwrap();
    leptos::task::tick().await;
    assert_eq!(text(&host, "sim-time"), "0.300 s", "the button's click, then the n key");
    // A key typed into a text box is text, not a shortcut.
    let seed = by_test_id(&host, "seed-input");
    let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    seed.dispatch_event(&ev).unwrap();
    leptos::task::tick().await;
    assert_eq!(text(&host, "sim-time"), "0.300 s");
    // Space plays and pauses; on a control focused from the keyboard it is that control's.
    let space = web_sys::KeyboardEventInit::new();
    space.set_key(" ");
    space.set_bubbles(true);
    space.set_cancelable(true);
    let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &space).unwrap();
    web_sys::window().unwrap().dispatch_event(&ev).unwrap();
    leptos::task::tick().await;
    assert_eq!(text(&host, "play-toggle"), "❚❚ Pause");
    let checkbox = host.query_selector("[data-testid^=\"pick-\"]").unwrap().unwrap().unchecked_into::<HtmlElement>();
    checkbox.focus().unwrap();
    assert!(checkbox.matches(":focus-visible").unwrap(), "focused as by the keyboard");
    let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &space).unwrap();
    checkbox.dispatch_event(&ev).unwrap();
    leptos::task::tick().await;
    assert!(!ev.default_prevented(), "the checkbox gets its space");
    assert_eq!(text(&host, "play-toggle"), "❚❚ Pause", "still playing");
    host.remove();
}

/// A load the page cannot simulate in its frame time runs slower and says so beside the speed;
/// once it keeps up again the note goes.
#[wasm_bindgen_test]
fn the_page_says_when_the_simulation_cannot_keep_up() {
    use leaselab::Command;
    let lab = leaselab_www::lab::Lab::new(1, ClusterConfig { node_count: 7, ..ClusterConfig::default() });
    lab.command(Command::SetWorkload { ops_per_sec: 500 }).unwrap();
    // Each frame asks for a simulated second but has time for one slice of events only.
    for _ in 0..30 {
        assert!(lab.advance_frame_us(1_000_000, &|| false));
    }
    let behind = lab.playback.behind.get_untracked().expect("fell behind");
    assert!(behind.starts_with('≈') && behind.ends_with('×'), "{behind}");
    let speed: f64 = behind.trim_start_matches('≈').trim_end_matches('×').parse().unwrap();
    assert!(speed > 0.0, "{behind}");
    assert!(speed < 0.95 * leaselab_www::model::SPEEDS[leaselab_www::model::DEFAULT_SPEED_INDEX].0, "{behind}");
    // Short frames with time to spare keep up.
    for _ in 0..30 {
        assert!(lab.advance_frame_us(1_000, &|| true));
    }
    assert_eq!(lab.playback.behind.get_untracked(), None);
    // A new speed starts a new measurement: the old one's figure goes at once.
    for _ in 0..30 {
        assert!(lab.advance_frame_us(1_000_000, &|| false));
    }
    assert!(lab.playback.behind.get_untracked().is_some());
    lab.set_speed(leaselab_www::model::SPEEDS.len() - 1);
    assert_eq!(lab.playback.behind.get_untracked(), None);
}

/// A long shared run is replayed a slice per frame with its progress shown (it froze the page
/// for as long as it took), then opens as the same run; Reset cancels a replay under way.
#[wasm_bindgen_test]
fn a_long_shared_run_replays_a_slice_per_frame() {
    use leaselab::Command;
    use leaselab_www::lab::Lab;
    let source = Lab::new(3, ClusterConfig { node_count: 5, ..ClusterConfig::default() });
    source.command(Command::SetWorkload { ops_per_sec: 500 }).unwrap();
    for _ in 0..60 {
        source.advance_us(1_000_000);
    }
    let fragment = source.share_fragment().unwrap();
    let want = source.snap.get_untracked().trace_hash;
    let lab = Lab::new(1, ClusterConfig::default());
    lab.open_fragment(&fragment).unwrap();
    let note = lab.timeline_note.get_untracked().unwrap_or_default();
    assert!(note.starts_with("Replaying: ") && note.ends_with(" of 60.000 s…"), "{note}");
    let mut frames = 1;
    while lab.replay_frame(&|| false) {
        frames += 1;
        assert!(frames < 100_000, "the replay never ends");
    }
    assert!(frames > 10, "replayed over {frames} frames");
    let note = lab.timeline_note.get_untracked().unwrap_or_default();
    assert!(note.starts_with("Opened the shared run"), "{note}");
    assert_eq!(lab.snap.get_untracked().trace_hash, want, "the same run");
    // Reset during a replay cancels it: the new run stays.
    lab.open_fragment(&fragment).unwrap();
    lab.reset(9, ClusterConfig::default()).unwrap();
    assert!(!lab.replay_frame(&|| false), "no replay under way");
    assert_eq!(lab.snap.get_untracked().seed, 9);
    // So does going on with the present run (what was done to it is not thrown away)...
    lab.open_fragment(&fragment).unwrap();
    lab.advance_us(100_000);
    assert!(!lab.replay_frame(&|| false));
    assert_eq!(lab.timeline_note.get_untracked().as_deref(), Some("Replay cancelled"));
    assert_eq!(lab.snap.get_untracked().seed, 9);
    // ...and opening another run, even one that fails (its error is what the page says).
    lab.open_fragment(&fragment).unwrap();
    assert!(lab.import_json("{}").unwrap_err().starts_with("not a Lease Lab run file"));
    assert!(!lab.replay_frame(&|| false), "the failed import cancelled the replay");
    // Sharing or exporting during a replay finishes it first: what goes out is the run opened.
    lab.open_fragment(&fragment).unwrap();
    assert_eq!(lab.share_fragment().unwrap(), fragment);
    assert_eq!(lab.snap.get_untracked().trace_hash, want);
    lab.open_fragment(&fragment).unwrap();
    assert!(lab.export_json().unwrap().contains(&format!("{want:016x}")), "the export names the opened run's hash");
    assert!(!lab.replay_frame(&|| false), "nothing left to replay");
}

/// Import takes a history from outside too: the model checker judges it and the page shows the
/// verdict, the counterexample and the operations it names; the current run is left alone.
#[wasm_bindgen_test]
async fn an_imported_history_is_judged_and_its_counterexample_shown() {
    use leaselab_www::lab::Lab;
    let lab = Lab::new(1, ClusterConfig::default());
    lab.advance_us(2_000_000);
    let hash = lab.snap.get_untracked().trace_hash;
    let stale = "{\"process\": 0, \"type\": \"invoke\", \"f\": \"write\", \"value\": 1}\n\
                 {\"process\": 0, \"type\": \"ok\", \"f\": \"write\", \"value\": 1}\n\
                 {\"process\": 0, \"type\": \"invoke\", \"f\": \"write\", \"value\": 2}\n\
                 {\"process\": 0, \"type\": \"ok\", \"f\": \"write\", \"value\": 2}\n\
                 {\"process\": 1, \"type\": \"invoke\", \"f\": \"read\"}\n\
                 {\"process\": 1, \"type\": \"ok\", \"f\": \"read\", \"value\": 1}";
    lab.import_file(stale).unwrap();
    let judged = lab.judged_history.get_untracked().expect("judged");
    assert_eq!(judged.headline(), "not linearizable: 3 operations on 1 key");
    assert_eq!(lab.snap.get_untracked().trace_hash, hash, "the run is untouched");
    assert!(lab.timeline_note.get_untracked().unwrap_or_default().contains("not linearizable"));
    // A run file still opens as a run, and a file that is neither is refused as before.
    assert!(lab.import_file("{}").unwrap_err().starts_with("not a Lease Lab run file"));

    // On the page: the panel with the verdict, the counterexample and the named read.
    let doc = document();
    let host: HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&host).unwrap();
    let page_lab = Lab::new(1, ClusterConfig::default());
    let _handle = leptos::mount::mount_to(host.clone(), move || {
        leptos::prelude::provide_context(page_lab);
        view! { <leaselab_www::panels::TimelinePanel /> }
    });
    page_lab.import_file(stale).unwrap();
    leptos::task::tick().await;
    assert_eq!(text(&host, "judged-verdict"), "not linearizable: 3 operations on 1 key");
    assert!(text(&host, "judged-detail").contains("no order can place"), "{}", text(&host, "judged-detail"));
    let panel = text(&host, "judged-history");
    assert!(panel.contains("✗ #") && panel.contains("read → 1"), "{panel}");
    click(&host, "judged-close").await;
    assert!(host.query_selector("[data-testid=\"judged-history\"]").unwrap().is_none());
    host.remove();
}

/// The Watches panel opens a watch at a chosen node, shows what it receives and how far its
/// node is behind, asks it for progress, cancels it, and explains bad input without losing it.
#[wasm_bindgen_test]
async fn a_watch_opened_in_the_panel_shows_its_events_progress_and_cancel() {
    let (host, _handle) = mount(3);
    for _ in 0..4 {
        click(&host, "advance-1s").await;
    }
    choose(&host, "watch-node", "2").await;
    set_input(&host, "watch-start", "soon").await;
    click(&host, "watch-button").await;
    assert!(text(&host, "watch-status").contains("not a revision"), "{}", text(&host, "watch-status"));
    assert!(!text(&host, "watch-list").contains("w1"), "nothing opened by bad input");
    set_input(&host, "watch-start", "").await;
    click(&host, "watch-progress-notify").await;
    click(&host, "watch-button").await;
    assert_eq!(text(&host, "watch-status"), "watch w1 opened at n2");
    click(&host, "write-button").await;
    click(&host, "advance-1s").await;
    let row = text(&host, "watch-row-1");
    assert!(row.starts_with("w1n2x1"), "one event on x at n2: {row}");
    let detail = text(&host, "watch-detail-1");
    assert!(detail.contains("put x=1") && detail.contains("up to date"), "{detail}");
    click(&host, "watch-progress-1").await;
    assert!(text(&host, "event-log").contains("progress: n2 is at revision 2"), "{}", text(&host, "event-log"));
    click(&host, "node-row-2").await;
    assert!(text(&host, "inspector-watches").contains("w1"));
    click(&host, "watch-cancel-1").await;
    assert!(class_of(&host, "[data-testid=\"watch-row-1\"]").contains("watch-ended"));
    assert!(text(&host, "watch-detail-1").contains("cancelled by the client"));
    assert!(!text(&host, "inspector-watches").contains("w1"), "no longer served by n2");
    host.remove();
}

/// A range read from the client panel takes a read path like a get, and its answer and
/// verdict are shown; a bad limit is explained and sends nothing.
#[wasm_bindgen_test]
async fn a_range_read_shows_its_path_answer_and_verdict() {
    let (host, _handle) = mount(3);
    for _ in 0..4 {
        click(&host, "advance-1s").await;
    }
    click(&host, "write-button").await;
    click(&host, "advance-100ms").await;
    set_input(&host, "range-limit", "few").await;
    click(&host, "range-button").await;
    assert!(text(&host, "write-status").contains("not a limit"), "{}", text(&host, "write-status"));
    set_input(&host, "range-limit", "").await;
    click(&host, "range-button").await;
    click(&host, "advance-100ms").await;
    let log = text(&host, "op-log");
    assert!(log.contains("range [x, y)"), "{log}");
    assert!(log.contains("1 of 1 key: x=1"), "{log}");
    let row = host.query_selector("[data-testid=\"op-log\"] tbody tr").unwrap().unwrap();
    let row = row.text_content().unwrap_or_default();
    assert!(row.contains("lease read") && row.contains("linearizable"), "{row}");
    host.remove();
}

/// Under LeaseGuard (chosen in the page's policy list) a leader's read is served on the lease
/// its log carries, and its trace and the inspector say so.
#[wasm_bindgen_test]
async fn leaseguard_serves_a_read_on_the_lease_in_the_log() {
    let mut config = ClusterConfig { node_count: 3, ..ClusterConfig::default() };
    config.leader_lease.policy = leaselab::LeaderLeasePolicy::LeaseGuard;
    let (host, _handle) = mount_with(StartOptions { seed: 1, config, autoplay: false, ..StartOptions::default() });
    let select: web_sys::HtmlSelectElement = by_test_id(&host, "policy-select").unchecked_into();
    assert_eq!(select.value(), "LeaseGuard", "the policy list offers it");
    for _ in 0..4 {
        click(&host, "advance-1s").await;
    }
    click(&host, "write-button").await;
    click(&host, "advance-100ms").await;
    click(&host, "read-button").await;
    assert_eq!(text(&host, "op-path-2"), "lease read");
    assert_eq!(text(&host, "op-verdict-2"), "linearizable");
    click(&host, "op-2").await;
    assert!(
        text(&host, "read-trace").contains("LeaseGuard: the lease of committed entry"),
        "{}",
        text(&host, "read-trace")
    );
    click(&host, "node-row-1").await;
    let lease = text(&host, "inspector-leader-lease");
    assert!(lease.contains("LeaseGuard: the lease travels in the log"), "{lease}");
    // Each stamped entry shows its lease in the raft log, the newest still running.
    let log = text(&host, "inspector-log");
    assert!(log.contains("s left"), "{log}");
    host.remove();
}

/// LeaseGuard's failover tour in the page: after the new leader's election its inspector
/// names the limbo key and greys it in the MVCC table.
#[wasm_bindgen_test]
async fn the_leaseguard_tour_shows_the_limbo_key_in_the_inspector() {
    let (host, _handle) = mount(3);
    choose(&host, "tour-select", "leaseguard-failover").await;
    click(&host, "tour-start").await;
    for _ in 0..5 {
        click(&host, "tour-next").await;
    }
    assert!(text(&host, "op-log").contains("inherited lease"), "{}", text(&host, "op-log"));
    click(&host, "node-row-2").await;
    let limbo = text(&host, "inspector-limbo");
    assert!(limbo.ends_with(": x"), "{limbo}");
    assert!(class_of(&host, "[data-testid=\"key-x\"]").contains("limbo"));
    assert!(!class_of(&host, "[data-testid=\"key-y\"]").contains("limbo"));
    // The diagram draws the leases of the entries the leaders committed.
    let bars = host.query_selector_all(".st-entry-lease").unwrap().length();
    assert!(bars >= 2, "{bars} entry lease bars");
    host.remove();
}

/// Waits for the next animation frame (the page runs a comparison a slice per frame).
async fn next_frame() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().unwrap().request_animation_frame(&resolve).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// The failover tour's last step compares the run under every policy: a card per policy with
/// its cluster at the end, a row per policy, and a curve per policy on the chart.
#[wasm_bindgen_test]
async fn the_failover_tour_compares_every_policy_in_a_table_and_a_chart() {
    let (host, _handle) = mount(3);
    choose(&host, "tour-select", "failover-compare").await;
    click(&host, "tour-start").await;
    for _ in 0..4 {
        click(&host, "tour-next").await;
    }
    assert!(
        text(&host, "compare-status").starts_with("Comparing seed 4, the first "),
        "{}",
        text(&host, "compare-status")
    );
    let mut frames = 0;
    while host.query_selector("[data-testid=\"compare-table\"]").unwrap().is_none() {
        next_frame().await;
        frames += 1;
        assert!(frames < 3_000, "the comparison never ends: {}", text(&host, "compare-status"));
    }
    let n = leaselab::LeaderLeasePolicy::ALL.len();
    for i in 0..n {
        let row = text(&host, &format!("compare-row-{i}"));
        assert!(row.starts_with(leaselab::LeaderLeasePolicy::ALL[i].label()), "{row}");
        assert!(row.ends_with('0'), "no stale read: {row}");
        let points = by_test_id(&host, &format!("compare-curve-{i}")).get_attribute("points").unwrap();
        assert_eq!(points.split_whitespace().count(), 101, "a point every 10 ms to 1 s");
        assert!(text(&host, &format!("compare-card-{i}")).contains("0 stale"));
    }
    assert!(text(&host, "compare-table").contains("inherited lease"));
    // A new run clears the comparison.
    click(&host, "tour-exit").await;
    click(&host, "reset-button").await;
    assert!(host.query_selector("[data-testid=\"compare-status\"]").unwrap().is_none());
    host.remove();
}

/// The comparison of a run on the page runs a slice per frame, and its run under the page's
/// own policy is the page's run (the same trace hash).
#[wasm_bindgen_test]
fn the_comparison_runs_a_slice_per_frame_and_holds_the_page_run() {
    use leaselab::Command;
    use leaselab_www::lab::Lab;
    let lab = Lab::new(5, ClusterConfig::default());
    lab.command(Command::SetWorkload { ops_per_sec: 200 }).unwrap();
    lab.advance_us(3_000_000);
    let leader = lab.snap.get_untracked().leader.unwrap();
    lab.command(Command::Crash { node: leader }).unwrap();
    lab.advance_us(3_000_000);
    lab.start_compare().unwrap();
    let mut frames = 0;
    while lab.compare.get_untracked().is_some_and(|c| c.2.is_empty()) {
        lab.compare_frame(&|| false);
        frames += 1;
        assert!(frames < 100_000);
    }
    assert!(frames > 5, "ran over {frames} frames");
    let (what, ran, runs) = lab.compare.get_untracked().unwrap();
    assert_eq!((what.as_str(), ran), ("seed 5, the first 6.000 s", runs.len()));
    let safe = runs.iter().find(|r| r.policy == "safe").unwrap();
    assert_eq!(safe.trace_hash, lab.snap.get_untracked().trace_hash, "the page's own run");
}

/// A node's *lead* button hands leadership to it; while the transfer is pending the leader's
/// lease is suspect (table, ring, inspector). The guard switch is applied at Reset.
#[wasm_bindgen_test]
async fn the_lead_button_transfers_leadership_with_a_suspect_lease_meanwhile() {
    let (host, _handle) = mount(3);
    for _ in 0..3 {
        click(&host, "advance-1s").await;
    }
    let leader = (1..=3).find(|n| text(&host, &format!("node-role-{n}")) == "leader").expect("a leader");
    let to = (1..=3).find(|n| *n != leader).unwrap();
    // Cut the link to the transferee so that the transfer stays pending (it must be caught up).
    let link = format!("link-{}-{}", leader.min(to), leader.max(to));
    click_with(&host, &link, false).await;
    click(&host, "write-button").await;
    click(&host, "advance-100ms").await;
    click(&host, &format!("transfer-{to}")).await;
    assert_eq!(text(&host, &format!("node-leader-lease-{leader}")), "suspect: transfer");
    assert!(class_of(&host, &format!("[data-testid=\"leader-lease-ring-{leader}\"]")).contains("suspect"));
    click(&host, &format!("node-row-{leader}")).await;
    assert!(text(&host, "inspector-leader-lease").contains(&format!("SUSPECT: leadership transfer to n{to} pending")));
    click_with(&host, &link, false).await;
    click(&host, "advance-1s").await;
    assert_eq!(text(&host, &format!("node-role-{to}")), "leader", "the transfer completed");
    // Refused: the node already leads.
    click(&host, &format!("transfer-{to}")).await;
    assert!(text(&host, "command-error").contains("already leads"), "{}", text(&host, "command-error"));
    // The guard switch reaches the next run.
    let boxed: web_sys::HtmlInputElement = by_test_id(&host, "setting-transfer-guard").unchecked_into();
    assert!(boxed.checked(), "on by default");
    boxed.set_checked(false);
    leave(&host, "setting-transfer-guard").await;
    click(&host, "reset-button").await;
    let boxed: web_sys::HtmlInputElement = by_test_id(&host, "setting-transfer-guard").unchecked_into();
    assert!(!boxed.checked(), "refilled from the new run's config");
    host.remove();
}

/// Projector mode (button or `p`) enlarges the page; single-key shortcuts can be turned off in
/// the help (WCAG 2.1.4), after which a key no longer plays the run but Esc still closes help.
#[wasm_bindgen_test]
async fn projector_mode_and_single_key_shortcuts_can_be_switched() {
    let (host, _handle) = mount(3);
    let app = || class_of(&host, "[data-testid=\"app\"]");
    click(&host, "projector-toggle").await;
    assert!(app().contains("projector"), "{}", app());
    assert_eq!(by_test_id(&host, "projector-toggle").get_attribute("aria-pressed").as_deref(), Some("true"));
    press("p").await;
    assert!(!app().contains("projector"), "p toggles it back");
    click(&host, "help-button").await;
    let boxed: web_sys::HtmlInputElement = by_test_id(&host, "help-single-keys").unchecked_into();
    assert!(boxed.checked());
    boxed.set_checked(false);
    leave(&host, "help-single-keys").await;
    press("Escape").await;
    assert!(host.query_selector("[data-testid=\"help-overlay\"]").unwrap().is_none(), "Esc still closes the help");
    let before = text(&host, "sim-time");
    press("n").await;
    press("p").await;
    assert_eq!(text(&host, "sim-time"), before, "n no longer advances time");
    assert!(!app().contains("projector"), "p no longer toggles projector mode");
    host.remove();
}

/// A key press on the page, as the keyboard sends it.
async fn press(key: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    web_sys::window().unwrap().dispatch_event(&ev).unwrap();
    leptos::task::tick().await;
}

/// Membership from the node table: *Add a node* starts n4 as a learner, its *promote* button
/// makes it a voter once it has caught up, a leader's *remove* button hands leadership over
/// and removes it; the summary line follows, and a refusal is shown.
#[wasm_bindgen_test]
async fn the_node_table_adds_promotes_and_removes_members() {
    let (host, _handle) = mount(3);
    for _ in 0..3 {
        click(&host, "advance-1s").await;
    }
    click(&host, "add-learner").await;
    click(&host, "advance-100ms").await;
    assert_eq!(text(&host, "member-4"), "learner");
    assert_eq!(text(&host, "membership-4"), "promote");
    assert!(text(&host, "membership-summary").ends_with("learners {n4}"), "{}", text(&host, "membership-summary"));
    click(&host, "membership-4").await;
    click(&host, "advance-100ms").await;
    assert_eq!(text(&host, "membership-summary"), "voters {n1, n2, n3, n4}");
    assert!(host.query_selector("[data-testid=\"member-4\"]").unwrap().is_none(), "a voter has no tag");
    let leader = (1..=4).find(|n| text(&host, &format!("node-role-{n}")) == "leader").expect("a leader");
    click(&host, &format!("membership-{leader}")).await;
    click(&host, "advance-1s").await;
    assert_eq!(text(&host, &format!("member-{leader}")), "removed");
    assert_ne!(text(&host, &format!("node-role-{leader}")), "leader", "leadership moved off it first");
    let summary = text(&host, "membership-summary");
    assert!(
        !summary.contains(&format!("n{leader}")) && summary.matches(", ").count() == 2,
        "three voters left: {summary}"
    );
    let removed: web_sys::HtmlButtonElement = by_test_id(&host, &format!("membership-{leader}")).unchecked_into();
    assert!(removed.disabled());
    host.remove();
}

/// *Measure the paths* starts measuring the support matrix (the panel says how far it got); a
/// measurement goes a cell per frame and ends in its table, its chart (a bar per path and size)
/// and each size's gain of lease reads over ReadIndex. Its clients read for 0.5 s here rather
/// than 10: this unoptimised build takes half a second a cell at full length, and a page that
/// busy for long starves the test runner's own requests.
#[wasm_bindgen_test]
async fn about_the_paths_measures_every_path_and_size() {
    let (host, _handle) = mount(3);
    click(&host, "paths-run").await;
    assert!(text(&host, "paths-status").starts_with("Measuring: 0 of 24 cells"), "{}", text(&host, "paths-status"));
    host.remove();
    use leaselab_www::lab::Lab;
    let lab = Lab::new(1, ClusterConfig::default());
    lab.start_matrix_with(1, leaselab::matrix::Measurement::with_duration(1, 500));
    let mut frames = 0;
    while lab.matrix.with_untracked(|m| m.as_ref().is_some_and(|(_, (done, total), _)| done < total)) {
        lab.matrix_frame();
        frames += 1;
        assert!(frames <= 24, "a cell a frame");
    }
    let cells = lab.matrix.get_untracked().unwrap().2;
    assert_eq!(
        cells.len(),
        leaselab::matrix::SIZES.len() * leaselab::matrix::PATHS.len() - 1,
        "no follower read on 1 node"
    );
    let html = leaselab_www::panels::paths::matrix_html(1, &cells);
    assert_eq!(html.matches("data-testid=\"paths-bar\"").count(), cells.len());
    assert!(html.contains("3 nodes: lease reads serve +") && html.contains("(claimed: 20–50 %)"), "{html}");
}

/// What matters is announced to a screen reader as it happens, without flooding it: the
/// leader (a polite live region), a refusal, each tour step, and a stale read (an alert).
#[wasm_bindgen_test]
async fn live_regions_announce_the_leader_refusals_and_tour_steps() {
    let (host, _handle) = mount(3);
    for _ in 0..3 {
        click(&host, "advance-1s").await;
    }
    let live = |id: &str| by_test_id(&host, id).get_attribute("aria-live");
    assert_eq!(live("leader-summary").as_deref(), Some("polite"));
    assert!(text(&host, "leader-summary").starts_with("leader n"));
    assert_eq!(live("command-error").as_deref(), Some("polite"));
    click(&host, "add-learner").await;
    click(&host, "add-learner").await;
    assert!(text(&host, "command-error").contains("not yet applied"), "{}", text(&host, "command-error"));
    click(&host, "tour-start").await;
    assert_eq!(live("tour-active").as_deref(), Some("polite"));
    host.remove();
}

/// Waits `ms` milliseconds of wall-clock time (the page's own timers: autoplay, announcements).
async fn wait_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// Presenter autoplay: the tour steps itself after the chosen pause with a visible countdown,
/// and *Hold* stops the countdown.
#[wasm_bindgen_test]
async fn a_tour_plays_itself_with_a_countdown_and_can_be_held() {
    let (host, _handle) = mount(3);
    click(&host, "tour-start").await;
    assert!(text(&host, "tour-progress").starts_with("step 0 of"));
    let pause: web_sys::HtmlSelectElement = by_test_id(&host, "tour-autoplay-pause").unchecked_into();
    pause.set_value("5");
    pause.dispatch_event(&web_sys::Event::new("change").unwrap()).unwrap();
    click(&host, "tour-autoplay").await;
    assert_eq!(by_test_id(&host, "tour-autoplay").get_attribute("aria-pressed").as_deref(), Some("true"));
    assert_eq!(text(&host, "tour-countdown"), "Next step in 5 s (space pauses)");
    wait_ms(2_200).await;
    let counting = text(&host, "tour-countdown");
    assert!(
        counting == "Next step in 3 s (space pauses)" || counting == "Next step in 2 s (space pauses)",
        "{counting}"
    );
    wait_ms(3_300).await;
    assert!(text(&host, "tour-progress").starts_with("step 1 of"), "{}", text(&host, "tour-progress"));
    click(&host, "tour-autoplay-hold").await;
    let held = text(&host, "tour-countdown");
    assert!(held.starts_with("Autoplay paused"), "{held}");
    wait_ms(1_200).await;
    assert_eq!(text(&host, "tour-countdown"), held, "a held countdown stands still");
    // Space resumes it (and holds it again), as the presenter's clicker would.
    press(" ").await;
    assert!(text(&host, "tour-countdown").starts_with("Next step in"), "{}", text(&host, "tour-countdown"));
    press(" ").await;
    assert!(text(&host, "tour-countdown").starts_with("Autoplay paused"));
    click(&host, "tour-autoplay").await;
    assert_eq!(text(&host, "tour-countdown"), "", "stopped");
    host.remove();
}

/// Answers are read out to screen readers in batches: a read's path reaches the polite live
/// region once the batch's two seconds are up.
#[wasm_bindgen_test]
async fn answered_operations_are_announced_in_batches() {
    let (host, _handle) = mount(3);
    for _ in 0..3 {
        click(&host, "advance-1s").await;
    }
    assert_eq!(by_test_id(&host, "announcer").get_attribute("aria-live").as_deref(), Some("polite"));
    click(&host, "read-button").await;
    click(&host, "read-button").await;
    click(&host, "advance-100ms").await;
    wait_ms(2_300).await;
    let said = text(&host, "announcer");
    assert!(said.contains("op1 read x at n") && said.contains("answered by lease read"), "{said}");
    host.remove();
}

/// Without shift or alt (a phone): the inspector cuts and heals each direction of a link.
#[wasm_bindgen_test]
async fn the_inspector_cuts_one_direction_of_a_link_by_a_tap() {
    let (host, _handle) = mount(3);
    click(&host, "node-row-1").await;
    let drawn = || class_of(&host, "g:has(> [data-testid=\"link-1-2\"]) > line.link");
    assert_eq!(by_test_id(&host, "direction-1-2").get_attribute("aria-pressed").as_deref(), Some("false"));
    click(&host, "direction-1-2").await;
    assert_eq!(drawn(), "link oneway");
    assert!(host.query_selector("[data-testid=\"oneway-1-2\"]").unwrap().is_some(), "n1→n2 is the cut direction");
    assert_eq!(by_test_id(&host, "direction-1-2").get_attribute("aria-pressed").as_deref(), Some("true"));
    assert_eq!(by_test_id(&host, "direction-2-1").get_attribute("aria-pressed").as_deref(), Some("false"));
    click(&host, "direction-2-1").await;
    assert_eq!(drawn(), "link cut", "both directions cut");
    click(&host, "direction-1-2").await;
    click(&host, "direction-2-1").await;
    assert_eq!(drawn(), "link");
    host.remove();
}

/// A panel scrolled out of view (or hidden) is refreshed once a second instead of ten times,
/// and at every refresh again once it is back in view. The space-time diagram waits the same
/// way, while the ring's marks for dropped messages, built from it, keep up.
#[wasm_bindgen_test]
fn panels_out_of_view_refresh_once_a_second() {
    use leaselab::{Command, NodeId};
    use leaselab_www::lab::Lab;
    let doc = document();
    assert_eq!(doc.query_selector_all("[data-refresh]").unwrap().length(), 0, "no other panels on the page");
    let panel: HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    panel.set_attribute("data-refresh", "tables").unwrap();
    doc.body().unwrap().append_child(&panel).unwrap();
    let lab = Lab::new(1, ClusterConfig { node_count: 3, ..ClusterConfig::default() });
    lab.advance_us(3_000_000); // a leader, and heartbeats
    lab.command(Command::Isolate { node: NodeId(2) }).unwrap();
    // Sixty frames of 1/60 s: how often the tables, the diagram and the drop marks changed.
    let run = |lab: &Lab| {
        let (mut tables, mut diagram, mut marks) = (0, 0, 0);
        for _ in 0..60 {
            let before = (
                lab.panel_snap.with_untracked(|s| s.now),
                lab.spacetime.with_untracked(|d| d.to),
                lab.drop_marks.get_untracked(),
            );
            assert!(lab.advance_frame_us(16_667, &|| true));
            tables += usize::from(lab.panel_snap.with_untracked(|s| s.now) != before.0);
            diagram += usize::from(lab.spacetime.with_untracked(|d| d.to) != before.1);
            marks += usize::from(lab.drop_marks.get_untracked() != before.2);
        }
        (tables, diagram, marks)
    };
    let place = |style: &str| panel.set_attribute("style", style).unwrap();
    place("position: absolute; top: 0; height: 10px");
    let (tables, diagram, marks) = run(&lab);
    assert_eq!((tables, diagram), (10, 3), "tables in view every sixth frame; no diagram in view");
    assert!(marks > 3, "drop marks on a cut link change more often than the hidden diagram: {marks}");
    assert!(lab.drop_marks.get_untracked().contains("l7 7"), "a ✕ on the isolated node's links");
    place("position: absolute; top: 100000px; height: 10px");
    assert_eq!(run(&lab).0, 1, "tables below the fold: once");
    place("display: none");
    assert_eq!(run(&lab).0, 1, "tables hidden: once");
    place("position: absolute; top: 0; height: 10px");
    assert_eq!(run(&lab).0, 10, "back in view");
    panel.remove();
}

/// The ring's ✕ marks show the messages dropped now, also while the space-time diagram looks
/// at the past around a selected operation (the diagram then ends seconds ago).
#[wasm_bindgen_test]
fn the_rings_drop_marks_stay_in_the_present_while_the_diagram_looks_back() {
    use leaselab::{Command, NodeId};
    use leaselab_www::lab::Lab;
    // The diagram's panel in view, so every diagram turn builds the panel's diagram.
    let panel: HtmlElement = document().create_element("div").unwrap().unchecked_into();
    panel.set_attribute("data-refresh", "diagram").unwrap();
    panel.set_attribute("style", "position: absolute; top: 0; height: 10px").unwrap();
    document().body().unwrap().append_child(&panel).unwrap();
    let lab = Lab::new(1, ClusterConfig { node_count: 3, ..ClusterConfig::default() });
    lab.advance_us(3_000_000);
    let leader = lab.snap.with_untracked(|s| s.leader).expect("a leader after 3 s");
    let op = lab.command(Command::put(leader, "x", "1")).unwrap().expect("a put is an operation");
    lab.advance_us(7_000_000);
    lab.command(Command::Isolate { node: NodeId(if leader == NodeId(1) { 2 } else { 1 }) }).unwrap();
    lab.selection.op.set(Some(op));
    lab.refresh_diagram();
    for _ in 0..60 {
        assert!(lab.advance_frame_us(16_667, &|| true));
    }
    lab.refresh_diagram();
    assert!(lab.spacetime.with_untracked(|d| d.past), "the diagram is focused on the put, seconds ago");
    assert!(lab.drop_marks.get_untracked().contains("l7 7"), "a ✕ on the isolated node's links now");
    panel.remove();
}

/// A scrub back across a long, busy run replays a slice per frame with its progress shown,
/// instead of holding the page until it lands; it lands exactly where a whole replay does, and
/// acting on the run meanwhile stops it where it got to.
#[wasm_bindgen_test]
async fn a_long_scrub_replays_a_slice_per_frame_and_lands_where_a_whole_one_does() {
    use leaselab::{Command, SimTime};
    use leaselab_www::lab::Lab;
    let lab = Lab::new(1, ClusterConfig::default());
    lab.command(Command::SetWorkload { ops_per_sec: 1_000 }).unwrap();
    while lab.snap.get_untracked().now < SimTime::from_ms(200_000) {
        lab.advance_us(1_000_000);
    }
    let target = SimTime::from_ms(199_500);
    // The same run, stopped at the target without scrubbing.
    let straight = Lab::new(1, ClusterConfig::default());
    straight.command(Command::SetWorkload { ops_per_sec: 1_000 }).unwrap();
    while straight.snap.get_untracked().now < target {
        straight.advance_us((target.as_us() - straight.snap.get_untracked().now.as_us()).min(1_000_000));
    }

    let before = lab.snap.get_untracked();
    lab.seek(target);
    assert!(
        lab.snap.get_untracked().now < target,
        "the first slice should not reach the target: {:?} → {:?}, {} events, load {}",
        before.now,
        lab.snap.get_untracked().now,
        before.event_count,
        before.workload_ops_per_sec
    );
    let note = lab.timeline_note.get_untracked().unwrap_or_default();
    assert!(note.starts_with("Scrubbing: replaying"), "{note}");
    let mut frames = 0;
    while lab.seek_frame(&|| false) {
        frames += 1;
        assert!(frames < 10_000, "the scrub never landed");
    }
    assert!(frames > 1, "the replay took one frame: the test proves nothing");
    assert_eq!(lab.snap.get_untracked().now, target);
    assert_eq!(lab.snap.get_untracked().trace_hash, straight.snap.get_untracked().trace_hash);
    assert_eq!(lab.timeline_note.get_untracked(), None);

    // A step while a scrub replays stops it where it got to.
    lab.seek(SimTime::from_ms(199_000));
    assert!(lab.seek_frame(&|| false));
    lab.step_event();
    assert!(!lab.seek_frame(&|| false));
    let note = lab.timeline_note.get_untracked().unwrap_or_default();
    assert!(note.starts_with("Scrub stopped at"), "{note}");
    assert!(lab.snap.get_untracked().now < SimTime::from_ms(199_000));
}
