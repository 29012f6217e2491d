//! Page logic that needs no DOM: layout geometry, time scaling, labels. Tested natively.

use leaselab::leader_lease::LeaderLeaseStats;
use leaselab::{ClusterConfig, LocalTime, MsgKind, ReadPath, Role, SimTime};

/// The SVG canvas of the cluster view is `VIEW_SIZE × VIEW_SIZE` user units.
pub const VIEW_SIZE: f64 = 420.0;
const RING_RADIUS: f64 = 150.0;

/// Centre of node `index` (0-based) of `count`, on a ring starting at the top, clockwise.
pub fn ring_position(index: usize, count: usize) -> (f64, f64) {
    let c = VIEW_SIZE / 2.0;
    if count == 1 {
        return (c, c);
    }
    let angle = -std::f64::consts::FRAC_PI_2 + std::f64::consts::TAU * index as f64 / count as f64;
    (c + RING_RADIUS * angle.cos(), c + RING_RADIUS * angle.sin())
}

/// Where a message is drawn at `now`: linear interpolation along its link.
pub fn message_position(
    from: (f64, f64),
    to: (f64, f64),
    sent_at: SimTime,
    deliver_at: SimTime,
    now: SimTime,
) -> (f64, f64) {
    let span = deliver_at.saturating_sub(sent_at).max(1) as f64;
    let t = (now.saturating_sub(sent_at) as f64 / span).clamp(0.0, 1.0);
    (from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t)
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

/// CSS class for a message dot, by the family of its type.
pub fn message_class(kind: MsgKind) -> &'static str {
    match kind {
        MsgKind::Append | MsgKind::AppendResp | MsgKind::Snapshot | MsgKind::Propose => "msg append",
        MsgKind::Heartbeat | MsgKind::HeartbeatResp => "msg heartbeat",
        MsgKind::Vote | MsgKind::VoteResp | MsgKind::PreVote | MsgKind::PreVoteResp => "msg vote",
        MsgKind::ReadIndex | MsgKind::ReadIndexResp => "msg readindex",
        MsgKind::TimeoutNow | MsgKind::Other => "msg other",
    }
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
}

/// The keyboard map (shown in the help overlay).
pub const SHORTCUTS: [(&str, &str); 7] = [
    ("space", "play / pause"),
    ("s or .", "handle the next event"),
    ("n", "advance 100 ms"),
    ("+", "faster"),
    ("-", "slower"),
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
        "?" => Some(Shortcut::ToggleHelp),
        "Escape" => Some(Shortcut::CloseHelp),
        _ => None,
    }
}

/// Clock rates offered per node, as (parts per million, label).
pub const RATES: [(u32, &str); 7] = [
    (500_000, "0.5×"),
    (800_000, "0.8×"),
    (900_000, "0.9×"),
    (1_000_000, "1×"),
    (1_100_000, "1.1×"),
    (1_250_000, "1.25×"),
    (2_000_000, "2×"),
];

/// CSS class of a read-path badge.
pub fn path_class(path: ReadPath) -> &'static str {
    match path {
        ReadPath::LeaseRead => "lease",
        ReadPath::RaftLeaseBased => "leasebased",
        ReadPath::ReadIndex | ReadPath::SingleVoter => "readindex",
        ReadPath::ForwardedReadIndex => "forwarded",
        ReadPath::Serializable => "serializable",
    }
}

/// Fraction of the leader lease left at local time `now` (0..=1).
pub fn lease_fraction_left(now: LocalTime, expire: LocalTime, duration_us: i64) -> f64 {
    if duration_us <= 0 {
        return 0.0;
    }
    ((expire.0 - now.0) as f64 / duration_us as f64).clamp(0.0, 1.0)
}

/// The node table's leader-lease cell.
pub fn lease_label(role: Option<Role>, now: LocalTime, stats: Option<&LeaderLeaseStats>) -> String {
    match (role, stats) {
        (None, _) | (_, None) => "—".to_string(),
        (Some(Role::Leader), Some(s)) if !s.enabled => "disabled".to_string(),
        (Some(Role::Leader), Some(s)) => match s.expire_at {
            Some(e) if now < e => format!("valid, {:.0} ms left", (e.0 - now.0) as f64 / 1_000.0),
            Some(_) => "expired".to_string(),
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
        let value = t.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= self.min && *v <= self.max);
        match value {
            Some(v) if self.fractional || v.fract() == 0.0 => {
                (self.set)(config, v);
                Ok(())
            }
            _ => Err(format!(
                "{}: “{t}” is not valid; use {} from {} to {} {}",
                self.label,
                if self.fractional { "a number" } else { "a whole number" },
                self.min,
                self.max,
                self.unit
            )),
        }
    }
}

fn ms_of_us(us: u32) -> String {
    format!("{}", f64::from(us) / 1_000.0)
}

fn percent_of_ppm(ppm: u32) -> String {
    format!("{}", f64::from(ppm) / 10_000.0)
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
        min: 1.0,
        max: 3_600_000.0,
        fractional: false,
    },
];

/// Parses a key lease TTL typed in seconds (fractions allowed) into milliseconds.
pub fn parse_ttl_ms(text: &str) -> Result<i64, String> {
    let t = text.trim();
    match t.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 9e9 => Ok((s * 1_000.0).round() as i64),
        _ => Err(format!("“{t}” is not a TTL: use seconds, more than 0")),
    }
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

/// Formats simulated time as seconds with millisecond precision.
pub fn format_time(t: SimTime) -> String {
    format!("{}.{:03} s", t.as_ms() / 1_000, t.as_ms() % 1_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_settings_round_trip_and_refuse_bad_text() {
        let config = ClusterConfig::default();
        for s in &NUMBER_SETTINGS {
            let mut c = ClusterConfig::default();
            s.apply(&mut c, &(s.show)(&config)).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(c, config, "{} does not round-trip", s.id);
            for bad in ["", "abc", "-1", "1e99", "NaN"] {
                let err = s.apply(&mut c, bad).unwrap_err();
                assert!(err.starts_with(s.label), "{err}");
                assert_eq!(c, config, "a refused value changed the config");
            }
        }
        let mut c = ClusterConfig::default();
        NUMBER_SETTINGS[5].apply(&mut c, "2.5").unwrap();
        assert_eq!(c.network.drop_ppm, 25_000);
        assert!(NUMBER_SETTINGS[0].apply(&mut c, "2.5").unwrap_err().contains("whole number"));
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
    }

    #[test]
    fn messages_move_from_sender_to_receiver() {
        let p = |now| message_position((0.0, 0.0), (10.0, 20.0), SimTime(100), SimTime(200), SimTime(now));
        assert_eq!(p(100), (0.0, 0.0));
        assert_eq!(p(150), (5.0, 10.0));
        assert_eq!(p(900), (10.0, 20.0));
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
        assert_eq!(lease_fraction_left(LocalTime(0), LocalTime(100_000), 200_000), 0.5);
        assert_eq!(lease_fraction_left(LocalTime(300_000), LocalTime(100_000), 200_000), 0.0);
        let stats = LeaderLeaseStats {
            enabled: true,
            config_reason: String::new(),
            valid: true,
            expire_at: Some(LocalTime(150_000)),
            renew_count: 1,
            last_reason: String::new(),
            duration_us: 200_000,
        };
        assert_eq!(lease_label(Some(Role::Leader), LocalTime(100_000), Some(&stats)), "valid, 50 ms left");
        assert_eq!(lease_label(Some(Role::Leader), LocalTime(150_000), Some(&stats)), "expired");
        assert_eq!(lease_label(Some(Role::Follower), LocalTime(0), Some(&stats)), "—");
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
        assert_eq!(parse_ttl_ms("5"), Ok(5_000));
        assert_eq!(parse_ttl_ms("1.5"), Ok(1_500));
        assert!(parse_ttl_ms("0").is_err());
        assert!(parse_ttl_ms("soon").unwrap_err().contains("not a TTL"));
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
