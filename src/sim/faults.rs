//! Faults and process control: the network (partitions, cuts, link settings), clocks
//! (jumps, rates), processes (pause, resume, crash, restart) and the background load's rate.

use super::agenda::Due;
use super::Sim;
use crate::command::Command;
use crate::event::Event;

impl Sim {
    /// A leadership transfer needs a running leader to hand over from, and someone else to
    /// hand to (the simulator sends it to the leader, as etcd's move-leader is served by it).
    pub(super) fn check_transfer(&self, to: crate::types::NodeId) -> Result<(), crate::error::CommandError> {
        let refuse = |why: String| Err(crate::error::CommandError::Invalid(crate::error::ConfigError::new("to", why)));
        match self.leader() {
            None => refuse("there is no leader to hand leadership over".to_string()),
            Some(l) if l == to => refuse(format!("{to} already leads")),
            Some(l) if self.machine(l).paused => refuse(format!("the leader {l} is paused and cannot hand over")),
            Some(_) if self.node(to).is_crashed() => refuse(format!("{to} is crashed; restart it first")),
            Some(_) => Ok(()),
        }
    }

    /// Carries out a command that is not a client operation.
    pub(super) fn execute_fault(&mut self, command: Command) {
        match command {
            Command::Partition { groups } => self.world.partition(&groups),
            Command::Isolate { node } => self.world.isolate(node),
            Command::CutLink { from, to } => self.world.network.set_cut(from, to, true),
            Command::HealLink { from, to } => self.world.network.set_cut(from, to, false),
            Command::HealAll => self.world.network.heal_all(),
            Command::SetLink { from, to, link } => self.world.network.link_mut(from, to).config = link,
            Command::SetNetwork { link } => {
                self.world.network.set_all_configs(&link);
                self.config.network = link;
            }
            Command::SetWorkload { ops_per_sec } => {
                if let Some(gap_us) = self.workload.set_rate(ops_per_sec) {
                    self.agenda.push(self.now.plus_us(gap_us), Due::Workload(self.workload.generation));
                }
            }
            Command::JumpClock { node, delta_us } => {
                self.world.machines[node.index()].clock.jump(self.now, delta_us);
                // A ticker re-arms relative to the new reading rather than firing a burst.
                self.rearm_tick(node);
            }
            Command::SetClockRate { node, rate_ppm } => {
                let machine = &mut self.world.machines[node.index()];
                machine.clock.set_rate(self.now, rate_ppm);
                let target = machine.next_tick_local;
                self.schedule_tick(node, target);
            }
            Command::Pause { node } => {
                let machine = &mut self.world.machines[node.index()];
                if !machine.paused {
                    machine.paused = true;
                    machine.tick_generation += 1;
                    self.emit(Event::NodePaused { node });
                }
            }
            Command::Resume { node } => {
                if self.machine(node).paused {
                    self.world.machines[node.index()].paused = false;
                    let queued = self.machine(node).inbox.len();
                    self.emit(Event::NodeResumed { node, queued });
                    while let Some(input) = self.world.machines[node.index()].inbox.pop_front() {
                        self.handle_inbound(node, input);
                    }
                    self.rearm_tick(node);
                }
            }
            Command::Crash { node } => {
                self.world.nodes[node.index()].crash();
                let machine = &mut self.world.machines[node.index()];
                machine.paused = false;
                self.track_local_reads(node);
                let machine = &mut self.world.machines[node.index()];
                machine.tick_generation += 1;
                machine.inbox.clear();
                self.emit(Event::NodeCrashed { node });
                self.recorder.end_tenure(self.now, node);
                self.fail_pending_at(node, "the node crashed before answering");
                self.end_watches_at(node);
            }
            Command::Restart { node } => {
                let local = self.local_time(node);
                let world = &mut self.world;
                let applied = world.nodes[node.index()].restart(&self.config, local, world.out.get_or_insert_default());
                self.emit(Event::NodeRestarted { node, applied });
                self.flush_output(node);
                self.rearm_tick(node);
            }
            Command::TransferLeader { to } => {
                if let Some(leader) = self.leader() {
                    let local = self.local_time(leader);
                    let world = &mut self.world;
                    world.nodes[leader.index()].transfer_leader(
                        to,
                        &self.config,
                        local,
                        world.out.get_or_insert_default(),
                    );
                    self.flush_output(leader);
                }
            }
            client => unreachable!("{} is a client operation", client.summary()),
        }
    }
}
