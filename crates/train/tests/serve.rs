//! `blob serve` through the real binary: the HTTP API (legal and illegal play, a whole game to
//! the end, undo, the agent's view, the record replayed by `blob replay`, bad requests), and the
//! page in a real browser (headless Chromium driven through chromedriver's WebDriver API).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod common;
use common::tiny_net;

/// A running `blob serve` on a free loopback port, stopped when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_blob"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("blob serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("first line: {line:?}")).to_string();
        Server { child, base }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// (status, JSON body) of a request; 4xx/5xx are answers too.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let request = ureq::request(method, &self.url(path));
        let result = match body {
            Some(body) => request.send_json(body),
            None => request.call(),
        };
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(error) => panic!("{method} {path}: {error}"),
        };
        let status = response.status();
        let text = response.into_string().unwrap();
        (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("{method} {path}: not JSON: {text}")))
    }

    fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call(method, path, body);
        assert!(status == 200 || status == 201, "{method} {path}: {status} {value}");
        value
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Play the game `id` to its end: the person always takes the first legal action, the other
/// seats are advanced; `next` deals each following round. Returns the final state.
fn play_to_the_end(server: &Server, id: &str) -> Value {
    let mut state = server.ok("GET", &format!("/api/games/{id}"), None)["state"].clone();
    for _ in 0..10_000 {
        match state["phase"].as_str().unwrap() {
            "game_over" => return state,
            "round_over" => state = server.ok("POST", &format!("/api/games/{id}/next"), None)["state"].clone(),
            _ if state["your_turn"] == true => {
                let action = state["legal"][0].as_str().unwrap().to_string();
                state = server.ok("POST", &format!("/api/games/{id}/action"), Some(json!({ "action": action })))["state"].clone();
            }
            _ => state = server.ok("POST", &format!("/api/games/{id}/advance"), None)["state"].clone(),
        }
    }
    panic!("the game did not end");
}

#[test]
fn a_whole_game_plays_to_the_end_and_its_record_replays() {
    let server = Server::start(&["--opponents", "random"]);
    // 3 players from 2 cards: 2, then 3 rounds of 1, then 2 (five rounds).
    let created = server.ok("POST", "/api/games", Some(json!({ "players": 3, "cards": 2, "whole_game": true, "seat": 1 })));
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32, "128-bit ids in hex");
    assert_eq!(created["state"]["rounds"], 5);
    assert_eq!(created["state"]["names"], json!(["random", "you", "random"]));
    let end = play_to_the_end(&server, &id);
    assert_eq!(end["history"].as_array().unwrap().len(), 5);
    let totals: Vec<i64> = end["totals"].as_array().unwrap().iter().map(|t| t.as_i64().unwrap()).collect();
    let summed: Vec<i64> = (0..3)
        .map(|s| end["history"].as_array().unwrap().iter().map(|r| r["scores"][s].as_i64().unwrap()).sum())
        .collect();
    assert_eq!(totals, summed, "totals are the rounds' scores");
    // After the end nothing more can be played.
    let (status, error) = server.call("POST", &format!("/api/games/{id}/advance"), None);
    assert_eq!(status, 409, "{error}");

    // The record is a game record that blob replay accepts, with the same totals.
    let response = ureq::get(&server.url(&format!("/api/games/{id}/record"))).call().unwrap();
    assert!(response.header("Content-Disposition").unwrap().contains("attachment"));
    let record = response.into_string().unwrap();
    let parsed: Value = serde_json::from_str(record.trim()).unwrap();
    assert_eq!(parsed["totals"].as_array().unwrap().iter().map(|t| t.as_i64().unwrap()).collect::<Vec<_>>(), totals);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("game.jsonl");
    std::fs::write(&file, &record).unwrap();
    let replay = Command::new(env!("CARGO_BIN_EXE_blob")).arg("replay").arg(&file).output().unwrap();
    let stdout = String::from_utf8_lossy(&replay.stdout);
    assert!(replay.status.success(), "{stdout}");
    assert!(stdout.contains("record 1: OK (game"), "{stdout}");
}

#[test]
fn illegal_and_malformed_requests_are_refused_and_change_nothing() {
    let server = Server::start(&["--opponents", "heuristic", "--max-games", "2"]);
    let created = server.ok("POST", "/api/games", Some(json!({ "players": 4, "cards": 3, "seat": 0 })));
    let id = created["id"].as_str().unwrap().to_string();
    let game = |path: &str| format!("/api/games/{id}{path}");
    // Let the others act until the person is to bid.
    let mut state = created["state"].clone();
    while state["your_turn"] != true {
        state = server.ok("POST", &game("/advance"), None)["state"].clone();
    }
    assert_eq!(state["phase"], "bidding");
    let before = server.ok("GET", &game(""), None);
    let legal: Vec<String> = state["legal"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect();
    let illegal = (0..=3).map(|b| b.to_string()).find(|b| !legal.contains(b));
    let refusals: Vec<(&str, String, Option<Value>, u16, &str)> = vec![
        ("POST", game("/action"), Some(json!({ "action": "9" })), 409, "illegal"),
        ("POST", game("/action"), Some(json!({ "action": "As" })), 400, "not a bid"),
        ("POST", game("/action"), Some(json!({ "act": "1" })), 400, "bad action request"),
        ("POST", game("/advance"), None, 409, "your turn"),
        ("POST", game("/next"), None, 409, "still in play"),
        ("POST", game("/undo"), None, 409, "nothing to undo"),
        ("GET", game("/advice"), None, 409, "no agent"),
        ("GET", "/api/games/00000000000000000000000000000000".to_string(), None, 404, "no such game"),
        // (The client resolves the dots: the server is asked for /etc/passwd.)
        ("GET", "/api/games/../../etc/passwd".to_string(), None, 404, "not found"),
        ("GET", "/api/games/%2e%2e%2fCargo.toml".to_string(), None, 404, "no such game"),
        ("GET", "/../Cargo.toml".to_string(), None, 404, "not found"),
        ("POST", "/api/games".to_string(), Some(json!({ "players": 9 })), 400, "9 players: Blob needs 3 to 8"),
        ("POST", "/api/games".to_string(), Some(json!({ "players": 4, "cards": 14 })), 400, "14 cards each for 4 players: must be 1..=13"),
        ("POST", "/api/games".to_string(), Some(json!({ "players": 4, "seat": 4 })), 400, "seat 4 does not exist"),
        ("POST", "/api/games".to_string(), Some(json!({ "opponents": "agent" })), 400, "needs a checkpoint"),
        ("POST", "/api/games".to_string(), Some(json!({ "players": 4, "colour": "red" })), 400, "unknown field"),
        ("DELETE", game("/undo"), None, 405, "method not allowed"),
    ];
    for (method, path, body, status, message) in refusals {
        let (got, answer) = server.call(method, &path, body.clone());
        assert_eq!(got, status, "{method} {path} {body:?}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains(message), "{method} {path}: {answer}");
    }
    if let Some(bid) = illegal {
        // The dealer's hook is the only way a bid 0..=n can be illegal.
        let (status, answer) = server.call("POST", &game("/action"), Some(json!({ "action": bid })));
        assert_eq!(status, 409, "{answer}");
    }
    // A body over the limit is refused unread.
    let big = "x".repeat(10_000);
    let (status, answer) = server.call("POST", &game("/action"), Some(json!({ "action": big })));
    assert_eq!(status, 413, "{answer}");
    assert_eq!(server.ok("GET", &game(""), None), before, "refused requests changed the game");

    // A legal bid, then undo: back to the same state; a second undo has nothing to take back.
    let after = server.ok("POST", &game("/action"), Some(json!({ "action": legal[0] })));
    assert_eq!(after["state"]["can_undo"], true);
    let undone = server.ok("POST", &game("/undo"), None);
    assert_eq!(undone["state"]["bids"], before["state"]["bids"]);
    assert_eq!(undone["state"]["hand"], before["state"]["hand"]);
    assert_eq!(server.call("POST", &game("/undo"), None).0, 409);
    // Once another seat has acted, the person's action stands.
    server.ok("POST", &game("/action"), Some(json!({ "action": legal[0] })));
    let moved = server.ok("POST", &game("/advance"), None);
    assert_eq!(moved["state"]["can_undo"], false);

    // At most two open games; closing one makes room.
    let second = server.ok("POST", "/api/games", Some(json!({ "cards": 1 })));
    let (status, answer) = server.call("POST", "/api/games", Some(json!({ "cards": 1 })));
    assert_eq!(status, 503, "{answer}");
    server.ok("DELETE", &format!("/api/games/{}", second["id"].as_str().unwrap()), None);
    server.ok("POST", "/api/games", Some(json!({ "cards": 1 })));
}


#[test]
fn the_agent_advises_and_reviews_the_persons_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let net = tiny_net(dir.path());
    let server = Server::start(&["--checkpoint", net.to_str().unwrap()]);
    let info = server.ok("GET", "/api/info", None);
    assert_eq!(info["has_agent"], true);
    assert_eq!(info["opponents"], "agent");
    let created = server.ok("POST", "/api/games", Some(json!({ "players": 3, "cards": 4, "seat": 2 })));
    let id = created["id"].as_str().unwrap().to_string();
    let mut state = created["state"].clone();
    let mut disagreements = 0;
    loop {
        match state["phase"].as_str().unwrap() {
            "round_over" | "game_over" => break,
            _ if state["your_turn"] == true => {
                let advice = server.ok("GET", &format!("/api/games/{id}/advice"), None);
                let shares: f64 = advice["shares"].as_array().unwrap().iter().map(|v| v[1].as_f64().unwrap()).sum();
                assert!((shares - 1.0).abs() < 1e-4, "{advice}");
                // The agent plays an action of the largest share (ties go either way).
                let share = |v: &Value| v[1].as_f64().unwrap();
                let largest = advice["shares"].as_array().unwrap().iter().map(share).fold(0.0, f64::max);
                let chosen = advice["shares"].as_array().unwrap().iter().find(|v| v[0] == advice["action"]).map_or(0.0, share);
                assert_eq!(chosen, largest, "{advice}");
                let legal: Vec<&str> = state["legal"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
                assert!(legal.contains(&advice["action"].as_str().unwrap()), "{advice} not in {legal:?}");
                // Play the last legal action, often not the agent's choice.
                let mine = *legal.last().unwrap();
                disagreements += usize::from(mine != advice["action"].as_str().unwrap());
                state = server.ok("POST", &format!("/api/games/{id}/action"), Some(json!({ "action": mine })))["state"].clone();
            }
            _ => state = server.ok("POST", &format!("/api/games/{id}/advance"), None)["state"].clone(),
        }
    }
    // The review lists exactly the decisions where the agent would have chosen otherwise.
    assert_eq!(state["review"].as_array().unwrap().len(), disagreements, "{}", state["review"]);
    for item in state["review"].as_array().unwrap() {
        assert_ne!(item["yours"], item["agents"]);
    }
}

/// chromedriver's WebDriver API, just what the page test needs.
struct Browser {
    driver: Child,
    base: String,
    session: String,
}

impl Browser {
    /// Headless Chromium, or `None` when it is not installed and CI did not ask for it.
    fn start() -> Option<Browser> {
        let (chromium, chromedriver) = ("/usr/bin/chromium", "/usr/bin/chromedriver");
        if !std::path::Path::new(chromium).exists() || !std::path::Path::new(chromedriver).exists() {
            assert!(
                std::env::var_os("BLOB_REQUIRE_BROWSER").is_none(),
                "BLOB_REQUIRE_BROWSER is set but {chromium} or {chromedriver} is missing (apt-get install chromium chromium-driver)"
            );
            eprintln!("skipped: no {chromium} / {chromedriver} (apt-get install chromium chromium-driver to run it)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let capabilities = json!({ "capabilities": { "alwaysMatch": { "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,900"]
        } } } });
        let deadline = Instant::now() + Duration::from_secs(30);
        let session = loop {
            match ureq::post(&format!("{base}/session")).send_json(capabilities.clone()) {
                Ok(response) => {
                    let value: Value = response.into_json().unwrap();
                    break value["value"]["sessionId"].as_str().unwrap().to_string();
                }
                Err(error) if Instant::now() < deadline => {
                    let _ = error;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(error) => panic!("chromedriver did not start a session: {error}"),
            }
        };
        Some(Browser { driver, base, session })
    }

    fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let response = match method {
            "GET" => ureq::get(&url).call(),
            _ => ureq::post(&url).send_json(body),
        };
        match response {
            Ok(response) => response.into_json::<Value>().unwrap()["value"].clone(),
            Err(ureq::Error::Status(status, response)) => panic!("{method} {path}: {status} {}", response.into_string().unwrap()),
            Err(error) => panic!("{method} {path}: {error}"),
        }
    }

    fn script(&self, script: &str) -> Value {
        self.command("POST", "/execute/sync", json!({ "script": script, "args": [] }))
    }

    /// Poll `script` until it returns something other than null or false.
    fn wait_for(&self, script: &str, what: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let value = self.script(script);
            if !value.is_null() && value != false {
                return value;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Click through WebDriver (a real pointer click on the element's centre).
    fn click(&self, css: &str) {
        let element = self.command("POST", "/element", json!({ "using": "css selector", "value": css }));
        let id = element.as_object().unwrap().values().next().unwrap().as_str().unwrap().to_string();
        self.command("POST", &format!("/element/{id}/click"), json!({}));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = ureq::delete(&format!("{}/session/{}", self.base, self.session)).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[test]
fn a_round_is_played_by_clicking_in_a_browser() {
    let Some(browser) = Browser::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let net = tiny_net(dir.path());
    let server = Server::start(&["--checkpoint", net.to_str().unwrap()]);
    browser.command("POST", "/url", json!({ "url": server.url("/") }));
    browser.wait_for("return document.body.dataset.ready === 'yes'", "the page to load");
    // A single round of 4 players x 3 cards against the agent.
    browser.script("document.getElementById('players').value = '4'; document.getElementById('cards').value = '3'; document.getElementById('whole').checked = false;");
    browser.click("#start");
    browser.wait_for("return document.body.dataset.game && document.body.dataset.game !== 'null'", "the game to start");
    let id = browser.script("return document.body.dataset.game").as_str().unwrap().to_string();
    let mut clicks = 0;
    let mut screenshot = None;
    loop {
        let next = browser.wait_for(
            "const phase = document.body.dataset.phase; \
             if (phase === 'round_over' || phase === 'game_over') return 'over'; \
             const legal = document.querySelector('#bids .legal, #hand .legal'); \
             return legal && !legal.disabled ? 'turn' : null;",
            "the person's turn or the round's end",
        );
        if next == "over" {
            break;
        }
        // What the page shows on the person's turn is what the server says.
        let state = server.ok("GET", &format!("/api/games/{id}"), None)["state"].clone();
        assert_eq!(state["your_turn"], true);
        let shown: Vec<String> = serde_json::from_value(browser.script(
            "return [...document.querySelectorAll('#hand .card')].map(c => c.dataset.card)",
        ))
        .unwrap();
        let hand: Vec<String> = serde_json::from_value(state["hand"].clone()).unwrap();
        assert_eq!(shown, hand, "the hand on the page");
        let mut clickable: Vec<String> = serde_json::from_value(browser.script(
            "return [...document.querySelectorAll('#bids .legal, #hand .legal')].map(c => c.dataset.action)",
        ))
        .unwrap();
        let mut legal: Vec<String> = serde_json::from_value(state["legal"].clone()).unwrap();
        clickable.sort();
        legal.sort();
        assert_eq!(clickable, legal, "exactly the legal actions are clickable");
        if clicks == 1 {
            // Mid-round, with the agent's view open: the README's picture.
            browser.click("#advise");
            browser.wait_for("return document.getElementById('advice-action')", "the agent's view");
            screenshot = Some(browser.command("GET", "/screenshot", json!({})));
        }
        let before = state["legal"].clone();
        browser.click("#bids .legal, #hand .legal");
        clicks += 1;
        // Wait until the page has moved on from this decision.
        let deadline = Instant::now() + Duration::from_secs(30);
        while {
            let now = server.ok("GET", &format!("/api/games/{id}"), None)["state"].clone();
            now["your_turn"] == true && now["legal"] == before
        } {
            assert!(Instant::now() < deadline, "the click did nothing");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    assert!(clicks >= 4, "a bid and three cards, got {clicks} clicks");
    let state = server.ok("GET", &format!("/api/games/{id}"), None)["state"].clone();
    let scores: Vec<String> =
        serde_json::from_value(browser.script("return [...document.querySelectorAll('#result .score')].map(c => c.textContent)")).unwrap();
    let expected: Vec<String> = state["scores"].as_array().unwrap().iter().map(|s| s.to_string()).collect();
    assert_eq!(scores, expected, "the page shows the round's scores");
    assert!(browser.script("return document.getElementById('status').textContent").as_str().unwrap().contains("over"));
    if let (Some(png), Some(path)) = (screenshot, std::env::var_os("BLOB_SCREENSHOT")) {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}
