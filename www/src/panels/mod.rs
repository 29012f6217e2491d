//! The page's panels, one file each. Components hold view code only; what to show and what to
//! send is decided in plain Rust (`crate::model`, `crate::lab`) and tested natively.

mod client;
mod cluster_view;
mod compare;
mod controls;
mod event_log;
mod help;
mod inspector;
mod key_lease_form;
mod node_table;
mod op_log;
pub mod paths;
mod read_trace;
pub mod spacetime;
mod timeline;
mod tours;
mod txn_form;
mod watches;

pub(crate) use client::ClientPanel;
pub(crate) use cluster_view::{ClusterView, Legend};
pub(crate) use compare::ComparePanel;
pub(crate) use controls::{close_settings, Controls};
pub(crate) use event_log::EventLog;
pub(crate) use help::HelpOverlay;
pub(crate) use inspector::Inspector;
pub(crate) use node_table::NodeTable;
pub(crate) use op_log::OpLog;
pub(crate) use paths::PathsPanel;
pub(crate) use read_trace::ReadTracePanel;
pub use spacetime::SpaceTimeView;
pub use timeline::TimelinePanel;
pub(crate) use tours::TourPanel;
pub(crate) use watches::WatchesPanel;
