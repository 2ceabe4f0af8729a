//! Seeds for every random stream of a run, derived from the config's one seed, so that a
//! resumed run draws exactly what an uninterrupted one would.

/// SplitMix64 over the base seed and a path of stream identifiers.
pub fn derive_seed(base: u64, path: &[u64]) -> u64 {
    let mut state = base;
    for &part in path {
        state = mix(state ^ mix(part.wrapping_add(0x9e37_79b9_7f4a_7c15)));
    }
    mix(state)
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a of a name's bytes: a stable seed path element for names (an actor's), the same on
/// every machine and build.
pub fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// A number that tells this process's names from any other's (a run's, an actor's): the clock
/// and the process id. It identifies and draws nothing a run uses, so it may come from the clock.
pub fn process_nonce() -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    derive_seed(nanos, &[u64::from(std::process::id())])
}
