//! `blob play` driven through its real stdin and stdout, as a person at a terminal would.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};

mod common;
use common::tiny_net;

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_blob"))
        .arg("play")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn send(stdin: &mut ChildStdin, text: &str) {
    writeln!(stdin, "{text}").unwrap();
    stdin.flush().unwrap();
}

/// The words after a line's "label: " prefix. A "your bid> " prompt may precede it: the
/// answer is not echoed when piped, so the next output follows the prompt on its line.
fn field<'a>(line: &'a str, label: &str) -> Option<Vec<&'a str>> {
    let output = line.rsplit("> ").next().unwrap_or(line);
    output.strip_prefix(label).map(|rest| rest.split_whitespace().collect())
}

/// Plays whole rounds answering every prompt with its first legal input; before the first bid
/// and the first card, tries illegal inputs and checks they are refused with the reason.
/// Returns everything printed.
fn play_scripted(args: &[&str]) -> String {
    let mut child = spawn(args);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut transcript = String::new();
    let (mut tried_bid, mut tried_card) = (false, false);
    // Each refused input is followed by the same prompt again, already answered.
    let mut answered = 0;
    let mut hand: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        transcript.push_str(&line);
        if let Some(cards) = field(&line, "Your hand: ") {
            hand = cards.iter().map(|c| c.to_string()).collect();
        }
        let Some(legal) = field(&line, "legal: ") else { continue };
        if answered > 0 {
            answered -= 1;
            continue;
        }
        let is_bid = legal[0].parse::<u8>().is_ok();
        if is_bid && !tried_bid {
            tried_bid = true;
            stdin.write_all(b"\xff\xfe 2\n").unwrap();
            send(&mut stdin, "99");
            send(&mut stdin, "two");
            send(&mut stdin, legal[0]);
            answered = 3;
            continue;
        }
        if !is_bid && !tried_card {
            tried_card = true;
            // A card held but not legal (must follow), else one not held at all.
            let illegal = hand
                .iter()
                .find(|c| !legal.contains(&c.as_str()))
                .cloned()
                .unwrap_or_else(|| ["2s", "3s", "4s", "2h", "3h", "4h"].iter().find(|c| !hand.contains(&c.to_string())).unwrap().to_string());
            send(&mut stdin, "1x");
            send(&mut stdin, &illegal);
            send(&mut stdin, legal[0]);
            answered = 2;
            continue;
        }
        send(&mut stdin, legal[0]);
    }
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "exit {:?}: {}\n{transcript}", output.status, String::from_utf8_lossy(&output.stderr));
    assert!(tried_bid && tried_card, "{transcript}");
    transcript
}

#[test]
fn a_full_round_against_heuristic_bots_with_illegal_inputs_refused() {
    let transcript = play_scripted(&["--players", "4", "--cards", "5", "--seed", "3", "--opponents", "heuristic"]);
    assert!(transcript.contains("that line is not UTF-8 text; type it again"), "{transcript}");
    assert!(transcript.contains("illegal: bid 99 is out of range 0..=5"), "{transcript}");
    assert!(transcript.contains("not a bid: \"two\" (type a number 0-5)"), "{transcript}");
    assert!(transcript.contains("not a card: unknown card \"1x\""), "{transcript}");
    assert!(
        transcript.contains("illegal: seat 0 must follow") || transcript.contains("not in hand of seat 0"),
        "{transcript}"
    );
    assert!(transcript.contains("trump s"), "round 1's trump is spades: {transcript}");
    assert_eq!(transcript.matches("seat 0 (you) plays").count(), 5, "{transcript}");
    assert_eq!(transcript.matches(" wins it.").count(), 5, "{transcript}");
    assert!(transcript.contains("Round over.") && transcript.contains("Game over. Totals:"), "{transcript}");
    assert!(transcript.contains("seat 0 (you): bid "), "{transcript}");
}

#[test]
fn a_whole_game_by_the_schedule() {
    // 3 players from 2 cards: 2, three rounds of 1, 2 again.
    let transcript = play_scripted(&["--players", "3", "--game", "2", "--seed", "5", "--opponents", "random"]);
    assert!(transcript.contains("A whole game from 2 cards: 5 rounds."), "{transcript}");
    for (round, cards, dealer, trump) in [(1, 2, 0, "s"), (2, 1, 1, "h"), (4, 1, 0, "d"), (5, 2, 1, "none (no trump)")] {
        let header = format!("Round {round} of 5: {cards} cards each, dealer seat {dealer}, trump {trump}");
        assert!(transcript.contains(&header), "{header:?} missing: {transcript}");
    }
    assert_eq!(transcript.matches("Round over.").count(), 5, "{transcript}");
    assert!(transcript.contains("Game over. Totals:"), "{transcript}");
}

#[test]
fn several_rounds_against_the_agent_from_a_checkpoint_directory() {
    let dir = tempfile::tempdir().unwrap();
    tiny_net(dir.path());
    let checkpoint = dir.path().to_str().unwrap();
    let transcript = play_scripted(&[
        "--checkpoint", checkpoint, "--players", "3", "--cards", "3", "--rounds", "2", "--seat", "1", "--seed", "4",
        "--search", "2x8",
    ]);
    assert!(transcript.contains("the other seats are agent (2 worlds x 8 simulations)"), "{transcript}");
    assert!(transcript.contains(" ms)"), "agent moves report their time: {transcript}");
    assert!(transcript.contains("Round 2 of 2: 3 cards each, dealer seat 1, trump h"), "{transcript}");
    assert!(transcript.contains("Game over."), "{transcript}");
}

#[test]
fn end_of_input_and_quit_leave_cleanly() {
    for input in ["", "quit\n"] {
        let mut child = spawn(&["--seat", "1", "--seed", "1"]);
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(output.status.success(), "{stdout}");
        assert!(stdout.contains("legal: ") && stdout.trim_end().ends_with("Bye."), "{stdout}");
    }
}

#[test]
fn bad_settings_are_errors_not_panics() {
    for (args, message) in [
        (&["--opponents", "agent"][..], "--opponents agent needs --checkpoint"),
        (&["--seat", "4"][..], "seat 4 does not exist with 4 players"),
        (&["--players", "9"][..], "9 players"),
        (&["--cards", "14"][..], "14 cards each for 4 players"),
        (&["--checkpoint", "/nonexistent/net.bin"][..], "/nonexistent/net.bin"),
    ] {
        let output = spawn(args).wait_with_output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message) && !stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
