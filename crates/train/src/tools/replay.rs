//! `blob replay`: check every record of a JSON-lines file.

use std::io::{BufRead, Write};

use game::record::{replay_line, shorten, Place, Replayed};

/// Longest verdict line written (a record can be megabytes; its error need not be).
const VERDICT_CHARS: usize = 300;

/// What [`replay_records`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    pub records: usize,
    pub failures: usize,
}

/// Replays each non-blank line, writing one verdict per record: a line that is not UTF-8 text
/// fails as that record, and the rest are still replayed. A file without records says so.
pub fn replay_records(mut input: impl BufRead, mut out: impl Write) -> anyhow::Result<Summary> {
    let mut summary = Summary { records: 0, failures: 0 };
    let mut bytes = Vec::new();
    for number in 1.. {
        bytes.clear();
        if input.read_until(b'\n', &mut bytes)? == 0 {
            break;
        }
        let verdict = match std::str::from_utf8(&bytes) {
            Err(e) => Err(format!(": not UTF-8 text (invalid byte at column {})", e.valid_up_to() + 1)),
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => match replay_line(line) {
                Ok(Replayed::Round { players, cards, finished, scores }) => {
                    let state = if finished { format!("scores {}", join(&scores)) } else { "unfinished".to_string() };
                    Ok(format!(": OK (round, {players} players x {cards} cards, {state})"))
                }
                Ok(Replayed::Game { players, rounds, totals }) => {
                    Ok(format!(": OK (game, {players} players, {rounds} rounds, totals {})", join(&totals)))
                }
                // "record 3, play 7: reason" when the error has a place, "record 3: reason" if not.
                Err(error) => Err(format!("{}{error}", if error.round.is_some() || error.place != Place::Record { ", " } else { ": " })),
            },
        };
        summary.records += 1;
        let text = verdict.unwrap_or_else(|e| {
            summary.failures += 1;
            e
        });
        writeln!(out, "record {number}{}", shorten(&text, VERDICT_CHARS))?;
    }
    if summary.records == 0 {
        writeln!(out, "no records")?;
    }
    Ok(summary)
}

fn join(values: &[i32]) -> String {
    values.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" ")
}
