//! A model of how the other seats play their cards, learnt at play time from the plays they are
//! seen to make. The rollout search's playouts let it play the other seats in place of the
//! network's policy wherever it has been predicting their real plays well (README, "Fifth
//! round": with a perfect model of the other seats the same network gains up to +0.38 a round
//! against HeuristicBot, while its own self-play policy is what the playouts use otherwise).
//!
//! It is a conditional logit per situation (how the seat stands against its bid, and whether it
//! leads, can take the trick, or cannot): each legal card scores a weighted sum of features in
//! which a trick-taking player's habits show (does it take the trick now, is it the cheapest
//! card that does or the highest that does not, is it a trump, its rank, ...), and every play
//! seen moves the weights one gradient step up that play's likelihood. The model knows no bot's
//! code; a player whose choices these features do not capture stays unpredicted, and the
//! network plays for it.
//!
//! Bids are a linear regression of the bid on the bidder's hand (honours and lengths, trumps
//! apart, with no-trump rounds apart), fitted by least squares to the bids seen. Where the
//! nearest legal bid to its estimate has been the real bid often enough, it also bids for the
//! other seats in the playouts and weighs the sampled worlds by how likely each other seat's
//! bid is from its hand there (a normal law around the estimate, as wide as the misses seen).

use game::{beats, Action, Card, CardSet, Phase, Round};

const FEATURES: usize = 15;
/// 3 standings against the bid x 3 roles in the trick.
const SITUATIONS: usize = 9;
/// Gradient step on the log-likelihood of each play seen.
const LEARNING_RATE: f32 = 0.3;
/// Weight of the newest play in a situation's running accuracy.
const ACCURACY_DECAY: f32 = 0.02;
/// A situation's plays are predicted once its running accuracy (of the argmax card, measured on
/// each play before learning from it) reaches this. Starting from 0, a model that is always
/// right gets there after about 115 plays.
pub const TRUSTED_ACCURACY: f32 = 0.9;

/// The learnt bids and card play of the other seats (see the module documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct PlayModel {
    weights: [[f32; FEATURES]; SITUATIONS],
    /// Per situation: the running share of plays whose card the model predicted.
    accuracy: [f32; SITUATIONS],
    /// Plays learnt from, all situations together.
    plays: u64,
    bids: BidModel,
}

impl Default for PlayModel {
    fn default() -> PlayModel {
        PlayModel { weights: [[0.0; FEATURES]; SITUATIONS], accuracy: [0.0; SITUATIONS], plays: 0, bids: BidModel::default() }
    }
}

const HAND_FEATURES: usize = 24;
/// Keeps the least-squares system solvable before every feature has been seen.
const RIDGE: f64 = 1e-3;
/// The narrowest the likelihood of a bid around the estimate gets (in bids).
const MIN_BID_SPREAD: f64 = 0.25;

/// The bid regression: the normal equations of the bids seen, their solution, and how the
/// nearest legal bid to it has fared.
#[derive(Clone, Debug, PartialEq)]
struct BidModel {
    gram: [[f64; HAND_FEATURES]; HAND_FEATURES],
    moments: [f64; HAND_FEATURES],
    weights: [f64; HAND_FEATURES],
    /// Running share of bids whose value the nearest legal bid to the estimate was.
    accuracy: f32,
    /// Running mean squared miss of the estimate (in bids squared).
    spread: f64,
    bids: u64,
}

impl Default for BidModel {
    fn default() -> BidModel {
        BidModel {
            gram: [[0.0; HAND_FEATURES]; HAND_FEATURES],
            moments: [0.0; HAND_FEATURES],
            weights: [0.0; HAND_FEATURES],
            accuracy: 0.0,
            spread: 1.0,
            bids: 0,
        }
    }
}

/// What a bid is read from: the bidder's honours (trumps apart, kings and queens by the
/// length that guards them) and shape, the whole repeated for no-trump rounds.
fn hand_features(round: &Round, seat: usize) -> [f64; HAND_FEATURES] {
    let hand = round.hand(seat) | round.played_by(seat);
    let trump = round.trump();
    let mut x = [0.0; HAND_FEATURES];
    let offset = if trump.is_none() { HAND_FEATURES / 2 } else { 0 };
    let f = &mut x[offset..offset + HAND_FEATURES / 2];
    f[0] = 1.0;
    for card in hand.iter() {
        let length = hand.of_suit(card.suit()).len();
        let index = if Some(card.suit()) == trump {
            match card.value() {
                14 => 1,
                13 => 2,
                12 => 3,
                11 => 4,
                _ => 5,
            }
        } else {
            match (card.value(), length) {
                (14, _) => 6,
                (13, 1) => 7,
                (13, _) => 8,
                (12, 1 | 2) => 9,
                (12, _) => 10,
                _ => 11,
            }
        };
        f[index] += 1.0;
    }
    x
}

/// The legal bids of the seat to act in `round` (a bidding round), lowest first.
fn legal_bids(round: &Round) -> impl Iterator<Item = u8> {
    round.legal_actions().iter().filter_map(|action| match action {
        Action::Bid(bid) => Some(bid),
        Action::Play(_) => None,
    })
}

/// The legal bid nearest to `estimate` (the lower on a tie).
fn nearest_bid(round: &Round, estimate: f64) -> Option<u8> {
    legal_bids(round).min_by(|&a, &b| (f64::from(a) - estimate).abs().total_cmp(&(f64::from(b) - estimate).abs()))
}

/// Move a running accuracy towards the newest outcome.
fn track(accuracy: &mut f32, hit: bool) {
    *accuracy += ACCURACY_DECAY * (if hit { 1.0 } else { 0.0 } - *accuracy);
}

impl BidModel {
    fn estimate(&self, round: &Round, seat: usize) -> f64 {
        hand_features(round, seat).iter().zip(&self.weights).map(|(x, w)| x * w).sum()
    }

    fn trusted(&self) -> bool {
        self.accuracy >= TRUSTED_ACCURACY
    }

    fn observe(&mut self, round: &Round, bid: u8) {
        let seat = round.to_act();
        let estimate = self.estimate(round, seat);
        track(&mut self.accuracy, nearest_bid(round, estimate) == Some(bid));
        let miss = f64::from(bid) - estimate;
        self.spread += f64::from(ACCURACY_DECAY) * (miss * miss - self.spread);
        let x = hand_features(round, seat);
        for i in 0..HAND_FEATURES {
            self.moments[i] += x[i] * f64::from(bid);
            for j in 0..HAND_FEATURES {
                self.gram[i][j] += x[i] * x[j];
            }
        }
        self.weights = solve(&self.gram, &self.moments);
        self.bids += 1;
    }

    /// The log-likelihood of `bid` by the seat to act in `round` (a bidding round): a normal
    /// law around the estimate, over the legal bids.
    fn log_likelihood(&self, round: &Round, bid: u8) -> f64 {
        let estimate = self.estimate(round, round.to_act());
        let variance = self.spread.max(MIN_BID_SPREAD * MIN_BID_SPREAD);
        let log_density = |b: u8| -(f64::from(b) - estimate).powi(2) / (2.0 * variance);
        let most = legal_bids(round).map(log_density).fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = legal_bids(round).map(|b| (log_density(b) - most).exp()).sum();
        log_density(bid) - most - total.ln()
    }
}

/// The ridge solution of `gram` w = `moments` (Gaussian elimination with partial pivoting).
fn solve(gram: &[[f64; HAND_FEATURES]; HAND_FEATURES], moments: &[f64; HAND_FEATURES]) -> [f64; HAND_FEATURES] {
    let mut a = *gram;
    let mut b = *moments;
    for (i, row) in a.iter_mut().enumerate() {
        row[i] += RIDGE;
    }
    for col in 0..HAND_FEATURES {
        let pivot = (col..HAND_FEATURES).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs())).expect("a column");
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..HAND_FEATURES {
            let factor = a[row][col] / a[col][col];
            for k in col..HAND_FEATURES {
                a[row][k] -= factor * a[col][k];
            }
            b[row] -= factor * b[col];
        }
    }
    let mut w = [0.0; HAND_FEATURES];
    for row in (0..HAND_FEATURES).rev() {
        let rest: f64 = (row + 1..HAND_FEATURES).map(|k| a[row][k] * w[k]).sum();
        w[row] = (b[row] - rest) / a[row][row];
    }
    w
}

/// A card decision as the model sees it: the situation, and each legal card with its features.
struct Decision {
    situation: usize,
    cards: Vec<(Card, [f32; FEATURES])>,
}

impl Decision {
    /// The decision of the seat to act in `round`, which must be playing; `None` when it has a
    /// single legal card (nothing to learn or predict).
    fn of(round: &Round) -> Option<Decision> {
        if round.phase() != Phase::Playing {
            return None;
        }
        let seat = round.to_act();
        let legal = CardSet(round.legal_actions().mask);
        if legal.len() < 2 {
            return None;
        }
        let trump = round.trump();
        let hand = round.hand(seat);
        let strength = |c: Card| u32::from(c.value()) + if Some(c.suit()) == trump { 13 } else { 0 };
        let trick = round.current_trick();
        let best = trick.winning_position(trump).map(|p| trick.cards()[p]);
        let winners: CardSet = legal.iter().filter(|&c| best.is_some_and(|b| beats(c, b, trump))).collect();
        let losers = if best.is_some() { legal - winners } else { CardSet::EMPTY };
        let strongest = |set: CardSet| set.iter().map(strength).max();
        let weakest = |set: CardSet| set.iter().map(strength).min();
        let (high, low) = (strongest(legal), weakest(legal));
        let (cheapest_winner, top_winner) = (weakest(winners), strongest(winners));
        let (top_loser, bottom_loser) = (strongest(losers), weakest(losers));
        // Cards the seat cannot see anywhere: in other hands (or undealt).
        let elsewhere = CardSet::DECK - round.played() - hand;
        let need = match round.tricks_won(seat).cmp(&round.bid(seat).unwrap_or(0)) {
            std::cmp::Ordering::Less => 0,
            std::cmp::Ordering::Equal => 1,
            std::cmp::Ordering::Greater => 2,
        };
        let role = match best {
            None => 0,
            Some(_) if !winners.is_empty() => 1,
            Some(_) => 2,
        };
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        let cards = legal
            .iter()
            .map(|c| {
                let s = Some(strength(c));
                let is_trump = Some(c.suit()) == trump;
                let rank = f32::from(c.value()) / 14.0;
                let suit = hand.of_suit(c.suit());
                let master = !elsewhere.of_suit(c.suit()).iter().any(|o| o.value() > c.value());
                let won = winners.contains(c);
                let features = [
                    flag(is_trump),
                    if is_trump { 0.0 } else { rank },
                    if is_trump { rank } else { 0.0 },
                    flag(s == high),
                    flag(s == low),
                    flag(won),
                    flag(won && s == cheapest_winner),
                    flag(won && s == top_winner),
                    flag(!won && best.is_some() && s == top_loser),
                    flag(!won && best.is_some() && s == bottom_loser),
                    flag(master),
                    flag(c.value() == 14),
                    flag(c.value() == 13),
                    suit.len() as f32 / round.cards() as f32,
                    flag(suit.len() == 1),
                ];
                (c, features)
            })
            .collect();
        Some(Decision { situation: need * 3 + role, cards })
    }

    fn scores(&self, weights: &[f32; FEATURES]) -> Vec<f32> {
        self.cards.iter().map(|(_, f)| f.iter().zip(weights).map(|(x, w)| x * w).sum()).collect()
    }

    /// The highest-scoring card under `weights` (the first in card order on a tie).
    fn best(&self, weights: &[f32; FEATURES]) -> Card {
        self.best_of(&self.scores(weights))
    }

    /// The card of the highest of `scores` (one per card, the first on a tie).
    fn best_of(&self, scores: &[f32]) -> Card {
        let mut best = 0;
        for (i, &score) in scores.iter().enumerate() {
            if score > scores[best] {
                best = i;
            }
        }
        self.cards[best].0
    }
}

impl PlayModel {
    /// Learn from one play: `round` just before it, `card` the card its seat to act played.
    /// Plays of a single legal card, and bids, teach nothing and are skipped.
    pub fn observe(&mut self, round: &Round, card: Card) {
        let Some(decision) = Decision::of(round) else { return };
        let situation = decision.situation;
        let weights = &mut self.weights[situation];
        let scores = decision.scores(weights);
        track(&mut self.accuracy[situation], decision.best_of(&scores) == card);
        // Gradient of the play's log-likelihood under the softmax over the legal cards.
        let top = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exps: Vec<f32> = scores.iter().map(|s| (s - top).exp()).collect();
        let total: f32 = exps.iter().sum();
        for ((c, features), e) in decision.cards.iter().zip(&exps) {
            let target = if *c == card { 1.0 } else { 0.0 };
            let step = LEARNING_RATE * (target - e / total);
            for (w, x) in weights.iter_mut().zip(features) {
                *w += step * x;
            }
        }
        self.plays += 1;
    }

    /// Learn from a finished round's bids and card plays by the seats `learn_from` accepts,
    /// replaying `actions` (the round's every bid and card, in order) from its deal.
    pub fn observe_round(&mut self, end: &Round, actions: &[Action], learn_from: impl Fn(usize) -> bool) {
        let mut round = end.as_dealt();
        for &action in actions {
            if learn_from(round.to_act()) {
                match action {
                    Action::Play(card) => self.observe(&round, card),
                    Action::Bid(bid) => self.bids.observe(&round, bid),
                }
            }
            if round.apply(action).is_err() {
                return;
            }
        }
    }

    /// The action of the seat to act in `round`, where the model has learnt to predict it: a
    /// bid once its bids are trusted, a card in a trusted situation; `None` otherwise and for
    /// forced plays.
    pub fn predict(&self, round: &Round) -> Option<Action> {
        if round.phase() == Phase::Bidding {
            return self.bids.trusted().then(|| nearest_bid(round, self.bids.estimate(round, round.to_act())).map(Action::Bid)).flatten();
        }
        let decision = Decision::of(round)?;
        (self.accuracy[decision.situation] >= TRUSTED_ACCURACY).then(|| Action::Play(decision.best(&self.weights[decision.situation])))
    }

    /// The log-likelihood of `bid` by the seat to act in `round` (bidding, its hand dealt as
    /// the sampled world has it), once the model's bids are trusted; `None` before.
    pub fn bid_log_likelihood(&self, round: &Round, bid: u8) -> Option<f64> {
        self.bids.trusted().then(|| self.bids.log_likelihood(round, bid))
    }

    /// Card plays learnt from so far.
    pub fn plays(&self) -> u64 {
        self.plays
    }

    /// Bids learnt from so far, and whether the model bids for the other seats yet.
    pub fn bids(&self) -> (u64, bool) {
        (self.bids.bids, self.bids.trusted())
    }

    /// The situations (of 9) whose plays the model predicts.
    pub fn trusted_situations(&self) -> usize {
        self.accuracy.iter().filter(|&&a| a >= TRUSTED_ACCURACY).count()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use game::{Bot, HeuristicBot, RandomBot, Suit};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// Deal and play `rounds` 4-player rounds with `bot` in every seat, returning each finished
    /// round with its actions.
    pub(crate) fn rounds_of(bot: &mut dyn Bot, rounds: usize, seed: u64) -> Vec<(Round, Vec<Action>)> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..rounds)
            .map(|r| {
                let cards = rng.gen_range(1..=8);
                let mut round = Round::deal(4, cards, r % 4, Some(Suit::ALL[r % 4]), &mut rng).unwrap();
                let mut actions = Vec::new();
                while !round.is_over() {
                    let action = bot.act(&round.info_set(round.to_act()), &mut rng);
                    actions.push(action);
                    round.apply(action).unwrap();
                }
                (round, actions)
            })
            .collect()
    }

    /// Of `bot`'s card plays with a choice (`bids` false) or its bids (true) in fresh rounds:
    /// the share of those `model` predicts that it predicts right, and the share it predicts.
    fn agreement(model: &PlayModel, bot: &mut dyn Bot, seed: u64, bids: bool) -> (f64, f64) {
        let (mut predicted, mut right, mut choices) = (0, 0, 0);
        for (end, actions) in rounds_of(bot, 300, seed) {
            let mut round = end.as_dealt();
            for action in actions {
                let counted = if bids { matches!(action, Action::Bid(_)) } else { Decision::of(&round).is_some() };
                if counted {
                    choices += 1;
                    if let Some(guess) = model.predict(&round) {
                        predicted += 1;
                        right += usize::from(guess == action);
                    }
                }
                round.apply(action).unwrap();
            }
        }
        (right as f64 / predicted.max(1) as f64, predicted as f64 / choices as f64)
    }

    #[test]
    fn learns_a_rule_players_card_play_and_predicts_it() {
        let mut model = PlayModel::default();
        assert_eq!(model.predict(&rounds_of(&mut HeuristicBot, 1, 1)[0].0), None, "a finished round has no play");
        for (end, actions) in rounds_of(&mut HeuristicBot, 400, 1) {
            model.observe_round(&end, &actions, |_| true);
        }
        assert!(model.plays() > 1_000, "{} plays", model.plays());
        // On other deals: right on nearly every play it predicts, and it predicts most of them.
        let (accuracy, coverage) = agreement(&model, &mut HeuristicBot, 2, false);
        assert!(accuracy > 0.95, "accuracy {accuracy}");
        assert!(coverage > 0.5, "coverage {coverage}");
        assert!(model.trusted_situations() >= 3);
        // Its bids: every one predicted once trusted, nearly all right.
        assert!(model.bids().1, "{model:?}");
        let (accuracy, coverage) = agreement(&model, &mut HeuristicBot, 2, true);
        assert!(accuracy > 0.9 && coverage == 1.0, "bids: accuracy {accuracy}, coverage {coverage}");
    }

    #[test]
    fn predicts_nothing_for_a_player_it_cannot_learn() {
        let mut model = PlayModel::default();
        for (end, actions) in rounds_of(&mut RandomBot, 400, 3) {
            model.observe_round(&end, &actions, |_| true);
        }
        assert!(model.plays() > 1_000);
        assert_eq!(model.trusted_situations(), 0, "{model:?}");
        assert!(!model.bids().1, "{model:?}");
        assert_eq!(agreement(&model, &mut RandomBot, 4, false).1, 0.0);
        assert_eq!(agreement(&model, &mut RandomBot, 4, true).1, 0.0);
    }

    #[test]
    fn learns_only_from_the_seats_it_is_told() {
        let rounds = rounds_of(&mut HeuristicBot, 50, 5);
        let mut none = PlayModel::default();
        let mut one = PlayModel::default();
        for (end, actions) in &rounds {
            none.observe_round(end, actions, |_| false);
            one.observe_round(end, actions, |seat| seat == 2);
        }
        assert_eq!(none, PlayModel::default());
        let mut all = PlayModel::default();
        for (end, actions) in &rounds {
            all.observe_round(end, actions, |_| true);
        }
        assert!(0 < one.plays() && one.plays() < all.plays());
    }
}
