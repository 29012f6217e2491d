//! Guided tours: pick one, step through its narration, predict, reveal.

use crate::lab::lab;
use leptos::prelude::*;

/// What the audience predicted against what the operation did (a read still in flight says so
/// and updates when it finishes and is checked).
#[component]
pub(crate) fn PredictionResult(reveal: crate::lab::Reveal) -> impl IntoView {
    use leaselab::scenario::QuestionKind;
    let lab = lab();
    move || {
        let actual = lab.ops.with(|rows| {
            let row = rows.iter().find(|r| r.record.id == reveal.op)?;
            match reveal.kind {
                QuestionKind::Path => row.record.trace.as_ref().and_then(|t| t.path).map(|p| p.label()),
                QuestionKind::Stale => row.verdict.as_ref().map(|v| {
                    if matches!(v, leaselab::checker::Verdict::Stale(_)) {
                        "stale"
                    } else {
                        "not stale"
                    }
                }),
            }
        });
        let text = crate::model::prediction_text(reveal.op, reveal.guess, actual);
        view! { <p class="predict-result" data-testid="predict-result">{text}</p> }
    }
}

/// Guided tours: pick one, step through its narration (back replays from the seed), answer the
/// prediction before the reveal, see its expectations checked at the end.
#[component]
pub(crate) fn TourPanel() -> impl IntoView {
    let lab = lab();
    let choice = RwSignal::new(leaselab::scenario::BUILTIN[0].0.to_string());
    let pause_s = RwSignal::new(crate::autoplay::PAUSE_DEFAULT_S);
    let start = move || {
        if let Err(e) = lab.start_tour(&choice.get_untracked()) {
            lab.error.set(Some(e));
        }
    };
    view! {
        <div class="panel tour" data-testid="tour-panel" data-refresh="ops">
            <h2>"Guided tours"</h2>
            <div class="row">
                <select data-testid="tour-select" aria-label="Guided tour" on:change=move |ev| choice.set(event_target_value(&ev))>
                    // Each tour by its title, which says what it is about (the names are for files
                    // and the command line).
                    {leaselab::scenario::BUILTIN.iter().map(|(name, _)| {
                        let title = leaselab::scenario::builtin(name).map_or(String::new(), |s| s.title);
                        view! { <option value=*name>{title}</option> }
                    }).collect_view()}
                </select>
                <button data-testid="tour-start" on:click=move |_| start()>"Start tour"</button>
            </div>
            {move || lab.tour.view.get().map(|t| {
                let last = t.applied == t.total;
                let next_label = match (&t.predict, last, &t.results) {
                    (_, true, Some(_)) => "Done",
                    (_, true, None) => "Finish and check",
                    (Some(_), _, _) => "Reveal",
                    (None, _, _) => "Next",
                };
                view! {
                    <div data-testid="tour-active" aria-live="polite">
                        <p><b>{t.title.clone()}</b>" "<span class="muted" data-testid="tour-progress">{format!("step {} of {}", t.applied, t.total)}</span></p>
                        {t.narration.clone().map(|n| view! { <p class="narration" data-testid="tour-narration">{n}</p> })}
                        {t.upcoming.clone().filter(|_| !last).map(|n| view! { <p class="muted">"Next: "{n}</p> })}
                        {move || lab.tour.reveal.get().map(|r| view! { <PredictionResult reveal=r /> })}
                        {t.predict.clone().filter(|_| !last).map(|q| view! {
                            <p class="predict" data-testid="tour-predict">"Predict: "{q}</p>
                        })}
                        {(!last && !t.choices.is_empty()).then(|| view! {
                            <div class="row choices" role="group" aria-label="Your prediction">
                                {t.choices.iter().enumerate().map(|(i, c)| {
                                    let c: &'static str = c;
                                    view! {
                                        <button data-testid=format!("predict-choice-{i}")
                                            class:chosen=move || lab.tour.guess.get() == Some(c)
                                            on:click=move |_| lab.tour.guess.set(Some(c))>{c}</button>
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
            // Presenter autoplay, outside the tour's live region: its countdown changes every
            // second and must not be read out each time.
            {move || lab.tour.view.with(Option::is_some).then(|| {
                let on = move || lab.tour.autoplay.with(Option::is_some);
                view! {
                    <div class="row autoplay">
                        <button data-testid="tour-autoplay" aria-pressed=move || on().to_string()
                            on:click=move |_| lab.set_autoplay((!on()).then(|| pause_s.get_untracked()))>
                            {move || if on() { "Stop autoplay" } else { "Autoplay" }}
                        </button>
                        <select data-testid="tour-autoplay-pause" aria-label="Seconds between steps"
                            on:change=move |ev| {
                                let s = event_target_value(&ev).parse().unwrap_or(crate::autoplay::PAUSE_DEFAULT_S);
                                pause_s.set(s);
                                lab.tour.autoplay.update(|a| if let Some(a) = a { a.set_pause(s) });
                            }>
                            {crate::autoplay::PAUSES_S.iter().map(|s| view! {
                                <option value=s.to_string() selected=*s == crate::autoplay::PAUSE_DEFAULT_S>{format!("every {s} s")}</option>
                            }).collect_view()}
                        </select>
                        {move || on().then(|| view! {
                            <button data-testid="tour-autoplay-hold" on:click=move |_| lab.toggle_autoplay_hold()>
                                {move || if lab.tour.autoplay.with(|a| a.is_some_and(|a| a.paused)) { "Resume" } else { "Hold" }}
                            </button>
                        })}
                        <span class="muted" data-testid="tour-countdown">
                            {move || lab.tour.autoplay.get().map(|a| a.status(lab.tour_at()))}
                        </span>
                    </div>
                }
            })}
        </div>
    }
}
