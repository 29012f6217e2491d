//! Page logic that needs no DOM: layout geometry, time scaling, labels. Tested natively.

use leaselab::client_op::{validate_key, validate_value};
use leaselab::leader_lease::LeaderLeaseStats;
use leaselab::mvcc::{Compare, CompareOp, CompareTarget, RangeRequest, TxnOp};
use leaselab::{ClusterConfig, LocalTime, MsgKind, NodeId, ReadPath, Role, SimTime};

/// The SVG canvas of the cluster view is `VIEW_SIZE × VIEW_SIZE` user units.
pub const VIEW_SIZE: f64 = 420.0;
const RING_RADIUS: f64 = 150.0;

/// (cos, sin) of one `count`-th of a turn for the cluster sizes 2 to 7. Six constants instead
/// of calling `cos`/`sin`: those would bring libm's trigonometry (≈10 KB) into the page.
const RING_STEPS: [(f64, f64); 6] = [
    (-1.0, 0.0),
    (-0.5, 0.866_025_403_784_438_6),
    (0.0, 1.0),
    (0.309_016_994_374_947_45, 0.951_056_516_295_153_5),
    (0.5, 0.866_025_403_784_438_6),
    (0.623_489_801_858_733_6, 0.781_831_482_468_029_8),
];

/// Centre of node `index` (0-based) of `count`, on a ring starting at the top, clockwise.
/// A lone node (or a count the core never allows) sits in the middle.
pub fn ring_position(index: usize, count: usize) -> (f64, f64) {
    let c = VIEW_SIZE / 2.0;
    let Some(&(cos, sin)) = count.checked_sub(2).and_then(|i| RING_STEPS.get(i)) else {
        return (c, c);
    };
    // Start at the top (0, −1) and rotate clockwise (y grows downwards) `index` steps.
    let (mut x, mut y) = (0.0, -1.0);
    for _ in 0..index % count {
        (x, y) = (x * cos - y * sin, x * sin + y * cos);
    }
    (c + RING_RADIUS * x, c + RING_RADIUS * y)
}

/// Where a message is drawn at `now`: linear interpolation along its link, or with `still`
/// (reduced motion) the middle of the link for as long as it is in flight.
pub fn message_position(
    from: (f64, f64),
    to: (f64, f64),
    (sent_at, deliver_at): (SimTime, SimTime),
    now: SimTime,
    still: bool,
) -> (f64, f64) {
    let span = deliver_at.saturating_sub(sent_at).max(1) as f64;
    let t = if still { 0.5 } else { (now.saturating_sub(sent_at) as f64 / span).clamp(0.0, 1.0) };
    (from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t)
}

/// A speed as the speed menu writes it, to two significant digits or whole ("0.12×", "3.4×",
/// "38×").
pub fn speed_label(speed: f64) -> String {
    let digits = if speed >= 10.0 {
        0
    } else if speed >= 1.0 {
        1
    } else {
        2
    };
    format!("{}×", leaselab::decimal::fixed(speed, digits))
}

/// The largest single frame of wall time the page converts into simulated time; a tab that
/// was in the background does not make the simulation leap.
pub const FRAME_WALL_MS_MAX: f64 = 100.0;

/// Simulated microseconds for `wall_ms` of wall time at `speed` (× real time).
pub fn simulated_us(wall_ms: f64, speed: f64) -> u64 {
    let wall = wall_ms.clamp(0.0, FRAME_WALL_MS_MAX);
    (wall * speed * 1_000.0).round().max(0.0) as u64
}

/// Playback speeds offered, as (× real time, label).
pub const SPEEDS: [(f64, &str); 9] = [
    (0.02, "0.02×"),
    (0.05, "0.05×"),
    (0.1, "0.1×"),
    (0.25, "0.25×"),
    (0.5, "0.5×"),
    (1.0, "1×"),
    (2.0, "2×"),
    (10.0, "10×"),
    (100.0, "100×"),
];
pub const DEFAULT_SPEED_INDEX: usize = 3;

/// CSS class naming a node's state.
pub fn node_class(role: Option<Role>, paused: bool) -> &'static str {
    match (role, paused) {
        (None, _) => "node crashed",
        (_, true) => "node paused",
        (Some(Role::Leader), _) => "node leader",
        (Some(Role::Candidate | Role::PreCandidate), _) => "node candidate",
        (Some(Role::Follower), _) => "node follower",
    }
}

pub fn role_label(role: Option<Role>, paused: bool) -> &'static str {
    match (role, paused) {
        (None, _) => "crashed",
        (_, true) => "paused",
        (Some(Role::Leader), _) => "leader",
        (Some(Role::Candidate), _) => "candidate",
        (Some(Role::PreCandidate), _) => "pre-candidate",
        (Some(Role::Follower), _) => "follower",
    }
}

/// The families messages are drawn in, each in its own colour, in drawing order: the ring's
/// dots are `msgdots FAMILY`, the diagram's arrows `st-msg-FAMILY`.
pub const MESSAGE_CLASSES: [&str; 6] = ["append", "heartbeat", "vote", "readindex", "other", "keepalive"];

/// Which of [`MESSAGE_CLASSES`] a message of type `kind` is drawn as.
pub fn message_group(kind: MsgKind) -> usize {
    match kind {
        MsgKind::Append | MsgKind::AppendResp | MsgKind::Snapshot | MsgKind::Propose => 0,
        MsgKind::Heartbeat | MsgKind::HeartbeatResp => 1,
        MsgKind::Vote | MsgKind::VoteResp | MsgKind::PreVote | MsgKind::PreVoteResp => 2,
        MsgKind::ReadIndex | MsgKind::ReadIndexResp => 3,
        MsgKind::TimeoutNow | MsgKind::Other => 4,
        MsgKind::KeepAlive | MsgKind::KeepAliveResp => 5,
    }
}

/// A coordinate for a path string. Whole viewBox units are finer than the screen's pixels
/// here, and integers format several times faster than floats in wasm (thousands a frame).
pub fn px(v: f64) -> i32 {
    v.round() as i32
}

/// How long a dropped message's ✕ stays on its link in the ring (true time).
pub const DROP_SHOWN_US: u64 = 400_000;

/// The ring's marks for messages dropped in the last moment of the diagram `d`, as one SVG
/// path: a ✕ on each one's link, near its sender for a message lost as it was sent. Kept
/// apart from the diagram so the ring redraws them only when they change, and the diagram's
/// panel can skip frames while out of view.
pub fn drop_marks(d: &leaselab::spacetime::SpaceTime) -> String {
    use std::fmt::Write as _;
    let mut path = String::new();
    for a in d
        .arrows
        .iter()
        .rev()
        .take_while(|a| a.sent.0 + DROP_SHOWN_US >= d.to.0)
        .filter(|a| a.dropped && a.end.0 + DROP_SHOWN_US >= d.to.0)
        .take(24)
    {
        let (p, q) = (ring_position(a.from.index(), d.nodes), ring_position(a.to.index(), d.nodes));
        let f = if a.end == a.sent { 0.3 } else { 0.6 };
        let (x, y) = (p.0 + (q.0 - p.0) * f, p.1 + (q.1 - p.1) * f);
        let _ = write!(path, "M{} {}l7 7m0-7l-7 7", px(x - 3.5), px(y - 3.5));
    }
    path
}

/// What a key press does (ignored while typing in a field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shortcut {
    TogglePlay,
    Step,
    Advance100Ms,
    Faster,
    Slower,
    ToggleHelp,
    CloseHelp,
    Projector,
}

/// The keyboard map (shown in the help overlay).
pub const SHORTCUTS: [(&str, &str); 8] = [
    ("space", "play / pause"),
    ("s or .", "handle the next event"),
    ("n", "advance 100 ms"),
    ("+", "faster"),
    ("-", "slower"),
    ("p", "projector mode"),
    ("?", "this help"),
    ("Esc", "close help"),
];

pub fn shortcut(key: &str) -> Option<Shortcut> {
    match key {
        " " => Some(Shortcut::TogglePlay),
        "s" | "." => Some(Shortcut::Step),
        "n" => Some(Shortcut::Advance100Ms),
        "+" | "=" => Some(Shortcut::Faster),
        "-" | "_" => Some(Shortcut::Slower),
        "p" => Some(Shortcut::Projector),
        "?" => Some(Shortcut::ToggleHelp),
        "Escape" => Some(Shortcut::CloseHelp),
        _ => None,
    }
}

/// The shortcut a key press triggers: none while the user types in a field (`typing`); while
/// the help is open, only the keys that close it (it is modal); with single-key shortcuts
/// turned off (`single_keys` false, for speech input and stray presses), only Escape.
pub fn shortcut_for(key: &str, typing: bool, help_open: bool, single_keys: bool) -> Option<Shortcut> {
    if typing || (!single_keys && key != "Escape") {
        return None;
    }
    let action = shortcut(key)?;
    if help_open && !matches!(action, Shortcut::ToggleHelp | Shortcut::CloseHelp) {
        return None;
    }
    Some(action)
}

/// Clock rates offered per node, as (parts per million, label).
pub const RATE_STEPS: [u32; 17] = [
    100_000, 200_000, 250_000, 500_000, 750_000, 800_000, 900_000, 950_000, 1_000_000, 1_050_000, 1_100_000, 1_250_000,
    1_500_000, 2_000_000, 4_000_000, 8_000_000, 10_000_000,
];

/// The slider position of the step nearest to a clock rate.
pub fn rate_step_index(ppm: u32) -> usize {
    (0..RATE_STEPS.len()).min_by_key(|&i| RATE_STEPS[i].abs_diff(ppm)).unwrap_or(8)
}

/// A clock rate as people say it: "0.8×", "1×", "1.25×".
pub fn rate_label(ppm: u32) -> String {
    let x = f64::from(ppm) / 1e6;
    format!("{}×", leaselab::decimal::trimmed(x, 3))
}

/// CSS class of an operation's row in the log, by outcome.
pub fn outcome_class(outcome: &leaselab::OpOutcome) -> &'static str {
    match outcome {
        leaselab::OpOutcome::Pending => "pending",
        leaselab::OpOutcome::Ok { .. } => "ok",
        leaselab::OpOutcome::Failed { .. } => "failed",
        leaselab::OpOutcome::Indeterminate { .. } => "unknown",
    }
}

/// CSS class of a read-path badge.
pub fn path_class(path: ReadPath) -> &'static str {
    match path {
        ReadPath::LeaseRead => "lease-read",
        ReadPath::RaftLeaseBased => "leasebased",
        ReadPath::ReadIndex | ReadPath::SingleVoter => "readindex",
        ReadPath::ForwardedReadIndex => "forwarded",
        ReadPath::Serializable => "serializable",
        ReadPath::InheritedLeaseRead => "inherited",
        ReadPath::LogRead => "log",
    }
}

/// Fraction of the leader lease left at local time `now` (0..=1).
pub fn leader_lease_fraction_left(now: LocalTime, expire: LocalTime, duration_us: i64) -> f64 {
    if duration_us <= 0 {
        return 0.0;
    }
    ((expire.0 - now.0) as f64 / duration_us as f64).clamp(0.0, 1.0)
}

/// The node table's leader-lease cell.
pub fn leader_lease_label(role: Option<Role>, now: LocalTime, stats: Option<&LeaderLeaseStats>) -> String {
    match (role, stats) {
        (None, _) | (_, None) => "—".to_string(),
        (Some(Role::Leader), Some(s)) if !s.enabled => "disabled".to_string(),
        (Some(Role::Leader), Some(s)) if s.suspect.is_some() => "suspect: transfer".to_string(),
        (Some(Role::Leader), Some(s)) => match s.expire_at {
            Some(e) if now < e => {
                format!("valid, {} ms left", leaselab::decimal::fixed((e.0 - now.0) as f64 / 1_000.0, 0))
            }
            Some(_) => "expired".to_string(),
            // A drift bound as long as the leader lease leaves none to grant: say so, not "yet".
            None if s.duration_us <= 0 => "none: bound ≥ leader lease".to_string(),
            None => "none yet".to_string(),
        },
        _ => "—".to_string(),
    }
}

/// Parses the drift bound typed by a user (whole milliseconds, 0–60,000).
pub fn parse_bound_ms(text: &str) -> Result<u32, String> {
    let t = text.trim();
    match t.parse::<u32>() {
        Ok(v) if v <= 60_000 => Ok(v),
        _ => Err(format!("“{t}” is not a drift bound: use whole milliseconds from 0 to 60000")),
    }
}

/// What clicking the link between `a` and `b` does, given which directions are cut now:
/// a plain click heals both if either is cut, else cuts both; shift toggles only a→b and alt
/// only b→a. Returns (from, to, cut) per direction to change.
pub fn link_click(
    a: NodeId,
    b: NodeId,
    cut_ab: bool,
    cut_ba: bool,
    shift: bool,
    alt: bool,
) -> Vec<(NodeId, NodeId, bool)> {
    if shift {
        vec![(a, b, !cut_ab)]
    } else if alt {
        vec![(b, a, !cut_ba)]
    } else {
        let cut = !(cut_ab || cut_ba);
        vec![(a, b, cut), (b, a, cut)]
    }
}

/// The client panel's transaction form: one compare, one operation if it holds, an optional
/// one if it does not (etcd's txn: `if compares then success else failure`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TxnForm {
    pub key: String,
    /// "value", "version", "create", "mod".
    pub target: String,
    /// "=", "!=", ">", "<".
    pub op: String,
    pub operand: String,
    /// "put", "delete", "get"; for `otherwise` also "" (nothing).
    pub then_kind: String,
    pub then_key: String,
    pub then_value: String,
    pub else_kind: String,
    pub else_key: String,
    pub else_value: String,
}

/// A transaction's compares, success and failure operations.
pub type TxnParts = (Vec<Compare>, Vec<TxnOp>, Vec<TxnOp>);

impl TxnForm {
    /// What the form starts with: "if x = 1 then put x=2 else get x".
    pub fn example() -> TxnForm {
        TxnForm {
            key: "x".into(),
            target: "value".into(),
            op: "=".into(),
            operand: "1".into(),
            then_kind: "put".into(),
            then_key: "x".into(),
            then_value: "2".into(),
            else_kind: "get".into(),
            else_key: "x".into(),
            else_value: String::new(),
        }
    }
}

/// Builds the transaction, or says what is wrong with the form (nothing is sent then).
pub fn build_txn(f: &TxnForm) -> Result<TxnParts, String> {
    let target = match f.target.as_str() {
        "value" => CompareTarget::Value,
        "version" => CompareTarget::Version,
        "create" => CompareTarget::CreateRevision,
        "mod" => CompareTarget::ModRevision,
        "lease" => CompareTarget::KeyLease,
        other => return Err(format!("unknown compare target “{other}”")),
    };
    let op = match f.op.as_str() {
        "=" => CompareOp::Equal,
        "!=" => CompareOp::NotEqual,
        ">" => CompareOp::Greater,
        "<" => CompareOp::Less,
        other => return Err(format!("unknown comparison “{other}”")),
    };
    validate_key(&f.key).map_err(|e| format!("if: {e}"))?;
    let operand = f.operand.trim().to_string();
    if target != CompareTarget::Value && operand.parse::<i64>().is_err() {
        return Err(format!("if: {} compares with a whole number, not “{operand}”", f.target));
    }
    let one = |kind: &str, key: &str, value: &str, which: &str| -> Result<Vec<TxnOp>, String> {
        if kind.is_empty() {
            return Ok(Vec::new());
        }
        validate_key(key).map_err(|e| format!("{which}: {e}"))?;
        Ok(vec![match kind {
            "put" => {
                validate_value(value).map_err(|e| format!("{which}: {e}"))?;
                TxnOp::Put { key: key.to_string(), value: value.to_string(), key_lease: None }
            }
            "delete" => TxnOp::DeleteRange { key: key.to_string(), end: String::new() },
            "get" => TxnOp::Range(RangeRequest { key: key.to_string(), ..RangeRequest::default() }),
            other => return Err(format!("{which}: unknown operation “{other}”")),
        }])
    };
    let success = one(&f.then_kind, &f.then_key, &f.then_value, "then")?;
    if success.is_empty() {
        return Err("then: choose an operation".to_string());
    }
    let failure = one(&f.else_kind, &f.else_key, &f.else_value, "else")?;
    Ok((vec![Compare { key: f.key.clone(), target, op, operand }], success, failure))
}

/// Background load choices: (operations per simulated second, label).
pub const WORKLOADS: [(u32, &str); 6] =
    [(0, "off"), (2, "2 ops/s"), (10, "10 ops/s"), (50, "50 ops/s"), (100, "100 ops/s"), (500, "500 ops/s")];

/// A numeric cluster setting the Settings panel edits as text (applied on Reset).
pub struct NumberSetting {
    pub id: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    /// The value as shown, from a config.
    pub show: fn(&ClusterConfig) -> String,
    /// Writes a parsed, in-range value into the config.
    pub set: fn(&mut ClusterConfig, f64),
    /// Accepted range, in the unit shown.
    pub min: f64,
    pub max: f64,
    /// Whether fractions are accepted.
    pub fractional: bool,
}

impl NumberSetting {
    /// Parses `text` and writes it into `config`; an error names the setting and the range,
    /// and leaves `config` unchanged.
    pub fn apply(&self, config: &mut ClusterConfig, text: &str) -> Result<(), String> {
        let t = text.trim();
        // Plain decimals only: "1e3" would pass as a float, unlike in every other number box.
        let value = parse_decimal(t).filter(|v| *v >= self.min && *v <= self.max);
        match value {
            Some(v) if self.fractional || v.fract() == 0.0 => {
                (self.set)(config, v);
                Ok(())
            }
            _ => Err(format!(
                "{}: “{t}” is not valid; use {} from {} to {} {}",
                self.label,
                if self.fractional { "a number" } else { "a whole number" },
                leaselab::decimal::trimmed(self.min, 3),
                leaselab::decimal::trimmed(self.max, 3),
                self.unit
            )),
        }
    }
}

/// The one rule between two settings, in the Settings panel's words (the core's own message
/// names its fields): raft campaigns only if the election timeout outlasts the heartbeat.
pub fn check_timings(config: &ClusterConfig) -> Result<(), String> {
    if config.election_ticks <= config.heartbeat_ticks {
        return Err(format!(
            "election timeout ({} ticks) must be longer than the heartbeat ({} ticks)",
            config.election_ticks, config.heartbeat_ticks
        ));
    }
    Ok(())
}

fn ms_of_us(us: u32) -> String {
    leaselab::decimal::trimmed(f64::from(us) / 1_000.0, 3).to_string()
}

fn percent_of_ppm(ppm: u32) -> String {
    leaselab::decimal::trimmed(f64::from(ppm) / 10_000.0, 4).to_string()
}

/// The settings behind the Settings panel (timings, network, key lease checkpoints).
pub const NUMBER_SETTINGS: [NumberSetting; 8] = [
    NumberSetting {
        id: "tick",
        label: "raft tick",
        unit: "ms",
        show: |c| c.tick_ms.to_string(),
        set: |c, v| c.tick_ms = v as u32,
        min: 1.0,
        max: 10_000.0,
        fractional: false,
    },
    NumberSetting {
        id: "election",
        label: "election timeout",
        unit: "ticks",
        show: |c| c.election_ticks.to_string(),
        set: |c, v| c.election_ticks = v as u32,
        min: 2.0,
        max: 1_000.0,
        fractional: false,
    },
    NumberSetting {
        id: "heartbeat",
        label: "heartbeat",
        unit: "ticks",
        show: |c| c.heartbeat_ticks.to_string(),
        set: |c, v| c.heartbeat_ticks = v as u32,
        min: 1.0,
        max: 1_000.0,
        fractional: false,
    },
    NumberSetting {
        id: "latency",
        label: "latency",
        unit: "ms",
        show: |c| ms_of_us(c.network.latency_us),
        set: |c, v| c.network.latency_us = (v * 1_000.0).round() as u32,
        min: 0.0,
        max: 10_000.0,
        fractional: true,
    },
    NumberSetting {
        id: "jitter",
        label: "jitter ±",
        unit: "ms",
        show: |c| ms_of_us(c.network.jitter_us),
        set: |c, v| c.network.jitter_us = (v * 1_000.0).round() as u32,
        min: 0.0,
        max: 10_000.0,
        fractional: true,
    },
    NumberSetting {
        id: "loss",
        label: "loss",
        unit: "%",
        show: |c| percent_of_ppm(c.network.drop_ppm),
        set: |c, v| c.network.drop_ppm = (v * 10_000.0).round() as u32,
        min: 0.0,
        max: 100.0,
        fractional: true,
    },
    NumberSetting {
        id: "duplicates",
        label: "duplicates",
        unit: "%",
        show: |c| percent_of_ppm(c.network.duplicate_ppm),
        set: |c, v| c.network.duplicate_ppm = (v * 10_000.0).round() as u32,
        min: 0.0,
        max: 100.0,
        fractional: true,
    },
    NumberSetting {
        id: "checkpoint-interval",
        label: "key lease checkpoint every",
        unit: "ms",
        show: |c| c.lessor.checkpoint_interval_ms.to_string(),
        set: |c, v| c.lessor.checkpoint_interval_ms = v as u32,
        // The core's range (LessorConfig::validate), so one message states it.
        min: 100.0,
        max: 3_600_000.0,
        fractional: false,
    },
];

/// Parses a key lease TTL typed in whole seconds, etcd's unit.
pub fn parse_ttl_s(text: &str) -> Result<i64, String> {
    let t = text.trim();
    match t.parse::<i64>() {
        Ok(s) if (0..=leaselab::lessor::KEY_LEASE_TTL_MAX_S).contains(&s) => Ok(s),
        _ => {
            Err(format!("“{t}” is not a TTL: whole seconds, as etcd takes them (a short one is raised to the minimum)"))
        }
    }
}

/// What the lessor's promotion did, for the inspector: every expiry restarted, and how many
/// were spread so that a new leader does not revoke them in a storm (etcd's `Promote`).
pub fn promotion_text(p: &leaselab::lessor::Promotion) -> String {
    let head = format!(
        "promoted at local {}: {} got a fresh expiry (election timeout + remaining TTL)",
        p.at,
        plural(p.key_leases, "key lease")
    );
    if p.spread > 0 {
        format!(
            "{head}; {} {} spread up to {} s later so that no second sees more than {} expire",
            p.spread,
            if p.spread == 1 { "expiry" } else { "expiries" },
            leaselab::decimal::fixed(p.max_delay_ms as f64 / 1e3, 1),
            3 * leaselab::lessor::KEY_LEASE_REVOKE_RATE / 4
        )
    } else {
        format!("{head}; none spread (only from {} key leases on)", leaselab::lessor::KEY_LEASE_REVOKE_RATE)
    }
}

/// Parses a watch's start revision: blank or 0 for "from the next change on".
pub fn parse_start_revision(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(0);
    }
    t.parse::<u64>().map_err(|_| format!("“{t}” is not a revision: a whole number, or blank for the next change on"))
}

/// The watch request the Watches panel's inputs describe: `range` is "key", "prefix" or
/// "from" (every key from `key` on).
pub fn watch_request(
    key: &str,
    range: &str,
    start: &str,
    progress_notify: bool,
    require_leader: bool,
) -> Result<leaselab::WatchRequest, String> {
    let end = match range {
        "prefix" => leaselab::watch::prefix_range_end(key),
        "from" => "\0".to_string(),
        _ => String::new(),
    };
    Ok(leaselab::WatchRequest {
        key: key.to_string(),
        end,
        start_revision: parse_start_revision(start)?,
        progress_notify,
        require_leader,
    })
}

/// The range read the client panel's inputs describe: every key with the prefix `key`, or
/// every key from `key` on (`range` "prefix" or "from"), at most `limit` of them (blank or 0:
/// all).
pub fn range_request(key: &str, range: &str, limit: &str) -> Result<leaselab::mvcc::RangeRequest, String> {
    let end = if range == "from" { "\0".to_string() } else { leaselab::watch::prefix_range_end(key) };
    let t = limit.trim();
    let limit = if t.is_empty() {
        0
    } else {
        t.parse::<usize>().map_err(|_| format!("“{t}” is not a limit: a whole number of keys, or blank for all"))?
    };
    Ok(leaselab::mvcc::RangeRequest { key: key.to_string(), end, limit, ..Default::default() })
}

/// Parses the key lease id of a grant: blank or 0 asks the node to assign one, as etcd's
/// server does.
pub fn parse_grant_id(text: &str) -> Result<Option<leaselab::KeyLeaseId>, String> {
    match text.trim() {
        "" | "0" => Ok(None),
        t => parse_key_lease_id(t).map(Some),
    }
}

/// A plain decimal as people type it ("12", "-0.5", "3.", ".25"): an optional sign, digits and
/// an optional fraction, 15 digits at most; no exponent, no "inf" or "NaN". Written here rather
/// than with `str::parse::<f64>`, whose general algorithm the page otherwise never needs and
/// which costs its wasm ≈5 KB.
pub fn parse_decimal(text: &str) -> Option<f64> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    let digits = || whole.bytes().chain(fraction.bytes());
    if digits().next().is_none() || digits().count() > 15 || !digits().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let scaled = digits().fold(0u64, |v, b| v * 10 + u64::from(b - b'0'));
    // Exact integers below 2^53 divided by an exact power of ten: correctly rounded.
    let value = scaled as f64 / 10f64.powi(fraction.len() as i32);
    Some(if negative { -value } else { value })
}

/// Parses the clock jump Δ typed in milliseconds (fractions allowed) into microseconds: more
/// than 0 and at most an hour (the simulation's own limit, `CLOCK_JUMP_US_MAX`).
pub fn parse_jump_us(text: &str) -> Result<i64, String> {
    let t = text.trim();
    match parse_decimal(t).ok_or(()) {
        Ok(ms) if ms >= 0.001 && ms * 1_000.0 <= leaselab::command::CLOCK_JUMP_US_MAX as f64 => {
            Ok((ms * 1_000.0).round() as i64)
        }
        _ => Err(format!("“{t}” is not a clock jump: use milliseconds, 0.001 to 3600000")),
    }
}

/// Parses a key lease id typed by a user: a whole number from 1 (0 is etcd's "no key lease").
pub fn parse_key_lease_id(text: &str) -> Result<leaselab::KeyLeaseId, String> {
    text.trim()
        .parse::<u64>()
        .ok()
        .and_then(leaselab::KeyLeaseId::new)
        .ok_or_else(|| format!("{:?}: a key lease id is a whole number from 1 to 18446744073709551615", text.trim()))
}

/// Parses a seed typed by a user: decimal or 0x-prefixed hex.
pub fn parse_seed(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => t.parse::<u64>(),
    };
    parsed.map_err(|_| format!("“{t}” is not a seed: use a whole number 0–18446744073709551615"))
}

/// `n` of `noun` in English: "1 recorded command", "3 recorded commands".
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Formats simulated time as seconds with millisecond precision.
pub fn format_time(t: SimTime) -> String {
    format!("{}.{:03} s", t.as_ms() / 1_000, t.as_ms() % 1_000)
}

/// A tour question's reveal: the audience's guess (if they gave one) against what `op` did
/// (`None` while it is still in flight or unchecked: the guess stays in view meanwhile).
pub fn prediction_text(op: leaselab::OpId, guess: Option<&str>, actual: Option<&str>) -> String {
    match (actual, guess) {
        (Some(a), Some(g)) if a == g => format!("✓ You predicted {g}: right."),
        (Some(a), Some(g)) => format!("✗ You predicted {g}; it was {a}."),
        (Some(a), None) => format!("Answer: {a}."),
        (None, Some(g)) => format!("You predicted {g}; {op} has not finished yet…"),
        (None, None) => format!("{op} has not finished yet…"),
    }
}

#[cfg(test)]
mod judged_history_tests {
    use super::*;

    #[test]
    fn an_outside_history_is_judged_and_its_counterexample_marked() {
        let stale = "{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :ok, :f :write, :value 1}\n\
                     {:process 0, :type :invoke, :f :write, :value 2}\n{:process 0, :type :ok, :f :write, :value 2}\n\
                     {:process 1, :type :invoke, :f :read, :value nil}\n{:process 1, :type :ok, :f :read, :value 1}";
        let judged = judge_history(stale).expect("a history");
        assert_eq!(judged.verdict, JudgedVerdict::NotLinearizable);
        assert_eq!(judged.headline(), "not linearizable: 3 operations on 1 key");
        assert!(judged.detail.contains("no order can place"));
        assert!(judged.ops.iter().any(|(text, named)| *named && text.contains("read → 1")), "{:?}", judged.ops);
        let fine = "{\"process\": 0, \"type\": \"invoke\", \"f\": \"write\", \"value\": 1}\n\
                    {\"process\": 0, \"type\": \"ok\", \"f\": \"write\", \"value\": 1}";
        assert_eq!(judge_history(fine).map(|j| j.verdict), Some(JudgedVerdict::Linearizable));
        // A run exported by the page is not a history: it goes to the run importer.
        assert_eq!(judge_history("{\n  \"version\": 1\n}"), None);
        assert_eq!(judge_history("{}"), None);
    }
}

#[cfg(test)]
mod tests {
    /// The ring marks a message dropped in the last 400 ms on its link: past the middle if it
    /// was lost in flight, near its sender if lost as it was sent; older drops and delivered
    /// messages get no mark.
    #[test]
    fn the_ring_marks_messages_just_dropped() {
        use super::{drop_marks, px, ring_position};
        use leaselab::spacetime::{Arrow, SpaceTime};
        use leaselab::{MsgKind, NodeId, SimTime};
        let arrow = |sent: u64, end: u64, dropped: bool| Arrow {
            id: sent,
            from: NodeId(1),
            to: NodeId(2),
            kind: MsgKind::Heartbeat,
            sent: SimTime(sent),
            end: SimTime(end),
            dropped,
        };
        let mut d = SpaceTime { to: SimTime(1_000_000), nodes: 3, ..SpaceTime::default() };
        d.arrows = vec![arrow(500_000, 550_000, true), arrow(800_000, 800_000, true), arrow(900_000, 950_000, true)];
        d.arrows.push(arrow(950_000, 960_000, false));
        let (p, q) = (ring_position(0, 3), ring_position(1, 3));
        let cross =
            |f: f64| format!("M{} {}l7 7m0-7l-7 7", px(p.0 + (q.0 - p.0) * f - 3.5), px(p.1 + (q.1 - p.1) * f - 3.5));
        assert_eq!(drop_marks(&d), format!("{}{}", cross(0.6), cross(0.3)));
        d.arrows.clear();
        assert_eq!(drop_marks(&d), "");
    }

    #[test]
    fn the_watch_form_builds_key_prefix_and_open_ended_watches() {
        use super::watch_request;
        let key = watch_request("x", "key", "", false, true).unwrap();
        assert_eq!((key.end.as_str(), key.start_revision, key.require_leader), ("", 0, true));
        assert_eq!(watch_request("k/", "prefix", " 4 ", true, false).unwrap().end, "k0");
        assert_eq!(watch_request("a", "from", "", false, false).unwrap().end, "\0");
        assert!(watch_request("x", "key", "soon", false, false).unwrap_err().contains("not a revision"));
    }

    #[test]
    fn a_promotion_says_how_many_expiries_it_spread() {
        use leaselab::lessor::Promotion;
        let p = Promotion { at: leaselab::LocalTime(2_000_000), key_leases: 1_500, spread: 750, max_delay_ms: 1_000 };
        let text = super::promotion_text(&p);
        assert!(
            text.contains("1500 key leases got a fresh expiry")
                && text.contains("750 expiries spread up to 1.0 s later"),
            "{text}"
        );
        let few = super::promotion_text(&Promotion { spread: 0, key_leases: 1, ..p });
        assert!(few.contains("1 key lease got") && few.contains("none spread (only from 1000 key leases on)"), "{few}");
    }

    #[test]
    fn the_range_row_builds_prefix_and_open_ended_ranges_with_a_limit() {
        use super::range_request;
        let prefix = range_request("k/", "prefix", "").unwrap();
        assert_eq!((prefix.end.as_str(), prefix.limit), ("k0", 0));
        assert_eq!(range_request("a", "from", " 3 ").unwrap().end, "\0");
        assert_eq!(range_request("a", "from", "3").unwrap().limit, 3);
        assert!(range_request("a", "prefix", "-1").unwrap_err().contains("not a limit"));
    }

    #[test]
    fn a_key_lease_id_is_a_whole_number_from_one() {
        use super::parse_key_lease_id;
        assert_eq!(parse_key_lease_id(" 7 ").map(leaselab::KeyLeaseId::get), Ok(7));
        assert!(parse_key_lease_id("0").unwrap_err().contains("from 1"));
        assert!(parse_key_lease_id("-3").is_err() && parse_key_lease_id("x").is_err());
    }

    #[test]
    fn a_prediction_is_judged_once_its_operation_is() {
        use super::prediction_text;
        use leaselab::OpId;
        let op = OpId(7);
        assert_eq!(prediction_text(op, Some("stale"), Some("stale")), "✓ You predicted stale: right.");
        assert_eq!(prediction_text(op, Some("stale"), Some("not stale")), "✗ You predicted stale; it was not stale.");
        assert_eq!(prediction_text(op, None, Some("forwarded")), "Answer: forwarded.");
        assert_eq!(prediction_text(op, Some("ReadIndex"), None), "You predicted ReadIndex; op7 has not finished yet…");
        assert_eq!(prediction_text(op, None, None), "op7 has not finished yet…");
    }

    #[test]
    fn shortcuts_work_unless_typing_and_only_close_an_open_help() {
        use super::{shortcut_for, Shortcut};
        assert!(matches!(shortcut_for(" ", false, false, true), Some(Shortcut::TogglePlay)));
        assert!(shortcut_for("n", true, false, true).is_none(), "typing a key name in a field");
        assert!(shortcut_for("n", false, true, true).is_none(), "time stands still behind the help");
        assert!(matches!(shortcut_for("Escape", false, true, true), Some(Shortcut::CloseHelp)));
        assert!(matches!(shortcut_for("?", false, true, true), Some(Shortcut::ToggleHelp)));
        assert!(shortcut_for("x", false, false, true).is_none());
        assert!(shortcut_for(" ", false, false, false).is_none(), "single-key shortcuts turned off");
        assert!(matches!(shortcut_for("Escape", false, true, false), Some(Shortcut::CloseHelp)));
        assert!(matches!(shortcut_for("p", false, false, true), Some(Shortcut::Projector)));
    }

    #[test]
    fn the_election_timeout_must_outlast_the_heartbeat() {
        let mut c = leaselab::ClusterConfig::default();
        assert!(super::check_timings(&c).is_ok());
        c.heartbeat_ticks = 20;
        let e = super::check_timings(&c).unwrap_err();
        assert_eq!(e, "election timeout (10 ticks) must be longer than the heartbeat (20 ticks)");
    }

    #[test]
    fn plural_counts_in_english() {
        assert_eq!(super::plural(1, "recorded command"), "1 recorded command");
        assert_eq!(super::plural(0, "recorded command"), "0 recorded commands");
        assert_eq!(super::plural(12, "op"), "12 ops");
    }

    use super::*;

    #[test]
    fn the_txn_form_builds_a_transaction_or_says_what_is_wrong() {
        let form = TxnForm::example();
        let (compares, success, failure) = build_txn(&form).unwrap();
        assert_eq!(compares[0].target, CompareTarget::Value);
        assert_eq!(success, vec![TxnOp::Put { key: "x".into(), value: "2".into(), key_lease: None }]);
        assert!(matches!(&failure[..], [TxnOp::Range(r)] if r.key == "x"));
        let numeric = TxnForm { target: "version".into(), operand: "one".into(), ..form.clone() };
        assert!(build_txn(&numeric).unwrap_err().contains("whole number"));
        let no_key = TxnForm { key: "".into(), ..form.clone() };
        assert!(build_txn(&no_key).unwrap_err().starts_with("if:"));
        let nothing = TxnForm { then_kind: "".into(), ..form.clone() };
        assert!(build_txn(&nothing).unwrap_err().starts_with("then:"));
        let no_else = TxnForm { else_kind: "".into(), ..form };
        assert!(build_txn(&no_else).unwrap().2.is_empty());
    }

    #[test]
    fn clock_rate_slider_steps_cover_the_allowed_drift_range() {
        assert_eq!(RATE_STEPS[rate_step_index(1_000_000)], 1_000_000);
        assert_eq!(RATE_STEPS[rate_step_index(810_000)], 800_000);
        assert_eq!(RATE_STEPS[0], 100_000);
        assert_eq!(*RATE_STEPS.last().unwrap(), 10_000_000);
        assert!(RATE_STEPS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(rate_label(800_000), "0.8×");
        assert_eq!(rate_label(1_000_000), "1×");
        assert_eq!(rate_label(1_250_000), "1.25×");
    }

    #[test]
    fn link_clicks_cut_and_heal_the_right_directions() {
        let (a, b) = (NodeId(1), NodeId(2));
        assert_eq!(link_click(a, b, false, false, false, false), vec![(a, b, true), (b, a, true)]);
        assert_eq!(link_click(a, b, true, false, false, false), vec![(a, b, false), (b, a, false)]);
        assert_eq!(link_click(a, b, false, false, true, false), vec![(a, b, true)]);
        assert_eq!(link_click(a, b, true, true, true, false), vec![(a, b, false)]);
        assert_eq!(link_click(a, b, false, false, false, true), vec![(b, a, true)]);
    }

    #[test]
    fn number_settings_round_trip_and_refuse_bad_text() {
        let config = ClusterConfig::default();
        for s in &NUMBER_SETTINGS {
            let mut c = ClusterConfig::default();
            s.apply(&mut c, &(s.show)(&config)).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(c, config, "{} does not round-trip", s.id);
            for bad in ["", "abc", "-1", "1e99", "1e3", "NaN", "inf"] {
                let err = s.apply(&mut c, bad).unwrap_err();
                assert!(err.starts_with(s.label), "{err}");
                assert_eq!(c, config, "a refused value changed the config");
            }
        }
        let mut c = ClusterConfig::default();
        NUMBER_SETTINGS[5].apply(&mut c, "2.5").unwrap();
        assert_eq!(c.network.drop_ppm, 25_000);
        assert!(NUMBER_SETTINGS[0].apply(&mut c, "2.5").unwrap_err().contains("whole number"));
        // The page states the core's range itself: 7 ms and 0 ms get the same rule.
        let checkpoint = NUMBER_SETTINGS.iter().find(|s| s.id == "checkpoint-interval").unwrap();
        for bad in ["7", "0"] {
            assert!(checkpoint.apply(&mut c, bad).unwrap_err().ends_with("from 100 to 3600000 ms"), "{bad}");
        }
    }

    #[test]
    fn ring_puts_the_first_node_on_top_and_keeps_the_radius() {
        let (x, y) = ring_position(0, 3);
        assert!((x - VIEW_SIZE / 2.0).abs() < 1e-9 && y < VIEW_SIZE / 2.0);
        for i in 0..7 {
            let (x, y) = ring_position(i, 7);
            let r = ((x - 210.0).powi(2) + (y - 210.0).powi(2)).sqrt();
            assert!((r - 150.0).abs() < 1e-9);
        }
        assert_eq!(ring_position(0, 1), (210.0, 210.0));
        // The table of steps agrees with the trigonometry it replaces, for every size.
        for count in 2..=7 {
            for i in 0..count {
                let angle = -std::f64::consts::FRAC_PI_2 + std::f64::consts::TAU * i as f64 / count as f64;
                let (x, y) = ring_position(i, count);
                assert!((x - (210.0 + 150.0 * angle.cos())).abs() < 1e-9, "{i} of {count}");
                assert!((y - (210.0 + 150.0 * angle.sin())).abs() < 1e-9, "{i} of {count}");
            }
        }
    }

    #[test]
    fn speeds_read_like_the_speed_menu() {
        assert_eq!(speed_label(38.4), "38×");
        assert_eq!(speed_label(3.44), "3.4×");
        assert_eq!(speed_label(0.123), "0.12×");
    }

    #[test]
    fn messages_move_from_sender_to_receiver() {
        let at =
            |now, still| message_position((0.0, 0.0), (10.0, 20.0), (SimTime(100), SimTime(200)), SimTime(now), still);
        assert_eq!(at(100, false), (0.0, 0.0));
        assert_eq!(at(150, false), (5.0, 10.0));
        assert_eq!(at(900, false), (10.0, 20.0));
        // With reduced motion a message stays at the middle of its link while in flight.
        for now in [100, 130, 199] {
            assert_eq!(at(now, true), (5.0, 10.0));
        }
    }

    #[test]
    fn frames_are_clamped_and_scaled() {
        assert_eq!(simulated_us(16.0, 1.0), 16_000);
        assert_eq!(simulated_us(16.0, 0.25), 4_000);
        assert_eq!(simulated_us(5_000.0, 1.0), 100_000, "a long stall counts as one 100 ms frame");
        assert_eq!(simulated_us(-3.0, 1.0), 0);
    }

    #[test]
    fn lease_ring_and_label_follow_the_local_clock() {
        assert_eq!(leader_lease_fraction_left(LocalTime(0), LocalTime(100_000), 200_000), 0.5);
        assert_eq!(leader_lease_fraction_left(LocalTime(300_000), LocalTime(100_000), 200_000), 0.0);
        let stats = LeaderLeaseStats {
            enabled: true,
            config_reason: String::new(),
            valid: true,
            expire_at: Some(LocalTime(150_000)),
            renew_count: 1,
            last_reason: String::new(),
            duration_us: 200_000,
            suspect: None,
        };
        assert_eq!(leader_lease_label(Some(Role::Leader), LocalTime(100_000), Some(&stats)), "valid, 50 ms left");
        assert_eq!(leader_lease_label(Some(Role::Leader), LocalTime(150_000), Some(&stats)), "expired");
        assert_eq!(leader_lease_label(Some(Role::Follower), LocalTime(0), Some(&stats)), "—");
        let suspect = LeaderLeaseStats { suspect: Some("transfer pending".into()), ..stats.clone() };
        assert_eq!(leader_lease_label(Some(Role::Leader), LocalTime(100_000), Some(&suspect)), "suspect: transfer");
        let fresh = LeaderLeaseStats { expire_at: None, ..stats };
        assert_eq!(leader_lease_label(Some(Role::Leader), LocalTime(0), Some(&fresh)), "none yet");
        let no_room = LeaderLeaseStats { duration_us: 0, ..fresh };
        assert_eq!(leader_lease_label(Some(Role::Leader), LocalTime(0), Some(&no_room)), "none: bound ≥ leader lease");
    }

    #[test]
    fn keys_map_to_shortcuts_and_others_are_ignored() {
        assert_eq!(shortcut(" "), Some(Shortcut::TogglePlay));
        assert_eq!(shortcut("."), Some(Shortcut::Step));
        assert_eq!(shortcut("="), Some(Shortcut::Faster));
        assert_eq!(shortcut("?"), Some(Shortcut::ToggleHelp));
        assert_eq!(shortcut("x"), None);
    }

    #[test]
    fn ttls_parse_in_seconds() {
        assert_eq!(parse_ttl_s(" 5 "), Ok(5));
        assert_eq!(parse_ttl_s("0"), Ok(0), "raised to the minimum when it applies, as etcd does");
        assert!(parse_ttl_s("1.5").unwrap_err().contains("whole seconds"));
        assert!(parse_ttl_s("-1").is_err() && parse_ttl_s("soon").is_err());
        assert_eq!(parse_grant_id(""), Ok(None), "blank: the node assigns one");
        assert_eq!(parse_grant_id("0"), Ok(None));
        assert_eq!(parse_grant_id("7").map(|id| id.map(leaselab::KeyLeaseId::get)), Ok(Some(7)));
    }

    #[test]
    fn decimals_parse_as_people_type_them_and_as_rust_does() {
        for (text, value) in [("12", 12.0), ("-0.5", -0.5), ("3.", 3.0), (".25", 0.25), ("+7.125", 7.125), ("0.1", 0.1)]
        {
            assert_eq!(parse_decimal(text), Some(value), "{text}");
            assert_eq!(parse_decimal(text), text.parse::<f64>().ok(), "{text}");
        }
        for bad in ["", ".", "-", "1e3", "inf", "NaN", "1.2.3", "1,5", "1234567890123456", " 1"] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn clock_jumps_parse_in_milliseconds_up_to_an_hour() {
        assert_eq!(parse_jump_us(" 500 "), Ok(500_000));
        assert_eq!(parse_jump_us("0.25"), Ok(250));
        assert_eq!(parse_jump_us("3600000"), Ok(leaselab::command::CLOCK_JUMP_US_MAX));
        for bad in ["0", "-5", "3600001", "NaN", "inf", "soon", ""] {
            assert!(parse_jump_us(bad).unwrap_err().contains("not a clock jump"), "{bad:?}");
        }
    }

    #[test]
    fn drift_bounds_parse_and_explain_errors() {
        assert_eq!(parse_bound_ms("100"), Ok(100));
        assert!(parse_bound_ms("-5").is_err());
        assert!(parse_bound_ms("70000").unwrap_err().contains("not a drift bound"));
    }

    #[test]
    fn seeds_parse_in_decimal_and_hex_and_explain_errors() {
        assert_eq!(parse_seed(" 42 "), Ok(42));
        assert_eq!(parse_seed("0xff"), Ok(255));
        assert!(parse_seed("abc").unwrap_err().contains("not a seed"));
        assert!(parse_seed("-1").is_err());
    }
}

/// An outside history (a Jepsen log or EDN maps, or JSON lines) judged by the model checker,
/// as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JudgedHistory {
    pub verdict: JudgedVerdict,
    /// What was checked: "3 operations on 1 key".
    pub checked: String,
    /// The counterexample or the reason there is no verdict (empty when linearizable).
    pub detail: String,
    /// Each operation in words, and whether the counterexample names it.
    pub ops: Vec<(String, bool)>,
}

/// The model checker's answer on an outside history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JudgedVerdict {
    Linearizable,
    NotLinearizable,
    /// The search stopped at a limit: no verdict.
    Unknown,
}

impl JudgedVerdict {
    pub fn label(self) -> &'static str {
        match self {
            JudgedVerdict::Linearizable => "linearizable",
            JudgedVerdict::NotLinearizable => "not linearizable",
            JudgedVerdict::Unknown => "unknown",
        }
    }
}

impl JudgedHistory {
    /// The verdict and what it covers, as the panel heads it.
    pub fn headline(&self) -> String {
        format!("{}: {}", self.verdict.label(), self.checked)
    }
}

/// Operations listed on the page (the verdict covers them all).
pub const JUDGED_OPS_SHOWN_MAX: usize = 200;

/// Judges `text` if it is a history from outside; `None` if it is not one (it may be a run).
pub fn judge_history(text: &str) -> Option<JudgedHistory> {
    use leaselab::checker::{external, model};
    let ops = external::parse(text).ok()?;
    let report = model::check(&ops, model::Limits::default());
    let outcome = report.outcome();
    let (verdict, detail, named): (JudgedVerdict, String, Vec<usize>) = match outcome {
        model::Outcome::Linearizable => (JudgedVerdict::Linearizable, String::new(), vec![]),
        model::Outcome::NotLinearizable(c) => (
            JudgedVerdict::NotLinearizable,
            c.describe(&ops),
            std::iter::once(c.stuck).chain(c.overlapping.iter().copied()).collect(),
        ),
        model::Outcome::Unknown { reason } => (JudgedVerdict::Unknown, reason.clone(), vec![]),
    };
    let checked = format!("{} on {}", plural(ops.len(), "operation"), plural(report.keys.len(), "key"));
    let shown = ops.iter().enumerate().take(JUDGED_OPS_SHOWN_MAX);
    Some(JudgedHistory {
        verdict,
        checked,
        detail,
        ops: shown.map(|(i, o)| (format!("#{} {}", o.id, o.describe()), named.contains(&i))).collect(),
    })
}
