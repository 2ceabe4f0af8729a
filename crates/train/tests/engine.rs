//! `blob engine` driven through its real stdin and stdout, as a GUI or a tournament harness would.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{json, Value};

mod common;
use common::tiny_net;

struct Engine {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Engine {
    fn start(args: &[&str]) -> Engine {
        let mut child = Command::new(env!("CARGO_BIN_EXE_blob"))
            .arg("engine")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Engine { child, stdin, stdout }
    }

    /// Send one raw line and read the one response line.
    fn ask_raw(&mut self, line: &str) -> Value {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
        let mut response = String::new();
        assert!(self.stdout.read_line(&mut response).unwrap() > 0, "the engine stopped answering after {line}");
        serde_json::from_str(&response).unwrap()
    }

    fn ask(&mut self, request: Value) -> Value {
        self.ask_raw(&request.to_string())
    }

    /// Send quit; the engine must answer, then exit 0 without reading further.
    fn quit(mut self) {
        assert_eq!(self.ask(json!({"id": "last", "request": "quit"})), json!({"id": "last", "bye": true}));
        let _ = writeln!(self.stdin, "{{\"request\": \"ping\"}}");
        drop(self.stdin);
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut self.stdout, &mut rest).unwrap();
        assert_eq!(rest, "", "nothing is answered after quit");
        assert!(self.child.wait().unwrap().success());
    }
}

/// Seat 0 (4 players, dealer 3, trump hearts) to bid first.
fn opening() -> Value {
    json!({"players": 4, "cards": 5, "dealer": 3, "trump": "h",
           "hands": [["As", "Ks", "Th", "4c", "9d"], null, [], null], "bids": []})
}

/// Seat 0 after bidding and one trick it won (As, then three spades), leading the second.
fn second_trick() -> Value {
    json!({"players": 4, "cards": 5, "dealer": 3, "trump": "h",
           "hands": [["As", "Ks", "Th", "4c", "9d"], null, null, null],
           "bids": [2, 1, 0, 1], "plays": ["As", "2s", "5s", "Qs"], "tricks": [1, 0, 0, 0]})
}

fn act(id: u64, state: Value, seat: usize) -> Value {
    json!({"id": id, "request": "act", "state": state, "seat": seat})
}

fn error_of(response: &Value) -> &str {
    response["error"].as_str().unwrap_or_else(|| panic!("expected an error, got {response}"))
}

#[test]
fn the_pimc_bot_answers_legal_actions() {
    let mut engine = Engine::start(&["--bot", "pimc"]);
    assert_eq!(engine.ask(json!({"id": 1, "request": "ping"})), json!({"id": 1, "pong": true, "engine": "pimc"}));
    let lead = engine.ask(act(2, second_trick(), 0));
    let card = lead["action"]["play"].as_str().unwrap_or_else(|| panic!("{lead}"));
    assert!(["Ks", "Th", "4c", "9d"].contains(&card), "{lead}");
}

#[test]
fn a_bot_answers_legal_actions_and_bad_requests_get_errors() {
    let mut engine = Engine::start(&["--bot", "heuristic"]);
    assert_eq!(engine.ask(json!({"id": 1, "request": "ping"})), json!({"id": 1, "pong": true, "engine": "heuristic"}));

    let bid = engine.ask(act(2, opening(), 0));
    assert_eq!(bid["id"], 2);
    assert!(bid["action"]["bid"].as_u64().unwrap() <= 5, "{bid}");
    assert!(bid.get("search").is_none(), "bots do not search: {bid}");

    let lead = engine.ask(act(3, second_trick(), 0));
    let card = lead["action"]["play"].as_str().unwrap();
    assert!(["Ks", "Th", "4c", "9d"].contains(&card), "{lead}");

    // Malformed JSON: no id to echo.
    let response = engine.ask_raw("{\"id\": 4, \"request\": ");
    assert_eq!(response["id"], Value::Null);
    assert!(error_of(&response).starts_with("malformed JSON"), "{response}");
    // Not that seat's turn (seat 1's hand given, seat 0 to bid).
    let mut state = opening();
    state["hands"][1] = json!(["2s", "3s", "4s", "5s", "6s"]);
    let response = engine.ask(act(5, state, 1));
    assert_eq!(response, json!({"id": 5, "error": "seat 1 is not to act (seat 0 is)"}));
    // Illegal history: the dealer bids into the hook.
    let mut state = second_trick();
    state["bids"] = json!([2, 1, 1, 1]);
    state["plays"] = json!([]);
    state["tricks"] = Value::Null;
    let response = engine.ask(act(6, state, 0));
    assert_eq!(error_of(&response), "illegal state: bid 4: dealer may not bid 1 (hook)");
    // Another seat plays a card the asking seat holds.
    let mut state = second_trick();
    state["plays"][1] = json!("Ks");
    let response = engine.ask(act(7, state, 0));
    assert_eq!(error_of(&response), "illegal state: play 2: seat 1 cannot play Ks: it was dealt to seat 0");
    // Wrong tricks, an unknown field, a missing hand, unknown and missing requests.
    let mut state = second_trick();
    state["tricks"] = json!([0, 1, 0, 0]);
    assert_eq!(error_of(&engine.ask(act(8, state, 0))), "illegal state: tricks of seat 0: recorded 0, computed 1");
    let mut state = opening();
    state["colour"] = json!("red");
    assert!(error_of(&engine.ask(act(9, state, 0))).contains("unknown field `colour`"));
    assert!(error_of(&engine.ask(act(10, opening(), 2))).contains("the hand of seat 2 (the asking seat) must be given"));
    assert!(error_of(&engine.ask(json!({"id": 11, "request": "dance"}))).contains("unknown request \"dance\""));
    assert!(error_of(&engine.ask(json!({"id": 12}))).contains("missing \"request\""));
    assert!(error_of(&engine.ask(json!([1, 2]))).contains("JSON object"));

    // Still answering.
    assert_eq!(engine.ask(json!({"id": 13, "request": "ping"}))["pong"], true);
    engine.quit();
}

#[test]
fn the_agent_answers_from_a_checkpoint_with_its_search() {
    let dir = tempfile::tempdir().unwrap();
    tiny_net(dir.path());
    let checkpoint = dir.path().to_str().unwrap();
    let mut engine = Engine::start(&["--checkpoint", checkpoint, "--search", "2x10", "--seed", "7"]);
    assert_eq!(engine.ask(json!({"request": "ping"}))["engine"], "agent (2 worlds x 10 simulations)");

    let bid = engine.ask(act(1, opening(), 0));
    assert!(bid["action"]["bid"].as_u64().unwrap() <= 5, "{bid}");
    let search = &bid["search"];
    assert_eq!(search["forced"], false);
    let visits: u64 = search["visits"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(visits, 20, "2 worlds x 10 simulations: {bid}");
    let value = search["value"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&value), "{bid}");
    // The same question gets the same answer.
    assert_eq!(engine.ask(act(1, opening(), 0)), bid);

    let lead = engine.ask(act(2, second_trick(), 0));
    assert!(["Ks", "Th", "4c", "9d"].contains(&lead["action"]["play"].as_str().unwrap()), "{lead}");
    // A forced move is not searched.
    // Seat 0 leads trick 2; make it seat 1's turn with a single club: seat 1 must follow clubs.
    let mut follow = second_trick();
    follow["hands"] = json!([null, ["2s", "Kc", "Th", "9h", "2d"], null, null]);
    follow["plays"] = json!(["As", "2s", "5s", "Qs", "4c"]);
    let response = engine.ask(act(3, follow, 1));
    assert_eq!(response, json!({"id": 3, "action": {"play": "Kc"}, "search": {"forced": true}}));
    engine.quit();

    // The default search shares its 256 worlds out by halving: the 6 bids in the first 64
    // worlds, the better 3 in the next 64, the better 2 in the last 128.
    let mut engine = Engine::start(&["--checkpoint", checkpoint, "--seed", "7"]);
    assert_eq!(engine.ask(json!({"request": "ping"}))["engine"], "agent (256-world rollouts, halving)");
    let bid = engine.ask(act(1, opening(), 0));
    let visits = bid["search"]["visits"].as_object().unwrap();
    assert_eq!(visits.len(), 6, "bids 0 to 5: {bid}");
    let mut counts: Vec<u64> = visits.values().map(|v| v.as_u64().unwrap()).collect();
    counts.sort_unstable();
    assert_eq!(counts, [64, 64, 64, 128, 256, 256], "{bid}");
    engine.quit();

    // A search whose waves outgrow the default batch cap (256 worlds x 8 candidates x 3
    // other bidders' positions) answers.
    let mut engine = Engine::start(&["--checkpoint", checkpoint, "--search", "256roll", "--seed", "7"]);
    let lead = engine.ask(act(2, second_trick(), 0));
    let visits = lead["search"]["visits"].as_object().unwrap();
    assert_eq!(visits.len(), 4, "Ks, Th, 4c, 9d: {lead}");
    assert!(visits.values().all(|v| v.as_u64() == Some(256)), "{lead}");
    let bad = Command::new(env!("CARGO_BIN_EXE_blob")).args(["engine", "--checkpoint", checkpoint, "--search", "64x"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8(bad.stderr).unwrap().contains("a search is Droll"));
    engine.quit();
}

#[test]
fn end_of_input_ends_the_engine_cleanly() {
    let mut engine = Engine::start(&["--bot", "random"]);
    assert_eq!(engine.ask(act(1, opening(), 0))["id"], 1);
    drop(engine.stdin);
    assert!(engine.child.wait().unwrap().success());
}

#[test]
fn a_missing_checkpoint_is_a_startup_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_blob"))
        .args(["engine", "--checkpoint", "/nonexistent/dir"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8(output.stderr).unwrap().contains("/nonexistent/dir"));
}

/// `count` 4-player rounds of HeuristicBot in every seat, as round records.
fn heuristic_records(count: usize) -> Vec<Value> {
    use game::Bot;
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    (0..count)
        .map(|r| {
            let cards = rng.gen_range(1..=8);
            let initial = game::Round::deal(4, cards, r % 4, game::TRUMP_CYCLE[r % 5], &mut rng).unwrap();
            let (mut round, mut actions) = (initial, Vec::new());
            while !round.is_over() {
                let action = game::HeuristicBot.act(&round.info_set(round.to_act()), &mut rng);
                round.apply(action).unwrap();
                actions.push(action);
            }
            serde_json::to_value(game::record::RoundRecord::new(&initial, &actions).unwrap()).unwrap()
        })
        .collect()
}

#[test]
fn a_learning_agent_learns_the_other_seats_from_observed_rounds() {
    let dir = tempfile::tempdir().unwrap();
    tiny_net(dir.path());
    let checkpoint = dir.path().to_str().unwrap();
    let records = heuristic_records(400);
    let observe = |id: usize, record: &Value, seat: usize| json!({"id": id, "request": "observe", "record": record, "seat": seat});

    // Without --learn-opponents the engine says how to make it learn.
    let mut engine = Engine::start(&["--checkpoint", checkpoint, "--search", "16roll"]);
    assert!(error_of(&engine.ask(observe(0, &records[0], 0))).contains("--learn-opponents"));
    engine.quit();

    let mut engine = Engine::start(&["--checkpoint", checkpoint, "--search", "16roll", "--learn-opponents"]);
    let first = engine.ask(observe(0, &records[0], 0));
    assert_eq!(first["observed"]["situations"], 0, "{first}");
    assert_eq!(first["observed"]["bidding"], false, "{first}");
    let mut last = first;
    for (id, record) in records.iter().enumerate().skip(1) {
        last = engine.ask(observe(id, record, id % 4));
    }
    // HeuristicBot's bids and most of its card play are predicted after 400 rounds.
    let observed = &last["observed"];
    assert_eq!(observed["bidding"], true, "{last}");
    assert!(observed["situations"].as_u64().unwrap() >= 3, "{last}");
    assert!(observed["plays"].as_u64().unwrap() > 1_000 && observed["bids"].as_u64().unwrap() == 1_200, "{last}");
    // It still answers, and bad observations are errors that leave it running.
    let bid = engine.ask(act(1, opening(), 0));
    assert!(bid["action"]["bid"].as_u64().unwrap() <= 5, "{bid}");
    assert!(error_of(&engine.ask(observe(1, &records[1], 4))).contains("seat 4"));
    let mut hidden = records[1].clone();
    hidden["hands"][2] = Value::Null;
    assert!(error_of(&engine.ask(observe(2, &hidden, 0))).contains("bad record"));
    engine.quit();

    let bot = Command::new(env!("CARGO_BIN_EXE_blob")).args(["engine", "--bot", "heuristic", "--learn-opponents"]).output().unwrap();
    assert_eq!(bot.status.code(), Some(2));
}
