//! The transaction form: *if key value/version/create/mod =,≠,>,< operand then put/delete/get
//! else …*, built into an etcd transaction by `model::build_txn` (tested natively).

use crate::widgets::{choice_box, text_box};
use leaselab::ClientOp;
use leptos::prelude::*;

/// `send` sends the transaction to the client panel's chosen node; `say` puts a line on its
/// status line (what is wrong with the form).
#[component]
pub(crate) fn TxnFormPanel(send: Callback<ClientOp>, say: Callback<String>) -> impl IntoView {
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
        Ok((compares, success, failure)) => send.run(ClientOp::Txn { compares, success, failure }),
        Err(e) => say.run(e),
    };
    view! {
            <details class="txn" data-testid="txn-builder">
                <summary>"Transaction (if … then … else …)"</summary>
                <div class="row">
                    "if "
                    {text_box(if_key, "txn-key".into(), "short", Some("compare key"))}
                    {choice_box(if_target, "txn-target", "compare target", &[("value", "value"), ("version", "version"), ("create", "create"), ("mod", "mod"), ("lease", "key lease")])}
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
    }
}
