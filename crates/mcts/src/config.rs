//! Search and driver settings, with validation so that bad values are refused up front
//! instead of producing a silently degenerate search.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Upper bounds that keep the arena indices (`u32`) and allocations sane; far above any
/// setting that makes sense for Blob.
pub const MAX_WORLDS: u32 = 4096;
pub const MAX_SIMULATIONS: u32 = 1_000_000;
pub const MAX_LEAVES_PER_WAVE: u32 = 65_536;
/// Most legal actions a position can have: the bids 0..=17 of a 3-player round of 17 cards
/// (no hand holds more than 17 cards).
pub const MAX_LEGAL_ACTIONS: usize = 18;

/// The search presets of issue 4 (determinizations x simulations per determinization).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// 2 worlds x 20 simulations.
    Light,
    /// 3 worlds x 30 simulations.
    Medium,
    /// 5 worlds x 50 simulations.
    Heavy,
}

impl std::str::FromStr for Preset {
    type Err = String;

    fn from_str(text: &str) -> Result<Preset, String> {
        Preset::ALL
            .into_iter()
            .find(|preset| preset.name() == text)
            .ok_or_else(|| format!("{text:?}: expected light, medium or heavy"))
    }
}

impl Preset {
    pub const ALL: [Preset; 3] = [Preset::Light, Preset::Medium, Preset::Heavy];

    pub fn name(self) -> &'static str {
        match self {
            Preset::Light => "light",
            Preset::Medium => "medium",
            Preset::Heavy => "heavy",
        }
    }

    /// (worlds, simulations per world).
    pub fn size(self) -> (u32, u32) {
        match self {
            Preset::Light => (2, 20),
            Preset::Medium => (3, 30),
            Preset::Heavy => (5, 50),
        }
    }
}

/// How one decision is searched. The defaults are the medium preset with self-play settings
/// (root noise on, temperatures 1); use [`SearchConfig::for_play`] for evaluation and games
/// against people.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchConfig {
    /// D: determinized worlds sampled from the acting player's information set.
    pub worlds: u32,
    /// S: simulations per world (the root evaluation is not counted; the root's children
    /// receive exactly S visits per world).
    pub simulations: u32,
    /// K: leaves selected per world in one wave (parallel expansion). K >= S is allowed.
    pub leaves_per_wave: u32,
    /// Exploration constant of PUCT.
    pub c_puct: f32,
    /// First-play urgency: an unvisited child is valued at its parent's mean value for the
    /// player choosing there, minus this reduction.
    pub fpu_reduction: f32,
    /// Virtual visits added along the path of each leaf awaiting evaluation, so that the
    /// other leaves of the same wave go elsewhere. 0 disables virtual loss.
    pub virtual_visits: u32,
    /// The value (on the [0, 1] score scale) each virtual visit counts as: 0 is a loss.
    pub virtual_loss: f32,
    /// Dirichlet concentration of the root noise.
    pub dirichlet_alpha: f32,
    /// Weight of the root noise in the root priors; 0 turns noise off (evaluation, play).
    pub dirichlet_epsilon: f32,
    /// Bid choice from the summed root visits: 0 plays the most visited bid, otherwise bids
    /// are sampled with probability proportional to visits^(1 / temperature).
    pub bid_temperature: f32,
    /// The same for card play. Kept apart because exploring bids is what teaches their
    /// values, while random card play makes every bid look harder to make than it is.
    pub play_temperature: f32,
    /// Softmax temperature of a rollout search's policy over its actions' values (scaled
    /// scores, so 0.05 is about half a point of a 10-point bid); 0 shares the policy among the
    /// best actions. The policy is the training target and, at a positive bid or play
    /// temperature, what the move is sampled from.
    pub rollout_temperature: f32,
    /// A rollout search samples this many times `worlds` candidate worlds and keeps `worlds`
    /// of them, drawn in proportion to how likely the other seats' bids are there under the
    /// evaluator's policy (their bids say what they hold); 1 samples worlds uniformly. 1..=16.
    pub belief_oversample: u32,
    /// A rollout search spends its worlds by sequential halving over its actions: every legal
    /// action is played out in the first worlds, then the better half (by mean own score) in
    /// the next ones, and so on, phase p of L = ceil(log2 A) ending at world D / 2^(L - 1 - p),
    /// so that the last two contenders are compared over all D worlds. The playouts go to the
    /// actions in contention: a 9-way bid costs about 40% of the playouts of the same D without
    /// it. The policy covers the last phase's actions only, so this is for play, not for
    /// policy targets. Rollout searches only.
    pub halving: bool,
    /// How the other seats choose inside a sampled world.
    pub opponent_model: OpponentModel,
    /// The shape of each world's search.
    pub kind: SearchKind,
}

/// What is searched in each sampled world.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SearchKind {
    /// A PUCT tree of `simulations` simulations; the most visited action is played.
    #[default]
    Puct,
    /// Every legal action valued once by the evaluator in every world (`simulations` is not
    /// used); the action with the best mean value over the worlds is played. PIMC with the
    /// network's perfect-information value in place of playouts. For play only: its visits
    /// are one per action and world, no policy target.
    OnePly,
    /// PIMC with the network's policy as the playout policy: in every world each legal action
    /// is played out to the end of the round, every seat then playing the most probable legal
    /// action of the evaluator's policy for its own information set (it sees no other hand,
    /// as in the real game). An action's value is its mean own score over the worlds; the
    /// policy is their softmax at `rollout_temperature`. `simulations` is not used: a playout
    /// is deterministic given its world.
    Rollout,
}

impl std::str::FromStr for SearchKind {
    type Err = String;

    fn from_str(text: &str) -> Result<SearchKind, String> {
        match text {
            "puct" => Ok(SearchKind::Puct),
            "one-ply" => Ok(SearchKind::OnePly),
            "rollout" => Ok(SearchKind::Rollout),
            _ => Err(format!("{text:?}: expected puct, one-ply or rollout")),
        }
    }
}

/// How the seats other than the searcher's choose at their nodes of a world's tree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpponentModel {
    /// PUCT on their own values, like the searcher. Inside a world those values see every
    /// hand, so the opponents answer the searcher's actual cards, which they cannot see.
    #[default]
    Search,
    /// As their prior policy predicts (computed for their information set, which has none of
    /// the searcher's cards): their visits go to their actions in proportion to the priors.
    Policy,
}

impl std::str::FromStr for OpponentModel {
    type Err = String;

    fn from_str(text: &str) -> Result<OpponentModel, String> {
        match text {
            "search" => Ok(OpponentModel::Search),
            "policy" => Ok(OpponentModel::Policy),
            _ => Err(format!("{text:?}: expected search or policy")),
        }
    }
}

impl Default for SearchConfig {
    fn default() -> SearchConfig {
        SearchConfig::preset(Preset::Medium)
    }
}

impl SearchConfig {
    /// A preset with self-play settings (root noise, temperatures 1).
    pub fn preset(preset: Preset) -> SearchConfig {
        let (worlds, simulations) = preset.size();
        SearchConfig {
            worlds,
            simulations,
            leaves_per_wave: 8,
            c_puct: 1.5,
            fpu_reduction: 0.1,
            virtual_visits: 1,
            virtual_loss: 0.0,
            // About 10 / (typical number of legal actions), as in KataGo's scaling.
            dirichlet_alpha: 1.0,
            dirichlet_epsilon: 0.25,
            bid_temperature: 1.0,
            play_temperature: 1.0,
            rollout_temperature: 0.05,
            belief_oversample: 1,
            halving: false,
            opponent_model: OpponentModel::Search,
            kind: SearchKind::Puct,
        }
    }

    pub fn light() -> SearchConfig {
        SearchConfig::preset(Preset::Light)
    }

    pub fn medium() -> SearchConfig {
        SearchConfig::preset(Preset::Medium)
    }

    pub fn heavy() -> SearchConfig {
        SearchConfig::preset(Preset::Heavy)
    }

    /// The same search without root noise, playing the most visited action: for evaluation
    /// and play, where exploration would only weaken the move.
    pub fn for_play(self) -> SearchConfig {
        SearchConfig { dirichlet_epsilon: 0.0, bid_temperature: 0.0, play_temperature: 0.0, ..self }
    }

    /// Most leaves one world can add to a batch in a wave.
    pub(crate) fn leaves_per_world_wave(&self) -> usize {
        match self.kind {
            SearchKind::Puct => self.leaves_per_wave.min(self.simulations) as usize,
            SearchKind::OnePly => self.leaves_per_wave as usize,
            // One playout of every legal action at once, or every other seat's bid in each
            // candidate world.
            SearchKind::Rollout => MAX_LEGAL_ACTIONS.max(self.belief_oversample as usize * (game::MAX_PLAYERS - 1)),
        }
    }

    /// Most leaves one wave of a search with these settings hands out (counted as
    /// [`SearchConfig::largest_wave_formula`] says). `DriverConfig::max_batch` must hold at
    /// least this.
    pub fn largest_wave(&self) -> usize {
        self.worlds as usize * self.leaves_per_world_wave()
    }

    /// How [`SearchConfig::largest_wave`] is counted for this search's kind, in words for
    /// error messages.
    pub fn largest_wave_formula(&self) -> &'static str {
        match self.kind {
            SearchKind::Puct => "worlds x min(leaves_per_wave, simulations)",
            SearchKind::OnePly => "worlds x leaves_per_wave",
            SearchKind::Rollout => "worlds x max(18 actions, belief_oversample x 7 other seats)",
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        fn count(value: u32, max: u32, field: &'static str) -> Result<(), ConfigError> {
            if value == 0 || value > max {
                return Err(ConfigError::Count { field, value, max });
            }
            Ok(())
        }
        fn real(value: f32, min: f32, max: f32, field: &'static str) -> Result<(), ConfigError> {
            // NaN fails both comparisons and is refused with the rest.
            if !(value >= min && value <= max) {
                return Err(ConfigError::Real { field, value, min, max });
            }
            Ok(())
        }
        count(self.worlds, MAX_WORLDS, "worlds")?;
        count(self.simulations, MAX_SIMULATIONS, "simulations")?;
        count(self.leaves_per_wave, MAX_LEAVES_PER_WAVE, "leaves_per_wave")?;
        count(self.belief_oversample, 16, "belief_oversample")?;
        if self.halving && self.kind != SearchKind::Rollout {
            return Err(ConfigError::HalvingWithoutRollouts);
        }
        if self.virtual_visits > MAX_LEAVES_PER_WAVE {
            return Err(ConfigError::VirtualVisits(self.virtual_visits));
        }
        real(self.c_puct, 0.0, f32::MAX, "c_puct")?;
        real(self.fpu_reduction, -1.0, 1.0, "fpu_reduction")?;
        real(self.virtual_loss, 0.0, 1.0, "virtual_loss")?;
        // A zero or infinitesimal alpha makes every Gamma draw underflow to 0.
        real(self.dirichlet_alpha, 1e-3, 1e3, "dirichlet_alpha")?;
        real(self.dirichlet_epsilon, 0.0, 1.0, "dirichlet_epsilon")?;
        real(self.bid_temperature, 0.0, 1e3, "bid_temperature")?;
        real(self.play_temperature, 0.0, 1e3, "play_temperature")?;
        real(self.rollout_temperature, 0.0, 1e3, "rollout_temperature")?;
        Ok(())
    }
}

/// Settings of the batching driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DriverConfig {
    /// Most leaves in one evaluator call. Searches are grouped so that a group's wave can
    /// never exceed it; one search alone must fit (worlds x min(K, S) <= max_batch).
    pub max_batch: usize,
    /// Run the evaluator on its own thread for one group of searches while the CPU selects
    /// the leaves of the next group. Off: select, evaluate, back up in turn.
    pub overlap: bool,
}

impl Default for DriverConfig {
    fn default() -> DriverConfig {
        DriverConfig { max_batch: 4096, overlap: true }
    }
}

impl DriverConfig {
    /// The default settings with the batch cap raised, if need be, to hold `searches` waves of
    /// `largest_wave` leaves at once (a search's [`SearchConfig::largest_wave`]).
    pub fn holding(searches: usize, largest_wave: usize) -> DriverConfig {
        let default = DriverConfig::default();
        DriverConfig { max_batch: default.max_batch.max(searches * largest_wave), ..default }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_batch == 0 {
            return Err(ConfigError::ZeroBatch);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum ConfigError {
    #[error("{field} must be in 1..={max}, got {value}")]
    Count { field: &'static str, value: u32, max: u32 },
    #[error("virtual_visits must be at most {MAX_LEAVES_PER_WAVE}, got {0}")]
    VirtualVisits(u32),
    #[error("{field} must be a number in [{min}, {max}], got {value}")]
    Real { field: &'static str, value: f32, min: f32, max: f32 },
    #[error("max_batch must be at least 1")]
    ZeroBatch,
    #[error("halving needs kind: rollout (it shares out a rollout search's worlds)")]
    HalvingWithoutRollouts,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_have_the_issue_sizes_and_validate() {
        assert_eq!((SearchConfig::light().worlds, SearchConfig::light().simulations), (2, 20));
        assert_eq!((SearchConfig::medium().worlds, SearchConfig::medium().simulations), (3, 30));
        assert_eq!((SearchConfig::heavy().worlds, SearchConfig::heavy().simulations), (5, 50));
        for preset in Preset::ALL {
            SearchConfig::preset(preset).validate().unwrap();
            SearchConfig::preset(preset).for_play().validate().unwrap();
        }
        assert_eq!(SearchConfig::default(), SearchConfig::medium());
        DriverConfig::default().validate().unwrap();
    }

    #[test]
    fn bad_values_are_refused_with_the_field_named() {
        let base = SearchConfig::medium();
        let cases: Vec<(SearchConfig, &str)> = vec![
            (SearchConfig { worlds: 0, ..base }, "worlds"),
            (SearchConfig { worlds: MAX_WORLDS + 1, ..base }, "worlds"),
            (SearchConfig { simulations: 0, ..base }, "simulations"),
            (SearchConfig { leaves_per_wave: 0, ..base }, "leaves_per_wave"),
            (SearchConfig { virtual_visits: MAX_LEAVES_PER_WAVE + 1, ..base }, "virtual_visits"),
            (SearchConfig { c_puct: -0.5, ..base }, "c_puct"),
            (SearchConfig { c_puct: f32::NAN, ..base }, "c_puct"),
            (SearchConfig { c_puct: f32::INFINITY, ..base }, "c_puct"),
            (SearchConfig { fpu_reduction: 2.0, ..base }, "fpu_reduction"),
            (SearchConfig { virtual_loss: -0.1, ..base }, "virtual_loss"),
            (SearchConfig { dirichlet_alpha: 0.0, ..base }, "dirichlet_alpha"),
            (SearchConfig { dirichlet_epsilon: 1.5, ..base }, "dirichlet_epsilon"),
            (SearchConfig { bid_temperature: -1.0, ..base }, "bid_temperature"),
            (SearchConfig { play_temperature: f32::NAN, ..base }, "play_temperature"),
            (SearchConfig { rollout_temperature: -0.1, ..base }, "rollout_temperature"),
        ];
        for (config, field) in cases {
            let err = config.validate().unwrap_err();
            assert!(err.to_string().contains(field), "{err} should name {field}");
        }
        assert_eq!(DriverConfig { max_batch: 0, overlap: true }.validate(), Err(ConfigError::ZeroBatch));
    }

    #[test]
    fn configs_round_trip_through_json_and_fill_defaults() {
        let config = SearchConfig { worlds: 5, leaves_per_wave: 100, ..SearchConfig::light() };
        let text = serde_json::to_string(&config).unwrap();
        assert_eq!(serde_json::from_str::<SearchConfig>(&text).unwrap(), config);
        // Missing fields take the defaults; a zero count parses but does not validate.
        let partial: SearchConfig = serde_json::from_str(r#"{"worlds": 0, "c_puct": 2.0}"#).unwrap();
        assert_eq!(partial.simulations, SearchConfig::default().simulations);
        assert_eq!(partial.c_puct, 2.0);
        assert!(partial.validate().is_err());
        assert!(serde_json::from_str::<SearchConfig>(r#"{"wolds": 3}"#).is_err(), "typos are refused");
        let preset: Preset = serde_json::from_str(r#""heavy""#).unwrap();
        assert_eq!(preset, Preset::Heavy);
        let driver: DriverConfig = serde_json::from_str(r#"{"max_batch": 64}"#).unwrap();
        assert!(driver.overlap);
    }

    #[test]
    fn the_batch_cap_grows_to_hold_the_searches_asked_for() {
        let default = DriverConfig::default();
        assert_eq!(DriverConfig::holding(1, 10), default, "small waves keep the default");
        let rollouts = SearchConfig { worlds: 256, kind: SearchKind::Rollout, belief_oversample: 8, ..SearchConfig::default() };
        let held = DriverConfig::holding(4, rollouts.largest_wave());
        assert_eq!(held.max_batch, 4 * 256 * 8 * 7);
        assert!(held.overlap && held.validate().is_ok());
    }
}
