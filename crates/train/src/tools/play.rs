//! `blob play`: a person plays rounds, or a whole game by the schedule, in the terminal against
//! the agent or baseline bots.
//!
//! Line-based on purpose (no terminal control), so that scripts and tests can drive it: before
//! each of the person's decisions a line `legal: ...` lists the legal inputs, then a `> `
//! prompt waits for one line. Illegal input is refused with the rule it breaks, and asked
//! again; `quit` or the end of input stops the session cleanly.

use std::io::{self, BufRead, Write};
use std::time::Instant;

use game::{Action, Card, CardSet, GameContext, ParseActionError, Phase, Round, RoundSpec, Schedule, Suit, MAX_PLAYERS, TRUMP_CYCLE};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::agent::Agent;
use crate::seed::derive_seed;

/// The table: sizes, the person's seat, how many rounds (or a whole game), the deal seed.
#[derive(Clone, Copy, Debug)]
pub struct Table {
    pub players: usize,
    pub cards: usize,
    pub seat: usize,
    pub rounds: usize,
    /// A whole game by the schedule from this many cards, instead of `rounds` rounds of `cards`.
    pub game: Option<usize>,
    pub seed: u64,
}

/// Why a session ended early: not an error, the person left.
enum Flow {
    Continue,
    Leave,
}

struct Session<'a, R: BufRead, W: Write> {
    table: Table,
    opponents: &'a mut Agent,
    input: R,
    out: W,
    totals: Vec<i32>,
    /// Rounds in the session.
    rounds: usize,
}

/// Play `table.rounds` rounds of `table.cards` cards, the dealer moving left and trump
/// following the game's cycle each round (or the whole schedule of `table.game`), with
/// `opponents` in every seat but the person's.
pub fn play(table: Table, opponents: &mut Agent, input: impl BufRead, output: impl Write) -> anyhow::Result<()> {
    if table.seat >= table.players {
        anyhow::bail!("seat {} does not exist with {} players", table.seat, table.players);
    }
    let specs: Vec<RoundSpec> = match table.game {
        Some(start) => Schedule::new(table.players, start)?.rounds().collect(),
        None => (0..table.rounds)
            .map(|r| RoundSpec { cards: table.cards, dealer: r % table.players, trump: TRUMP_CYCLE[r % 5] })
            .collect(),
    };
    let mut session = Session { table, opponents, input, out: output, totals: vec![0; table.players], rounds: specs.len() };
    let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(table.seed, &[0]));
    let names = session.opponents.describe();
    writeln!(session.out, "You are seat {} of {}; the other seats are {names}.", table.seat, table.players)?;
    if let Some(start) = table.game {
        writeln!(session.out, "A whole game from {start} cards: {} rounds.", specs.len())?;
    }
    writeln!(session.out, "Type a number to bid, a card such as Ts or 9h to play, quit to leave.")?;
    for (r, spec) in specs.iter().enumerate() {
        let round = Round::deal(table.players, spec.cards, spec.dealer, spec.trump, &mut rng)?;
        // A network trained on whole games sees the game around the round.
        let game = table.game.map(|_| {
            let mut totals = [0; MAX_PLAYERS];
            totals[..table.players].copy_from_slice(&session.totals);
            GameContext { round_index: r, rounds: specs.len(), totals }
        });
        if let Flow::Leave = session.round(r, round, game)? {
            writeln!(session.out, "Bye.")?;
            return Ok(());
        }
    }
    writeln!(session.out, "Game over. Totals: {}", session.seats(|s| session.totals[s].to_string()))?;
    Ok(())
}

/// The record's trump text, spelt out when there is none.
fn trump_name(trump: Option<Suit>) -> String {
    let text = game::record::trump_text(trump);
    if trump.is_none() { text + " (no trump)" } else { text }
}

/// A hand grouped by suit (spades, hearts, clubs, diamonds), high cards first.
fn hand_text(hand: CardSet) -> String {
    Suit::ALL
        .iter()
        .map(|&suit| {
            let mut cards: Vec<String> = hand.of_suit(suit).iter().map(|c| c.to_string()).collect();
            cards.reverse();
            cards.join(" ")
        })
        .filter(|group| !group.is_empty())
        .collect::<Vec<_>>()
        .join("  ")
}

impl<R: BufRead, W: Write> Session<'_, R, W> {
    fn name(&self, seat: usize) -> String {
        if seat == self.table.seat {
            format!("seat {seat} (you)")
        } else {
            format!("seat {seat}")
        }
    }

    /// "seat 0 (you) x, seat 1 y, ..." for a per-seat value.
    fn seats(&self, value: impl Fn(usize) -> String) -> String {
        (0..self.table.players).map(|s| format!("{} {}", self.name(s), value(s))).collect::<Vec<_>>().join(", ")
    }

    fn round(&mut self, index: usize, mut round: Round, game: Option<GameContext>) -> anyhow::Result<Flow> {
        writeln!(
            self.out,
            "\n=== Round {} of {}: {} cards each, dealer seat {}, trump {} ===",
            index + 1,
            self.rounds,
            round.cards(),
            round.dealer(),
            trump_name(round.trump())
        )?;
        writeln!(self.out, "Your hand: {}", hand_text(round.hand(self.table.seat)))?;
        let mut actions = Vec::new();
        while !round.is_over() {
            let seat = round.to_act();
            let (action, time) = if seat == self.table.seat {
                match self.ask(&round)? {
                    Some(action) => (action, String::new()),
                    None => return Ok(Flow::Leave),
                }
            } else {
                let start = Instant::now();
                let decision = self.opponents.act_in(&round.info_set(seat), game)?;
                // Thinking time, for the search agent only: it is what the 500 ms budget is about.
                let time = match decision.search {
                    Some(_) => format!(" ({} ms)", start.elapsed().as_millis()),
                    None => String::new(),
                };
                (decision.action, time)
            };
            let verb = if matches!(action, Action::Bid(_)) { "bids" } else { "plays" };
            writeln!(self.out, "{} {verb} {}{time}", self.name(seat), action.short())?;
            self.apply(&mut round, action)?;
            actions.push(action);
        }
        // A learning agent learns the person's play from the finished round.
        let person = self.table.seat;
        self.opponents.observe_round(&round, &actions, |seat| seat == person);
        for seat in 0..self.table.players {
            self.totals[seat] += round.score(seat);
        }
        writeln!(self.out, "Round over.")?;
        for seat in 0..self.table.players {
            writeln!(
                self.out,
                "  {}: bid {}, took {}, scores {}, total {}",
                self.name(seat),
                round.bid(seat).unwrap_or(0),
                round.tricks_won(seat),
                round.score(seat),
                self.totals[seat]
            )?;
        }
        Ok(Flow::Continue)
    }

    /// Apply a legal action and report what it completed (the bidding, a trick).
    fn apply(&mut self, round: &mut Round, action: Action) -> anyhow::Result<()> {
        let trick = *round.current_trick();
        let tricks_done = round.tricks_done();
        round.apply(action)?;
        match action {
            Action::Bid(_) if round.phase() == Phase::Playing => writeln!(self.out, "Bids: {}", self.bids(round))?,
            Action::Play(card) if round.tricks_done() > tricks_done => {
                let mut cards = trick.cards().to_vec();
                cards.push(card);
                writeln!(
                    self.out,
                    "Trick {}: {}; {} wins it. Tricks: {}",
                    round.tricks_done(),
                    self.trick_text(trick.leader as usize, &cards),
                    // The winner leads the next trick (also recorded when the round ends).
                    self.name(round.to_act()),
                    self.seats(|s| round.tricks_won(s).to_string())
                )?;
            }
            _ => {}
        }
        Ok(())
    }

    /// "seat 1 Kc, seat 2 Tc, ..." for the cards of a trick in play order.
    fn trick_text(&self, leader: usize, cards: &[Card]) -> String {
        let players = self.table.players;
        cards
            .iter()
            .enumerate()
            .map(|(i, card)| format!("{} {card}", self.name((leader + i) % players)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn bids(&self, round: &Round) -> String {
        self.seats(|s| round.bid(s).map_or("-".to_string(), |b| b.to_string()))
    }

    /// The person's action, asked until it is legal; `None` when they leave.
    fn ask(&mut self, round: &Round) -> anyhow::Result<Option<Action>> {
        let seat = self.table.seat;
        writeln!(self.out, "--- Your turn (seat {seat}); trump {}, dealer seat {}", trump_name(round.trump()), round.dealer())?;
        writeln!(self.out, "Bids: {}", self.bids(round))?;
        if round.phase() == Phase::Playing {
            writeln!(self.out, "Tricks: {}", self.seats(|s| round.tricks_won(s).to_string()))?;
            let trick = round.current_trick();
            if trick.cards().is_empty() {
                writeln!(self.out, "Trick {}: you lead", round.tricks_done() + 1)?;
            } else {
                writeln!(
                    self.out,
                    "Trick {}: {}",
                    round.tricks_done() + 1,
                    self.trick_text(trick.leader as usize, trick.cards())
                )?;
            }
        }
        writeln!(self.out, "Your hand: {}", hand_text(round.hand(seat)))?;
        let legal: Vec<String> = round.legal_actions().iter().map(Action::short).collect();
        let what = if round.phase() == Phase::Bidding { "bid" } else { "card" };
        loop {
            writeln!(self.out, "legal: {}", legal.join(" "))?;
            write!(self.out, "your {what}> ")?;
            self.out.flush()?;
            let mut bytes = Vec::new();
            if self.input.read_until(b'\n', &mut bytes)? == 0 {
                writeln!(self.out)?;
                return Ok(None);
            }
            let Ok(line) = std::str::from_utf8(&bytes) else {
                writeln!(self.out, "that line is not UTF-8 text; type it again")?;
                continue;
            };
            let text = line.trim();
            if text.is_empty() {
                continue;
            }
            if text.eq_ignore_ascii_case("quit") {
                return Ok(None);
            }
            let action = match Action::parse_in(round.phase(), text) {
                Ok(action) => action,
                Err(e @ ParseActionError::NotABid(_)) => {
                    writeln!(self.out, "{e} (type a number 0-{})", round.cards())?;
                    continue;
                }
                Err(e) => {
                    writeln!(self.out, "{e}")?;
                    continue;
                }
            };
            // Checked on a copy: the real round only ever sees legal actions.
            let mut trial = *round;
            match trial.apply(action) {
                Ok(()) => return Ok(Some(action)),
                Err(e) => writeln!(self.out, "illegal: {e}")?,
            }
        }
    }
}

/// Play on the process's stdin and stdout.
pub fn play_in_terminal(table: Table, opponents: &mut Agent) -> anyhow::Result<()> {
    match play(table, opponents, io::stdin().lock(), io::stdout().lock()) {
        // A closed stdout (e.g. piped into `head`) ends the session; it is not a failure.
        Err(e) if e.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) => Ok(()),
        other => other,
    }
}
