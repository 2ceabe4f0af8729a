//! `blob engine`: a line-based JSON protocol on stdin/stdout through which other programs ask
//! an agent (network + search) or a baseline bot for a bid or a card. The protocol is
//! documented in `docs/engine-protocol.md`.
//!
//! A request gives a round as one player sees it: the round-record format of `docs/formats.md`
//! with the other seats' hands unknown (`null` or `[]`), turned into that player's `InfoSet`
//! by `RoundRecord::info_set`, the checked path every reader of outside input takes
//! (`game::Observation`).

use std::io::{self, BufRead, Write};

use game::record::RoundRecord;
use game::Action;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::agent::{Agent, Decision};

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
    observed: Option<Learnt>,
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
    state: RoundRecord,
    seat: usize,
}

/// What a learning engine knows of the other seats after an `observe`.
#[derive(Clone, Debug, PartialEq, Serialize)]
struct Learnt {
    /// Card plays and bids learnt from.
    plays: u64,
    bids: u64,
    /// Of the 9 situations of a card play, those the engine now predicts.
    situations: usize,
    /// Whether it predicts the bids yet.
    bidding: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ObserveRequest {
    #[serde(default, rename = "id")]
    _id: Value,
    #[serde(rename = "request")]
    _request: String,
    /// A round with every hand, its bids and cards (played to the end or not).
    record: RoundRecord,
    /// The engine's own seat in it: it learns from the others.
    seat: usize,
}

/// Teach a learning agent the other seats' play in `record` (all but `seat`).
fn observe(agent: &mut Agent, record: &RoundRecord, seat: usize) -> Result<Learnt, String> {
    if agent.learnt().is_none() {
        return Err("this engine does not learn: start it with --learn-opponents and a rollout search (Droll or Dhalve)".into());
    }
    if seat >= record.players {
        return Err(format!("seat {seat} is not at a table of {}", record.players));
    }
    let end = record.replay().map_err(|e| format!("bad record: {e}"))?;
    let observation = record.observation().map_err(|e| format!("bad record: {e}"))?;
    let actions: Vec<Action> =
        observation.bids.iter().map(|&b| Action::Bid(b)).chain(observation.plays.iter().map(|&c| Action::Play(c))).collect();
    agent.observe_round(&end, &actions, |s| s != seat);
    let model = agent.learnt().expect("checked above");
    let (bids, bidding) = model.bids();
    Ok(Learnt { plays: model.plays(), bids, situations: model.trusted_situations(), bidding })
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
        Some("observe") => {
            let request: ObserveRequest = match serde_json::from_value(value) {
                Ok(request) => request,
                Err(e) => return (error(id, format!("bad observe request: {e}")), false),
            };
            match observe(agent, &request.record, request.seat) {
                Ok(learnt) => (Response { id, observed: Some(learnt), ..Response::default() }, false),
                Err(e) => (error(id, e), false),
            }
        }
        Some(other) => (error(id, format!("unknown request {other:?} (expected act, observe, ping or quit)")), false),
        None => (error(id, "missing \"request\" (act, observe, ping or quit)"), false),
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
                        (action.short(), *n)
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
