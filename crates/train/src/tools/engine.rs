//! `blob engine`: a line-based JSON protocol on stdin/stdout through which other programs ask
//! an agent (network + search) or a baseline bot for a bid or a card. The protocol is
//! documented in `docs/engine-protocol.md`.
//!
//! A request gives a round as one player sees it: the round-record format of `docs/formats.md`
//! with the other seats' hands unknown. The history is checked as far as that player can check
//! it, and turned into the player's `InfoSet` by dealing the unknown seats the cards they were
//! seen to play plus filler from the unseen cards that respects their shown voids; the filler
//! never reaches the agent, because the information set blanks every hand but the player's.

use std::io::{self, BufRead, Write};

use game::record::parse_trump;
use game::round::beats;
use game::{max_cards, Action, Card, CardSet, DealError, InfoSet, Round, Suit, MAX_PLAYERS, MIN_PLAYERS};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use thiserror::Error;

use crate::agent::{Agent, Decision};

/// A round seen by one player: a round record whose `hands` entries may be `null` or `[]` for
/// the seats whose cards the player does not know.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservedRound {
    pub players: usize,
    pub cards: usize,
    pub dealer: usize,
    pub trump: String,
    /// Dealt hands, seat 0 first; `null` or `[]` where unknown. The asking seat's is required.
    pub hands: Vec<Option<Vec<String>>>,
    #[serde(default)]
    pub bids: Vec<u8>,
    #[serde(default)]
    pub plays: Vec<String>,
    /// Optional: tricks won per seat so far (checked against the replay).
    #[serde(default)]
    pub tricks: Option<Vec<u8>>,
    /// Optional, as in records: only a finished round has scores (and then nothing to ask).
    #[serde(default)]
    pub scores: Option<Vec<i32>>,
}

/// Why a state cannot be the information set of the asking seat.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StateError {
    #[error("{0}")]
    Deal(#[from] DealError),
    #[error("seat {seat} does not exist with {players} players")]
    Seat { seat: usize, players: usize },
    #[error("{0}")]
    Trump(String),
    #[error("{got} hands given for {players} players (use null for an unknown hand)")]
    HandCount { got: usize, players: usize },
    #[error("the hand of seat {0} (the asking seat) must be given")]
    OwnHandMissing(usize),
    #[error("hands[{seat}][{index}]: {reason}")]
    HandCard { seat: usize, index: usize, reason: String },
    #[error("{count} bids for {players} players")]
    TooManyBids { count: usize, players: usize },
    #[error("{count} plays, a round of {players} x {cards} has {max}", max = players * cards)]
    TooManyPlays { count: usize, players: usize, cards: usize },
    #[error("bid {index}: {reason}")]
    Bid { index: usize, reason: String },
    #[error("play {index}: {reason}")]
    Play { index: usize, reason: String },
    #[error("no deal of the unseen cards fits the voids the other seats have shown")]
    Inconsistent,
    #[error("tricks of seat {seat}: given {given}, the plays give {computed}")]
    Tricks { seat: usize, given: u8, computed: u8 },
    #[error("{got} tricks given for {players} players")]
    TrickCount { got: usize, players: usize },
    #[error("scores are given but the round is not finished")]
    EarlyScores,
}

impl ObservedRound {
    /// The information set of `seat` after the recorded bids and plays, or why the history is
    /// not a legal one from that seat's point of view.
    pub fn info_set(&self, seat: usize) -> Result<InfoSet, StateError> {
        let (players, cards, dealer) = (self.players, self.cards, self.dealer);
        if !(MIN_PLAYERS..=MAX_PLAYERS).contains(&players) {
            return Err(DealError::Players(players).into());
        }
        if cards == 0 || cards > max_cards(players) {
            return Err(DealError::Cards { players, cards }.into());
        }
        if dealer >= players {
            return Err(DealError::Dealer { players, dealer }.into());
        }
        if seat >= players {
            return Err(StateError::Seat { seat, players });
        }
        let trump = parse_trump(&self.trump).map_err(StateError::Trump)?;
        let known = self.known_hands()?;
        if known[seat].is_none() {
            return Err(StateError::OwnHandMissing(seat));
        }
        if self.bids.len() > players {
            return Err(StateError::TooManyBids { count: self.bids.len(), players });
        }
        if self.plays.len() > players * cards {
            return Err(StateError::TooManyPlays { count: self.plays.len(), players, cards });
        }
        let plays = self.parse_plays()?;
        let (played, voids) = attribute(players, dealer, trump, &plays, &known)?;

        // Unknown seats hold what they played plus filler that respects their voids.
        let known_cards = known.iter().flatten().fold(CardSet::EMPTY, |all, hand| all | *hand);
        let all_played = played.iter().fold(CardSet::EMPTY, |all, set| all | *set);
        let unknown: Vec<usize> = (0..players).filter(|&s| known[s].is_none()).collect();
        let needs: Vec<(usize, u8)> = unknown.iter().map(|&s| (cards - played[s].len(), voids[s])).collect();
        let filler = fill(!(known_cards | all_played), &needs).ok_or(StateError::Inconsistent)?;
        let mut hands: Vec<CardSet> = known.iter().map(|hand| hand.unwrap_or(CardSet::EMPTY)).collect();
        for (&s, extra) in unknown.iter().zip(filler) {
            hands[s] = played[s] | extra;
        }

        let mut round = Round::new(players, cards, dealer, trump, &hands)?;
        for (index, &bid) in self.bids.iter().enumerate() {
            round.apply(Action::Bid(bid)).map_err(|e| StateError::Bid { index: index + 1, reason: e.to_string() })?;
        }
        for (index, &card) in plays.iter().enumerate() {
            let fail = |reason: String| StateError::Play { index: index + 1, reason };
            if round.bids_made() < players {
                return Err(fail(format!("{} of {players} bids made, play starts after bidding", round.bids_made())));
            }
            round.apply(Action::Play(card)).map_err(|e| fail(e.to_string()))?;
        }
        if let Some(tricks) = &self.tricks {
            if tricks.len() != players {
                return Err(StateError::TrickCount { got: tricks.len(), players });
            }
            for (s, &given) in tricks.iter().enumerate() {
                let computed = round.tricks_won(s);
                if given != computed {
                    return Err(StateError::Tricks { seat: s, given, computed });
                }
            }
        }
        if self.scores.is_some() && !round.is_over() {
            return Err(StateError::EarlyScores);
        }
        Ok(round.info_set(seat))
    }

    fn known_hands(&self) -> Result<Vec<Option<CardSet>>, StateError> {
        if self.hands.len() != self.players {
            return Err(StateError::HandCount { got: self.hands.len(), players: self.players });
        }
        let mut seen = CardSet::EMPTY;
        let mut known = Vec::with_capacity(self.players);
        for (seat, hand) in self.hands.iter().enumerate() {
            let Some(hand) = hand.as_ref().filter(|h| !h.is_empty()) else {
                known.push(None);
                continue;
            };
            let mut set = CardSet::EMPTY;
            for (index, text) in hand.iter().enumerate() {
                let fail = |reason: String| StateError::HandCard { seat, index, reason };
                let card: Card = text.parse().map_err(|e: game::ParseCardError| fail(e.to_string()))?;
                if set.contains(card) || seen.contains(card) {
                    return Err(DealError::Duplicate { card }.into());
                }
                set.insert(card);
            }
            if set.len() != self.cards {
                return Err(DealError::HandSize { seat, got: set.len(), expected: self.cards }.into());
            }
            seen |= set;
            known.push(Some(set));
        }
        Ok(known)
    }

    fn parse_plays(&self) -> Result<Vec<Card>, StateError> {
        self.plays
            .iter()
            .enumerate()
            .map(|(i, text)| text.parse().map_err(|e: game::ParseCardError| StateError::Play { index: i + 1, reason: e.to_string() }))
            .collect()
    }
}

/// Who played each card (trick leaders follow from the public cards alone): the cards each
/// seat played and the suits each has shown void in. Checks what a player can check of other
/// seats: no card is played twice, and no card comes from a hand that is known to hold it.
fn attribute(
    players: usize,
    dealer: usize,
    trump: Option<Suit>,
    plays: &[Card],
    known: &[Option<CardSet>],
) -> Result<(Vec<CardSet>, Vec<u8>), StateError> {
    let mut played = vec![CardSet::EMPTY; players];
    let mut voids = vec![0u8; players];
    let mut leader = (dealer + 1) % players;
    for (t, trick) in plays.chunks(players).enumerate() {
        let mut best = 0;
        for (position, &card) in trick.iter().enumerate() {
            let index = t * players + position + 1;
            let seat = (leader + position) % players;
            let fail = |reason: String| StateError::Play { index, reason };
            if played.iter().any(|set| set.contains(card)) {
                return Err(fail(format!("{card} was already played")));
            }
            if let Some(holder) = (0..players).find(|&s| s != seat && known[s].is_some_and(|h| h.contains(card))) {
                return Err(fail(format!("seat {seat} cannot play {card}: it was dealt to seat {holder}")));
            }
            if card.suit() != trick[0].suit() {
                voids[seat] |= 1 << trick[0].suit().index();
            }
            if position > 0 && beats(card, trick[best], trump) {
                best = position;
            }
            played[seat].insert(card);
        }
        leader = (leader + best) % players;
    }
    Ok((played, voids))
}

/// Filler hands from `unseen`: for each `(need, void mask)`, `need` cards of suits outside the
/// mask; `None` when no such split exists. A max flow from seats to suits (at most 7 seats and
/// 4 suits), so it finds a split whenever there is one.
fn fill(unseen: CardSet, seats: &[(usize, u8)]) -> Option<Vec<CardSet>> {
    let k = seats.len();
    let (source, sink) = (0, k + 5);
    let suit_node = |suit: usize| k + 1 + suit;
    let mut capacity = vec![vec![0usize; k + 6]; k + 6];
    for (i, &(need, voids)) in seats.iter().enumerate() {
        capacity[source][i + 1] = need;
        for suit in 0..4 {
            if voids & (1 << suit) == 0 {
                capacity[i + 1][suit_node(suit)] = 52;
            }
        }
    }
    for suit in Suit::ALL {
        capacity[suit_node(suit.index() as usize)][sink] = unseen.of_suit(suit).len();
    }
    let original = capacity.clone();
    // Augmenting paths found by breadth-first search (Edmonds-Karp).
    loop {
        let mut parent = vec![usize::MAX; k + 6];
        parent[source] = source;
        let mut queue = std::collections::VecDeque::from([source]);
        while let Some(node) = queue.pop_front() {
            for next in 0..k + 6 {
                if parent[next] == usize::MAX && capacity[node][next] > 0 {
                    parent[next] = node;
                    queue.push_back(next);
                }
            }
        }
        if parent[sink] == usize::MAX {
            break;
        }
        let mut bottleneck = usize::MAX;
        let mut node = sink;
        while node != source {
            bottleneck = bottleneck.min(capacity[parent[node]][node]);
            node = parent[node];
        }
        let mut node = sink;
        while node != source {
            capacity[parent[node]][node] -= bottleneck;
            capacity[node][parent[node]] += bottleneck;
            node = parent[node];
        }
    }
    if (1..=k).any(|i| capacity[source][i] > 0) {
        return None;
    }
    let mut pool = unseen;
    let hands = (0..k)
        .map(|i| {
            let mut hand = CardSet::EMPTY;
            for suit in Suit::ALL {
                let node = suit_node(suit.index() as usize);
                let count = original[i + 1][node] - capacity[i + 1][node];
                for card in pool.of_suit(suit).iter().take(count) {
                    hand.insert(card);
                    pool.remove(card);
                }
            }
            hand
        })
        .collect();
    Some(hands)
}

/// An action in responses: `{"bid": 2}` or `{"play": "Ts"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum ActionJson {
    Bid(u8),
    Play(String),
}

impl From<Action> for ActionJson {
    fn from(action: Action) -> ActionJson {
        match action {
            Action::Bid(b) => ActionJson::Bid(b),
            Action::Play(card) => ActionJson::Play(card.to_string()),
        }
    }
}

/// Visits by action, as a JSON object in legal-action order.
#[derive(Clone, Debug, PartialEq)]
struct Visits(Vec<(String, u32)>);

impl Serialize for Visits {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(action, n)| (action, n)))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
struct SearchJson {
    forced: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    visits: Option<Visits>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<f32>,
}

/// One response line. Fields in this order: id first, so logs read well.
#[derive(Clone, Debug, PartialEq, Default, Serialize)]
struct Response {
    id: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<ActionJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    search: Option<SearchJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pong: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    engine: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bye: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActRequest {
    // Read before parsing the rest (so errors can echo it); kept here so it is not unknown.
    #[serde(default, rename = "id")]
    _id: Value,
    #[serde(rename = "request")]
    _request: String,
    state: ObservedRound,
    seat: usize,
}

fn error(id: Value, message: impl ToString) -> Response {
    Response { id, error: Some(message.to_string()), ..Response::default() }
}

/// Answer one request line; the flag says the engine should stop.
fn handle(agent: &mut Agent, line: &str) -> (Response, bool) {
    let value: Value = match serde_json::from_str(line) {
        Ok(value) => value,
        Err(e) => return (error(Value::Null, format!("malformed JSON: {e}")), false),
    };
    let Some(object) = value.as_object() else {
        return (error(Value::Null, "a request must be a JSON object"), false);
    };
    let id = object.get("id").cloned().unwrap_or(Value::Null);
    match object.get("request").and_then(Value::as_str) {
        Some("ping") => (Response { id, pong: Some(true), engine: Some(agent.describe()), ..Response::default() }, false),
        Some("quit") => (Response { id, bye: Some(true), ..Response::default() }, true),
        Some("act") => {
            let request: ActRequest = match serde_json::from_value(value) {
                Ok(request) => request,
                Err(e) => return (error(id, format!("bad act request: {e}")), false),
            };
            let info = match request.state.info_set(request.seat) {
                Ok(info) => info,
                Err(e) => return (error(id, format!("illegal state: {e}")), false),
            };
            match agent.act(&info) {
                Ok(decision) => (respond(id, decision), false),
                Err(e) => (error(id, e), false),
            }
        }
        Some(other) => (error(id, format!("unknown request {other:?} (expected act, ping or quit)")), false),
        None => (error(id, "missing \"request\" (act, ping or quit)"), false),
    }
}

fn respond(id: Value, decision: Decision) -> Response {
    let search = decision.search.map(|s| SearchJson {
        forced: s.forced,
        visits: (!s.forced).then(|| {
            Visits(
                s.visits
                    .iter()
                    .map(|(action, n)| {
                        let key = match action {
                            Action::Bid(b) => b.to_string(),
                            Action::Play(card) => card.to_string(),
                        };
                        (key, *n)
                    })
                    .collect(),
            )
        }),
        value: s.value,
    });
    Response { id, action: Some(decision.action.into()), search, ..Response::default() }
}

/// Serve requests from `input` until `quit` or end of input, one response line per request.
pub fn serve(agent: &mut Agent, mut input: impl BufRead, mut output: impl Write) -> io::Result<()> {
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        if input.read_until(b'\n', &mut buffer)? == 0 {
            return Ok(());
        }
        // Decoded here rather than with `lines()`, which would end the session on bad bytes.
        let (response, quit) = match std::str::from_utf8(&buffer) {
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => handle(agent, line),
            Err(_) => (error(Value::Null, "a request must be UTF-8 text"), false),
        };
        serde_json::to_writer(&mut output, &response)?;
        writeln!(output)?;
        output.flush()?;
        if quit {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(json: &str) -> ObservedRound {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn unknown_hands_are_filled_consistently_and_never_seen() {
        // Seat 2 shows a void in spades at the first trick; its filler must avoid spades.
        let state = observed(
            r#"{"players":3,"cards":3,"dealer":2,"trump":"h","hands":[["As","Ks","2c"],null,[]],
                "bids":[1,1,0],"plays":["As","3s","2h"]}"#,
        );
        let info = state.info_set(0).unwrap();
        assert_eq!(info.hand().to_string(), "Ks 2c");
        assert_eq!(info.view().to_act(), 2, "seat 2 trumped and leads");
        assert_eq!(info.view().void_mask(2), 1);
        for seat in [1, 2] {
            assert!(info.view().hand(seat).is_empty(), "hidden hands stay blank");
        }
        assert!(game::Determinizer::new(&info).is_ok());
    }

    #[test]
    fn inconsistent_histories_are_refused() {
        let base = r#""players":3,"cards":2,"dealer":2,"trump":"none","hands":[["As","Ks"],null,null],"bids":[1,0,0]"#;
        let cases = [
            (r#""plays":["As","As"]"#, "play 2: As was already played"),
            (r#""plays":["As","Ks"]"#, "play 2: seat 1 cannot play Ks: it was dealt to seat 0"),
            // Seat 1 showed a void in spades, so it cannot have held Qs at the first trick.
            (r#""plays":["As","2h","3h","Ks","Qs"]"#, "play 2: seat 1 must follow s (holds Qs)"),
            (r#""plays":["Qs"]"#, "play 1: Qs not in hand of seat 0"),
        ];
        for (plays, expected) in cases {
            let state = observed(&format!("{{{base},{plays}}}"));
            let err = state.info_set(0).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{err} should start with {expected}");
        }
        let hook = observed(r#"{"players":3,"cards":2,"dealer":2,"trump":"s","hands":[["As","Ks"],null,null],"bids":[1,1,0]}"#);
        assert_eq!(hook.info_set(0).unwrap_err().to_string(), "bid 3: dealer may not bid 0 (hook)");
        let own = observed(r#"{"players":3,"cards":2,"dealer":2,"trump":"s","hands":[null,null,null]}"#);
        assert_eq!(own.info_set(1).unwrap_err(), StateError::OwnHandMissing(1));
    }

    #[test]
    fn too_many_voids_for_the_unseen_cards_is_inconsistent() {
        assert!(fill(CardSet::suit(Suit::Hearts), &[(1, 0b0010)]).is_none());
        let hands = fill(CardSet::suit(Suit::Hearts) | CardSet::suit(Suit::Clubs), &[(13, 0b0010), (13, 0)]).unwrap();
        assert_eq!(hands[0], CardSet::suit(Suit::Clubs));
        assert_eq!(hands[1], CardSet::suit(Suit::Hearts));
    }
}
