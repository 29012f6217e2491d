//! What a screen reader hears as operations finish: each answer, and for a read the path that
//! served it. (A new leader is announced by the node table's heading, a caught stale read by
//! its own alert, a tour step by the tour panel.) A busy run completes dozens of operations a second, so announcements are
//! batched: what happened within [`BATCH_MS`] is read out as one short message — the first
//! few in full, then how many more — instead of a flood that the screen reader would queue for
//! minutes.

use leaselab::{Event, Sim};

/// How long announcements gather before they are read out together.
pub const BATCH_MS: u32 = 2_000;

/// How many announcements of a batch are read out in full.
pub const SPOKEN_MAX: usize = 3;

/// Announcements waiting for the batch to close: the first [`SPOKEN_MAX`] and a count of the
/// rest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    lines: Vec<String>,
    more: usize,
}

impl Batch {
    pub fn push(&mut self, line: String) {
        if self.lines.len() < SPOKEN_MAX {
            self.lines.push(line);
        } else {
            self.more += 1;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Adds what `events` announce, writing out only those that will be read in full (a
    /// replay can bring thousands at once).
    pub fn absorb<'a>(&mut self, sim: &Sim, events: impl Iterator<Item = &'a Event>) {
        for event in events {
            if self.lines.len() < SPOKEN_MAX {
                if let Some(line) = announcement(sim, event) {
                    self.lines.push(line);
                }
            } else if announced(event) {
                self.more += 1;
            }
        }
    }

    /// The message read out for the batch; empty for an empty batch.
    pub fn text(&self) -> String {
        let mut text = self.lines.join(". ");
        if self.more > 0 {
            text.push_str(&format!(". And {} more", self.more));
        }
        if !text.is_empty() {
            text.push('.');
        }
        text
    }
}

/// Whether [`announcement`] has something to say about `event`, without writing it.
fn announced(event: &Event) -> bool {
    matches!(event, Event::OpCompleted { outcome, .. } if !matches!(outcome, leaselab::OpOutcome::Pending))
}

/// What is worth saying about one event of the run, if anything: an operation's answer (a read
/// with its path).
pub fn announcement(sim: &Sim, event: &Event) -> Option<String> {
    match event {
        Event::OpCompleted { op, node, outcome } => {
            let record = sim.history().get(*op)?;
            let how = match (outcome, record.trace.as_ref().and_then(|t| t.path)) {
                (leaselab::OpOutcome::Ok { .. }, Some(path)) => format!("answered by {}", path.label()),
                (leaselab::OpOutcome::Ok { .. }, None) => "done".to_string(),
                (leaselab::OpOutcome::Failed { .. }, _) => "failed".to_string(),
                (leaselab::OpOutcome::Indeterminate { .. }, _) => "outcome unknown".to_string(),
                (leaselab::OpOutcome::Pending, _) => return None,
            };
            Some(format!("{op} {} at {node}: {how}", record.kind.summary()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_reads_out_the_first_few_and_counts_the_rest() {
        let mut b = Batch::default();
        assert!(b.is_empty());
        assert_eq!(b.text(), "");
        b.push("n1 is the leader of term 2".into());
        assert_eq!(b.text(), "n1 is the leader of term 2.");
        for i in 0..6 {
            b.push(format!("op{i} get x at n1: answered by lease read"));
        }
        assert_eq!(
            b.text(),
            "n1 is the leader of term 2. op0 get x at n1: answered by lease read. op1 get x at n1: answered by lease read. And 4 more."
        );
    }

    #[test]
    fn a_run_announces_each_answer_with_its_path() {
        let mut sim = Sim::new(1, leaselab::ClusterConfig::default()).expect("a cluster");
        sim.run_until(leaselab::SimTime(2_000_000));
        let leader = sim.leader().expect("a leader within two seconds");
        assert_eq!(sim.events_since(0).filter_map(|e| announcement(&sim, &e.event)).count(), 0, "no operation yet");
        let from = sim.trace().len();
        for _ in 0..5 {
            sim.apply(leaselab::Command::read(leader, "x", leaselab::ReadMode::Linearizable)).expect("a read");
        }
        sim.run_until(leaselab::SimTime(2_500_000));
        let said: Vec<String> = sim.events_since(from).filter_map(|e| announcement(&sim, &e.event)).collect();
        assert_eq!(said.len(), 5, "{said:?}");
        assert!(said.iter().all(|s| s.contains(&format!("at {leader}: answered by "))), "{said:?}");
        let mut batch = Batch::default();
        batch.absorb(&sim, sim.events_since(0).map(|e| &e.event));
        let all = sim.events_since(0).filter(|e| announced(&e.event)).count();
        assert!(all > SPOKEN_MAX);
        assert!(batch.text().ends_with(&format!("And {} more.", all - SPOKEN_MAX)), "{}", batch.text());
    }
}
