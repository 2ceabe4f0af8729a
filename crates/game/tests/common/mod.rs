//! Helpers shared by the bot tests.

use game::{Bot, Round};
use rand_chacha::ChaCha8Rng;

/// Plays one round with `bots[seat]` at each seat, returning the scores.
pub fn play(round: Round, bots: &mut [Box<dyn Bot>], rng: &mut ChaCha8Rng) -> Vec<i32> {
    let mut round = round;
    while !round.is_over() {
        let seat = round.to_act();
        let action = bots[seat].act(&round.info_set(seat), rng);
        round.apply(action).unwrap_or_else(|e| panic!("{} played illegally: {e}", bots[seat].name()));
    }
    round.scores()[..round.players()].to_vec()
}
