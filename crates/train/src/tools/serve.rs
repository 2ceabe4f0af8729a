//! `blob serve`: play in the browser. The binary serves one page (its own assets, embedded: no
//! build step, nothing fetched) and a small JSON API over the games it keeps, each under an
//! unguessable id. Requests are handled one at a time: a game is a person's, and each agent
//! move takes milliseconds.
//!
//! API (every answer is JSON; errors are `{"error": "..."}` with a 4xx status and change nothing):
//! - `GET /api/info`: whether an agent is loaded, the seat kinds on offer.
//! - `POST /api/games` `{"players": 4, "cards": 5, "whole_game": true, "seat": 0, "opponents": "agent"}`
//!   (or `"seats": ["agent", "pimc", ...]`, one per seat, the person's ignored): a new game.
//! - `GET /api/games/ID`: its state. `POST .../action` `{"action": "3"}` or `{"action": "As"}`: the
//!   person's bid or card. `POST .../advance`: the next other seat acts. `POST .../undo`: take
//!   back the person's last action while no other seat has acted since. `POST .../next`: deal
//!   the next round. `GET .../advice`: the agent's search policy and value at the person's decision.
//!   `GET .../record`: the game record (`docs/formats.md`). `DELETE /api/games/ID`: close it.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::RngCore;
use serde::Deserialize;
use serde_json::json;

use crate::agent::{Agent, BotKind, SearchSpec};
use crate::tools::web_table::{SeatKind, TableError, TableSpec, WebTable};

/// The page: HTML, style and script in one file.
const PAGE: &str = include_str!("serve/page.html");

/// Largest request body read; anything longer is refused (413) unread.
pub const MAX_BODY: usize = 4096;
/// A game nobody has touched for this long may be closed to make room for a new one.
pub const IDLE_CLOSE: Duration = Duration::from_secs(30 * 60);

pub struct ServeOptions {
    pub checkpoint: Option<PathBuf>,
    /// Who takes the other seats unless a new game says otherwise.
    pub opponents: SeatKind,
    pub max_games: usize,
    pub seed: u64,
}

/// An HTTP answer: status, content type, body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// A file name to save the body as (the record download).
    pub attachment: Option<&'static str>,
}

impl Answer {
    fn json(status: u16, value: serde_json::Value) -> Answer {
        Answer { status, content_type: "application/json", body: value.to_string().into_bytes(), attachment: None }
    }

    fn error(status: u16, message: impl std::fmt::Display) -> Answer {
        Answer::json(status, json!({ "error": message.to_string() }))
    }
}

struct Open {
    table: WebTable,
    touched: Instant,
}

/// The server's games and players, and the routing of requests to them.
pub struct App {
    options: ServeOptions,
    games: HashMap<String, Open>,
    /// One player per seat kind, shared by every game (a decision depends only on the
    /// information set it is asked about and the seed).
    players: HashMap<SeatKind, Agent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewGame {
    #[serde(default = "default_players")]
    players: usize,
    #[serde(default)]
    seat: usize,
    #[serde(default = "default_cards")]
    cards: usize,
    #[serde(default)]
    whole_game: bool,
    opponents: Option<SeatKind>,
    seats: Option<Vec<SeatKind>>,
}

fn default_players() -> usize {
    4
}

fn default_cards() -> usize {
    5
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonsAction {
    action: String,
}

fn status_of(error: &TableError) -> u16 {
    match error {
        TableError::Setup(_) | TableError::Unreadable { .. } => 400,
        TableError::Agent(_) => 500,
        _ => 409,
    }
}

impl App {
    /// Loads the agent when a checkpoint is given (an error names the file).
    pub fn new(options: ServeOptions) -> anyhow::Result<App> {
        let mut players = HashMap::new();
        if let Some(path) = &options.checkpoint {
            let agent = Agent::load(path, SearchSpec::DEFAULT, options.seed)
                .with_context(|| format!("loading {}", path.display()))?;
            players.insert(SeatKind::Agent, agent);
        } else if options.opponents == SeatKind::Agent {
            anyhow::bail!("the agent needs --checkpoint (or choose --opponents heuristic, pimc or random)");
        }
        for (kind, bot) in [(SeatKind::Heuristic, BotKind::Heuristic), (SeatKind::Pimc, BotKind::Pimc), (SeatKind::Random, BotKind::Random)] {
            players.insert(kind, Agent::bot(bot, options.seed));
        }
        Ok(App { options, games: HashMap::new(), players })
    }

    pub fn describe(&self) -> String {
        match self.players.get(&SeatKind::Agent) {
            Some(agent) => agent.describe(),
            None => "no agent (bots only)".into(),
        }
    }

    /// Answer one request. `body` is at most [`MAX_BODY`] bytes (the transport refuses longer).
    pub fn handle(&mut self, method: &str, url: &str, body: &[u8]) -> Answer {
        let path = url.split(['?', '#']).next().unwrap_or("");
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (method, parts.as_slice()) {
            ("GET", [""] | ["index.html"]) => Answer {
                status: 200,
                content_type: "text/html; charset=utf-8",
                body: PAGE.as_bytes().to_vec(),
                attachment: None,
            },
            ("GET", ["api", "info"]) => {
                let mut kinds = vec![SeatKind::Heuristic, SeatKind::Pimc, SeatKind::Random];
                if self.players.contains_key(&SeatKind::Agent) {
                    kinds.insert(0, SeatKind::Agent);
                }
                Answer::json(
                    200,
                    json!({ "agent": self.describe(), "has_agent": self.players.contains_key(&SeatKind::Agent),
                            "opponents": self.options.opponents, "kinds": kinds, "max_games": self.options.max_games }),
                )
            }
            ("POST", ["api", "games"]) => self.create(body),
            (_, ["api", "games"]) => Answer::error(405, "use POST to start a game"),
            (method, ["api", "games", id, rest @ ..]) => {
                if !self.games.contains_key(*id) {
                    return Answer::error(404, "no such game (it may have been closed)");
                }
                self.on_game(method, id.to_string(), rest, body)
            }
            ("GET", _) => Answer::error(404, "not found"),
            _ => Answer::error(405, "method not allowed"),
        }
    }

    fn create(&mut self, body: &[u8]) -> Answer {
        let request: NewGame = match serde_json::from_slice(body) {
            Ok(request) => request,
            Err(error) => return Answer::error(400, format!("bad new-game request: {error}")),
        };
        let seats = match (request.seats, request.opponents) {
            (Some(seats), _) => seats,
            (None, kind) => vec![kind.unwrap_or(self.options.opponents); request.players],
        };
        if seats.iter().enumerate().any(|(s, &k)| s != request.seat && !self.players.contains_key(&k)) {
            return Answer::error(400, "the agent needs a checkpoint: start blob serve with --checkpoint");
        }
        if self.games.len() >= self.options.max_games {
            // Make room by closing the game idle longest, if it has been idle long enough.
            let idle = self.games.iter().filter(|(_, g)| g.touched.elapsed() >= IDLE_CLOSE).min_by_key(|(_, g)| g.touched);
            match idle.map(|(id, _)| id.clone()) {
                Some(id) => {
                    self.games.remove(&id);
                }
                None => return Answer::error(503, format!("{} games are open, the most this server keeps", self.games.len())),
            }
        }
        let id = new_id();
        let spec = TableSpec {
            players: request.players,
            seat: request.seat,
            start: request.cards,
            whole_game: request.whole_game,
            seats,
            seed: game::stable_hash(&(self.options.seed, &id)),
        };
        match WebTable::new(spec) {
            Ok(table) => {
                self.games.insert(id.clone(), Open { table, touched: Instant::now() });
                self.state(201, &id)
            }
            Err(error) => Answer::error(400, error),
        }
    }

    fn on_game(&mut self, method: &str, id: String, rest: &[&str], body: &[u8]) -> Answer {
        let open = self.games.get_mut(&id).expect("looked up by the caller");
        open.touched = Instant::now();
        let table = &mut open.table;
        let outcome = match (method, rest) {
            ("GET", []) => Ok(()),
            ("DELETE", []) => {
                self.games.remove(&id);
                return Answer::json(200, json!({ "closed": id }));
            }
            ("POST", ["action"]) => {
                let request: PersonsAction = match serde_json::from_slice(body) {
                    Ok(request) => request,
                    Err(error) => return Answer::error(400, format!("bad action request: {error}")),
                };
                table.parse_action(&request.action).and_then(|action| table.play_persons(action, self.players.get_mut(&SeatKind::Agent)))
            }
            ("POST", ["advance"]) => match table.kind_to_act() {
                Some(kind) => table.play_others(self.players.get_mut(&kind).expect("every seat kind of a game is loaded")),
                None if table.is_persons_turn() => Err(TableError::YourTurn),
                None if table.is_over() => Err(TableError::GameOver),
                None => Err(TableError::RoundOver),
            },
            ("POST", ["undo"]) => table.undo(),
            ("POST", ["next"]) => table.next_round(),
            ("GET", ["advice"]) => {
                let Some(agent) = self.players.get_mut(&SeatKind::Agent) else {
                    return Answer::error(409, TableError::NoAgent);
                };
                return match table.advice(agent) {
                    Ok(advice) => Answer::json(200, serde_json::to_value(advice).expect("advice serialises")),
                    Err(error) => Answer::error(status_of(&error), error),
                };
            }
            ("GET", ["record"]) => {
                let mut body = table.record().to_string().into_bytes();
                body.push(b'\n');
                return Answer { status: 200, content_type: "application/json", body, attachment: Some("blob-game.jsonl") };
            }
            (_, [] | ["action" | "advance" | "undo" | "next" | "advice" | "record"]) => {
                return Answer::error(405, "method not allowed")
            }
            _ => return Answer::error(404, "not found"),
        };
        match outcome {
            Ok(()) => self.state(200, &id),
            Err(error) => Answer::error(status_of(&error), error),
        }
    }

    fn state(&self, status: u16, id: &str) -> Answer {
        let table = &self.games[id].table;
        let spec = table.spec();
        let names: Vec<String> = (0..spec.players)
            .map(|s| if s == spec.seat { "you".to_string() } else { spec.seats[s].name().to_string() })
            .collect();
        Answer::json(status, json!({ "id": id, "state": table.view(&names) }))
    }
}

/// 128 random bits from the operating system, in hex: a game's id.
fn new_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Listen on `addr` and answer requests until the process is stopped. Prints the address it
/// listens on (with the port the system chose for `:0`) as its first line of output.
pub fn serve(addr: &str, options: ServeOptions) -> anyhow::Result<()> {
    let mut app = App::new(options)?;
    let server = tiny_http::Server::http(addr).map_err(|error| anyhow::anyhow!("cannot listen on {addr}: {error}"))?;
    let local = server.server_addr().to_ip().context("the server has no IP address")?;
    println!("listening on http://{local}");
    if !local.ip().is_loopback() {
        eprintln!("warning: {local} is reachable from other machines; games have unguessable ids but no passwords");
    }
    eprintln!("opponents: {}; open http://{local}/ in a browser", app.describe());
    use std::io::Write;
    std::io::stdout().flush()?;
    for mut request in server.incoming_requests() {
        let answer = if request.body_length().is_some_and(|length| length > MAX_BODY) {
            Answer::error(413, format!("request bodies are limited to {MAX_BODY} bytes"))
        } else {
            let mut body = Vec::new();
            match request.as_reader().take(MAX_BODY as u64 + 1).read_to_end(&mut body) {
                Ok(_) if body.len() > MAX_BODY => Answer::error(413, format!("request bodies are limited to {MAX_BODY} bytes")),
                Ok(_) => app.handle(request.method().as_str(), request.url(), &body),
                Err(error) => Answer::error(400, format!("cannot read the request: {error}")),
            }
        };
        let mut response = tiny_http::Response::from_data(answer.body).with_status_code(answer.status);
        let mut headers = vec![
            format!("Content-Type: {}", answer.content_type),
            "Cache-Control: no-store".to_string(),
            "X-Content-Type-Options: nosniff".to_string(),
        ];
        if let Some(name) = answer.attachment {
            headers.push(format!("Content-Disposition: attachment; filename=\"{name}\""));
        }
        for header in headers {
            response.add_header(header.parse::<tiny_http::Header>().expect("well-formed header"));
        }
        // A client that went away gets no answer; the server goes on.
        let _ = request.respond(response);
    }
    Ok(())
}
