//! `blob replay`: check every record of a JSON-lines file.

use std::io::{BufRead, Write};

use game::record::{replay_line, Place, Replayed};

/// Replays each non-blank line, writing one verdict per record. Returns how many failed.
pub fn replay_records(input: impl BufRead, mut out: impl Write) -> anyhow::Result<usize> {
    let mut failures = 0;
    for (number, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let record = number + 1;
        match replay_line(&line) {
            Ok(Replayed::Round { players, cards, finished, scores }) => {
                let state = if finished { format!("scores {}", join(&scores)) } else { "unfinished".to_string() };
                writeln!(out, "record {record}: OK (round, {players} players x {cards} cards, {state})")?;
            }
            Ok(Replayed::Game { players, rounds, totals }) => {
                writeln!(out, "record {record}: OK (game, {players} players, {rounds} rounds, totals {})", join(&totals))?;
            }
            Err(error) => {
                failures += 1;
                // "record 3, play 7: reason" when the error has a place, "record 3: reason" if not.
                let separator = if error.round.is_some() || error.place != Place::Record { ", " } else { ": " };
                writeln!(out, "record {record}{separator}{error}")?;
            }
        }
    }
    Ok(failures)
}

fn join(values: &[i32]) -> String {
    values.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" ")
}
