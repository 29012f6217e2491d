//! The help overlay: what each read path and each control means.

use crate::lab::lab;
use leptos::prelude::*;

/// What the page teaches, in a few lines, and the keyboard map.
#[component]
pub(crate) fn HelpOverlay() -> impl IntoView {
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
                            <li><span class="badge lease-read">"lease read"</span>" the leader holds a valid leader lease on its own clock: it answers locally, no messages."</li>
                            <li><span class="badge readindex">"ReadIndex"</span>" the leader has no valid leader lease: one heartbeat round to a quorum confirms it still leads, then it answers once applied."</li>
                            <li><span class="badge forwarded">"forwarded"</span>" a follower asks the leader for a read index, waits to apply up to it, answers from its own store."</li>
                            <li><span class="badge leasebased">"LeaseBased"</span>" raft-rs trusts check_quorum and checks no clock at all."</li>
                            <li><span class="badge inherited">"inherited lease"</span>" LeaseGuard: a new leader answers on the lease its predecessor's log carries, unless an entry it does not know committed may write the key."</li>
                            <li><span class="badge log">"log read"</span>" the read goes through the raft log like a write and is answered where it applies: slowest, trusts no clock."</li>
                            <li><span class="badge serializable">"serializable"</span>" local state at once: may be stale, and that is allowed."</li>
                        </ul>
                        <p>"The leader lease lasts min(election timeout / 2, 3 × heartbeat) − drift bound. The renew-at-ack policy renews it whenever raft-rs marks a quorum recently active (flags that outlive the acks until the next quorum check, set by rejections too: a new leader gets a lease before its first commit); the safe policy from when the acknowledged round was sent. Followers promise (check_quorum) not to vote for an election timeout after an ack; a restarted node keeps it by waiting that long. A constant clock offset is harmless; a slow clock, a backward jump or a long pause stretches a lease past the followers' promise — the checker flags the stale read that follows."</p>
                        <p>"Followers learn from the leader that entries committed: at once, in an extra append (etcd), or with the next append or heartbeat (TiKV's lazy commit broadcast, in Settings: about 40 % fewer messages per write). Lazily, a follower applies later, so its serializable reads lag further behind."</p>
                        <label><input type="checkbox" data-testid="help-single-keys" prop:checked=move || lab.single_keys.get()
                            on:change=move |ev| lab.single_keys.set(event_target_checked(&ev)) />" single-key shortcuts (Esc always closes this)"</label>
                        <table class="shortcuts" tabindex="0" aria-label="Keyboard shortcuts">
                            {crate::model::SHORTCUTS.iter().map(|(k, what)| view! { <tr><td><kbd>{*k}</kbd></td><td>{*what}</td></tr> }).collect_view()}
                        </table>
                    </div>
                </div>
            }
        })
    }
}
