//! The batching driver: advances many searches in lock-step waves so that one evaluator call
//! sees the leaves of all of them (many games x D worlds x K leaves).
//!
//! Searches are split into groups whose waves fit the batch cap (at least two groups when
//! overlapping). Each group cycles: back up its last batch and select its next leaves on the
//! CPU (in parallel over searches with rayon), then have its batch evaluated. With overlap,
//! the evaluator runs on its own thread: while it works on one group's batch the CPU prepares
//! the next group's, so neither waits for the other.
//!
//! A search's trajectory depends only on its own waves, never on which group or batch its
//! leaves travel in, so results are identical whatever the batch cap, grouping or overlap.

use std::fmt;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::config::{ConfigError, DriverConfig};
use crate::evaluator::{Evaluation, Evaluator, Leaf};
use crate::search::{Search, SearchError, SearchResult, WaveCounters};

/// Batch-size histogram buckets: bucket b counts batches of 2^b..2^(b+1)-1 leaves (the last
/// bucket takes everything larger).
pub const HISTOGRAM_BUCKETS: usize = 17;

/// What the driver did. `run` returns the figures of one call; the searcher keeps totals.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchStats {
    /// Searches run (not counting forced moves).
    pub searches: u64,
    /// Forced moves handed to the driver (already decided, no search).
    pub forced: u64,
    /// Simulations completed: evaluated leaves plus terminal positions (root evaluations
    /// are not simulations).
    pub simulations: u64,
    /// Simulations that ended in a finished round (exact score, no evaluation).
    pub terminal_simulations: u64,
    /// Leaves evaluated, root evaluations included (= the sum of all batch sizes).
    pub evaluations: u64,
    /// Selections that reached a leaf already in flight (not evaluated twice).
    pub collisions: u64,
    /// Evaluations with a NaN/infinite value or a policy with no legal mass (repaired).
    pub invalid_evaluations: u64,
    /// Evaluator calls.
    pub batches: u64,
    pub batch_histogram: [u64; HISTOGRAM_BUCKETS],
    pub largest_batch: u64,
    /// Wall time of `run`.
    pub wall: Duration,
    /// Time spent inside `Evaluator::evaluate`.
    pub evaluator_busy: Duration,
    /// Time the driver spent backing up and selecting.
    pub cpu_busy: Duration,
}

impl SearchStats {
    pub fn simulations_per_second(&self) -> f64 {
        self.simulations as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// Fraction of the wall time the evaluator was working.
    pub fn evaluator_busy_fraction(&self) -> f64 {
        self.evaluator_busy.as_secs_f64() / self.wall.as_secs_f64().max(1e-9)
    }

    /// Fraction of the wall time the driver's thread was selecting and backing up.
    pub fn cpu_busy_fraction(&self) -> f64 {
        self.cpu_busy.as_secs_f64() / self.wall.as_secs_f64().max(1e-9)
    }

    pub fn mean_batch(&self) -> f64 {
        self.evaluations as f64 / self.batches.max(1) as f64
    }

    pub fn merge(&mut self, other: &SearchStats) {
        self.searches += other.searches;
        self.forced += other.forced;
        self.simulations += other.simulations;
        self.terminal_simulations += other.terminal_simulations;
        self.evaluations += other.evaluations;
        self.collisions += other.collisions;
        self.invalid_evaluations += other.invalid_evaluations;
        self.batches += other.batches;
        for (total, count) in self.batch_histogram.iter_mut().zip(other.batch_histogram) {
            *total += count;
        }
        self.largest_batch = self.largest_batch.max(other.largest_batch);
        self.wall += other.wall;
        self.evaluator_busy += other.evaluator_busy;
        self.cpu_busy += other.cpu_busy;
    }

    fn record_batch(&mut self, size: usize) {
        self.batches += 1;
        self.evaluations += size as u64;
        self.largest_batch = self.largest_batch.max(size as u64);
        let bucket = (usize::BITS - 1 - size.max(1).leading_zeros()) as usize;
        self.batch_histogram[bucket.min(HISTOGRAM_BUCKETS - 1)] += 1;
    }

    fn add_wave(&mut self, wave: WaveCounters) {
        self.searches += wave.started;
        self.simulations += wave.simulations;
        self.terminal_simulations += wave.terminal;
        self.collisions += wave.collisions;
        self.invalid_evaluations += wave.invalid;
    }
}

impl fmt::Display for SearchStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} searches ({} forced moves skipped), {} simulations in {:.3} s: {:.0} simulations/s",
            self.searches,
            self.forced,
            self.simulations,
            self.wall.as_secs_f64(),
            self.simulations_per_second()
        )?;
        writeln!(
            f,
            "{} evaluations in {} batches (mean {:.1}, largest {}), {} terminal simulations, {} collisions, {} invalid evaluations",
            self.evaluations,
            self.batches,
            self.mean_batch(),
            self.largest_batch,
            self.terminal_simulations,
            self.collisions,
            self.invalid_evaluations
        )?;
        writeln!(
            f,
            "evaluator busy {:.1}% of wall time, driver CPU busy {:.1}%",
            100.0 * self.evaluator_busy_fraction(),
            100.0 * self.cpu_busy_fraction()
        )?;
        write!(f, "batch sizes:")?;
        for (bucket, count) in self.batch_histogram.iter().enumerate().filter(|(_, c)| **c > 0) {
            write!(f, " [{}..{}): {count}", 1u64 << bucket, 1u64 << (bucket + 1))?;
        }
        Ok(())
    }
}

/// Runs searches to completion in batched waves. Keep one for the life of a self-play loop:
/// it accumulates statistics over calls.
#[derive(Clone, Debug)]
pub struct BatchedSearcher {
    config: DriverConfig,
    totals: SearchStats,
}

/// Called with (slot index, result) when the search in a slot finishes (forced moves
/// included); may return the slot's next search.
type Refill<'r> = dyn FnMut(usize, &SearchResult) -> Option<Search> + 'r;

/// Searches whose waves share one batch.
struct Group<'a> {
    /// Slot index of `searches[0]`.
    first: usize,
    searches: &'a mut [Search],
    batch: Vec<Leaf>,
    /// Evaluations of the last batch (may be longer than it: kept at its largest size so
    /// that it is not refilled with defaults every wave).
    out: Vec<Evaluation>,
    done: bool,
}

impl Group<'_> {
    /// Back up the group's last batch, hand finished results on (refilling their slots), and
    /// select the next batch.
    fn cpu_step(&mut self, stats: &mut SearchStats, refill: &mut Refill, max_batch: usize) -> Result<(), SearchError> {
        let start = Instant::now();
        let out = &self.out;
        let mut wave = self
            .searches
            .par_iter_mut()
            .map(|search| {
                let offset = search.batch_offset;
                let count = search.leaves().len();
                search.step(&out[offset..offset + count])
            })
            .reduce(WaveCounters::default, |a, b| a + b);
        self.batch.clear();
        let mut done = true;
        for (index, search) in self.searches.iter_mut().enumerate() {
            while search.is_done() && !search.reported {
                search.reported = true;
                let Some(result) = search.result().copied() else { break };
                stats.forced += result.forced as u64;
                let Some(next) = refill(self.first + index, &result) else { break };
                // The slot's room in the batch was reserved for its first search's size.
                if next.wave_bound() > search.wave_bound() {
                    return Err(SearchError::BatchTooSmall { needed: next.wave_bound(), max_batch });
                }
                let finished = std::mem::replace(search, next);
                search.recycle(finished);
                // Its first step (world sampling, root request) joins this wave.
                wave = wave + search.step(&[]);
            }
            done &= search.is_done();
            search.batch_offset = self.batch.len();
            self.batch.extend_from_slice(search.leaves());
        }
        debug_assert_eq!(wave.leaves, self.batch.len() as u64);
        self.done = done;
        stats.add_wave(wave);
        stats.cpu_busy += start.elapsed();
        Ok(())
    }
}

/// A batch travelling to the evaluator thread and back.
struct Job {
    group: usize,
    batch: Vec<Leaf>,
    out: Vec<Evaluation>,
    busy: Duration,
}

fn evaluate_into(evaluator: &mut dyn Evaluator, batch: &[Leaf], out: &mut Vec<Evaluation>) -> Duration {
    if out.len() < batch.len() {
        out.resize(batch.len(), Evaluation::default());
    }
    let start = Instant::now();
    evaluator.evaluate(batch, &mut out[..batch.len()]);
    start.elapsed()
}

impl BatchedSearcher {
    pub fn new(config: DriverConfig) -> Result<BatchedSearcher, ConfigError> {
        config.validate()?;
        Ok(BatchedSearcher { config, totals: SearchStats::default() })
    }

    pub fn config(&self) -> &DriverConfig {
        &self.config
    }

    /// Statistics summed over every run.
    pub fn stats(&self) -> &SearchStats {
        &self.totals
    }

    /// Run every search to completion, then read each one's `result()`. Searches already
    /// done (forced moves) are left as they are. Returns this call's statistics.
    pub fn run(&mut self, searches: &mut [Search], evaluator: &mut dyn Evaluator) -> Result<SearchStats, SearchError> {
        self.run_streaming(searches, evaluator, |_, _| None)
    }

    /// Search one decision to its end: what a program answering one question at a time (the
    /// engine, a person's table) needs.
    pub fn decide(&mut self, search: Search, evaluator: &mut dyn Evaluator) -> Result<SearchResult, SearchError> {
        let mut searches = [search];
        self.run(&mut searches, evaluator)?;
        Ok(*searches[0].result().expect("a search that ran to its end has a result"))
    }

    /// Like `run`, but each slot of `searches` is a stream of decisions: whenever the search
    /// in slot i finishes (or is a forced move), `refill(i, &result)` is called on this thread
    /// and may return the slot's next search, which joins the next wave at once. Returns when
    /// every slot is done and `refill` declined it. Unlike lock-step `run` calls, the batches
    /// stay full: no wave waits for the slowest search of a step.
    ///
    /// Each slot keeps the batch room of its first search, so a refill may not need more
    /// leaves per wave than that search (`SearchError::BatchTooSmall`); keep one search
    /// configuration per slot. A refill should be quick: `Search::new` is (it leaves the
    /// sampling of worlds to the parallel first step).
    pub fn run_streaming<F>(
        &mut self,
        searches: &mut [Search],
        evaluator: &mut dyn Evaluator,
        mut refill: F,
    ) -> Result<SearchStats, SearchError>
    where
        F: FnMut(usize, &SearchResult) -> Option<Search>,
    {
        let start = Instant::now();
        let max_batch = self.config.max_batch;
        if let Some(needed) = searches.iter().map(Search::wave_bound).find(|&n| n > max_batch) {
            return Err(SearchError::BatchTooSmall { needed, max_batch });
        }
        let mut stats = SearchStats::default();
        let mut groups = self.partition(searches);
        let outcome = if self.config.overlap && groups.len() > 1 {
            run_overlapped(&mut groups, evaluator, &mut stats, &mut refill, max_batch)
        } else {
            run_in_turn(&mut groups, evaluator, &mut stats, &mut refill, max_batch)
        };
        stats.wall = start.elapsed();
        self.totals.merge(&stats);
        outcome.map(|()| stats)
    }

    /// Contiguous groups of about equal batch room whose largest possible waves fit the
    /// batch cap: as few as the cap allows, but at least two (given two searches) when
    /// overlapping.
    fn partition<'a>(&self, searches: &'a mut [Search]) -> Vec<Group<'a>> {
        let sizes: Vec<usize> = searches.iter().map(Search::wave_bound).collect();
        let total: usize = sizes.iter().sum();
        let minimum = if self.config.overlap { 2 } else { 1 };
        let mut count = total.div_ceil(self.config.max_batch).max(minimum).min(searches.len().max(1));
        // Cut at multiples of total / count; each search fits the cap, so at worst every
        // search gets its own group and the loop ends.
        let bounds = loop {
            let bounds = group_bounds(&sizes, total, count);
            let fits = bounds.windows(2).all(|w| sizes[w[0]..w[1]].iter().sum::<usize>() <= self.config.max_batch);
            if fits || count >= searches.len() {
                break bounds;
            }
            count += 1;
        };
        let mut groups = Vec::with_capacity(bounds.len());
        let mut rest = searches;
        for w in bounds.windows(2) {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(w[1] - w[0]);
            let room = sizes[w[0]..w[1]].iter().sum();
            groups.push(Group { first: w[0], searches: head, batch: Vec::with_capacity(room), out: Vec::new(), done: false });
            rest = tail;
        }
        groups
    }
}

/// Start indices of `count` contiguous groups (plus the end), cutting where the running sum
/// of `sizes` crosses multiples of total / count; empty groups are dropped.
fn group_bounds(sizes: &[usize], total: usize, count: usize) -> Vec<usize> {
    let mut bounds = vec![0];
    let mut before = 0;
    let mut group = 0;
    for (index, size) in sizes.iter().enumerate() {
        // The group of a search is where its first leaf falls.
        let target = (before * count).checked_div(total).unwrap_or(0).min(count - 1);
        if target > group && index > 0 {
            bounds.push(index);
            group = target;
        }
        before += size;
    }
    bounds.push(sizes.len());
    bounds.dedup();
    bounds
}

/// Select, evaluate, back up, one group after the other on this thread.
fn run_in_turn(
    groups: &mut [Group],
    evaluator: &mut dyn Evaluator,
    stats: &mut SearchStats,
    refill: &mut Refill,
    max_batch: usize,
) -> Result<(), SearchError> {
    while !groups.iter().all(|g| g.done) {
        for group in groups.iter_mut().filter(|g| !g.done) {
            group.cpu_step(stats, refill, max_batch)?;
            if !group.batch.is_empty() {
                stats.record_batch(group.batch.len());
                stats.evaluator_busy += evaluate_into(evaluator, &group.batch, &mut group.out);
            }
        }
    }
    Ok(())
}

/// The evaluator on its own thread, one batch in flight while this thread prepares the next
/// group's (there are at least two groups).
fn run_overlapped(
    groups: &mut [Group],
    evaluator: &mut dyn Evaluator,
    stats: &mut SearchStats,
    refill: &mut Refill,
    max_batch: usize,
) -> Result<(), SearchError> {
    std::thread::scope(|scope| {
        let (job_tx, job_rx) = mpsc::channel::<Job>();
        let (done_tx, done_rx) = mpsc::channel::<Job>();
        scope.spawn(move || {
            for mut job in job_rx {
                job.busy = evaluate_into(evaluator, &job.batch, &mut job.out);
                if done_tx.send(job).is_err() {
                    return;
                }
            }
        });
        let count = groups.len();
        let mut in_flight: Option<usize> = None;
        let mut g = 0;
        loop {
            // Prepare group g while the evaluator works on the previous group (never g
            // itself, with two or more groups).
            if !groups[g].done {
                groups[g].cpu_step(stats, refill, max_batch)?;
            }
            if let Some(p) = in_flight.take() {
                // A closed channel means the evaluator panicked; leaving the scope re-raises it.
                let Ok(job) = done_rx.recv() else { return Ok(()) };
                debug_assert_eq!(job.group, p);
                stats.evaluator_busy += job.busy;
                groups[p].batch = job.batch;
                groups[p].out = job.out;
            }
            if !groups[g].batch.is_empty() {
                stats.record_batch(groups[g].batch.len());
                let job = Job {
                    group: g,
                    batch: std::mem::take(&mut groups[g].batch),
                    out: std::mem::take(&mut groups[g].out),
                    busy: Duration::ZERO,
                };
                if job_tx.send(job).is_err() {
                    return Ok(());
                }
                in_flight = Some(g);
            } else if groups.iter().all(|group| group.done) {
                return Ok(());
            }
            g = (g + 1) % count;
        }
    })
}
