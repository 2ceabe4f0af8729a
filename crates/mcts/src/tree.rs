//! One determinized world's search tree: an arena of nodes addressed by `u32`, PUCT selection
//! with virtual loss, expansion from an evaluation, and per-player backup.
//!
//! A node stands for the position after the action on its incoming edge AND every forced move
//! after it (positions with a single legal action get no node of their own: nothing to choose
//! there, and skipping them saves evaluations). Nodes do not store positions: a walk from the
//! root replays the actions on a copy of the world's `Round`, which is `Copy` and cheap.

use game::{Action, Actions, Round, ACTIONS, MAX_PLAYERS};

use crate::config::{OpponentModel, SearchConfig, SearchKind};

pub(crate) const ROOT: u32 = 0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NodeState {
    /// Never reached by a selection: no children, no visits.
    Unexpanded,
    /// Selected as a leaf; its evaluation is in flight.
    Pending,
    /// Evaluated, with one child per legal action.
    Expanded,
    /// The round is over here; its value is the exact score.
    Terminal,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Node {
    parent: u32,
    first_child: u32,
    /// Completed simulations through this node.
    visits: u32,
    /// Simulations through this node that are waiting for an evaluation (virtual loss).
    in_flight: u32,
    prior: f32,
    /// Sum of the values of the seat that chose the incoming action (the parent's actor).
    value_sum: f32,
    /// Sum of the values of the seat to act here: the base of first-play urgency for the
    /// children, on the choosing player's own scale.
    actor_sum: f32,
    action: Action,
    child_count: u8,
    actor: u8,
    state: NodeState,
}

impl Node {
    fn new(parent: u32, action: Action, prior: f32) -> Node {
        Node {
            parent,
            first_child: 0,
            visits: 0,
            in_flight: 0,
            prior,
            value_sum: 0.0,
            actor_sum: 0.0,
            action,
            child_count: 0,
            actor: 0,
            state: NodeState::Unexpanded,
        }
    }

    fn children(&self) -> std::ops::Range<usize> {
        self.first_child as usize..self.first_child as usize + self.child_count as usize
    }
}

/// Where one selection ended.
pub(crate) enum Descent {
    /// A new leaf, now pending; the round is the position to evaluate.
    Leaf { node: u32, round: Round },
    /// The round ended here; already backed up with its exact scores.
    Terminal,
    /// The walk reached a leaf that is already pending. Its virtual loss stays on the path
    /// (steering the wave's next selections elsewhere) until `remove_virtual_loss`.
    Collision { node: u32 },
}

/// Play every forced move (a single legal action) from `round`.
pub(crate) fn play_forced(round: &mut Round) {
    while !round.is_over() {
        let legal = round.legal_actions();
        if legal.len() != 1 {
            return;
        }
        // `legal.iter()` yields the single legal action.
        for action in legal.iter() {
            round.apply_legal(action);
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
    /// Sum over the root's visits of every seat's value: the root value estimates.
    root_values: [f32; MAX_PLAYERS],
}

impl Tree {
    /// A tree whose root is awaiting its evaluation.
    pub(crate) fn new(root_actor: usize, capacity: usize) -> Tree {
        let mut tree = Tree { nodes: Vec::new(), root_values: [0.0; MAX_PLAYERS] };
        tree.reset(root_actor, capacity);
        tree
    }

    /// Make this the tree [`Tree::new`] builds, keeping the node arena's allocation.
    pub(crate) fn reset(&mut self, root_actor: usize, capacity: usize) {
        // The root's incoming action is never read.
        let mut root = Node::new(ROOT, Action::Bid(0), 1.0);
        // Pending with its own in-flight visit, like any leaf awaiting evaluation.
        root.state = NodeState::Pending;
        root.in_flight = 1;
        root.actor = root_actor as u8;
        self.nodes.clear();
        self.nodes.reserve(capacity);
        self.nodes.push(root);
        self.root_values = [0.0; MAX_PLAYERS];
    }

    /// Give `node` one child per legal action, priors from `policy` restricted to `legal`.
    /// Returns false when the policy had to be replaced by a uniform one (no finite positive
    /// mass on the legal actions).
    pub(crate) fn expand(&mut self, node: u32, legal: Actions, policy: &[f32; ACTIONS]) -> bool {
        let first = self.nodes.len() as u32;
        let clean = |p: f32| if p.is_finite() && p > 0.0 { p } else { 0.0 };
        let mass: f32 = legal.iter().map(|a| clean(policy[a.index()])).sum();
        let valid = mass > 0.0 && mass.is_finite();
        let uniform = 1.0 / legal.len() as f32;
        for action in legal.iter() {
            let prior = if valid { clean(policy[action.index()]) / mass } else { uniform };
            self.nodes.push(Node::new(node, action, prior));
        }
        let n = &mut self.nodes[node as usize];
        n.first_child = first;
        n.child_count = legal.len() as u8;
        n.state = NodeState::Expanded;
        valid
    }

    /// Mix Dirichlet noise into the root priors: prior = (1 - eps) prior + eps noise.
    pub(crate) fn add_root_noise(&mut self, epsilon: f32, noise: &[f32]) {
        let children = self.nodes[ROOT as usize].children();
        for (child, eta) in self.nodes[children].iter_mut().zip(noise) {
            child.prior = (1.0 - epsilon) * child.prior + epsilon * eta;
        }
    }

    pub(crate) fn root_child_count(&self) -> usize {
        self.nodes[ROOT as usize].child_count as usize
    }

    /// The PUCT choice among the children of an expanded node. Virtual visits count as
    /// visits with value `virtual_loss` for the player choosing here.
    fn best_child(&self, node: u32, config: &SearchConfig) -> u32 {
        let parent = &self.nodes[node as usize];
        if config.kind == SearchKind::OnePly && node == ROOT {
            // Each root action once, in order: the caller stops after the last.
            return parent.children().find(|&i| self.nodes[i].visits + self.nodes[i].in_flight == 0).unwrap_or(parent.first_child as usize) as u32;
        }
        let vl = config.virtual_visits as f32;
        // An opponent following its policy: visits in proportion to the priors (the child
        // furthest below its share), whatever the values.
        let follows_prior =
            config.opponent_model == OpponentModel::Policy && parent.actor != self.nodes[ROOT as usize].actor;
        let parent_visits = parent.visits as f32 + parent.in_flight as f32 * vl;
        let explore = config.c_puct * parent_visits.sqrt();
        // The parent has been evaluated (visits >= 1) before it has children.
        let fpu = parent.actor_sum / parent.visits.max(1) as f32 - config.fpu_reduction;
        let mut best = parent.first_child;
        let mut best_score = f32::NEG_INFINITY;
        for index in parent.children() {
            let child = &self.nodes[index];
            let virtual_visits = child.in_flight as f32 * vl;
            let visits = child.visits as f32 + virtual_visits;
            let q = if visits > 0.0 {
                (child.value_sum + virtual_visits * config.virtual_loss) / visits
            } else {
                fpu
            };
            let share = child.prior / (1.0 + visits);
            let score = if follows_prior { share } else { q + explore * share };
            if score > best_score {
                best_score = score;
                best = index as u32;
            }
        }
        best
    }

    /// Walk from the root (replaying actions on a copy of `world`) to a leaf, marking the
    /// path with virtual loss. Terminal leaves are backed up at once.
    pub(crate) fn descend(&mut self, world: &Round, config: &SearchConfig) -> Descent {
        let mut round = *world;
        let mut node = ROOT;
        loop {
            let current = &mut self.nodes[node as usize];
            match current.state {
                NodeState::Expanded => {
                    // The choice is made before this walk's own virtual visit is added, so
                    // that a single walk (K = 1) is plain PUCT.
                    let child = self.best_child(node, config);
                    self.nodes[node as usize].in_flight += 1;
                    round.apply_legal(self.nodes[child as usize].action);
                    play_forced(&mut round);
                    node = child;
                }
                NodeState::Pending => {
                    current.in_flight += 1;
                    return Descent::Collision { node };
                }
                NodeState::Unexpanded if !round.is_over() => {
                    current.in_flight += 1;
                    current.state = NodeState::Pending;
                    current.actor = round.to_act() as u8;
                    return Descent::Leaf { node, round };
                }
                NodeState::Unexpanded | NodeState::Terminal => {
                    current.in_flight += 1;
                    current.state = NodeState::Terminal;
                    self.backup(node, &round.scaled_scores());
                    return Descent::Terminal;
                }
            }
        }
    }

    /// Add one visit with `values` (per absolute seat) from `leaf` up to the root, removing the
    /// virtual loss the selection put there. Each node accumulates the value of the seat that
    /// chose the action leading to it.
    pub(crate) fn backup(&mut self, leaf: u32, values: &[f32; MAX_PLAYERS]) {
        let mut node = leaf;
        loop {
            let current = &mut self.nodes[node as usize];
            current.visits += 1;
            current.in_flight -= 1;
            if current.state != NodeState::Terminal {
                current.actor_sum += values[current.actor as usize];
            }
            if node == ROOT {
                break;
            }
            let parent = current.parent;
            let chooser = self.nodes[parent as usize].actor as usize;
            self.nodes[node as usize].value_sum += values[chooser];
            node = parent;
        }
        for (sum, value) in self.root_values.iter_mut().zip(values) {
            *sum += value;
        }
    }

    /// Undo the virtual loss of a selection that ended in a collision at `leaf`.
    pub(crate) fn remove_virtual_loss(&mut self, leaf: u32) {
        let mut node = leaf;
        loop {
            let current = &mut self.nodes[node as usize];
            current.in_flight -= 1;
            if node == ROOT {
                break;
            }
            node = current.parent;
        }
    }

    /// (action index, visits) of the root's children.
    pub(crate) fn root_visits(&self) -> impl Iterator<Item = (usize, u32)> + '_ {
        self.nodes[self.nodes[ROOT as usize].children()].iter().map(|c| (c.action.index(), c.visits))
    }

    /// The root's visited children: action index and mean value for the root's actor.
    pub(crate) fn root_means(&self) -> impl Iterator<Item = (usize, f32)> + '_ {
        self.nodes[self.nodes[ROOT as usize].children()]
            .iter()
            .filter(|c| c.visits > 0)
            .map(|c| (c.action.index(), c.value_sum / c.visits as f32))
    }

    /// Mean value per seat over the root's visits.
    pub(crate) fn root_values(&self) -> [f32; MAX_PLAYERS] {
        let visits = self.nodes[ROOT as usize].visits.max(1) as f32;
        self.root_values.map(|v| v / visits)
    }

    /// The child of `node` reached by `action` and its visits.
    #[cfg(test)]
    pub(crate) fn child(&self, node: u32, action: Action) -> Option<(u32, u32)> {
        let children = self.nodes[node as usize].children();
        children.map(|i| (i as u32, &self.nodes[i])).find(|(_, c)| c.action == action).map(|(i, c)| (i, c.visits))
    }

    /// Check the arena's invariants between waves (no selection in flight): no virtual loss
    /// left, every evaluated node has one visit of its own plus its children's, children point
    /// back at their parent, nothing is pending.
    pub(crate) fn check(&self) -> Result<(), String> {
        for (index, node) in self.nodes.iter().enumerate() {
            if node.in_flight != 0 {
                return Err(format!("node {index} keeps {} virtual visits", node.in_flight));
            }
            match node.state {
                NodeState::Pending => return Err(format!("node {index} is still pending")),
                NodeState::Unexpanded if node.visits != 0 => {
                    return Err(format!("unexpanded node {index} has {} visits", node.visits))
                }
                NodeState::Expanded => {
                    let children = &self.nodes[node.children()];
                    let sum: u32 = children.iter().map(|c| c.visits).sum();
                    if node.visits != sum + 1 {
                        return Err(format!("node {index}: {} visits, children {sum} + 1", node.visits));
                    }
                    if children.iter().any(|c| c.parent != index as u32) {
                        return Err(format!("a child of node {index} points elsewhere"));
                    }
                    let prior: f32 = children.iter().map(|c| c.prior).sum();
                    if (prior - 1.0).abs() > 1e-4 {
                        return Err(format!("node {index}: priors sum to {prior}"));
                    }
                }
                NodeState::Unexpanded | NodeState::Terminal => {}
            }
        }
        Ok(())
    }
}
