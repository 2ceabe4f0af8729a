#!/usr/bin/env python3
"""Time per move of `blob engine` (BENCHMARKS.md, "Time per move of the agent").

Usage: scripts/time-per-move.py [--observe RECORDS] -- ENGINE_COMMAND...
e.g.   scripts/time-per-move.py -- target/release/blob engine --checkpoint runs/small/checkpoints/iter-000150

With --observe, every round record in RECORDS (JSON lines, e.g. from `blob arena --records`) is
first sent as an `observe` request with the engine in seat 0 (for an engine started with
--learn-opponents), untimed; the timed requests then run with what it learnt.

Sends 256 `act` requests of 4-player rounds of 1-8 cards, one at a time, and times each answer
from the caller's side: 64 opening bids and 64 opening leads (seed 5), and 128 positions at any
point of a round, from the first bid to the last card (seed 11; earlier bids and plays at random,
legal). Prints the mean and the largest time of each kind.
"""
import json
import random
import subprocess
import sys
import time

RANKS = "23456789TJQKA"
DECK = [r + s for s in "shcd" for r in RANKS]
PLAYERS = 4


def random_bids(rng, count, cards):
    """`count` bids at random, the dealer's hook kept (the bids may not sum to `cards`)."""
    bids = []
    for k in range(count):
        bid = rng.randint(0, min(cards, 2))
        if k == PLAYERS - 1 and sum(bids) + bid == cards:
            bid = bid + 1 if bid + 1 <= cards else bid - 1
        bids.append(bid)
    return bids


def random_deal(rng):
    """A round's size, dealer, trump and hands, drawn in that order."""
    n = rng.randint(1, 8)
    dealer = rng.randrange(PLAYERS)
    trump = rng.choice(["s", "h", "c", "d", "none"])
    cards = rng.sample(DECK, PLAYERS * n)
    return n, dealer, trump, [cards[k * n:(k + 1) * n] for k in range(PLAYERS)]


def act_request(request_id, deal, seat, bids=(), plays=()):
    """`seat`'s `act` request: its own hand shown, the others hidden."""
    n, dealer, trump, hands = deal
    state = {"players": PLAYERS, "cards": n, "dealer": dealer, "trump": trump,
             "hands": [h if s == seat else None for s, h in enumerate(hands)]}
    if bids:
        state["bids"] = list(bids)
    if plays:
        state["plays"] = list(plays)
    return {"id": request_id, "request": "act", "state": state, "seat": seat}


def openings():
    rng = random.Random(5)
    out = []
    for kind in ("bid", "lead"):
        for i in range(64):
            deal = random_deal(rng)
            n, dealer = deal[0], deal[1]
            bids = random_bids(rng, PLAYERS, n) if kind == "lead" else ()
            out.append(act_request(f"{kind}{i}", deal, (dealer + 1) % PLAYERS, bids))
    return out


def trick_winner(trick, trump):
    best = trick[0]
    for card, seat in trick[1:]:
        if card[1] == best[0][1] and RANKS.index(card[0]) > RANKS.index(best[0][0]):
            best = (card, seat)
        elif card[1] == trump and best[0][1] != trump:
            best = (card, seat)
    return best[1]


def mid_round():
    rng = random.Random(11)
    out = []
    for i in range(128):
        deal = random_deal(rng)
        n, dealer, trump, hands = deal
        stage = rng.randrange(PLAYERS + PLAYERS * n)
        bids = random_bids(rng, min(stage, PLAYERS), n)
        plays, left, leader, trick = [], [list(h) for h in hands], (dealer + 1) % PLAYERS, []
        for _ in range(max(0, stage - PLAYERS)):
            seat = (leader + len(trick)) % PLAYERS
            led = trick[0][0][1] if trick else None
            follow = [c for c in left[seat] if led and c[1] == led]
            card = rng.choice(follow or left[seat])
            left[seat].remove(card)
            plays.append(card)
            trick.append((card, seat))
            if len(trick) == PLAYERS:
                leader, trick = trick_winner(trick, trump), []
        seat = (dealer + 1 + stage) % PLAYERS if stage < PLAYERS else (leader + len(trick)) % PLAYERS
        out.append(act_request(f"mid{i}", deal, seat, bids, plays))
    return out


def main():
    args = sys.argv[1:]
    observe = None
    if args[:1] == ["--observe"] and len(args) > 2:
        observe, args = args[1], args[2:]
    if args[:1] != ["--"] or len(args) < 2:
        sys.exit(__doc__)
    command = args[1:]
    requests = openings() + mid_round()
    engine = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    engine.stdin.write('{"request":"ping"}\n')
    engine.stdin.flush()
    engine.stdout.readline()
    if observe:
        learnt = None
        with open(observe) as records:
            for line in records:
                engine.stdin.write(json.dumps({"request": "observe", "record": json.loads(line), "seat": 0}) + "\n")
                engine.stdin.flush()
                answer = json.loads(engine.stdout.readline())
                if "observed" not in answer:
                    sys.exit(f"observe refused: {answer}")
                learnt = answer["observed"]
        print(f"observed: {learnt}")
    times = {}
    for request in requests:
        start = time.perf_counter()
        engine.stdin.write(json.dumps(request) + "\n")
        engine.stdin.flush()
        answer = json.loads(engine.stdout.readline())
        elapsed = (time.perf_counter() - start) * 1000
        if "action" not in answer:
            sys.exit(f"no action for {request['id']}: {answer}")
        times.setdefault(request["id"].rstrip("0123456789"), []).append(elapsed)
    engine.stdin.write('{"request":"quit"}\n')
    engine.stdin.flush()
    engine.wait()
    for kind, values in times.items():
        print(f"{kind}: {len(values)} requests, mean {sum(values) / len(values):.0f} ms, max {max(values):.0f} ms")


if __name__ == "__main__":
    main()
