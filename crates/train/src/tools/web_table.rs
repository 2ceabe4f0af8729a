//! A person's game at a table of bots or agents, one request at a time: what `blob serve` keeps
//! per game. Whole games by the schedule or single rounds, the person's undo, the agent's view of
//! the person's decisions and a review of them after each round, and the game record.

use game::record::{GameRecord, RoundRecord};
use game::{Action, Card, GameContext, InfoSet, ParseActionError, Phase, Round, RoundSpec, Schedule, Suit, TRUMP_CYCLE};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use thiserror::Error;

use crate::agent::{Agent, AgentError, Decision};
use crate::seed::derive_seed;

/// Who sits in a seat other than the person's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeatKind {
    /// The trained network with its search (needs a checkpoint).
    Agent,
    Heuristic,
    Pimc,
    Random,
}

impl std::str::FromStr for SeatKind {
    type Err = String;

    fn from_str(text: &str) -> Result<SeatKind, String> {
        [SeatKind::Agent, SeatKind::Heuristic, SeatKind::Pimc, SeatKind::Random]
            .into_iter()
            .find(|kind| kind.name() == text)
            .ok_or_else(|| format!("{text:?}: expected agent, heuristic, pimc or random"))
    }
}

impl SeatKind {
    pub fn name(self) -> &'static str {
        match self {
            SeatKind::Agent => "agent",
            SeatKind::Heuristic => "heuristic",
            SeatKind::Pimc => "pimc",
            SeatKind::Random => "random",
        }
    }
}

/// What a new game is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSpec {
    pub players: usize,
    /// The person's seat.
    pub seat: usize,
    /// Cards in the first round (C); a single round has this many.
    pub start: usize,
    /// Whole game by the schedule (C down to 2, P rounds of 1, 2 up to C), or one round.
    pub whole_game: bool,
    /// The other seats' players, by seat (the person's own entry is ignored).
    pub seats: Vec<SeatKind>,
    /// Deals (and bots' randomness) derive from it.
    pub seed: u64,
}

#[derive(Debug, Error)]
pub enum TableError {
    #[error("{0}")]
    Setup(String),
    #[error("it is not your turn: seat {0} is to act")]
    NotYourTurn(usize),
    #[error("it is your turn, not another seat's")]
    YourTurn,
    #[error("the round is over: deal the next round")]
    RoundOver,
    #[error("the round is still in play")]
    RoundInPlay,
    #[error("the game is over")]
    GameOver,
    #[error("not a {what}: {text:?}")]
    Unreadable { what: &'static str, text: String },
    #[error("illegal: {0}")]
    Illegal(#[from] game::RuleError),
    #[error("nothing to undo: {0}")]
    NoUndo(&'static str),
    #[error("no agent at this server: start blob serve with --checkpoint for the agent's view")]
    NoAgent,
    #[error("the agent failed: {0}")]
    Agent(#[from] AgentError),
}

/// A decision of the person's, with what the agent would have done there.
#[derive(Clone, Debug, Serialize)]
pub struct ReviewedDecision {
    /// 1-based number of the decision in the round (bids and plays of every seat).
    pub decision: usize,
    pub yours: String,
    pub agents: String,
    /// The agent's search policy's share on your action and on its own.
    pub share_yours: f32,
    pub share_agents: f32,
}

/// The agent's view of a decision: where its search went, and the value it found.
#[derive(Clone, Debug, Serialize)]
pub struct Advice {
    pub action: String,
    /// (action, the search policy's share), largest first (for PUCT the share of the visits,
    /// for rollouts the softmax of the mean playout scores).
    pub shares: Vec<(String, f32)>,
    /// The acting seat's expected round score, as a fraction of 10 + n (None when forced).
    pub value: Option<f32>,
}

/// A finished round as the page lists it.
#[derive(Clone, Debug, Serialize)]
pub struct RoundSummary {
    pub cards: usize,
    pub trump: String,
    pub bids: Vec<u8>,
    pub tricks: Vec<u8>,
    pub scores: Vec<i32>,
}

/// Everything the page shows, from the person's side: other seats' hands are never in it.
#[derive(Clone, Debug, Serialize)]
pub struct TableView {
    pub players: usize,
    pub seat: usize,
    pub names: Vec<String>,
    pub whole_game: bool,
    /// 0-based index of the round, and how many the game has.
    pub round: usize,
    pub rounds: usize,
    pub cards: usize,
    pub dealer: usize,
    pub trump: String,
    /// "bidding", "playing", "round_over" or "game_over".
    pub phase: &'static str,
    pub to_act: Option<usize>,
    pub your_turn: bool,
    /// The person's hand, grouped by suit, high cards first.
    pub hand: Vec<String>,
    /// The person's legal actions when it is their turn.
    pub legal: Vec<String>,
    pub bids: Vec<Option<u8>>,
    pub tricks: Vec<u8>,
    /// The trick in play: (seat, card) in play order.
    pub trick: Vec<(usize, String)>,
    /// The last finished trick and its winner.
    pub last_trick: Option<(Vec<(usize, String)>, usize)>,
    /// Round scores, once the round is over.
    pub scores: Option<Vec<i32>>,
    pub totals: Vec<i32>,
    pub history: Vec<RoundSummary>,
    pub can_undo: bool,
    /// After the round: the person's decisions where the agent would have chosen otherwise
    /// (empty without an agent, or when it agreed with every one).
    pub review: Vec<ReviewedDecision>,
    pub reviewed: bool,
    /// What the last seat to act did (for the page's log).
    pub last_action: Option<(usize, String)>,
}

/// The state `undo` goes back to.
#[derive(Clone, Debug)]
struct Before {
    round: Round,
    actions: usize,
    reviews: usize,
}

/// One game in progress.
pub struct WebTable {
    spec: TableSpec,
    specs: Vec<RoundSpec>,
    index: usize,
    /// The current round as dealt, and everything played in it since.
    initial: Round,
    round: Round,
    actions: Vec<Action>,
    finished: Vec<RoundRecord>,
    totals: Vec<i32>,
    dealing: ChaCha8Rng,
    /// The person's decisions this round the agent would have taken otherwise.
    reviews: Vec<ReviewedDecision>,
    undo: Option<Before>,
    last_action: Option<(usize, Action)>,
}

impl WebTable {
    pub fn new(spec: TableSpec) -> Result<WebTable, TableError> {
        let players = spec.players;
        game::check_table(players, spec.start, 0).map_err(|e| TableError::Setup(e.to_string()))?;
        if spec.seat >= players {
            return Err(TableError::Setup(format!("seat {} does not exist with {players} players", spec.seat)));
        }
        if spec.seats.len() != players {
            return Err(TableError::Setup(format!("{} seat kinds given for {players} seats", spec.seats.len())));
        }
        let mut dealing = ChaCha8Rng::seed_from_u64(derive_seed(spec.seed, &[0]));
        let specs = if spec.whole_game {
            let schedule = Schedule::new(players, spec.start).map_err(|e| TableError::Setup(e.to_string()))?;
            schedule.rounds().collect()
        } else {
            let dealer = dealing.gen_range(0..players);
            vec![RoundSpec { cards: spec.start, dealer, trump: TRUMP_CYCLE[dealing.gen_range(0..TRUMP_CYCLE.len())] }]
        };
        let first = specs[0];
        let initial = Round::deal(players, first.cards, first.dealer, first.trump, &mut dealing)
            .map_err(|e| TableError::Setup(e.to_string()))?;
        Ok(WebTable {
            spec,
            specs,
            index: 0,
            initial,
            round: initial,
            actions: Vec::new(),
            finished: Vec::new(),
            totals: vec![0; players],
            dealing,
            reviews: Vec::new(),
            undo: None,
            last_action: None,
        })
    }

    pub fn spec(&self) -> &TableSpec {
        &self.spec
    }

    pub fn is_over(&self) -> bool {
        self.round.is_over() && self.index + 1 == self.specs.len()
    }

    /// The seat to act, unless the round is over.
    pub fn to_act(&self) -> Option<usize> {
        (!self.round.is_over()).then(|| self.round.to_act())
    }

    pub fn is_persons_turn(&self) -> bool {
        self.to_act() == Some(self.spec.seat)
    }

    /// The game around the round (whole games only): what a game-value net sees.
    fn context(&self) -> Option<GameContext> {
        self.spec.whole_game.then(|| {
            let mut totals = [0; game::MAX_PLAYERS];
            totals[..self.spec.players].copy_from_slice(&self.totals);
            GameContext { round_index: self.index, rounds: self.specs.len(), totals }
        })
    }

    /// The information set of the seat to act.
    pub fn info_to_act(&self) -> Result<InfoSet, TableError> {
        let seat = self.to_act().ok_or(TableError::RoundOver)?;
        Ok(self.round.info_set(seat))
    }

    /// Read the person's action from its text: a bid while bidding, a card while playing.
    pub fn parse_action(&self, text: &str) -> Result<Action, TableError> {
        let shown = || game::record::shorten(text.trim(), game::record::QUOTED_CHARS);
        Action::parse_in(self.round.phase(), text).map_err(|e| match e {
            ParseActionError::NotABid(_) => TableError::Unreadable { what: "bid", text: shown() },
            ParseActionError::NotACard(_) => TableError::Unreadable { what: "card", text: shown() },
            ParseActionError::RoundOver => TableError::RoundOver,
        })
    }

    /// The person's action. `advisor`, when there is one, is asked what it would do, for the
    /// round's review. Nothing changes unless the action is legal.
    pub fn play_persons(&mut self, action: Action, advisor: Option<&mut Agent>) -> Result<(), TableError> {
        if self.round.is_over() {
            return Err(if self.is_over() { TableError::GameOver } else { TableError::RoundOver });
        }
        if !self.is_persons_turn() {
            return Err(TableError::NotYourTurn(self.round.to_act()));
        }
        // Checked on a copy: the table only ever holds legal positions.
        let mut next = self.round;
        next.apply(action)?;
        let before = Before { round: self.round, actions: self.actions.len(), reviews: self.reviews.len() };
        if let Some(advisor) = advisor {
            let decision = advisor.act_in(&self.round.info_set(self.spec.seat), self.context())?;
            if decision.action != action {
                let share = |a: Action| share_of(&decision, a);
                self.reviews.push(ReviewedDecision {
                    decision: self.actions.len() + 1,
                    yours: action.short(),
                    agents: decision.action.short(),
                    share_yours: share(action),
                    share_agents: share(decision.action),
                });
            }
        }
        self.round = next;
        self.actions.push(action);
        self.last_action = Some((self.spec.seat, action));
        self.undo = Some(before);
        self.finish_round_if_over();
        Ok(())
    }

    /// The seat to act, when it is not the person: `player` decides for it.
    pub fn play_others(&mut self, player: &mut Agent) -> Result<(), TableError> {
        let Some(seat) = self.to_act() else {
            return Err(if self.is_over() { TableError::GameOver } else { TableError::RoundOver });
        };
        if seat == self.spec.seat {
            return Err(TableError::YourTurn);
        }
        let decision = player.act_in(&self.round.info_set(seat), self.context())?;
        self.round.apply(decision.action)?;
        self.actions.push(decision.action);
        self.last_action = Some((seat, decision.action));
        // Another seat has acted on the person's move: it stands.
        self.undo = None;
        self.finish_round_if_over();
        Ok(())
    }

    /// The kind of player in the seat to act (not the person's).
    pub fn kind_to_act(&self) -> Option<SeatKind> {
        self.to_act().filter(|&seat| seat != self.spec.seat).map(|seat| self.spec.seats[seat])
    }

    fn finish_round_if_over(&mut self) {
        if !self.round.is_over() {
            return;
        }
        for (total, score) in self.totals.iter_mut().zip(self.round.scores()) {
            *total += score;
        }
        let record = RoundRecord::new(&self.initial, &self.actions).expect("the table holds legal actions only");
        self.finished.push(record);
    }

    /// Take back the person's last action, while no other seat has acted after it.
    pub fn undo(&mut self) -> Result<(), TableError> {
        let before = self.undo.take().ok_or(TableError::NoUndo("no action of yours since another seat acted"))?;
        if self.round.is_over() {
            // The round was finished by the person's action: unbank it.
            for (total, score) in self.totals.iter_mut().zip(self.round.scores()) {
                *total -= score;
            }
            self.finished.pop();
        }
        self.round = before.round;
        self.actions.truncate(before.actions);
        self.reviews.truncate(before.reviews);
        self.last_action = None;
        Ok(())
    }

    /// Deal the next round of the game once this one is over.
    pub fn next_round(&mut self) -> Result<(), TableError> {
        if !self.round.is_over() {
            return Err(TableError::RoundInPlay);
        }
        if self.is_over() {
            return Err(TableError::GameOver);
        }
        self.index += 1;
        let spec = self.specs[self.index];
        self.initial = Round::deal(self.spec.players, spec.cards, spec.dealer, spec.trump, &mut self.dealing)
            .expect("schedule sizes fit the deck");
        self.round = self.initial;
        self.actions.clear();
        self.reviews.clear();
        self.undo = None;
        self.last_action = None;
        Ok(())
    }

    /// What the agent would do at the person's decision now.
    pub fn advice(&self, agent: &mut Agent) -> Result<Advice, TableError> {
        if !self.is_persons_turn() {
            return Err(match self.to_act() {
                Some(seat) => TableError::NotYourTurn(seat),
                None => TableError::RoundOver,
            });
        }
        let decision = agent.act_in(&self.round.info_set(self.spec.seat), self.context())?;
        let search = decision.search.as_ref().ok_or(TableError::NoAgent)?;
        let mut shares: Vec<(String, f32)> = if search.forced {
            vec![(decision.action.short(), 1.0)]
        } else {
            search.policy.iter().map(|&(a, p)| (a.short(), p)).collect()
        };
        shares.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(Advice { action: decision.action.short(), shares, value: search.value })
    }

    /// The game so far as a record of `docs/formats.md`: a game record for whole games (the
    /// rounds played, the current one as far as it went), a round record for a single round.
    pub fn record(&self) -> serde_json::Value {
        let mut rounds = self.finished.clone();
        if !self.round.is_over() {
            rounds.push(RoundRecord::new(&self.initial, &self.actions).expect("the table holds legal actions only"));
        }
        if self.spec.whole_game {
            let totals = self.is_over().then(|| self.totals.clone());
            let record = GameRecord { players: self.spec.players, start: self.spec.start, rounds, totals };
            serde_json::to_value(record).expect("records serialise")
        } else {
            serde_json::to_value(&rounds[0]).expect("records serialise")
        }
    }

    pub fn view(&self, names: &[String]) -> TableView {
        let round = &self.round;
        let players = self.spec.players;
        let seat = self.spec.seat;
        let phase = match round.phase() {
            Phase::Bidding => "bidding",
            Phase::Playing => "playing",
            Phase::Done if self.is_over() => "game_over",
            Phase::Done => "round_over",
        };
        let mut hand: Vec<Card> = Vec::new();
        for suit in Suit::ALL {
            let mut cards: Vec<Card> = round.hand(seat).of_suit(suit).iter().collect();
            cards.reverse();
            hand.extend(cards);
        }
        let legal = if self.is_persons_turn() { round.legal_actions().iter().map(Action::short).collect() } else { Vec::new() };
        let in_order = |leader: usize, cards: &[Card]| -> Vec<(usize, String)> {
            cards.iter().enumerate().map(|(i, c)| ((leader + i) % players, c.to_string())).collect()
        };
        let trick = round.current_trick();
        let last_trick = self.last_trick();
        TableView {
            players,
            seat,
            names: names.to_vec(),
            whole_game: self.spec.whole_game,
            round: self.index,
            rounds: self.specs.len(),
            cards: round.cards(),
            dealer: round.dealer(),
            trump: game::record::trump_text(round.trump()),
            phase,
            to_act: self.to_act(),
            your_turn: self.is_persons_turn(),
            hand: hand.iter().map(|c| c.to_string()).collect(),
            legal,
            bids: (0..players).map(|s| round.bid(s)).collect(),
            tricks: (0..players).map(|s| round.tricks_won(s)).collect(),
            trick: if round.is_over() { Vec::new() } else { in_order(trick.leader as usize, trick.cards()) },
            last_trick: last_trick.map(|(leader, cards, winner)| (in_order(leader, &cards), winner)),
            scores: round.is_over().then(|| round.scores()[..players].to_vec()),
            totals: self.totals.clone(),
            history: self
                .finished
                .iter()
                .map(|r| RoundSummary {
                    cards: r.cards,
                    trump: r.trump.clone(),
                    bids: r.bids.clone(),
                    tricks: r.tricks.clone().unwrap_or_default(),
                    scores: r.scores.clone().unwrap_or_default(),
                })
                .collect(),
            can_undo: self.undo.is_some(),
            review: if round.is_over() { self.reviews.clone() } else { Vec::new() },
            reviewed: round.is_over(),
            last_action: self.last_action.map(|(s, a)| (s, a.short())),
        }
    }

    /// The last finished trick of this round: its leader, cards and winner.
    fn last_trick(&self) -> Option<(usize, Vec<Card>, usize)> {
        let done = self.round.tricks_done();
        if done == 0 {
            return None;
        }
        // Replay the round to the end of trick `done`: cheap (a Round is Copy, at most 52 plays).
        let mut round = self.initial;
        let mut cards = Vec::new();
        let mut leader = 0;
        for &action in &self.actions {
            let trick_before = round.tricks_done();
            if let Action::Play(card) = action {
                if round.current_trick().cards().is_empty() {
                    leader = round.current_trick().leader as usize;
                    cards.clear();
                }
                cards.push(card);
            }
            let won_before: Vec<u8> = (0..self.spec.players).map(|seat| round.tricks_won(seat)).collect();
            round.apply_legal(action);
            if round.tricks_done() > trick_before && round.tricks_done() == done {
                // The rules engine scored the trick: its winner is the seat whose count rose.
                let winner = (0..self.spec.players)
                    .find(|&seat| round.tricks_won(seat) > won_before[seat])
                    .expect("a finished trick has a winner");
                return Some((leader, cards, winner));
            }
        }
        None
    }
}

/// The share of a decision's search policy on `action` (1 for the action of a forced move or a bot).
fn share_of(decision: &Decision, action: Action) -> f32 {
    match &decision.search {
        Some(search) if !search.forced => search.policy.iter().find(|(a, _)| *a == action).map_or(0.0, |(_, p)| *p),
        _ => f32::from(decision.action == action),
    }
}
