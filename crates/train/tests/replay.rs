//! `blob replay` through the real binary, on valid and on broken records.

use std::path::Path;
use std::process::Command;

use game::record::{GameRecord, RoundRecord};
use game::{Action, Bot, Game, HeuristicBot, Round, Suit};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn replay(dir: &Path, lines: &[String]) -> (i32, String) {
    let file = dir.join("records.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_blob")).arg("replay").arg(&file).output().unwrap();
    (output.status.code().unwrap(), String::from_utf8(output.stdout).unwrap())
}

/// A finished round played by heuristic bots, as a record.
fn played_round(seed: u64, players: usize, cards: usize) -> RoundRecord {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start = Round::deal(players, cards, seed as usize % players, Some(Suit::Hearts), &mut rng).unwrap();
    RoundRecord::new(&start, &play_out(start, &mut rng)).unwrap()
}

fn play_out(mut round: Round, rng: &mut ChaCha8Rng) -> Vec<Action> {
    let mut actions = Vec::new();
    while !round.is_over() {
        let action = HeuristicBot.act(&round.info_set(round.to_act()), rng);
        round.apply(action).unwrap();
        actions.push(action);
    }
    actions
}

fn played_game(seed: u64) -> GameRecord {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut game = Game::new(4, 3, &mut rng).unwrap();
    let mut rounds = Vec::new();
    loop {
        let start = *game.round();
        let actions = play_out(start, &mut rng);
        for &action in &actions {
            game.round_mut().apply(action).unwrap();
        }
        rounds.push(RoundRecord::new(&start, &actions).unwrap());
        if !game.next_round(&mut rng) {
            break;
        }
    }
    GameRecord { players: 4, start: 3, rounds, totals: Some(game.totals()[..4].to_vec()) }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap()
}

#[test]
fn valid_records_replay_ok() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines: Vec<String> = (0..20).map(|s| json(&played_round(s, 3 + s as usize % 6, 1 + s as usize % 6))).collect();
    lines.push(json(&played_game(1)));
    let (code, out) = replay(dir.path(), &lines);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.lines().filter(|l| l.contains(": OK")).count(), 21, "{out}");
    assert!(out.contains("record 21: OK (game, 4 players, 8 rounds"), "{out}");
}

#[test]
fn broken_records_report_the_place_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let good = played_round(3, 4, 5);
    let mut not_in_hand = good.clone();
    // Play 7 is by whoever leads or follows then; give it a card nobody holds in that hand.
    let foreign = good.hands.iter().flatten().flatten().cloned().collect::<Vec<_>>();
    let missing = ["2s", "3s", "4s", "5s", "6s", "2h", "3h", "4h", "5h", "6h", "7h"]
        .into_iter()
        .find(|c| !foreign.iter().any(|f| f == c))
        .unwrap();
    not_in_hand.plays[6] = missing.to_string();
    let mut hook = good.clone();
    let others: u8 = hook.bids[..3].iter().sum();
    hook.bids[3] = 5u8.saturating_sub(others);
    hook.plays.clear();
    hook.scores = None;
    hook.tricks = None;
    let mut wrong_score = good.clone();
    wrong_score.scores.as_mut().unwrap()[1] += 1;
    let mut unknown_card = good.clone();
    unknown_card.hands[2].as_mut().unwrap()[0] = "1x".to_string();
    let mut short_hand = good.clone();
    short_hand.hands[1].as_mut().unwrap().pop();
    let mut bad_game = played_game(2);
    bad_game.rounds[1].dealer = 3;
    let lines = vec![
        json(&good),
        json(&not_in_hand),
        json(&hook),
        json(&wrong_score),
        json(&unknown_card),
        json(&short_hand),
        "{\"players\": 4,".to_string(),
        json(&bad_game),
        "[1, 2]".to_string(),
    ];
    let (code, out) = replay(dir.path(), &lines);
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 9, "{out}");
    assert!(lines[0].starts_with("record 1: OK"), "{out}");
    assert!(lines[1].starts_with("record 2, play 7: "), "{out}");
    assert!(lines[1].contains(&format!("{missing} not in hand of seat")), "{out}");
    assert!(lines[2].starts_with("record 3, bid 4: dealer may not bid") && lines[2].ends_with("(hook)"), "{out}");
    assert!(lines[3].starts_with("record 4: scores of seat 1: recorded"), "{out}");
    assert!(lines[4].starts_with("record 5: hands[2][0]: unknown card \"1x\""), "{out}");
    assert!(lines[5].starts_with("record 6: seat 1 holds 4 cards, expected 5"), "{out}");
    assert!(lines[6].starts_with("record 7: malformed JSON"), "{out}");
    assert!(lines[7].starts_with("record 8, round 2: schedule says"), "{out}");
    assert!(lines[8].starts_with("record 9: a record must be a JSON object"), "{out}");
}

#[test]
fn unreadable_file_is_an_error_not_a_panic() {
    let output = Command::new(env!("CARGO_BIN_EXE_blob")).args(["replay", "/nonexistent/records.jsonl"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("cannot open /nonexistent/records.jsonl"), "{stderr}");
    assert!(!stderr.contains("panicked"));
}

/// Raw bytes through the binary: (exit code, stdout).
fn replay_bytes(dir: &Path, bytes: &[u8]) -> (i32, String) {
    let file = dir.join("records.jsonl");
    std::fs::write(&file, bytes).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_blob")).arg("replay").arg(&file).output().unwrap();
    (output.status.code().unwrap(), String::from_utf8(output.stdout).unwrap())
}

#[test]
fn bad_values_name_their_field_and_one_bad_line_does_not_stop_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = json(&played_round(3, 4, 5));
    let with = |field: &str, value: &str| {
        let mut record: serde_json::Value = serde_json::from_str(&good).unwrap();
        record[field] = serde_json::from_str(value).unwrap();
        record.to_string()
    };
    let mut bids = played_round(3, 4, 5);
    let bid_256 = json(&bids).replacen(&format!("\"bids\":[{}", bids.bids[0]), "\"bids\":[256", 1);
    let bid_minus = json(&bids).replacen(&format!("\"bids\":[{}", bids.bids[0]), "\"bids\":[-1", 1);
    assert!(bid_256.contains("[256") && bid_minus.contains("[-1"));
    // A card played again: the replay says so, not "not in hand".
    bids.plays[4] = bids.plays[0].clone();
    let replayed_card = json(&bids);
    let huge_trump = with("trump", &format!("\"{}\"", "x".repeat(5_000_000)));
    let mut bytes = Vec::new();
    for line in [&bid_256, &bid_minus] {
        bytes.extend(line.as_bytes());
        bytes.push(b'\n');
    }
    bytes.extend(b"{\"players\": 4, \xff\xfe}\n");
    for line in [&replayed_card, &huge_trump, &good] {
        bytes.extend(line.as_bytes());
        bytes.push(b'\n');
    }
    let (code, out) = replay_bytes(dir.path(), &bytes);
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 6, "every record gets its verdict: {}", shorten_for_assert(&out));
    assert!(lines[0].starts_with("record 1: bad round record: bids[0]: invalid value: integer") && lines[0].contains("256"), "{}", lines[0]);
    assert!(lines[1].starts_with("record 2: bad round record: bids[0]: invalid value: integer") && lines[1].contains("-1"), "{}", lines[1]);
    assert!(lines[2].starts_with("record 3: not UTF-8 text (invalid byte at column 16)"), "{}", lines[2]);
    assert!(lines[3].starts_with("record 4, play 5: ") && lines[3].contains("was already played (play 1)"), "{}", lines[3]);
    assert!(lines[4].starts_with("record 5: unknown trump \"xxxx") && lines[4].contains("(5000000 bytes in all)"), "{}", lines[4]);
    assert!(lines[4].len() < 200, "a huge value is echoed whole: {} bytes", lines[4].len());
    assert!(lines[5].starts_with("record 6: OK"), "{}", lines[5]);
}

fn shorten_for_assert(text: &str) -> String {
    text.chars().take(2000).collect()
}

#[test]
fn letters_read_in_either_case_and_optional_fields_may_be_null() {
    let dir = tempfile::tempdir().unwrap();
    let record = played_round(5, 4, 3);
    let mut value: serde_json::Value = serde_json::from_str(&json(&record)).unwrap();
    let upper = |v: &serde_json::Value| serde_json::Value::String(v.as_str().unwrap().to_uppercase());
    value["trump"] = upper(&value["trump"]);
    for hand in value["hands"].as_array_mut().unwrap() {
        for card in hand.as_array_mut().unwrap() {
            *card = upper(card);
        }
    }
    let shouted = value.to_string();
    let mut none_trump: serde_json::Value = serde_json::from_str(&json(&record)).unwrap();
    none_trump["trump"] = "NONE".into();
    // A dealt round with null for every optional field: nothing bid, nothing played.
    let mut nulls: serde_json::Value = serde_json::from_str(&json(&record)).unwrap();
    for field in ["bids", "plays", "tricks", "scores"] {
        nulls[field] = serde_json::Value::Null;
    }
    let (code, out) = replay(dir.path(), &[shouted, nulls.to_string()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.lines().nth(1).unwrap().contains("unfinished"), "{out}");
    // NONE is read like the other letters (the recorded scores were for hearts, so only the
    // trump's parsing is checked).
    let (_, out) = replay(dir.path(), &[none_trump.to_string()]);
    assert!(!out.contains("unknown trump"), "{out}");
}

#[test]
fn an_empty_file_says_it_has_no_records() {
    let dir = tempfile::tempdir().unwrap();
    for bytes in [&b""[..], b"\n\n  \n"] {
        let (code, out) = replay_bytes(dir.path(), bytes);
        assert_eq!((code, out.as_str()), (0, "no records\n"));
    }
}
