//! Which ready operation the apply walker starts first when more are ready than
//! `--parallelism` allows.
//!
//! Two priority rules, both deterministic (ties in address order):
//!
//! - **critical path**: the longest remaining chain of expected durations first (HLFET list
//!   scheduling). Right when slots are the only scarce thing.
//! - **feeders first**: short operations that hold a *contended* lock key, or lead to one,
//!   before everything else, then critical path. A lock key is a one-at-a-time resource
//!   (Azure serialises writes on a circuit): when the long operations (gateways) come in
//!   more waves than there are slots, critical path starts every gateway before any
//!   circuit, peering or connection, and all the connections then queue on their circuit
//!   after the last wave. Feeding the queues early costs the gateways a few short operations
//!   and saves the queue at the end.
//!
//! Neither rule is best everywhere, so [`priorities`] replays the walk under both with the
//! provider's expected durations ([`simulate`]) and keeps the one that finishes first
//! (critical path on a tie). A replay costs O((operations + dependencies) · log operations),
//! and only plans with a contended key need one.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

/// One operation's place in the ready queue: compared as a tuple, larger first.
pub type Priority = (bool, Duration);

/// The walk as the scheduler sees it: indices are operations.
pub struct Walk<'a> {
    /// What each operation waits for.
    pub deps: &'a [Vec<usize>],
    /// What waits for each operation.
    pub dependents: &'a [Vec<usize>],
    /// Expected duration of each operation.
    pub expected: &'a [Duration],
    /// Lock keys each operation holds, interned (`0..key_count`).
    pub keys: &'a [Vec<usize>],
    pub key_count: usize,
    /// Position of each operation in address order: the tie-break.
    pub rank: &'a [usize],
}

/// The rule [`priorities`] chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    CriticalPath,
    FeedersFirst,
}

/// Priorities for the walker's ready queue under the rule whose simulated walk finishes
/// first at `parallelism`, and that rule. Without a contended key the rules are one and
/// nothing is simulated.
pub fn priorities(walk: &Walk<'_>, parallelism: usize) -> (Vec<Priority>, Rule) {
    let critical = rule_priorities(walk, Rule::CriticalPath);
    let feeding = rule_priorities(walk, Rule::FeedersFirst);
    if feeding.iter().any(|p| p.0)
        && simulate(walk, parallelism, &feeding) < simulate(walk, parallelism, &critical)
    {
        (feeding, Rule::FeedersFirst)
    } else {
        (critical, Rule::CriticalPath)
    }
}

/// Each operation's priority under one rule.
pub fn rule_priorities(walk: &Walk<'_>, rule: Rule) -> Vec<Priority> {
    let level = critical_levels(walk);
    match rule {
        Rule::CriticalPath => level.into_iter().map(|l| (false, l)).collect(),
        Rule::FeedersFirst => feeders(walk).into_iter().zip(level).collect(),
    }
}

/// Each operation's critical level: its expected duration plus the longest chain of
/// expected durations among the operations waiting for it. Linear in operations +
/// dependencies; members of a cycle, which the walker never gets, keep their own duration.
fn critical_levels(walk: &Walk<'_>) -> Vec<Duration> {
    let (deps, dependents, expected) = (walk.deps, walk.dependents, walk.expected);
    let mut level = expected.to_vec();
    let mut unresolved: Vec<usize> = dependents.iter().map(Vec::len).collect();
    let mut stack: Vec<usize> = (0..expected.len())
        .filter(|&i| unresolved[i] == 0)
        .collect();
    while let Some(i) = stack.pop() {
        let after = dependents[i].iter().map(|&d| level[d]).max();
        level[i] = expected[i] + after.unwrap_or_default();
        for &p in &deps[i] {
            unresolved[p] -= 1;
            if unresolved[p] == 0 {
                stack.push(p);
            }
        }
    }
    level
}

/// Keys two of whose operations can be ready at once: their holders, in order of the
/// longest chain before them, are not each a direct dependency of the next (a VNet and its
/// one subnet are a chain; a circuit, its peering and two connections are not).
fn contended(walk: &Walk<'_>) -> Vec<bool> {
    let n = walk.expected.len();
    // Longest chain of expected durations before each operation.
    let mut head = vec![Duration::ZERO; n];
    let mut waiting: Vec<usize> = walk.deps.iter().map(Vec::len).collect();
    let mut stack: Vec<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    while let Some(i) = stack.pop() {
        for &d in &walk.dependents[i] {
            head[d] = head[d].max(head[i] + walk.expected[i]);
            waiting[d] -= 1;
            if waiting[d] == 0 {
                stack.push(d);
            }
        }
    }
    let mut holders: Vec<Vec<usize>> = vec![Vec::new(); walk.key_count];
    for (op, keys) in walk.keys.iter().enumerate() {
        for &k in keys {
            holders[k].push(op);
        }
    }
    holders
        .iter_mut()
        .map(|h| {
            h.sort_by_key(|&op| (head[op], walk.rank[op]));
            !h.windows(2).all(|w| walk.deps[w[1]].contains(&w[0]))
        })
        .collect()
}

/// Operations at most a tenth as long as the longest that hold a contended key or lead to
/// an operation that does.
fn feeders(walk: &Walk<'_>) -> Vec<bool> {
    let n = walk.expected.len();
    let contended = contended(walk);
    let mut feeds = vec![false; n];
    let mut stack: Vec<usize> = (0..n)
        .filter(|&op| walk.keys[op].iter().any(|&k| contended[k]))
        .collect();
    while let Some(op) = stack.pop() {
        if !feeds[op] {
            feeds[op] = true;
            stack.extend(walk.deps[op].iter().copied());
        }
    }
    let longest = walk.expected.iter().copied().max().unwrap_or_default();
    (0..n)
        .map(|op| feeds[op] && walk.expected[op] * 10 <= longest)
        .collect()
}

/// Operations whose dependencies are done, best first by priority, then address order (so
/// a run is deterministic). An operation whose lock key is held waits parked on that key
/// and comes back when the key is released, so a large ready set is never rescanned or
/// re-sorted: each start costs O(log n). The walker and [`simulate`] share it.
pub struct ReadyQueue<'a> {
    heap: BinaryHeap<(Priority, Reverse<usize>, usize)>,
    parked: Vec<Vec<usize>>,
    held: Vec<bool>,
    priority: Vec<Priority>,
    rank: &'a [usize],
    keys: &'a [Vec<usize>],
}

impl<'a> ReadyQueue<'a> {
    pub fn new(walk: &Walk<'a>, priority: Vec<Priority>) -> Self {
        ReadyQueue {
            heap: BinaryHeap::new(),
            parked: vec![Vec::new(); walk.key_count],
            held: vec![false; walk.key_count],
            priority,
            rank: walk.rank,
            keys: walk.keys,
        }
    }

    /// `op`'s dependencies are done.
    pub fn push(&mut self, op: usize) {
        self.heap
            .push((self.priority[op], Reverse(self.rank[op]), op));
    }

    /// The best operation that may start now, its keys taken. `skip` says which ready
    /// operations are no longer wanted (the walker's skipped or deferred ones).
    pub fn start(&mut self, skip: impl Fn(usize) -> bool) -> Option<usize> {
        while let Some((_, _, op)) = self.heap.pop() {
            if skip(op) {
                continue;
            }
            if let Some(&k) = self.keys[op].iter().find(|&&k| self.held[k]) {
                self.parked[k].push(op);
                continue;
            }
            for &k in &self.keys[op] {
                self.held[k] = true;
            }
            return Some(op);
        }
        None
    }

    /// `op` finished (or failed): its keys are free and what waited for them competes again.
    pub fn finish(&mut self, op: usize) {
        for &k in &self.keys[op] {
            self.held[k] = false;
            for parked in std::mem::take(&mut self.parked[k]) {
                self.push(parked);
            }
        }
    }

    pub fn clear(&mut self) {
        self.heap.clear();
        self.parked.iter_mut().for_each(Vec::clear);
    }
}

/// The walk replayed with exact expected durations and no overhead: whenever a slot is free,
/// the ready queue's best operation starts. Returns the makespan.
pub fn simulate(walk: &Walk<'_>, parallelism: usize, priority: &[Priority]) -> Duration {
    let n = walk.expected.len();
    let mut ready = ReadyQueue::new(walk, priority.to_vec());
    let mut waiting: Vec<usize> = walk.deps.iter().map(Vec::len).collect();
    for op in (0..n).filter(|&op| waiting[op] == 0) {
        ready.push(op);
    }
    // Running operations by (finish time, address rank): completions at one instant are
    // taken in address order, as deterministic as the walker's ties.
    let mut running: BinaryHeap<Reverse<(Duration, usize, usize)>> = BinaryHeap::new();
    let mut now = Duration::ZERO;
    loop {
        while running.len() < parallelism.max(1)
            && let Some(op) = ready.start(|_| false)
        {
            running.push(Reverse((now + walk.expected[op], walk.rank[op], op)));
        }
        let Some(Reverse((t, _, op))) = running.pop() else {
            return now;
        };
        now = t;
        ready.finish(op);
        for &d in &walk.dependents[op] {
            waiting[d] -= 1;
            if waiting[d] == 0 {
                ready.push(d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture {
        deps: Vec<Vec<usize>>,
        dependents: Vec<Vec<usize>>,
        expected: Vec<Duration>,
        keys: Vec<Vec<usize>>,
        key_count: usize,
        rank: Vec<usize>,
    }

    impl Fixture {
        fn new(durations: &[u64], deps: Vec<Vec<usize>>, keys: Vec<Vec<usize>>) -> Self {
            let n = durations.len();
            let mut dependents = vec![Vec::new(); n];
            for (i, ds) in deps.iter().enumerate() {
                for &d in ds {
                    dependents[d].push(i);
                }
            }
            let key_count = keys.iter().flatten().map(|k| k + 1).max().unwrap_or(0);
            Fixture {
                deps,
                dependents,
                expected: durations.iter().map(|&s| Duration::from_secs(s)).collect(),
                keys,
                key_count,
                rank: (0..n).collect(),
            }
        }
        fn walk(&self) -> Walk<'_> {
            Walk {
                deps: &self.deps,
                dependents: &self.dependents,
                expected: &self.expected,
                keys: &self.keys,
                key_count: self.key_count,
                rank: &self.rank,
            }
        }
    }

    /// Two gateways (45 min) per slot, each followed by a connection (2 min) on one circuit
    /// (created first, 1 min): critical path starts both gateways before the circuit and
    /// queues both connections at the end; feeding the circuit first wins.
    #[test]
    fn feeders_first_wins_when_connections_queue_on_a_circuit() {
        // 0 circuit; 1, 2 gateways; 3, 4 gateways; 5..8 connections of gateways 1..4.
        let f = Fixture::new(
            &[60, 2700, 2700, 2700, 2700, 120, 120, 120, 120],
            vec![
                vec![],
                vec![],
                vec![],
                vec![],
                vec![],
                vec![0, 1],
                vec![0, 2],
                vec![0, 3],
                vec![0, 4],
            ],
            vec![
                vec![0],
                vec![],
                vec![],
                vec![],
                vec![],
                vec![0],
                vec![0],
                vec![0],
                vec![0],
            ],
        );
        let w = f.walk();
        let cp = simulate(&w, 2, &rule_priorities(&w, Rule::CriticalPath));
        let (prio, rule) = priorities(&w, 2);
        assert_eq!(rule, Rule::FeedersFirst);
        let best = simulate(&w, 2, &prio);
        assert!(best < cp, "{best:?} !< {cp:?}");
        // Critical path: two waves of gateways, then the circuit, then four connections in
        // a row. Feeders first: the circuit beside the first gateway, connections 5 and 6
        // before gateway 4, whose connection is the only one left at the end.
        assert_eq!(cp, Duration::from_secs(2 * 2700 + 60 + 4 * 120));
        assert_eq!(best, Duration::from_secs(2940 + 2700 + 120));
    }

    /// Without contended keys the rule is critical path, and a long chain starts first.
    #[test]
    fn critical_path_without_lock_contention() {
        let f = Fixture::new(
            &[1, 1, 1, 100],
            vec![vec![], vec![], vec![], vec![]],
            vec![vec![], vec![], vec![], vec![]],
        );
        let (prio, rule) = priorities(&f.walk(), 1);
        assert_eq!(rule, Rule::CriticalPath);
        assert_eq!(simulate(&f.walk(), 1, &prio), Duration::from_secs(103));
        let mut q = ReadyQueue::new(&f.walk(), prio);
        for op in 0..4 {
            q.push(op);
        }
        assert_eq!(q.start(|_| false), Some(3));
    }

    /// An operation whose key is held waits, and starts when the key is released.
    #[test]
    fn a_held_key_parks_its_waiters() {
        let f = Fixture::new(
            &[10, 10, 10],
            vec![vec![], vec![], vec![]],
            vec![vec![0], vec![0], vec![]],
        );
        let w = f.walk();
        let mut q = ReadyQueue::new(&w, vec![(false, Duration::ZERO); 3]);
        for op in 0..3 {
            q.push(op);
        }
        assert_eq!(q.start(|_| false), Some(0));
        assert_eq!(q.start(|_| false), Some(2), "1 waits for key 0");
        assert_eq!(q.start(|_| false), None);
        q.finish(0);
        assert_eq!(q.start(|_| false), Some(1));
        assert_eq!(
            simulate(&w, 3, &[(false, Duration::ZERO); 3]),
            Duration::from_secs(20)
        );
    }
}
