//! `blob arena` through the real binary.

use std::process::Command;

mod common;
use common::tiny_net;

fn arena(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_blob")).arg("arena").args(args).env("RUST_BACKTRACE", "0").output().unwrap();
    (output.status.success(), String::from_utf8(output.stdout).unwrap(), String::from_utf8(output.stderr).unwrap())
}

/// (seats, mean score) of entrant row `index`.
fn row(report: &str, index: usize) -> (usize, f64) {
    let line = report.lines().find(|l| l.starts_with(&format!("{index} "))).unwrap_or_else(|| panic!("no row {index}: {report}"));
    let fields: Vec<&str> = line.split_whitespace().collect();
    (fields[2].parse().unwrap(), fields[3].parse().unwrap())
}

#[test]
fn heuristic_outscores_random_and_pairwise_rates_are_complementary() {
    let (ok, out, err) = arena(&["heuristic", "random", "--deals", "60", "--cards", "2-6", "--seed", "3"]);
    assert!(ok, "{err}");
    let (seats_h, heuristic) = row(&out, 0);
    let (seats_r, random) = row(&out, 1);
    assert_eq!((seats_h, seats_r), (60 * 4, 60 * 4), "two seatings per deal, each entrant in every seat once: {out}");
    assert!(heuristic > random + 1.0, "{out}");
    let pairwise: Vec<Vec<f64>> = matrix(&out, "pairwise")
        .iter()
        .map(|cells| cells.iter().filter_map(|v| v.trim_end_matches('%').parse().ok()).collect())
        .collect();
    assert_eq!(pairwise.len(), 2, "{out}");
    assert!((pairwise[0][0] + pairwise[1][0] - 100.0).abs() < 0.11, "{out}");
    assert!(pairwise[0][0] > 50.0, "{out}");
    // Paired advantage: each table seats both entrants equally often, so the mean of the
    // per-table differences is the difference of the means; the two cells mirror each other.
    let advantage = matrix(&out, "advantage");
    // A cell is `-` or three tokens, `mean ± ci`.
    let cell = |a: usize, b: usize| -> (f64, f64) {
        let mut tokens = advantage[a].iter();
        let mut cells = Vec::new();
        while let Some(&token) = tokens.next() {
            cells.push(if token == "-" { None } else { Some((token, *tokens.nth(1).unwrap())) });
        }
        let (mean, ci) = cells[b].unwrap();
        (mean.parse().unwrap(), ci.parse().unwrap())
    };
    let ((ahead, ci), (behind, ci_back)) = (cell(0, 1), cell(1, 0));
    assert!((ahead - (heuristic - random)).abs() < 0.011, "{out}");
    assert!((ahead + behind).abs() < 0.011 && (ci - ci_back).abs() < 0.011, "{out}");
    assert!(ci > 0.0 && ahead - ci > 0.0, "heuristic is significantly better: {out}");
    // With two entrants the field of each is the other: the same numbers as the pair's cell.
    let field: Vec<&str> = out.lines().skip_while(|l| !l.starts_with("against the field")).nth(1).unwrap().split_whitespace().collect();
    assert_eq!(field[0], "0", "{out}");
    let (field_mean, field_ci): (f64, f64) = (field[1].parse().unwrap(), field[3].parse().unwrap());
    assert!((field_mean - ahead).abs() < 0.011 && (field_ci - ci).abs() < 0.011, "{out}");
}

#[test]
fn whole_games_score_per_game() {
    let (ok, out, err) = arena(&["heuristic", "random", "--game", "3", "--players", "3", "--deals", "8", "--seed", "2"]);
    assert!(ok, "{err}");
    assert!(out.contains("whole games from 3 cards (7 rounds)") && out.contains("score/game"), "{out}");
    // Two entrants at three seats: over the two seatings each takes three seats of a game.
    let ((seats_h, heuristic), (seats_r, random)) = (row(&out, 0), row(&out, 1));
    assert_eq!((seats_h, seats_r), (8 * 3, 8 * 3), "{out}");
    // A game of 7 rounds: the heuristic's per-game score is several rounds' worth.
    assert!(heuristic > 20.0 && heuristic > random + 5.0, "{out}");
    let (ok, _, err) = arena(&["heuristic", "random", "--game", "20"]);
    assert!(!ok && err.contains("--game: 20 cards each for 4 players: must be 1..=13"), "{err}");
}

#[test]
fn pimc_entrants_take_their_seats() {
    // Its strength is tested in the game crate (crates/game/tests/pimc.rs); here, the wiring.
    let (ok, out, err) = arena(&["pimc:20:1", "pimc", "random", "--deals", "3", "--players", "3", "--cards", "2"]);
    assert!(ok, "{err}");
    assert!(out.contains("pimc:20:1") && out.contains("pimc:400:4"), "{out}");
    for index in 0..3 {
        assert_eq!(row(&out, index).0, 3 * 3, "{out}");
    }
}

/// The cells (whitespace-separated, row label dropped) of the matrix under the header line
/// starting with `header`.
fn matrix<'a>(report: &'a str, header: &str) -> Vec<Vec<&'a str>> {
    report
        .lines()
        .skip_while(|l| !l.starts_with(header))
        .skip(2)
        .take_while(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| l.split_whitespace().skip(1).collect())
        .collect()
}

#[test]
fn a_network_entrant_plays_and_bad_entrants_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny_net(dir.path());
    let entrant = format!("{}@2x8", path.display());
    let policy = format!("{}@policy", path.display());
    let (ok, out, err) = arena(&[&entrant, &policy, "heuristic", "--deals", "4", "--players", "3", "--cards", "1,3"]);
    assert!(ok, "{err}");
    // Three entrants, three seats, three rotations: each entrant takes every seat once per deal.
    for index in 0..3 {
        assert_eq!(row(&out, index).0, 4 * 3, "{out}");
    }
    assert!(out.contains("@2x8") && out.contains("@policy"), "{out}");

    // Learning the other seats: the network entrant learns HeuristicBot's bids (and the
    // raw-policy entrant, whose search has no rollouts, nothing it uses) over blocks of deals.
    let rollouts = format!("{}@8roll", path.display());
    let records = dir.path().join("rounds.jsonl");
    let records_arg = records.to_str().unwrap();
    let (ok, out, err) = arena(&[
        &rollouts, "heuristic", "heuristic", "--deals", "40", "--players", "3", "--cards", "1,3", "--learn-opponents", "--records", records_arg,
    ]);
    assert!(ok, "{err}");
    // Every round played is written as a record that replays.
    assert_eq!(std::fs::read_to_string(&records).unwrap().lines().count(), 40 * 3);
    let replay = std::process::Command::new(env!("CARGO_BIN_EXE_blob")).args(["replay", records_arg]).output().unwrap();
    assert!(replay.status.success(), "{}", String::from_utf8_lossy(&replay.stdout));
    assert_eq!(row(&out, 0).0, 40 * 3, "{out}");
    let learnt = out.lines().find(|l| l.starts_with("learnt play of the other seats, entrant 0")).unwrap_or_else(|| panic!("{out}"));
    // 40 deals x 3 seatings x 2 other seats.
    assert!(learnt.contains("240 bids seen, predicted"), "{learnt}");

    for (args, expected) in [
        (vec!["heuristic", "/no/such/net.bin"], "/no/such/net.bin"),
        (vec!["heuristic", "random@2x0"], "a search is Droll"),
        (vec!["heuristic", "pimc:0:4"], "worlds must be 1..=100000"),
        (vec!["heuristic", "pimc:10:0"], "playouts must be 1..=1000"),
        (vec!["heuristic", "pimc:10"], "expected pimc or pimc:W:R"),
        (vec!["heuristic", "random", "--cards", "0-3"], "--cards: 0 cards each for 4 players: must be 1..=13"),
        (vec!["heuristic", "random", "--players", "9"], "--players: 9 players: Blob needs 3 to 8"),
    ] {
        let (ok, _, err) = arena(&args);
        assert!(!ok, "{args:?} accepted");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
