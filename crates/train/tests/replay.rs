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
    let foreign = good.hands.iter().flatten().cloned().collect::<Vec<_>>();
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
    unknown_card.hands[2][0] = "1x".to_string();
    let mut short_hand = good.clone();
    short_hand.hands[1].pop();
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
