//! One decision searched by determinization (PIMC): D worlds sampled from the acting player's
//! information set, one PUCT tree per world, S simulations each, root visits summed.
//!
//! A `Search` does not call an evaluator itself: it hands out the leaves of one wave
//! (`leaves`) and takes their evaluations back (`step`), so that a driver can evaluate the
//! leaves of many searches in one batch.

use std::sync::Arc;

use game::{Action, Actions, ACTIONS, DeterminizeError, Determinizer, GameContext, InfoSet, Phase, Round, MAX_PLAYERS};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};
use thiserror::Error;

use crate::config::{ConfigError, SearchConfig, SearchKind};
use crate::evaluator::{Evaluation, Leaf};
use crate::play_model::PlayModel;
use crate::tree::{Descent, Tree, ROOT};

#[derive(Debug, Clone, PartialEq, Error)]
pub enum SearchError {
    #[error("invalid search configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("the round is over: nothing to search")]
    RoundOver,
    #[error("the information set is seat {observer}'s but seat {to_act} is to act")]
    NotToAct { observer: usize, to_act: usize },
    #[error("cannot sample worlds for this information set: {0}")]
    Determinize(#[from] DeterminizeError),
    #[error("a search needs up to {needed} leaves per wave but the batch cap is {max_batch}")]
    BatchTooSmall { needed: usize, max_batch: usize },
}

/// The outcome of one decision.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SearchResult {
    /// The action to play, chosen from `visits` with the configured temperature (bid or play).
    pub action: Action,
    /// Root visits summed over worlds, normalised: the policy training target (0 on illegal
    /// actions). One-hot on the action for a forced move.
    pub policy: [f32; ACTIONS],
    /// Root visits summed over worlds, by action index (all zero for a forced move).
    pub visits: [u32; ACTIONS],
    /// Mean value per absolute seat at the root over all worlds and visits (0 beyond the
    /// players); `None` for a forced move, which is not searched. A rollout search gives the
    /// searcher's value of its policy only (the other seats 0).
    pub root_values: Option<[f32; MAX_PLAYERS]>,
    /// The player had a single legal action: played without search. Not a useful training
    /// example.
    pub forced: bool,
}

/// Counters of one wave of one or more searches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct WaveCounters {
    /// Searches that took their first step.
    pub started: u64,
    /// Leaves handed out for evaluation (roots included).
    pub leaves: u64,
    /// Simulations completed (evaluated leaves and terminal positions; roots excluded).
    pub simulations: u64,
    pub terminal: u64,
    pub collisions: u64,
    /// Evaluations whose policy or values had to be repaired (NaN, no legal mass).
    pub invalid: u64,
}

impl std::ops::Add for WaveCounters {
    type Output = WaveCounters;
    fn add(self, o: WaveCounters) -> WaveCounters {
        WaveCounters {
            started: self.started + o.started,
            leaves: self.leaves + o.leaves,
            simulations: self.simulations + o.simulations,
            terminal: self.terminal + o.terminal,
            collisions: self.collisions + o.collisions,
            invalid: self.invalid + o.invalid,
        }
    }
}

#[derive(Clone, Debug)]
struct World {
    round: Round,
    tree: Tree,
    /// Completed simulations (never more than S).
    simulations: u32,
}

/// Replay the bids of `view`'s round in `world` from its deal, calling `visit` with the round
/// as each seat other than `observer` was about to bid there, the seat and its bid.
fn for_each_other_bid(view: &Round, observer: usize, world: &Round, mut visit: impl FnMut(&Round, usize, u8)) {
    let mut bidding = world.as_dealt();
    for k in 1..=view.bids_made() {
        let seat = (view.dealer() + k) % view.players();
        let bid = view.bid(seat).expect("the seat has bid");
        if seat != observer {
            visit(&bidding, seat, bid);
        }
        bidding.apply_legal(Action::Bid(bid));
    }
}

/// One root action played out in one world (`SearchKind::Rollout`).
#[derive(Clone, Copy, Debug)]
struct Playout {
    round: Round,
    /// The root action's index.
    action: usize,
}

/// Sequential halving's state (`SearchConfig::halving`): the search's worlds, how many of
/// them have been played in, and the actions still in contention.
#[derive(Clone, Debug)]
struct Halving {
    worlds: Vec<Round>,
    played: usize,
    contenders: Actions,
}

#[derive(Clone, Copy, Debug)]
struct PendingLeaf {
    world: u32,
    node: u32,
}

#[derive(Clone, Debug)]
enum Stage {
    /// Nothing requested yet. The worlds are sampled at the first step, which the driver runs
    /// in parallel, rather than in `Search::new`, which a self-play loop calls serially.
    New(Box<Determinizer>),
    /// The root's evaluation is in flight: no tree may select before its root is expanded.
    Root,
    /// A rollout search's candidate worlds are being weighed by the other seats' bids.
    Weighing,
    Running,
    Done,
}

/// `spare`'s allocation for `buffer` when `buffer` holds nothing and has less room.
fn reuse<T>(buffer: &mut Vec<T>, mut spare: Vec<T>) {
    if buffer.is_empty() && buffer.capacity() < spare.capacity() {
        spare.clear();
        *buffer = spare;
    }
}

/// The search of one decision. Build it, let a [`crate::BatchedSearcher`] run it (with many
/// others), then read [`Search::result`].
#[derive(Clone, Debug)]
pub struct Search {
    config: SearchConfig,
    info: InfoSet,
    /// Handed to the evaluator with every leaf (game mode).
    game: Option<GameContext>,
    rng: ChaCha8Rng,
    noise: Option<Gamma<f32>>,
    worlds: Vec<World>,
    stage: Stage,
    /// This wave's leaves awaiting evaluation, in the order of `pending`.
    leaves: Vec<Leaf>,
    pending: Vec<PendingLeaf>,
    /// Leaves of this wave's collisions, whose virtual loss is removed at the wave's end.
    collided: Vec<u32>,
    /// Trees of an earlier search of the same slot, reused by `sample_worlds` (see `recycle`).
    spare_trees: Vec<Tree>,
    /// Playouts still running (`SearchKind::Rollout`).
    playouts: Vec<Playout>,
    /// Candidate worlds of a rollout search that infers hands from bids.
    candidates: Vec<Round>,
    halving: Option<Halving>,
    /// Bids and plays for the other seats in the playouts where it predicts them (else the
    /// network), and weighs the candidate worlds once it predicts their bids.
    play_model: Option<Arc<PlayModel>>,
    /// Per root action index: finished playouts and the sum of the searcher's scaled scores.
    playout_counts: [u32; ACTIONS],
    playout_sums: [f32; ACTIONS],
    result: Option<SearchResult>,
    /// Where this search's leaves start in the driver's batch.
    pub(crate) batch_offset: usize,
    /// The driver has handed the result on (streaming runs).
    pub(crate) reported: bool,
}

impl Search {
    /// A search of the decision of `info`'s observer, who must be the seat to act. All of its
    /// randomness (worlds, root noise, move choice) comes from `seed`; `info` carries no
    /// hidden card, so the result cannot depend on them. A forced move is decided here, and
    /// the search is then already done.
    pub fn new(info: &InfoSet, config: &SearchConfig, seed: u64) -> Result<Search, SearchError> {
        Search::with_context(info, None, config, seed)
    }

    /// Like [`Search::new`], in game mode when `game` is given: every leaf goes to the
    /// evaluator with this context (the search itself stays within the round: its leaves all
    /// belong to the current round, and finished rounds score on the round scale).
    pub fn with_context(
        info: &InfoSet,
        game: Option<GameContext>,
        config: &SearchConfig,
        seed: u64,
    ) -> Result<Search, SearchError> {
        config.validate()?;
        let view = info.view();
        if view.is_over() {
            return Err(SearchError::RoundOver);
        }
        if info.observer() != view.to_act() {
            return Err(SearchError::NotToAct { observer: info.observer(), to_act: view.to_act() });
        }
        let legal = view.legal_actions();
        let mut search = Search {
            config: *config,
            info: *info,
            game,
            rng: ChaCha8Rng::seed_from_u64(seed),
            noise: None,
            worlds: Vec::new(),
            stage: Stage::Done,
            leaves: Vec::new(),
            pending: Vec::new(),
            collided: Vec::new(),
            spare_trees: Vec::new(),
            playouts: Vec::new(),
            candidates: Vec::new(),
            halving: None,
            play_model: None,
            playout_counts: [0; ACTIONS],
            playout_sums: [0.0; ACTIONS],
            result: None,
            batch_offset: 0,
            reported: false,
        };
        if legal.len() == 1 {
            let action = legal.iter().next().ok_or(SearchError::RoundOver)?;
            let mut policy = [0.0; ACTIONS];
            policy[action.index()] = 1.0;
            search.result =
                Some(SearchResult { action, policy, visits: [0; ACTIONS], root_values: None, forced: true });
            return Ok(search);
        }
        if config.dirichlet_epsilon > 0.0 {
            let gamma = Gamma::new(config.dirichlet_alpha, 1.0).map_err(|_| ConfigError::Real {
                field: "dirichlet_alpha",
                value: config.dirichlet_alpha,
                min: 0.0,
                max: f32::MAX,
            })?;
            search.noise = Some(gamma);
        }
        // Built here so that an inconsistent information set is an error of `new`.
        search.stage = Stage::New(Box::new(Determinizer::new(info)?));
        Ok(search)
    }

    /// Let `model` bid and play for the other seats in this search's playouts wherever it
    /// predicts them, and weigh its worlds by their bids once it predicts those (a rollout
    /// search; the network does the rest).
    pub fn with_play_model(mut self, model: Option<Arc<PlayModel>>) -> Search {
        self.play_model = model;
        self
    }

    /// Sample the worlds (the first step).
    fn sample_worlds(&mut self, mut determinizer: Box<Determinizer>) {
        let view = self.info.view();
        // Room for the usual tree (every simulation expands a node of a few children) without
        // reserving absurd amounts for huge S; the arena grows past it if needed.
        let capacity = (1 + self.config.simulations as usize * view.legal_actions().len().min(8)).min(1 << 16);
        self.spare_trees.extend(self.worlds.drain(..).map(|world| world.tree));
        for _ in 0..self.config.worlds {
            let tree = match self.spare_trees.pop() {
                Some(mut tree) => {
                    tree.reset(view.to_act(), capacity);
                    tree
                }
                None => Tree::new(view.to_act(), capacity),
            };
            self.worlds.push(World { round: determinizer.sample(&mut self.rng), tree, simulations: 0 });
        }
    }

    /// Take over the allocations of `old`, the finished search this one replaces in its slot:
    /// its trees' node arenas and its wave buffers. A streaming slot then allocates nothing
    /// per decision that its last decision already had. Results are unchanged.
    pub(crate) fn recycle(&mut self, mut old: Search) {
        self.spare_trees.append(&mut old.spare_trees);
        self.spare_trees.extend(old.worlds.drain(..).map(|world| world.tree));
        reuse(&mut self.worlds, old.worlds);
        reuse(&mut self.leaves, old.leaves);
        reuse(&mut self.pending, old.pending);
        reuse(&mut self.collided, old.collided);
    }

    pub fn info(&self) -> &InfoSet {
        &self.info
    }

    pub fn config(&self) -> &SearchConfig {
        &self.config
    }

    /// The game around the round, in game mode.
    pub fn game(&self) -> Option<&GameContext> {
        self.game.as_ref()
    }

    pub fn is_done(&self) -> bool {
        matches!(self.stage, Stage::Done)
    }

    /// The result, once the search is done.
    pub fn result(&self) -> Option<&SearchResult> {
        self.result.as_ref()
    }

    /// The leaves this search is waiting on, in the order `step` expects their evaluations.
    pub(crate) fn leaves(&self) -> &[Leaf] {
        &self.leaves
    }

    /// Most leaves one wave of a search with this configuration can hand out (whatever its
    /// state: the driver reserves that much batch room for its slot).
    pub(crate) fn wave_bound(&self) -> usize {
        self.config.largest_wave()
    }

    /// Take the evaluations of `leaves()` (in order), back them up, and select the next wave's
    /// leaves. The first call, with no evaluations, asks for the root.
    pub(crate) fn step(&mut self, evals: &[Evaluation]) -> WaveCounters {
        let mut counters = WaveCounters::default();
        self.absorb(evals, &mut counters);
        debug_assert_eq!(self.check(), Ok(()), "tree invariants after a wave");
        self.advance(&mut counters);
        counters
    }

    /// Back up the evaluations of the last wave's leaves.
    fn absorb(&mut self, evals: &[Evaluation], counters: &mut WaveCounters) {
        debug_assert_eq!(evals.len(), self.leaves.len(), "one evaluation per leaf");
        match self.stage {
            Stage::Root => {
                self.expand_roots(&evals[0], counters);
                self.stage = Stage::Running;
            }
            Stage::Weighing => {
                let worlds = self.weigh_candidates(evals);
                self.start_playouts(worlds, counters);
                self.stage = Stage::Running;
            }
            Stage::Running if self.config.kind == SearchKind::Rollout => self.step_playouts(evals, counters),
            Stage::Running => self.back_up(evals, counters),
            Stage::New(_) | Stage::Done => {}
        }
        self.leaves.clear();
        self.pending.clear();
    }

    /// Hand out the next leaves: the root first, then waves of selections until every world
    /// has its S simulations.
    fn advance(&mut self, counters: &mut WaveCounters) {
        match std::mem::replace(&mut self.stage, Stage::Done) {
            stage @ (Stage::Done | Stage::Root | Stage::Weighing) => self.stage = stage,
            Stage::New(determinizer) if self.config.kind == SearchKind::Rollout => {
                counters.started = 1;
                if self.sample_candidates(determinizer, counters) {
                    self.stage = Stage::Weighing;
                } else {
                    self.stage = Stage::Running;
                    self.playout_wave(counters);
                }
            }
            Stage::Running if self.config.kind == SearchKind::Rollout => {
                self.stage = Stage::Running;
                self.playout_wave(counters);
            }
            Stage::New(determinizer) => {
                self.sample_worlds(determinizer);
                // The root is evaluated once for all worlds: every world's root has the same
                // information set for the acting player, which is `info` itself.
                self.leaves.push(Leaf::new(self.info, self.game, None));
                self.stage = Stage::Root;
                counters.leaves = 1;
                counters.started = 1;
            }
            Stage::Running => {
                if self.worlds.iter().all(|w| w.simulations == simulation_target(&self.config, w)) {
                    self.finish();
                } else {
                    self.stage = Stage::Running;
                    self.select(counters);
                }
            }
        }
    }

    /// Sample a rollout search's worlds. With `belief_oversample` above 1 and bids of other
    /// seats to explain, sample that many times more candidates and ask for each candidate's
    /// bidders' policies at their bids (returns true: the weighing wave is out), or weigh them
    /// at once by the play model's bids once it has learnt them; otherwise play out in the
    /// worlds at once.
    fn sample_candidates(&mut self, mut determinizer: Box<Determinizer>, counters: &mut WaveCounters) -> bool {
        let view = self.info.view();
        let observer = self.info.observer();
        let bidders: Vec<usize> = (1..=view.bids_made()).map(|k| (view.dealer() + k) % view.players()).collect();
        let explain = self.config.belief_oversample > 1 && bidders.iter().any(|&seat| seat != observer);
        let count = self.config.worlds * if explain { self.config.belief_oversample } else { 1 };
        let worlds: Vec<Round> = (0..count).map(|_| determinizer.sample(&mut self.rng)).collect();
        if !explain {
            self.start_playouts(worlds, counters);
            return false;
        }
        if let Some(model) = self.play_model.clone().filter(|m| m.bids().1) {
            // The learnt bids weigh the candidates at once, without the network.
            let mut log_likelihoods = vec![0.0; worlds.len()];
            for (world, log_likelihood) in worlds.iter().zip(&mut log_likelihoods) {
                for_each_other_bid(view, observer, world, |bidding, _, bid| {
                    *log_likelihood += model.bid_log_likelihood(bidding, bid).expect("the model's bids are trusted");
                });
            }
            self.candidates = worlds;
            let chosen = self.resample(&log_likelihoods);
            self.start_playouts(chosen, counters);
            return false;
        }
        for (index, world) in worlds.iter().enumerate() {
            for_each_other_bid(view, observer, world, |bidding, seat, bid| {
                self.leaves.push(Leaf::new(InfoSet::new(bidding, seat), self.game, None));
                self.pending.push(PendingLeaf { world: index as u32, node: u32::from(bid) });
                counters.leaves += 1;
            });
        }
        self.candidates = worlds;
        true
    }

    /// `worlds` of the candidates, drawn in proportion to the likelihood of the other seats'
    /// bids under their policies there.
    fn weigh_candidates(&mut self, evals: &[Evaluation]) -> Vec<Round> {
        let mut log_likelihoods = vec![0.0f64; self.candidates.len()];
        for (pending, eval) in self.pending.iter().zip(evals) {
            let p = eval.policy[Action::Bid(pending.node as u8).index()];
            log_likelihoods[pending.world as usize] += f64::from(p).max(1e-6).ln();
        }
        self.resample(&log_likelihoods)
    }

    /// `worlds` of the candidates, drawn in proportion to their likelihoods (systematic
    /// resampling).
    fn resample(&mut self, log_likelihoods: &[f64]) -> Vec<Round> {
        let candidates = std::mem::take(&mut self.candidates);
        let most = log_likelihoods.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let weights: Vec<f64> = log_likelihoods.iter().map(|l| (l - most).exp()).collect();
        let total: f64 = weights.iter().sum();
        let count = self.config.worlds as usize;
        let start = self.rng.gen::<f64>();
        let mut chosen = Vec::with_capacity(count);
        let (mut cumulative, mut index) = (0.0, 0);
        for k in 0..count {
            let target = (start + k as f64) / count as f64 * total;
            while index + 1 < weights.len() && cumulative + weights[index] <= target {
                cumulative += weights[index];
                index += 1;
            }
            chosen.push(candidates[index]);
        }
        chosen
    }

    /// Every legal root action in every world (with halving: in the first phase's worlds).
    fn start_playouts(&mut self, worlds: Vec<Round>, counters: &mut WaveCounters) {
        let legal = self.info.view().legal_actions();
        if self.config.halving {
            self.halving = Some(Halving { worlds, played: 0, contenders: legal });
            self.next_halving_phase(counters);
        } else {
            self.play_out(&worlds, legal, counters);
        }
    }

    /// Start sequential halving's next phase: after the first, only the better half of the
    /// contenders by mean own score (ties to the lower index); with c contenders the phase
    /// runs to world D / 2^(ceil(log2 c) - 1). False once every world has been played in.
    fn next_halving_phase(&mut self, counters: &mut WaveCounters) -> bool {
        let Some(mut halving) = self.halving.take() else { return false };
        let total = halving.worlds.len();
        let started = halving.played < total;
        if started {
            if halving.played > 0 {
                let mut ranked: Vec<Action> = halving.contenders.iter().collect();
                ranked.sort_by(|a, b| {
                    self.playout_mean(b.index()).total_cmp(&self.playout_mean(a.index())).then(a.index().cmp(&b.index()))
                });
                ranked.truncate(ranked.len().div_ceil(2));
                halving.contenders.mask = ranked.iter().fold(0, |mask, a| mask | 1 << a.index());
            }
            let phases_left = halving.contenders.len().next_power_of_two().trailing_zeros().max(1);
            let end = (total >> (phases_left - 1)).clamp(halving.played + 1, total);
            let (start, contenders) = (halving.played, halving.contenders);
            halving.played = end;
            self.play_out(&halving.worlds[start..end], contenders, counters);
        }
        self.halving = Some(halving);
        started
    }

    /// `actions` in every one of `worlds`, with their forced moves played; those that end the
    /// round are scored at once.
    fn play_out(&mut self, worlds: &[Round], actions: Actions, counters: &mut WaveCounters) {
        self.playouts.clear();
        for world in worlds {
            for action in actions.iter() {
                let mut round = *world;
                round.apply_legal(action);
                crate::tree::play_forced(&mut round);
                self.playouts.push(Playout { round, action: action.index() });
            }
        }
        self.retire_finished_playouts(counters);
    }

    /// Score and drop the playouts whose round is over or in which the searcher's score is
    /// settled: over its bid, or short of it by more tricks than are left (it scores nothing
    /// whatever is played, so the rest of the round is not worth an evaluation).
    fn retire_finished_playouts(&mut self, counters: &mut WaveCounters) {
        let seat = self.info.observer();
        let (counts, sums) = (&mut self.playout_counts, &mut self.playout_sums);
        self.playouts.retain(|playout| {
            let round = &playout.round;
            let score = if round.is_over() {
                round.scaled_scores()[seat]
            } else {
                let won = round.tricks_won(seat) as usize;
                let left = round.cards() - round.tricks_done();
                match round.bid(seat) {
                    Some(bid) if won > bid as usize || won + left < bid as usize => 0.0,
                    _ => return true,
                }
            };
            counts[playout.action] += 1;
            sums[playout.action] += score;
            counters.simulations += 1;
            counters.terminal += 1;
            false
        });
    }

    /// Hand out one leaf per running playout, or finish when none is left. A playout's leaf is
    /// the information set of the seat to act in it: each seat plays from what it sees. With a
    /// play model, the other seats first take the actions it predicts (from their own view of
    /// the world, as the network would), until the searcher or an unpredicted decision is next.
    fn playout_wave(&mut self, counters: &mut WaveCounters) {
        // A halving phase may end at once (playouts of a last trick are scored as they start).
        loop {
            while self.playouts.is_empty() {
                if !self.next_halving_phase(counters) {
                    self.finish();
                    return;
                }
            }
            let Some(model) = &self.play_model else { break };
            let observer = self.info.observer();
            for playout in &mut self.playouts {
                let round = &mut playout.round;
                while !round.is_over() && round.to_act() != observer {
                    let Some(action) = model.predict(round) else { break };
                    round.apply_legal(action);
                    crate::tree::play_forced(round);
                }
            }
            self.retire_finished_playouts(counters);
            if !self.playouts.is_empty() {
                break;
            }
        }
        for (index, playout) in self.playouts.iter().enumerate() {
            let round = &playout.round;
            self.leaves.push(Leaf::new(InfoSet::new(round, round.to_act()), self.game, None));
            self.pending.push(PendingLeaf { world: index as u32, node: 0 });
            counters.leaves += 1;
        }
    }

    /// Play each running playout's next move, the most probable legal action of its
    /// evaluation's policy (the first in index order on a tie), then its forced moves.
    fn step_playouts(&mut self, evals: &[Evaluation], counters: &mut WaveCounters) {
        for ((pending, leaf), eval) in self.pending.iter().zip(&self.leaves).zip(evals) {
            let weight = |a: &Action| {
                let p = eval.policy[a.index()];
                if p.is_finite() { p } else { f32::NEG_INFINITY }
            };
            let action = leaf
                .legal
                .iter()
                .reduce(|best, a| if weight(&a) > weight(&best) { a } else { best })
                .expect("a running playout has a legal action");
            let round = &mut self.playouts[pending.world as usize].round;
            round.apply_legal(action);
            crate::tree::play_forced(round);
        }
        self.retire_finished_playouts(counters);
    }

    fn expand_roots(&mut self, eval: &Evaluation, counters: &mut WaveCounters) {
        let legal = self.info.view().legal_actions();
        let values = clean_values(&eval.values, counters);
        for world in &mut self.worlds {
            if !world.tree.expand(ROOT, legal, &eval.policy) {
                counters.invalid += 1;
            }
            if let Some(gamma) = &self.noise {
                // A Dirichlet sample is a normalised vector of Gamma(alpha) draws.
                let mut noise = [0.0f32; ACTIONS];
                let children = world.tree.root_child_count();
                for eta in &mut noise[..children] {
                    *eta = gamma.sample(&mut self.rng);
                }
                let sum: f32 = noise[..children].iter().sum();
                if sum > 0.0 && sum.is_finite() {
                    noise[..children].iter_mut().for_each(|eta| *eta /= sum);
                    world.tree.add_root_noise(self.config.dirichlet_epsilon, &noise[..children]);
                }
            }
            world.tree.backup(ROOT, &values);
        }
    }

    fn back_up(&mut self, evals: &[Evaluation], counters: &mut WaveCounters) {
        for ((pending, leaf), eval) in self.pending.iter().zip(&self.leaves).zip(evals) {
            let world = &mut self.worlds[pending.world as usize];
            if !world.tree.expand(pending.node, leaf.legal, &eval.policy) {
                counters.invalid += 1;
            }
            world.tree.backup(pending.node, &clean_values(&eval.values, counters));
            world.simulations += 1;
            counters.simulations += 1;
        }
    }

    /// Select up to K leaves in every world, never letting a world pass its target.
    fn select(&mut self, counters: &mut WaveCounters) {
        let config = self.config;
        for (index, world) in self.worlds.iter_mut().enumerate() {
            // Nothing is pending at the start of a wave, so this bounds completed plus
            // pending simulations by the target.
            let attempts = (config.leaves_per_world_wave() as u32).min(simulation_target(&config, world) - world.simulations);
            for _ in 0..attempts {
                match world.tree.descend(&world.round, &config) {
                    Descent::Leaf { node, round } => {
                        self.leaves.push(Leaf::in_world(&round, self.game));
                        self.pending.push(PendingLeaf { world: index as u32, node });
                        counters.leaves += 1;
                    }
                    Descent::Terminal => {
                        world.simulations += 1;
                        counters.simulations += 1;
                        counters.terminal += 1;
                    }
                    Descent::Collision { node } => {
                        self.collided.push(node);
                        counters.collisions += 1;
                    }
                }
            }
            for node in self.collided.drain(..) {
                world.tree.remove_virtual_loss(node);
            }
        }
    }

    fn finish(&mut self) {
        let (visits, policy, mut root_values) = match self.config.kind {
            SearchKind::Rollout => self.playout_outcome(),
            SearchKind::Puct | SearchKind::OnePly => self.tree_outcome(),
        };
        root_values[self.info.view().players()..].fill(0.0);
        let legal = self.info.view().legal_actions();
        let temperature = match self.info.view().phase() {
            Phase::Bidding => self.config.bid_temperature,
            Phase::Playing | Phase::Done => self.config.play_temperature,
        };
        let index = match self.config.kind {
            SearchKind::Puct => choose(&visits, temperature, &mut self.rng),
            SearchKind::Rollout => choose(&policy, temperature, &mut self.rng),
            SearchKind::OnePly => self.best_mean_value(),
        };
        // `choose` returns an index of positive policy, and only legal actions have any.
        let action = legal.iter().find(|a| a.index() == index).unwrap_or_else(|| {
            legal.iter().next().expect("a position under search has legal actions")
        });
        self.result = Some(SearchResult { action, policy, visits, root_values: Some(root_values), forced: false });
        self.stage = Stage::Done;
    }

    /// Root visits summed over the worlds, normalised (the policy), and the root values per seat
    /// averaged over the worlds.
    fn tree_outcome(&self) -> ([u32; ACTIONS], [f32; ACTIONS], [f32; MAX_PLAYERS]) {
        let mut visits = [0u32; ACTIONS];
        let mut root_values = [0.0f32; MAX_PLAYERS];
        for world in &self.worlds {
            for (action, count) in world.tree.root_visits() {
                visits[action] += count;
            }
            for (sum, value) in root_values.iter_mut().zip(world.tree.root_values()) {
                *sum += value / self.worlds.len() as f32;
            }
        }
        let total: u32 = visits.iter().sum();
        (visits, visits.map(|v| v as f32 / total as f32), root_values)
    }

    /// The playouts per action (the visits); the policy, a softmax of the actions' mean own
    /// scores at `rollout_temperature` (at 0, the best actions share it equally); and the
    /// searcher's value of that policy (its mixture of the actions' means). Only the searcher's
    /// root value is known: its playouts stop once its own score is settled.
    fn playout_outcome(&self) -> ([u32; ACTIONS], [f32; ACTIONS], [f32; MAX_PLAYERS]) {
        // With halving, only the last phase's contenders have means over every world.
        let legal = self.halving.as_ref().map_or(self.info.view().legal_actions(), |h| h.contenders);
        let best = legal.iter().map(|a| self.playout_mean(a.index())).fold(f32::NEG_INFINITY, f32::max);
        let tau = self.config.rollout_temperature;
        let mut policy = [0.0f32; ACTIONS];
        for action in legal.iter() {
            let gap = self.playout_mean(action.index()) - best;
            policy[action.index()] = if tau > 0.0 { (gap / tau).exp() } else { f32::from(gap == 0.0) };
        }
        let total: f32 = policy.iter().sum();
        policy.iter_mut().for_each(|p| *p /= total);
        let mut root_values = [0.0f32; MAX_PLAYERS];
        root_values[self.info.observer()] = legal.iter().map(|a| policy[a.index()] * self.playout_mean(a.index())).sum();
        (self.playout_counts, policy, root_values)
    }

    /// The searcher's mean scaled score over the finished playouts of root action `index`
    /// (0 before any).
    fn playout_mean(&self, index: usize) -> f32 {
        self.playout_sums[index] / self.playout_counts[index].max(1) as f32
    }

    /// The root action with the best value for the searcher, averaged over the worlds.
    fn best_mean_value(&self) -> usize {
        let mut sums = [0.0f32; ACTIONS];
        for world in &self.worlds {
            for (action, mean) in world.tree.root_means() {
                sums[action] += mean;
            }
        }
        let legal = self.info.view().legal_actions();
        legal
            .iter()
            .map(|a| a.index())
            .max_by(|&a, &b| sums[a].total_cmp(&sums[b]).then(b.cmp(&a)))
            .unwrap_or(0)
    }

    /// Check every tree's invariants (between waves, once the root is expanded).
    pub(crate) fn check(&self) -> Result<(), String> {
        // A rollout search grows no trees.
        if matches!(self.stage, Stage::New(_)) || self.config.kind == SearchKind::Rollout {
            return Ok(());
        }
        for (index, world) in self.worlds.iter().enumerate() {
            world.tree.check().map_err(|e| format!("world {index}: {e}"))?;
            let root: u32 = world.tree.root_visits().map(|(_, v)| v).sum();
            if root != world.simulations || world.simulations > simulation_target(&self.config, world) {
                return Err(format!("world {index}: root children {root}, simulations {}", world.simulations));
            }
        }
        Ok(())
    }
}

/// Simulations a world of a search with `config` gets: S, or one per root action in a
/// one-ply search.
fn simulation_target(config: &SearchConfig, world: &World) -> u32 {
    match config.kind {
        SearchKind::Puct | SearchKind::Rollout => config.simulations,
        SearchKind::OnePly => world.tree.root_child_count() as u32,
    }
}

/// Replace non-finite values (a broken evaluator must not poison the tree's sums).
fn clean_values(values: &[f32; MAX_PLAYERS], counters: &mut WaveCounters) -> [f32; MAX_PLAYERS] {
    if values.iter().all(|v| v.is_finite()) {
        return *values;
    }
    counters.invalid += 1;
    values.map(|v| if v.is_finite() { v } else { 0.0 })
}

/// An action index from weights (visit counts or a policy, 0 on actions never to be played):
/// the heaviest (ties broken at random) at temperature 0, else sampled in proportion to
/// weight^(1 / temperature).
fn choose<W: Copy + Into<f64>>(weights: &[W; ACTIONS], temperature: f32, rng: &mut ChaCha8Rng) -> usize {
    let weights = weights.map(Into::<f64>::into);
    let most = weights.iter().copied().fold(0.0, f64::max);
    if temperature == 0.0 {
        let ties = weights.iter().filter(|&&w| w == most).count();
        let pick = rng.gen_range(0..ties.max(1));
        return weights.iter().enumerate().filter(|(_, &w)| w == most).nth(pick).map_or(0, |(i, _)| i);
    }
    // Relative to the maximum so that small temperatures do not overflow.
    let power = 1.0 / temperature as f64;
    let weights = weights.map(|w| if w <= 0.0 { 0.0 } else { (w / most).powf(power) });
    let mut target = rng.gen::<f64>() * weights.iter().sum::<f64>();
    let mut last = 0;
    for (index, weight) in weights.iter().enumerate() {
        if *weight > 0.0 {
            last = index;
            target -= weight;
            if target < 0.0 {
                return index;
            }
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluator::{Evaluator, RolloutEvaluator, UniformEvaluator};

    /// Drive one search by hand, checking the trees after every wave.
    fn run_checked(search: &mut Search, evaluator: &mut dyn Evaluator) -> usize {
        let mut out = Vec::new();
        let mut waves = 0;
        let mut counters = WaveCounters::default();
        search.advance(&mut counters);
        while !search.is_done() {
            out.resize(search.leaves().len(), Evaluation::default());
            evaluator.evaluate(search.leaves(), &mut out);
            search.absorb(&out, &mut counters);
            search.check().unwrap_or_else(|e| panic!("after wave {waves}: {e}"));
            search.advance(&mut counters);
            waves += 1;
        }
        waves
    }

    fn dealt(players: usize, cards: usize, seed: u64) -> Round {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Round::deal(players, cards, seed as usize % players, None, &mut rng).unwrap()
    }

    #[test]
    fn invariants_hold_after_every_wave() {
        for (k, virtual_visits) in [(1, 1), (4, 1), (8, 3), (64, 1), (16, 0)] {
            for seed in 0..6 {
                let mut round = dealt(3 + seed as usize % 4, 4, seed);
                // Vary the phase: some searches during bidding, some in play.
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                for _ in 0..seed * 3 {
                    let action = round.legal_actions().sample(&mut rng).unwrap();
                    round.apply_legal(action);
                }
                crate::tree::play_forced(&mut round);
                if round.is_over() {
                    continue;
                }
                let config = SearchConfig {
                    worlds: 3,
                    simulations: 40,
                    leaves_per_wave: k,
                    virtual_visits,
                    ..SearchConfig::default()
                };
                let mut search = Search::new(&round.info_set(round.to_act()), &config, seed).unwrap();
                let waves = if seed % 2 == 0 {
                    run_checked(&mut search, &mut UniformEvaluator::default())
                } else {
                    run_checked(&mut search, &mut RolloutEvaluator::new(1, seed))
                };
                let result = search.result().unwrap();
                assert_eq!(result.visits.iter().sum::<u32>(), 3 * 40, "exactly S per world");
                assert!(waves >= (40 / k as usize).max(1), "K={k}: {waves} waves");
                let legal = round.legal_actions();
                assert!(legal.contains(result.action));
                for (i, v) in result.visits.iter().enumerate() {
                    assert!(*v == 0 || legal.mask & (1 << i) != 0, "visits on illegal action {i}");
                }
            }
        }
    }

    #[test]
    fn every_player_chooses_by_its_own_value() {
        // One card each, spades trump, dealer 0. Seats 1 and 2 bid 1; seat 3 holds the ace of
        // trumps and should bid 1. Then the dealer, holding the two of clubs, can never take
        // the trick: it should bid 0, although that changes nothing for seat 3, the searching
        // player (a single backed-up value for the searcher would leave it indifferent).
        let hands: Vec<game::CardSet> = ["2c", "3c", "4c", "As"]
            .iter()
            .map(|c| std::iter::once(c.parse::<game::Card>().unwrap()).collect())
            .collect();
        let mut round = Round::new(4, 1, 0, Some(game::Suit::Spades), &hands).unwrap();
        round.apply(Action::Bid(1)).unwrap();
        round.apply(Action::Bid(1)).unwrap();
        let config = SearchConfig { worlds: 1, simulations: 200, ..SearchConfig::default().for_play() };
        let mut search = Search::new(&round.info_set(3), &config, 0).unwrap();
        run_checked(&mut search, &mut UniformEvaluator::default());
        let tree = &search.worlds[0].tree;
        let (bid_one, _) = tree.child(ROOT, Action::Bid(1)).unwrap();
        let (_, dealer_zero) = tree.child(bid_one, Action::Bid(0)).unwrap();
        let (_, dealer_one) = tree.child(bid_one, Action::Bid(1)).unwrap();
        assert!(dealer_zero > 4 * dealer_one, "dealer bids 0: {dealer_zero} vs {dealer_one} visits");
        // The root values: seat 3 makes its bid (11/11), the dealer mostly does too (10/11).
        let values = search.result().unwrap().root_values.unwrap();
        assert!(values[3] > 0.85 && values[0] > 0.6, "{values:?}");
    }

    #[test]
    fn a_play_model_plays_the_other_seats_where_it_predicts_them() {
        let mut model = PlayModel::default();
        for (end, actions) in crate::play_model::tests::rounds_of(&mut game::HeuristicBot, 400, 1) {
            model.observe_round(&end, &actions, |_| true);
        }
        let model = Arc::new(model);
        let config = SearchConfig { worlds: 16, kind: SearchKind::Rollout, ..SearchConfig::default().for_play() };
        let (mut with, mut without) = (0, 0);
        for seed in 0..8 {
            // The first decision of the card play, the bids made by the heuristic.
            let mut round = dealt(4, 6, seed);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            while round.phase() == Phase::Bidding {
                let action = game::Bot::act(&mut game::HeuristicBot, &round.info_set(round.to_act()), &mut rng);
                round.apply_legal(action);
            }
            let info = round.info_set(round.to_act());
            for (learnt, leaves) in [(true, &mut with), (false, &mut without)] {
                let mut search = Search::new(&info, &config, seed).unwrap().with_play_model(learnt.then(|| model.clone()));
                let mut counters = WaveCounters::default();
                search.advance(&mut counters);
                while !search.is_done() {
                    for leaf in search.leaves() {
                        // The network is asked only for the searcher's decisions and those the
                        // model does not predict.
                        let other = leaf.info.observer() != info.observer();
                        assert!(!(learnt && other && model.predict(leaf.info.view()).is_some()), "seed {seed}");
                    }
                    *leaves += search.leaves().len();
                    let mut out = vec![Evaluation::default(); search.leaves().len()];
                    Highest.evaluate(search.leaves(), &mut out);
                    search.absorb(&out, &mut counters);
                    search.advance(&mut counters);
                }
                assert!(search.result().is_some());
            }
        }
        assert!(with * 2 < without, "{with} leaves with the model, {without} without");
    }

    /// Every seat's policy prefers its legal action of highest index.
    struct Highest;

    impl Evaluator for Highest {
        fn evaluate(&mut self, batch: &[Leaf], out: &mut [Evaluation]) {
            for (leaf, eval) in batch.iter().zip(out.iter_mut()) {
                *eval = Evaluation::default();
                for (rank, action) in leaf.legal.iter().enumerate() {
                    eval.policy[action.index()] = 1.0 + rank as f32;
                }
            }
        }
    }

    #[test]
    fn playouts_follow_the_policy_and_stop_once_the_searchers_score_is_settled() {
        for seed in 0..6 {
            let round = dealt(3 + seed as usize % 3, 5, seed);
            let info = round.info_set(round.to_act());
            let seat = info.observer();
            let config = SearchConfig { worlds: 3, kind: SearchKind::Rollout, ..SearchConfig::default().for_play() };
            let mut search = Search::new(&info, &config, seed).unwrap();
            let mut counters = WaveCounters::default();
            search.advance(&mut counters);
            let mut settled_early = 0;
            while !search.is_done() {
                assert!(search.leaves().iter().all(|leaf| leaf.hands.is_none() && leaf.info.observer() == leaf.info.view().to_act()));
                let mut out = vec![Evaluation::default(); search.leaves().len()];
                Highest.evaluate(search.leaves(), &mut out);
                // What each running playout must become: its highest legal action, then forced moves.
                let mut expected = Vec::new();
                for playout in &search.playouts {
                    let mut next = playout.round;
                    next.apply_legal(next.legal_actions().iter().last().unwrap());
                    crate::tree::play_forced(&mut next);
                    let (won, left) = (next.tricks_won(seat) as usize, next.cards() - next.tricks_done());
                    let settled = next.bid(seat).is_some_and(|bid| won > bid as usize || won + left < bid as usize);
                    if next.is_over() {
                        continue;
                    }
                    if settled {
                        settled_early += 1;
                        continue;
                    }
                    expected.push((next, playout.action));
                }
                search.absorb(&out, &mut counters);
                let running: Vec<(Round, usize)> = search.playouts.iter().map(|p| (p.round, p.action)).collect();
                assert_eq!(running, expected, "seed {seed}");
                search.advance(&mut counters);
            }
            let result = search.result().unwrap();
            let legal = info.view().legal_actions();
            assert!(legal.iter().all(|a| result.visits[a.index()] == 3), "seed {seed}: {:?}", result.visits);
            assert!(settled_early > 0, "seed {seed}: some playout fails its bid before the end");
        }
    }

    #[test]
    fn halving_spends_the_worlds_on_the_actions_in_contention() {
        for seed in 0..4 {
            // The first bid of 8 cards: 9 actions, phases of 9, 5, 3 and 2 ending at worlds 2, 4, 8, 16.
            let round = dealt(4, 8, seed);
            let info = round.info_set(round.to_act());
            let config = SearchConfig { worlds: 16, kind: SearchKind::Rollout, halving: true, ..SearchConfig::default().for_play() };
            let mut search = Search::new(&info, &config, seed).unwrap();
            let legal: Vec<usize> = info.view().legal_actions().iter().map(|a| a.index()).collect();
            let mean = |search: &Search, i: usize| search.playout_sums[i] / search.playout_counts[i] as f32;
            // The means after the first phase (every action played out in worlds 0 and 1).
            let mut first_phase = None;
            let (mut counters, mut evaluator) = (WaveCounters::default(), RolloutEvaluator::new(1, seed));
            search.advance(&mut counters);
            while !search.is_done() {
                let mut out = vec![Evaluation::default(); search.leaves().len()];
                evaluator.evaluate(search.leaves(), &mut out);
                search.absorb(&out, &mut counters);
                if first_phase.is_none() && legal.iter().all(|&i| search.playout_counts[i] == 2) {
                    first_phase = Some(legal.iter().map(|&i| (i, mean(&search, i))).collect::<Vec<_>>());
                }
                search.advance(&mut counters);
            }
            let result = *search.result().unwrap();
            let mut counts: Vec<u32> = legal.iter().map(|&i| result.visits[i]).collect();
            counts.sort_unstable();
            assert_eq!(counts, [2, 2, 2, 2, 4, 4, 8, 16, 16], "seed {seed}");
            // The five that went on were the better half after the first phase.
            let mut ranked = first_phase.expect("a first phase");
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            assert!(ranked.iter().enumerate().all(|(rank, &(i, _))| (result.visits[i] > 2) == (rank < 5)), "seed {seed}: {ranked:?} {:?}", result.visits);
            // Only the two compared over every world share the policy, and the better is played.
            let finalists: Vec<usize> = legal.iter().copied().filter(|&i| result.visits[i] == 16).collect();
            assert!((0..ACTIONS).all(|i| (result.policy[i] > 0.0) == finalists.contains(&i)), "seed {seed}: {:?}", result.policy);
            let chosen = result.action.index();
            assert!(finalists.contains(&chosen) && finalists.iter().all(|&i| mean(&search, chosen) >= mean(&search, i)), "seed {seed}");
        }
        // Two actions (a 1-card round's first bid, when 1-card playouts may end at once): one
        // phase over every world.
        let round = dealt(3, 1, 5);
        let info = round.info_set(round.to_act());
        let config = SearchConfig { worlds: 8, kind: SearchKind::Rollout, halving: true, ..SearchConfig::default().for_play() };
        let mut search = Search::new(&info, &config, 5).unwrap();
        run_checked(&mut search, &mut RolloutEvaluator::new(1, 5));
        let result = search.result().unwrap();
        assert!(info.view().legal_actions().iter().all(|a| result.visits[a.index()] == 8), "{:?}", result.visits);
        assert!(SearchConfig { halving: true, ..SearchConfig::default() }.validate().is_err(), "halving is for rollouts");
    }

    #[test]
    fn broken_evaluations_are_repaired_and_counted() {
        struct Broken;
        impl Evaluator for Broken {
            fn evaluate(&mut self, batch: &[Leaf], out: &mut [Evaluation]) {
                for (i, eval) in out.iter_mut().enumerate().take(batch.len()) {
                    eval.policy = [if i % 2 == 0 { f32::NAN } else { -1.0 }; ACTIONS];
                    eval.values = [if i % 3 == 0 { f32::INFINITY } else { 0.3 }; MAX_PLAYERS];
                }
            }
        }
        let round = dealt(4, 5, 3);
        let mut search = Search::new(&round.info_set(round.to_act()), &SearchConfig::default(), 1).unwrap();
        run_checked(&mut search, &mut Broken);
        let result = search.result().unwrap();
        assert!(result.root_values.unwrap().iter().all(|v| v.is_finite()));
        assert!((result.policy.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }

    #[test]
    fn temperature_zero_plays_the_most_visited_and_positive_samples_in_proportion() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut visits = [0u32; ACTIONS];
        visits[3] = 30;
        visits[7] = 10;
        visits[9] = 30;
        let mut counts = [0usize; ACTIONS];
        for _ in 0..2000 {
            counts[choose(&visits, 0.0, &mut rng)] += 1;
        }
        assert_eq!(counts[3] + counts[9], 2000, "only the most visited");
        assert!(counts[3] > 800 && counts[9] > 800, "ties are broken at random: {counts:?}");
        let mut counts = [0usize; ACTIONS];
        for _ in 0..7000 {
            counts[choose(&visits, 1.0, &mut rng)] += 1;
        }
        // Expected 3000 / 1000 / 3000.
        assert!((2700..3300).contains(&counts[3]) && (800..1200).contains(&counts[7]), "{counts:?}");
        assert_eq!(counts.iter().sum::<usize>(), counts[3] + counts[7] + counts[9]);
        let mut counts = [0usize; ACTIONS];
        for _ in 0..2000 {
            counts[choose(&visits, 0.05, &mut rng)] += 1;
        }
        assert_eq!(counts[7], 0, "a small temperature is nearly greedy");
    }

    #[test]
    fn bids_and_card_play_use_their_own_temperature() {
        // Over many seeds, a greedy phase always plays its most visited action and a
        // sampling phase sometimes does not.
        let greedy_bids = SearchConfig { worlds: 1, simulations: 30, bid_temperature: 0.0, play_temperature: 1.0, ..SearchConfig::default() };
        let greedy_play = SearchConfig { bid_temperature: 1.0, play_temperature: 0.0, ..greedy_bids };
        let bidding = dealt(4, 5, 21);
        let mut playing = bidding;
        while playing.phase() == Phase::Bidding {
            playing.apply(playing.legal_actions().iter().next().unwrap()).unwrap();
        }
        let off_argmax = |round: &Round, config: &SearchConfig| {
            (0..40)
                .filter(|&seed| {
                    let mut search = Search::new(&round.info_set(round.to_act()), config, seed).unwrap();
                    run_checked(&mut search, &mut UniformEvaluator::default());
                    let result = search.result().unwrap();
                    result.visits[result.action.index()] < *result.visits.iter().max().unwrap()
                })
                .count()
        };
        assert_eq!(off_argmax(&bidding, &greedy_bids), 0);
        assert!(off_argmax(&bidding, &greedy_play) > 0);
        assert_eq!(off_argmax(&playing, &greedy_play), 0);
        assert!(off_argmax(&playing, &greedy_bids) > 0);
    }

    #[test]
    fn root_noise_changes_priors_but_keeps_them_a_distribution() {
        let round = dealt(4, 5, 11);
        let info = round.info_set(round.to_act());
        let quiet = SearchConfig { dirichlet_epsilon: 0.0, ..SearchConfig::default() };
        let noisy = SearchConfig { dirichlet_epsilon: 0.5, dirichlet_alpha: 0.3, ..SearchConfig::default() };
        let mut a = Search::new(&info, &quiet, 4).unwrap();
        let mut b = Search::new(&info, &noisy, 4).unwrap();
        run_checked(&mut a, &mut UniformEvaluator::default());
        run_checked(&mut b, &mut UniformEvaluator::default());
        assert_ne!(a.result().unwrap().visits, b.result().unwrap().visits);
    }

    #[test]
    fn bad_requests_are_errors() {
        let round = dealt(4, 5, 1);
        let not_to_act = round.info_set((round.to_act() + 1) % 4);
        assert!(matches!(
            Search::new(&not_to_act, &SearchConfig::default(), 0),
            Err(SearchError::NotToAct { .. })
        ));
        let bad = SearchConfig { simulations: 0, ..SearchConfig::default() };
        assert!(matches!(Search::new(&round.info_set(round.to_act()), &bad, 0), Err(SearchError::Config(_))));
        let mut over = round;
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        while let Some(action) = over.legal_actions().sample(&mut rng) {
            over.apply_legal(action);
        }
        assert_eq!(Search::new(&over.info_set(0), &SearchConfig::default(), 0).unwrap_err(), SearchError::RoundOver);
    }
}
