//! The key lease row of the client panel: grant with a TTL, keep alive, revoke, and put the
//! client panel's key and value with a key lease.

use crate::widgets::text_box;
use leaselab::ClientOp;
use leptos::prelude::*;

/// `key` and `value` are the client panel's; `send` sends to its chosen node; `say` puts a
/// line on its status line (what is wrong with the input).
#[component]
pub(crate) fn KeyLeaseForm(
    key: RwSignal<String>,
    value: RwSignal<String>,
    send: Callback<ClientOp>,
    say: Callback<String>,
) -> impl IntoView {
    let key_lease_id = RwSignal::new("1".to_string());
    let key_lease_ttl = RwSignal::new("5".to_string());
    #[derive(Clone, Copy)]
    enum Action {
        Grant,
        KeepAlive,
        Revoke,
        Put,
    }
    let act = move |action: Action| {
        let text = key_lease_id.get_untracked();
        let id = || crate::model::parse_key_lease_id(&text);
        let op = match action {
            Action::Grant => crate::model::parse_grant_id(&text).and_then(|id| {
                let ttl = crate::model::parse_ttl_s(&key_lease_ttl.get_untracked())?;
                Ok(ClientOp::KeyLeaseGrant { id, ttl })
            }),
            Action::KeepAlive => id().map(|id| ClientOp::KeyLeaseKeepAlive { id }),
            Action::Revoke => id().map(|id| ClientOp::KeyLeaseRevoke { id }),
            Action::Put => id().map(|id| ClientOp::Put {
                key: key.get_untracked(),
                value: value.get_untracked(),
                key_lease: Some(id),
            }),
        };
        match op {
            Ok(op) => send.run(op),
            Err(e) => say.run(e),
        }
    };
    view! {
        <div class="row">
            <label title="Blank or 0 when granting: the node assigns an id, as etcd's server does">"key lease "
                {text_box(key_lease_id, "key-lease-id".into(), "tiny", None)}</label>
            <label>"TTL " {text_box(key_lease_ttl, "key-lease-ttl".into(), "tiny", None)}" s"</label>
            <button data-testid="key-lease-grant" on:click=move |_| act(Action::Grant)>"Grant"</button>
            <button data-testid="key-lease-keepalive" on:click=move |_| act(Action::KeepAlive)>"Keep-alive"</button>
            <button data-testid="key-lease-revoke" on:click=move |_| act(Action::Revoke)>"Revoke"</button>
            <button data-testid="put-with-key-lease" on:click=move |_| act(Action::Put)>"Put with key lease"</button>
        </div>
    }
}
