//! A whole game: the schedule C..2, P one-card rounds, 2..C, with rotating dealer and trump.

use rand::Rng;

use crate::card::Suit;
use crate::round::{check_table, DealError, Round, MAX_PLAYERS};

/// Trump of round r (0-based) is `TRUMP_CYCLE[r % 5]`; `None` is a no-trump round.
pub const TRUMP_CYCLE: [Option<Suit>; 5] =
    [Some(Suit::Spades), Some(Suit::Hearts), Some(Suit::Clubs), Some(Suit::Diamonds), None];

/// The rounds of a game for `players` players starting at `start` cards. Two numbers, no
/// allocation: the network evaluator asks for a leaf's later rounds at every evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    players: usize,
    start: usize,
}

/// The setup of one scheduled round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoundSpec {
    pub cards: usize,
    pub dealer: usize,
    pub trump: Option<Suit>,
}

impl Schedule {
    pub fn new(players: usize, start: usize) -> Result<Schedule, DealError> {
        // The first round's table; every later one is no larger, with the dealer rotating.
        check_table(players, start, 0)?;
        Ok(Schedule { players, start })
    }

    /// Cards per player in round `index`: C, C - 1, ..., 2, then P rounds of 1, then 2, ..., C.
    fn cards(&self, index: usize) -> Option<usize> {
        let down = self.start - 1;
        match index {
            i if i < down => Some(self.start - i),
            i if i < down + self.players => Some(1),
            i if i < self.len() => Some(i - down - self.players + 2),
            _ => None,
        }
    }

    pub fn players(&self) -> usize {
        self.players
    }

    pub fn len(&self) -> usize {
        2 * self.start + self.players - 2
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn round(&self, index: usize) -> Option<RoundSpec> {
        let cards = self.cards(index)?;
        Some(RoundSpec { cards, dealer: index % self.players, trump: TRUMP_CYCLE[index % 5] })
    }

    pub fn rounds(&self) -> impl Iterator<Item = RoundSpec> + '_ {
        (0..self.len()).filter_map(|i| self.round(i))
    }
}

/// What a player knows of the game around the current round (game mode only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GameContext {
    /// 0-based index of the current round.
    pub round_index: usize,
    /// Rounds in the whole schedule.
    pub rounds: usize,
    /// Totals of the finished rounds, by seat.
    pub totals: [i32; MAX_PLAYERS],
}

impl GameContext {
    /// A lone round seen as a game of one round: nothing before it, nothing after it.
    pub fn single_round() -> GameContext {
        GameContext { round_index: 0, rounds: 1, totals: [0; MAX_PLAYERS] }
    }

    /// The most one seat can score in the rounds after the current one (the sum of 10 + n over
    /// them) in a game of `players` by the schedule. `None` if rounds remain but their number
    /// fits no schedule of `players`.
    pub fn later_rounds_max(&self, players: usize) -> Option<i32> {
        let later = self.round_index + 1..self.rounds;
        if later.is_empty() {
            return Some(0);
        }
        // A schedule of P players from C cards has 2C + P - 2 rounds.
        let start = (self.rounds + 2).checked_sub(players)? / 2;
        let schedule = Schedule::new(players, start).ok().filter(|s| s.len() == self.rounds)?;
        later.map(|k| schedule.round(k).map(|spec| 10 + spec.cards as i32)).sum()
    }
}

/// A game in progress: the current round and the totals of the rounds before it.
#[derive(Clone, Debug)]
pub struct Game {
    schedule: Schedule,
    index: usize,
    totals: [i32; MAX_PLAYERS],
    round: Round,
}

impl Game {
    pub fn new<R: Rng + ?Sized>(players: usize, start: usize, rng: &mut R) -> Result<Game, DealError> {
        Ok(Game::from_schedule(Schedule::new(players, start)?, rng))
    }

    /// A game by an already validated schedule, its first round dealt.
    pub fn from_schedule<R: Rng + ?Sized>(schedule: Schedule, rng: &mut R) -> Game {
        let round = deal_spec(schedule.players, schedule.round(0).expect("schedules are never empty"), rng);
        Game { schedule, index: 0, totals: [0; MAX_PLAYERS], round }
    }

    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// 0-based index of the current round in the schedule.
    pub fn round_index(&self) -> usize {
        self.index
    }

    pub fn round(&self) -> &Round {
        &self.round
    }

    pub fn round_mut(&mut self) -> &mut Round {
        &mut self.round
    }

    /// Totals of the finished rounds (the current round's score is added by `next_round`).
    pub fn totals(&self) -> [i32; MAX_PLAYERS] {
        self.totals
    }

    pub fn context(&self) -> GameContext {
        GameContext { round_index: self.index, rounds: self.schedule.len(), totals: self.totals }
    }

    /// Once the current round is over: bank its scores and deal the next round.
    /// Returns false (and banks the scores) when the game is over.
    pub fn next_round<R: Rng + ?Sized>(&mut self, rng: &mut R) -> bool {
        assert!(self.round.is_over(), "next_round called while the round is in play");
        for (total, score) in self.totals.iter_mut().zip(self.round.scores()) {
            *total += score;
        }
        self.index += 1;
        match self.schedule.round(self.index) {
            Some(spec) => {
                self.round = deal_spec(self.schedule.players, spec, rng);
                true
            }
            None => false,
        }
    }

    pub fn is_over(&self) -> bool {
        self.index >= self.schedule.len()
    }

    /// Seats with the highest total (all of them share the win).
    pub fn winners(&self) -> Vec<usize> {
        let players = self.schedule.players;
        let best = self.totals[..players].iter().max().copied().unwrap_or(0);
        (0..players).filter(|&s| self.totals[s] == best).collect()
    }
}

fn deal_spec<R: Rng + ?Sized>(players: usize, spec: RoundSpec, rng: &mut R) -> Round {
    Round::deal(players, spec.cards, spec.dealer, spec.trump, rng).expect("schedule sizes fit the deck")
}
