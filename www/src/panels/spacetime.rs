//! The space-time diagram: true time runs down, one column per node. Leader terms are bars
//! on the columns, leader-lease beliefs thin gold lines beside them, messages arrows between
//! columns (dropped ones red and dashed), faults markers, client operations short bars that
//! select the operation when clicked, and the stale-read window shaded red.
//!
//! Messages are drawn as one SVG path per kind rather than one element each, so a busy
//! cluster costs a handful of DOM updates per frame.

use crate::lab::Lab;
use crate::model::{format_time, message_group, px, MESSAGE_CLASSES};
use leaselab::spacetime::SpaceTime;
use leaselab::SimTime;
use leptos::prelude::*;
use std::fmt::Write as _;
use wasm_bindgen::JsCast;

const WIDTH: f64 = 520.0;
const HEIGHT: f64 = 300.0;
const TOP: f64 = 22.0;
const LEFT: f64 = 46.0;
const BOTTOM: f64 = 6.0;

/// Window lengths offered, in µs, with their labels.
pub const WINDOWS: [(u64, &str); 4] =
    [(1_000_000, "1 s"), (3_000_000, "3 s"), (10_000_000, "10 s"), (30_000_000, "30 s")];

/// Maps true time and node index to diagram coordinates.
#[derive(Clone, Copy)]
struct Scale {
    from: SimTime,
    span_us: f64,
    nodes: usize,
}

impl Scale {
    fn of(d: &SpaceTime) -> Scale {
        Scale { from: d.from, span_us: (d.to.0.saturating_sub(d.from.0)).max(1) as f64, nodes: d.nodes.max(1) }
    }
    fn x(&self, node: leaselab::NodeId) -> f64 {
        LEFT + (node.index() as f64 + 0.5) * (WIDTH - LEFT) / self.nodes as f64
    }
    fn y(&self, t: SimTime) -> f64 {
        let f = (t.0.saturating_sub(self.from.0)) as f64 / self.span_us;
        TOP + f.clamp(0.0, 1.0) * (HEIGHT - TOP - BOTTOM)
    }
}

/// Operation bars sit this far left of their node's column.
const OP_OFFSET: f64 = 10.0;

/// The operation whose bar is nearest to viewBox point (x, y), within a few units.
pub fn op_at(d: &SpaceTime, x: f64, y: f64) -> Option<leaselab::OpId> {
    let s = Scale::of(d);
    d.ops
        .iter()
        .filter_map(|o| {
            let bx = s.x(o.node) - OP_OFFSET;
            let (y1, y2) = (s.y(o.invoked), s.y(o.completed.unwrap_or(d.to)).max(s.y(o.invoked) + 3.0));
            let dy = if y < y1 {
                y1 - y
            } else if y > y2 {
                y - y2
            } else {
                0.0
            };
            let distance = (bx - x).abs().max(dy);
            (distance <= 6.0).then_some((distance, o.op))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, op)| op)
}

/// Builds one path per message group, plus dots where messages arrive, plus the dropped ones.
fn arrow_paths(d: &SpaceTime, s: Scale, highlight: &[u64]) -> (Vec<String>, String, String, String) {
    let mut lines = vec![String::new(); MESSAGE_CLASSES.len()];
    let (mut heads, mut dropped, mut selected) = (String::new(), String::new(), String::new());
    for a in &d.arrows {
        let (x1, y1) = (s.x(a.from), s.y(a.sent));
        let (mut x2, mut y2) = (s.x(a.to), s.y(a.end));
        if a.end > d.to {
            // Still in flight: draw up to where it is now.
            let f = (d.to.0 - a.sent.0) as f64 / (a.end.0 - a.sent.0).max(1) as f64;
            x2 = x1 + (x2 - x1) * f;
            y2 = s.y(d.to);
        } else if !a.dropped {
            let _ = write!(heads, "M{} {}h0", px(x2), px(y2));
        }
        let target = if highlight.contains(&a.id) {
            &mut selected
        } else if a.dropped {
            if a.sent == a.end {
                // Lost as it was sent: a short stub towards the destination.
                x2 = x1 + (s.x(a.to) - x1).signum() * 10.0;
                y2 = y1 + 4.0;
            }
            let _ = write!(dropped, "M{} {}l6 6m0 -6l-6 6", px(x2 - 3.0), px(y2 - 3.0));
            &mut dropped
        } else {
            &mut lines[message_group(a.kind)]
        };
        let _ = write!(target, "M{} {}L{} {}", px(x1), px(y1), px(x2), px(y2));
    }
    (lines, heads, dropped, selected)
}

#[component]
pub fn SpaceTimeView() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let diagram = lab.spacetime;
    let node_count = Memo::new(move |_| diagram.with(|d| d.nodes.max(1)));
    view! {
        <div class="spacetime-panel" data-testid="spacetime-panel" data-refresh="diagram ops">
            <div class="row">
                <h2>"Space-time"</h2>
                <span class="muted">"true time ↓ · click an operation bar to select it"</span>
                <label class="push-right">"window "
                    <select data-testid="spacetime-window" on:change=move |ev| {
                        if let Some((us, _)) = event_target_value(&ev).parse::<usize>().ok().and_then(|i| WINDOWS.get(i)) {
                            lab.set_spacetime_window(*us);
                        }
                    }>
                        {WINDOWS.iter().enumerate().map(|(i, (us, label))| view! {
                            <option value=i.to_string() selected=*us == crate::lab::SPACETIME_WINDOW_DEFAULT_US>{*label}</option>
                        }).collect_view()}
                    </select>
                </label>
            </div>
            <svg data-testid="spacetime" class="spacetime" viewBox=format!("0 0 {} {}", px(WIDTH), px(HEIGHT))
                on:click=move |ev: leptos::ev::MouseEvent| {
                    let Some(svg) = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
                    let rect = svg.get_bounding_client_rect();
                    if rect.width() <= 0.0 { return; }
                    // Client pixels to viewBox units (the SVG keeps its aspect ratio).
                    let k = WIDTH / rect.width();
                    let (x, y) = ((f64::from(ev.client_x()) - rect.left()) * k, (f64::from(ev.client_y()) - rect.top()) * k);
                    if let Some(op) = diagram.with_untracked(|d| op_at(d, x, y)) {
                        lab.selection.op.set(Some(op));
                    }
                }
                role="img" aria-label="Space-time diagram: one column per node, true time downwards">
                // Stale-read windows first, under everything else.
                {move || diagram.with(|d| {
                    let s = Scale::of(d);
                    d.stale_windows.iter().enumerate().map(|(i, w)| {
                        let (y1, y2) = (s.y(w.from), s.y(w.until));
                        let (class, label, why) = if w.guarded {
                            ("stale-window guarded", "overlap, safe: commits deferred",
                             "; under LeaseGuard the new leader commits nothing until the old lease is over, so this overlap is safe while clocks stay within ε")
                        } else {
                            ("stale-window", "stale-read window", "")
                        };
                        let title = format!(
                            "{label} {}–{}: {} (term {}) still trusts its local reads while {} leads term {}{why}",
                            format_time(w.from), format_time(w.until), w.old, w.old_term, w.new, w.new_term);
                        view! {
                            <g data-testid=format!("stale-window-{i}")>
                                <title>{title}</title>
                                <rect class=class x=px(LEFT) y=px(y1) width=px(WIDTH - LEFT) height=px((y2 - y1).max(1.5)) />
                                <text class=if w.guarded { "stale-label guarded" } else { "stale-label" } x=px(WIDTH - 4.0) y=px(y1 + 11.0) text-anchor="end">{label}</text>
                            </g>
                        }
                    }).collect_view()
                })}
                // Node columns and headers (redrawn when the node count changes); time labels.
                {move || {
                    let nodes = node_count.get();
                    let s = Scale { from: SimTime::ZERO, span_us: 1.0, nodes };
                    (1..=nodes as u64).map(|i| {
                        let x = s.x(leaselab::NodeId(i));
                        view! {
                            <line class="st-column" x1=px(x) y1=px(TOP) x2=px(x) y2=px(HEIGHT - BOTTOM) />
                            <text class="st-header" x=px(x) y=14 text-anchor="middle">{format!("n{i}")}</text>
                        }
                    }).collect_view()
                }}
                {move || diagram.with(|d| {
                    let s = Scale::of(d);
                    [0.0, 0.5, 1.0].map(|f| {
                        let t = SimTime(d.from.0 + (s.span_us * f) as u64);
                        view! { <text class="st-time" x=2 y=px(s.y(t) + 4.0)>{format_time(t)}</text> }
                    }).into_iter().collect_view()
                })}
                // Leader terms and leader-lease beliefs.
                {move || diagram.with(|d| {
                    let s = Scale::of(d);
                    let leaders = d.leaders.iter().map(|l| {
                        let (x, y1, y2) = (s.x(l.node), s.y(l.from), s.y(l.until));
                        view! {
                            <rect class="st-leader" x=px(x - 4.0) y=px(y1) width=8 height=px((y2 - y1).max(1.0))>
                                <title>{format!("{} leads term {} from {}", l.node, l.term, format_time(l.from))}</title>
                            </rect>
                            <text class="st-term" x=px(x + 6.0) y=px(y1 + 9.0)>{format!("T{}", l.term)}</text>
                        }
                    }).collect_view();
                    let beliefs = d.local_reads.iter().map(|b| {
                        let x = s.x(b.node) + 10.0;
                        let (y1, y2) = (s.y(b.from), s.y(b.until.min(d.to)));
                        view! {
                            <line class="st-belief" x1=px(x) y1=px(y1) x2=px(x) y2=px(y2.max(y1 + 1.0))>
                                <title>{format!("{} (term {}) trusts local reads until {}", b.node, b.term, format_time(b.until))}</title>
                            </line>
                        }
                    }).collect_view();
                    // LeaseGuard: each committed entry's lease, in a lane right of the belief.
                    let entry_leases = d.entry_leases.iter().map(|l| {
                        let x = s.x(l.node) + 14.0;
                        let (y1, y2) = (s.y(l.committed), s.y(l.until.min(d.to)));
                        view! {
                            <path class="st-entry-lease" d=format!("M{} {}h4M{} {}V{}", px(x - 2.0), px(y1), px(x), px(y1), px(y2.max(y1 + 1.0)))>
                                <title>{format!("{}'s entry {} (term {}) committed at {}: its lease (stamp + Δ) ends at {}", l.node, l.index, l.term, format_time(l.committed), format_time(l.until))}</title>
                            </path>
                        }
                    }).collect_view();
                    (leaders, beliefs, entry_leases)
                })}
                // Messages: one path per kind, arrival dots, drops, and the selected read's.
                {move || {
                    let highlight: Vec<u64> = lab.selection.op.get().and_then(|op| lab.ops.with(|rows| {
                        rows.iter().find(|r| r.record.id == op).and_then(|r| r.record.trace.as_ref().map(|t| t.messages.clone()))
                    })).unwrap_or_default();
                    diagram.with(|d| {
                        let (lines, heads, dropped, selected) = arrow_paths(d, Scale::of(d), &highlight);
                        let groups = MESSAGE_CLASSES.iter().zip(lines).map(|(class, path)| {
                            view! { <path class=format!("st-msg-{class}") d=path /> }
                        }).collect_view();
                        view! {
                            {groups}
                            <path class="st-heads" d=heads />
                            <path class="st-dropped" data-testid="spacetime-dropped" d=dropped />
                            <path class="st-selected" data-testid="spacetime-selected" d=selected />
                        }
                    })
                }}
                // Faults and notable moments.
                {move || diagram.with(|d| {
                    let s = Scale::of(d);
                    // Newest first; a label closer than a line of text to one already drawn in
                    // its lane (a node's column, or the global line) is left to its tooltip, so
                    // a burst of faults stays readable instead of printing on top of itself.
                    let mut last_label_y: Vec<Option<f64>> = vec![None; d.nodes + 1];
                    d.markers.iter().rev().take(40).map(|m| {
                        let y = s.y(m.at);
                        let lane = m.node.map_or(0, |n| n.0 as usize).min(d.nodes);
                        let crowded = last_label_y[lane].is_some_and(|last| (last - y).abs() < 11.0);
                        if !crowded {
                            last_label_y[lane] = Some(y);
                        }
                        let label = (!crowded).then(|| m.label.clone());
                        match m.node {
                            Some(node) => {
                                let x = s.x(node);
                                view! {
                                    <g class="st-marker">
                                        <title>{m.label.clone()}</title>
                                        <circle cx=px(x) cy=px(y) r="4" />
                                        <text x=px(x - 8.0) y=px(y + 3.0) text-anchor="end">{label}</text>
                                    </g>
                                }.into_any()
                            }
                            None => view! {
                                <g class="st-marker global">
                                    <title>{m.label.clone()}</title>
                                    <line x1=px(LEFT) y1=px(y) x2=px(WIDTH) y2=px(y) />
                                    <text x=px(LEFT + 2.0) y=px(y - 2.0)>{label}</text>
                                </g>
                            }.into_any(),
                        }
                    }).collect_view()
                })}
                // Client operations: bars left of their node's column, one path per kind (a
                // click on the diagram selects the nearest bar).
                {move || {
                    let selected = lab.selection.op.get();
                    let stale: Vec<leaselab::OpId> = lab.ops.with(|rows| {
                        rows.iter()
                            .filter(|r| matches!(r.verdict, Some(leaselab::checker::Verdict::Stale(_))))
                            .map(|r| r.record.id)
                            .collect()
                    });
                    diagram.with(|d| {
                        let s = Scale::of(d);
                        let mut paths = [String::new(), String::new(), String::new(), String::new()];
                        for o in &d.ops {
                            let (x, y1) = (s.x(o.node) - OP_OFFSET, s.y(o.invoked));
                            let y2 = s.y(o.completed.unwrap_or(d.to)).max(y1 + 3.0);
                            let group = if selected == Some(o.op) { 3 } else if stale.contains(&o.op) { 2 } else { usize::from(o.read) };
                            let _ = write!(paths[group], "M{} {}V{}", px(x), px(y1), px(y2));
                        }
                        let [writes, reads, stale, chosen] = paths;
                        view! {
                            <path class="st-op write" d=writes />
                            <path class="st-op read" d=reads />
                            <path class="st-op stale" data-testid="spacetime-stale-ops" d=stale />
                            <path class="st-op selected" data-testid="spacetime-selected-op" d=chosen />
                        }
                    })
                }}
            </svg>
            // Shown while the diagram is drawn at an earlier moment than the present — a
            // property of the diagram, not a comparison with a clock that runs ahead of it
            // between diagram refreshes (that made the note and its button flicker at speed).
            {move || {
                let now = lab.snap.with(|s| s.now);
                let (to, past) = diagram.with(|d| (d.to, d.past));
                past.then(|| view! {
                    <p class="small focus-note" data-testid="spacetime-focus">
                        {format!("Showing up to {}, around the selected operation; the present is {}. ", format_time(to), format_time(now))}
                        <button class="linklike" data-testid="spacetime-live" on:click=move |_| lab.selection.op.set(None)>"back to the present"</button>
                    </p>
                })
            }}
            <p class="muted small" data-testid="spacetime-summary">{move || diagram.with(|d| {
                let windows = d.stale_windows.iter().filter(|w| !w.guarded).count();
                let guarded = d.stale_windows.len() - windows;
                // The diagram shows a few seconds: a stale read from earlier is found through
                // its row, which redraws the diagram around it.
                let earlier = lab.checker_summary.with(|c| c.stale > 0);
                let guarded = if guarded > 0 { format!(" · {guarded} LeaseGuard overlap(s), safe by design") } else { String::new() };
                format!("{} messages{} · {} leader term(s) · {}{guarded}",
                    d.arrows.len(),
                    if d.arrows_truncated { " (latest only)" } else { "" },
                    d.leaders.len(),
                    match windows {
                        0 if earlier => "no stale-read window in view (“show it” under Operations draws the last stale read's)".to_string(),
                        0 => "no stale-read window in view".to_string(),
                        _ => format!("{windows} stale-read window(s)"),
                    })
            })}</p>
        </div>
    }
}
