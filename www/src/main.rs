use leptos::prelude::*;

fn main() {
    leaselab_www::install_panic_hook();
    leptos::mount::mount_to_body(|| view! { <leaselab_www::App /> });
}
