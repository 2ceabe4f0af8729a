//! What one player knows of a round (RULES.md, "What a player knows").

use crate::card::CardSet;
use crate::round::{Actions, Phase, Round};

/// A player's information set: the round as that player sees it. The other seats' hands are
/// blanked out at construction, so nothing built on an `InfoSet` can read hidden cards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct InfoSet {
    view: Round,
    observer: u8,
}

impl InfoSet {
    pub fn new(round: &Round, observer: usize) -> InfoSet {
        assert!(observer < round.players(), "observer seat {observer} not at the table");
        let mut view = *round;
        for seat in (0..round.players()).filter(|&s| s != observer) {
            view.set_hand(seat, CardSet::EMPTY);
        }
        InfoSet { view, observer: observer as u8 }
    }

    pub fn observer(&self) -> usize {
        self.observer as usize
    }

    /// The public round plus the observer's own hand; other hands are empty.
    pub fn view(&self) -> &Round {
        &self.view
    }

    pub fn hand(&self) -> CardSet {
        self.view.hand(self.observer())
    }

    /// The observer's legal actions; none when it is not the one to act (its view cannot know
    /// another player's legal cards) or the round is over.
    pub fn legal_actions(&self) -> Actions {
        if self.view.is_over() || self.view.to_act() != self.observer() {
            return Actions { mask: 0, phase: Phase::Done };
        }
        self.view.legal_actions()
    }

    /// Cards the observer cannot see: in other hands or undealt.
    pub fn unseen(&self) -> CardSet {
        !(self.hand() | self.view.played())
    }
}

impl Round {
    /// The information set of `seat`.
    pub fn info_set(&self, seat: usize) -> InfoSet {
        InfoSet::new(self, seat)
    }
}
