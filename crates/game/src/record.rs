//! Game records: JSON lines holding one round or one whole game (format in `docs/formats.md`),
//! and a replayer that checks every action and the recorded results.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::card::{Card, CardSet, Suit};
use crate::game::Schedule;
use crate::info::InfoSet;
use crate::observed::{Observation, ObservationError};
use crate::round::{Action, DealError, Round, RuleError};

/// One round: table, deal, and the actions in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoundRecord {
    pub players: usize,
    pub cards: usize,
    pub dealer: usize,
    /// "s", "h", "c", "d" or "none".
    pub trump: String,
    /// Every seat's dealt hand, seat 0 first. A record holds them all; the round a player has
    /// seen (the engine's requests) has `null` or `[]` for the hands it does not know.
    pub hands: Vec<Option<Vec<String>>>,
    /// Bids in bidding order, starting with the seat left of the dealer.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub bids: Vec<u8>,
    /// Cards in play order.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub plays: Vec<String>,
    /// Optional: tricks won per seat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tricks: Option<Vec<u8>>,
    /// Optional: round score per seat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Vec<i32>>,
}

/// A whole game: its rounds in schedule order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GameRecord {
    pub players: usize,
    /// Cards per player in the first round (C).
    pub start: usize,
    pub rounds: Vec<RoundRecord>,
    /// Optional: game totals per seat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totals: Option<Vec<i32>>,
}

/// Most characters of an input value quoted in an error message.
pub const QUOTED_CHARS: usize = 40;

/// `text`, cut to `max` characters with a note of how long it was, so that an error message
/// never echoes a huge input whole.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((end, _)) => format!("{}... ({} bytes in all)", &text[..end], text.len()),
    }
}

/// Optional fields may be left out or written `null`, all alike (the format's one rule for
/// optional fields).
fn null_as_empty<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// Where in a record a problem was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    Record,
    Bid(usize),
    Play(usize),
}

/// A replay failure: the round (for game records), the place and the reason.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub struct ReplayError {
    pub round: Option<usize>,
    pub place: Place,
    pub reason: String,
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(round) = self.round {
            write!(f, "round {}", round + 1)?;
            f.write_str(if self.place == Place::Record { ": " } else { ", " })?;
        }
        match self.place {
            Place::Record => write!(f, "{}", self.reason),
            Place::Bid(i) => write!(f, "bid {}: {}", i + 1, self.reason),
            Place::Play(i) => write!(f, "play {}: {}", i + 1, self.reason),
        }
    }
}

fn at_record(reason: impl ToString) -> ReplayError {
    ReplayError { round: None, place: Place::Record, reason: reason.to_string() }
}

/// What a successful replay computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Replayed {
    Round { players: usize, cards: usize, finished: bool, scores: Vec<i32> },
    Game { players: usize, rounds: usize, totals: Vec<i32> },
}

/// A trump as records write it: `s`, `h`, `c`, `d` or `none`, in either case (as card letters).
pub fn parse_trump(text: &str) -> Result<Option<Suit>, String> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let mut chars = text.chars();
    match (chars.next().and_then(Suit::from_letter), chars.next()) {
        (Some(suit), None) => Ok(Some(suit)),
        _ => Err(format!("unknown trump {:?} (expected s, h, c, d or none)", shorten(text, QUOTED_CHARS))),
    }
}

pub fn trump_text(trump: Option<Suit>) -> String {
    trump.map_or("none".to_string(), |s| s.letter().to_string())
}

impl RoundRecord {
    /// A record of `initial` (a freshly dealt round) followed by `actions`; results are filled
    /// in when the actions finish the round.
    pub fn new(initial: &Round, actions: &[Action]) -> Result<RoundRecord, RuleError> {
        let mut round = *initial;
        let mut record = RoundRecord {
            players: round.players(),
            cards: round.cards(),
            dealer: round.dealer(),
            trump: trump_text(round.trump()),
            hands: (0..round.players()).map(|s| Some(round.hand(s).iter().map(|c| c.to_string()).collect())).collect(),
            bids: Vec::new(),
            plays: Vec::new(),
            tricks: None,
            scores: None,
        };
        for &action in actions {
            round.apply(action)?;
            match action {
                Action::Bid(b) => record.bids.push(b),
                Action::Play(c) => record.plays.push(c.to_string()),
            }
        }
        if round.is_over() {
            record.tricks = Some((0..round.players()).map(|s| round.tricks_won(s)).collect());
            record.scores = Some(round.scores()[..round.players()].to_vec());
        }
        Ok(record)
    }

    /// The record read into its typed form (unknown hands `None`): the trump, each hand (no
    /// card twice) and each play must parse.
    pub fn observation(&self) -> Result<Observation, ReplayError> {
        let trump = parse_trump(&self.trump).map_err(at_record)?;
        let mut hands = Vec::with_capacity(self.hands.len());
        for (seat, hand) in self.hands.iter().enumerate() {
            let Some(hand) = hand.as_ref().filter(|h| !h.is_empty()) else {
                hands.push(None);
                continue;
            };
            let mut set = CardSet::EMPTY;
            for (i, text) in hand.iter().enumerate() {
                let card: Card = text.parse().map_err(|e| at_record(format!("hands[{seat}][{i}]: {e}")))?;
                if set.contains(card) {
                    return Err(at_record(DealError::Duplicate { card }));
                }
                set.insert(card);
            }
            hands.push(Some(set));
        }
        let plays = self
            .plays
            .iter()
            .enumerate()
            .map(|(i, text)| {
                text.parse().map_err(|e: crate::card::ParseCardError| ReplayError { round: None, place: Place::Play(i), reason: e.to_string() })
            })
            .collect::<Result<Vec<Card>, _>>()?;
        Ok(Observation { players: self.players, cards: self.cards, dealer: self.dealer, trump, hands, bids: self.bids.clone(), plays })
    }

    /// Replays every action, returning the round reached. Every hand must be given.
    pub fn replay(&self) -> Result<Round, ReplayError> {
        let observation = self.observation()?;
        if let Some(seat) = observation.hands.iter().position(Option::is_none) {
            return Err(at_record(format!("hands[{seat}] is missing: a record gives every seat's hand")));
        }
        let round = observation.round().map_err(ReplayError::from)?;
        self.check_results(&round)?;
        Ok(round)
    }

    /// The information set of `seat` after the recorded actions, from what that seat has seen
    /// (hands it does not know may be missing), with the optional results checked.
    pub fn info_set(&self, seat: usize) -> Result<InfoSet, ReplayError> {
        let round = self.observation()?.round_seen_by(seat)?;
        self.check_results(&round)?;
        Ok(round.info_set(seat))
    }

    /// The optional tricks and scores against the round the actions reached.
    fn check_results(&self, round: &Round) -> Result<(), ReplayError> {
        let players = round.players();
        if let Some(tricks) = &self.tricks {
            let computed: Vec<u8> = (0..players).map(|s| round.tricks_won(s)).collect();
            compare("tricks", tricks, &computed)?;
        }
        if let Some(scores) = &self.scores {
            if !round.is_over() {
                return Err(at_record("scores are recorded but the round is not finished"));
            }
            compare("scores", scores, &round.scores()[..players])?;
        }
        Ok(())
    }
}

impl From<ObservationError> for ReplayError {
    fn from(error: ObservationError) -> ReplayError {
        match error {
            ObservationError::Bid { index, reason } => ReplayError { round: None, place: Place::Bid(index - 1), reason },
            ObservationError::Play { index, reason } => ReplayError { round: None, place: Place::Play(index - 1), reason },
            other => at_record(other),
        }
    }
}

fn compare<T: PartialEq + fmt::Debug>(what: &str, recorded: &[T], computed: &[T]) -> Result<(), ReplayError> {
    if recorded.len() != computed.len() {
        return Err(at_record(format!("{} {what} recorded for {} seats", recorded.len(), computed.len())));
    }
    match recorded.iter().zip(computed).position(|(r, c)| r != c) {
        None => Ok(()),
        Some(seat) => Err(at_record(format!(
            "{what} of seat {seat}: recorded {:?}, computed {:?}",
            recorded[seat], computed[seat]
        ))),
    }
}

impl GameRecord {
    pub fn replay(&self) -> Result<Vec<i32>, ReplayError> {
        let schedule = Schedule::new(self.players, self.start).map_err(at_record)?;
        if self.rounds.len() > schedule.len() {
            return Err(at_record(format!("{} rounds recorded, the schedule has {}", self.rounds.len(), schedule.len())));
        }
        let mut totals = vec![0; self.players];
        for (index, (record, spec)) in self.rounds.iter().zip(schedule.rounds()).enumerate() {
            let in_round = |mut e: ReplayError| {
                e.round = Some(index);
                e
            };
            let trump = parse_trump(&record.trump).map_err(|e| in_round(at_record(e)))?;
            if (record.players, record.cards, record.dealer, trump) != (self.players, spec.cards, spec.dealer, spec.trump) {
                return Err(in_round(at_record(format!(
                    "schedule says {} cards, dealer {}, trump {}; record has {} players, {} cards, dealer {}, trump {}",
                    spec.cards, spec.dealer, trump_text(spec.trump), record.players, record.cards, record.dealer, record.trump
                ))));
            }
            let round = record.replay().map_err(in_round)?;
            let last = index + 1 == self.rounds.len();
            if !round.is_over() && !last {
                return Err(in_round(at_record("round is unfinished but later rounds follow")));
            }
            for (total, score) in totals.iter_mut().zip(round.scores()) {
                *total += score;
            }
        }
        if let Some(recorded) = &self.totals {
            compare("totals", recorded, &totals)?;
        }
        Ok(totals)
    }
}

/// Parse and replay one JSON line: a game record if it has a "rounds" field, else a round record.
pub fn replay_line(line: &str) -> Result<Replayed, ReplayError> {
    let value: serde_json::Value = serde_json::from_str(line).map_err(|e| at_record(format!("malformed JSON: {e}")))?;
    if !value.is_object() {
        return Err(at_record("a record must be a JSON object"));
    }
    // serde_path_to_error names the field, e.g. "bids[2]: invalid value: integer 256".
    if value.get("rounds").is_some() {
        let record: GameRecord =
            serde_path_to_error::deserialize(value).map_err(|e| at_record(format!("bad game record: {e}")))?;
        let totals = record.replay()?;
        Ok(Replayed::Game { players: record.players, rounds: record.rounds.len(), totals })
    } else {
        let record: RoundRecord =
            serde_path_to_error::deserialize(value).map_err(|e| at_record(format!("bad round record: {e}")))?;
        let round = record.replay()?;
        Ok(Replayed::Round {
            players: round.players(),
            cards: round.cards(),
            finished: round.is_over(),
            scores: round.scores()[..round.players()].to_vec(),
        })
    }
}
