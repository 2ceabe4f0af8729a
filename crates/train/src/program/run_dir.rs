//! The run directory: one training run's files, and the only code that writes them.
//!
//! - `config.ron`: the config the run started with.
//! - `checkpoints/iter-NNNNNN/`: `state.json`, `net.bin`, `optimizer.bin`, `buffer.bin`, filled
//!   under a temporary name and renamed into place; `checkpoints/latest` names the newest
//!   complete one and is replaced atomically after it (it says `none` from the run's start to
//!   its first checkpoint, so that a checkpoint directory `latest` never named is known to be
//!   this run's own, cut off by a crash, while a missing `latest` is an error). `state.json` records the checksums of the
//!   other three and is checksummed itself, so a damaged, edited or foreign file is refused
//!   before the run writes anything.
//! - `nets/iter-NNNNNN.bin`: network snapshots kept for evaluation against earlier iterations.
//! - `metrics.jsonl`: one line per finished iteration, only ever appended to. The checkpoint
//!   holds the same lines, so whatever a crash cut off after `latest` was updated (a line, the
//!   chart, pruning) is redone at the next start ([`RunDir::settle`]).
//! - `chart.png`: drawn from the metrics.
//! - `.lock`: held while a trainer uses the directory, so the temporary files found at start
//!   are those of dead writers and are removed.
//! - `previous-K/`: an earlier run's files, moved aside (never overwritten) by `--fresh`, or by
//!   `--resume` from a checkpoint older than the run's latest.

use std::collections::BTreeMap;
use std::fs::{self, File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use blobnet::files::{self, checksum, is_temp_name, write_atomically};
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tracing::{info, warn};

use crate::program::buffer::ReplayBuffer;
use crate::program::chart;
use crate::program::config::{Mode, TrainConfig};
use crate::program::learner::Learner;
use crate::program::metrics::{chart_panels, Metrics};

const STATE: &str = "state.json";
const NET: &str = "net.bin";
const OPTIMIZER: &str = "optimizer.bin";
const BUFFER: &str = "buffer.bin";
const LATEST: &str = "latest";
/// What `latest` says before the first checkpoint.
const NO_CHECKPOINT: &str = "none";
const METRICS: &str = "metrics.jsonl";
/// `state.json` format 2: sealed with a checksum, with the checksums of the checkpoint's files.
const STATE_FORMAT: u32 = 2;

/// What a checkpoint records besides the tensors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Names the run this checkpoint belongs to (drawn when it started).
    pub run: String,
    /// Iterations completed.
    pub iteration: usize,
    pub optimizer_steps: usize,
    pub config: TrainConfig,
    /// Rho, the mean scaled score per seat per round of the last self-play: mode Games
    /// converts the network's game values to round values with it in the next self-play.
    pub expected_round_score: f64,
    /// Every iteration's metrics line so far (what `metrics.jsonl` is repaired from).
    pub metrics: Vec<Metrics>,
    /// Distributed learner: every chunk of the stream below this sequence is in the
    /// checkpoint (0: one process; left out of its files).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub stream_floor: u64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// `state.json` on disk.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    format: u32,
    /// CRC-32 of `sealed` serialised compactly, its fields in the order of the file.
    crc32: u32,
    sealed: Sealed,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sealed {
    state: State,
    /// Size and CRC-32 of each other file of the checkpoint.
    files: BTreeMap<String, FileSum>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSum {
    bytes: u64,
    crc32: u32,
}

#[derive(Debug, Error)]
pub enum StateError {
    #[error("cannot read {}: {source}", .path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{} is corrupt: {reason}", .path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("{} was written by an older version of the trainer (no checksums): its net.bin still plays, but the run cannot be resumed; start it again with --fresh", .path.display())]
    OldFormat { path: PathBuf },
}

/// Read and verify a checkpoint's `state.json` (its own checksum; not yet the other files).
pub fn read_state(checkpoint: &Path) -> Result<State, StateError> {
    Ok(read_sealed(checkpoint)?.state)
}

/// How a checkpoint's network was trained to value positions: its self-play mode and the rho
/// it last measured. Reads this format's `state.json` and the format before checksums (whose
/// networks still play, though the run cannot resume).
pub fn read_value_training(checkpoint: &Path) -> Result<(Mode, f64), StateError> {
    match read_sealed(checkpoint) {
        Ok(sealed) => Ok((sealed.state.config.selfplay.mode, sealed.state.expected_round_score)),
        Err(StateError::OldFormat { path }) => {
            #[derive(Deserialize)]
            struct Old {
                config: OldConfig,
                expected_round_score: f64,
            }
            #[derive(Deserialize)]
            struct OldConfig {
                selfplay: OldSelfPlay,
            }
            #[derive(Deserialize)]
            struct OldSelfPlay {
                mode: Mode,
            }
            let text = fs::read_to_string(&path).map_err(|source| StateError::Io { path: path.clone(), source })?;
            let old: Old = serde_json::from_str(&text).map_err(|e| StateError::Corrupt { path, reason: e.to_string() })?;
            Ok((old.config.selfplay.mode, old.expected_round_score))
        }
        Err(e) => Err(e),
    }
}

fn read_sealed(checkpoint: &Path) -> Result<Sealed, StateError> {
    let path = checkpoint.join(STATE);
    let corrupt = |reason: String| StateError::Corrupt { path: path.clone(), reason };
    let text = fs::read_to_string(&path).map_err(|source| StateError::Io { path: path.clone(), source })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
    if value.get("format").is_none() {
        return Err(StateError::OldFormat { path });
    }
    // The seal is checked on the parsed text itself (fields in file order), not on the state
    // read back: a field this build defaults must not make an older file look damaged.
    let sealed_crc = value.get("sealed").map(seal);
    let file: StateFile = serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?;
    if file.format != STATE_FORMAT {
        return Err(corrupt(format!("format {}, this build reads format {STATE_FORMAT}", file.format)));
    }
    if sealed_crc != Some(file.crc32) {
        return Err(corrupt("checksum mismatch: the file was edited or damaged".into()));
    }
    if let Some(named) = iteration_of(checkpoint) {
        if named != file.sealed.state.iteration {
            return Err(corrupt(format!("it records iteration {}, its directory is iteration {named}", file.sealed.state.iteration)));
        }
    }
    Ok(file.sealed)
}

/// The checksum of a sealed part: CRC-32 of its compact JSON.
fn seal(sealed: &serde_json::Value) -> u32 {
    checksum(&[&serde_json::to_vec(sealed).expect("values serialise")])
}

fn file_sum(path: &Path) -> io::Result<FileSum> {
    let bytes = fs::read(path)?;
    Ok(FileSum { bytes: bytes.len() as u64, crc32: checksum(&[&bytes]) })
}

fn checkpoint_name(iteration: usize) -> String {
    format!("iter-{iteration:06}")
}

/// The iteration of a directory or file named `iter-NNNNNN[.bin]`.
fn iteration_of(path: &Path) -> Option<usize> {
    let name = path.file_name()?.to_str()?;
    let digits = name.strip_prefix("iter-")?;
    let digits = digits.strip_suffix(".bin").unwrap_or(digits);
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.parse().ok())?
}

/// Load a checkpoint for resuming `config`, checking before anything is written that its state,
/// network, optimizer and buffer are intact and belong together.
pub fn load_checkpoint<B: AutodiffBackend>(
    dir: &Path,
    config: &TrainConfig,
    device: B::Device,
) -> anyhow::Result<(Learner<B>, ReplayBuffer, State)> {
    let sealed = read_sealed(dir)?;
    for name in [NET, OPTIMIZER, BUFFER] {
        let path = dir.join(name);
        let found = file_sum(&path).with_context(|| format!("reading {}", path.display()))?;
        if sealed.files.get(name) != Some(&found) {
            bail!(
                "{} does not match the checkpoint's {STATE} ({} bytes, checksum {:08x}; {STATE} records {}): it is damaged or from another checkpoint",
                path.display(),
                found.bytes,
                found.crc32,
                sealed.files.get(name).map_or("nothing".into(), |s| format!("{} bytes, checksum {:08x}", s.bytes, s.crc32))
            );
        }
    }
    let state = sealed.state;
    if state.config.net != config.net {
        bail!(
            "checkpoint {} has network {:?}, the config asks for {:?}: use --fresh or another --run-dir",
            dir.display(),
            state.config.net,
            config.net
        );
    }
    let learner = Learner::<B>::load(&config.net, &config.training, device, &dir.join(NET), &dir.join(OPTIMIZER), state.optimizer_steps)?;
    let buffer = ReplayBuffer::load(&dir.join(BUFFER))?;
    Ok((learner, buffer, state))
}

/// A run directory, locked for this process.
pub struct RunDir {
    root: PathBuf,
    _lock: File,
}

impl RunDir {
    /// Create (if needed) and lock `root`, and remove the temporary files of writers that died.
    pub fn open(root: &Path) -> anyhow::Result<RunDir> {
        fs::create_dir_all(root).with_context(|| format!("creating run directory {}", root.display()))?;
        let lock_path = root.join(".lock");
        let lock = File::create(&lock_path).with_context(|| format!("creating {}", lock_path.display()))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => bail!("another trainer is using {} (it holds {})", root.display(), lock_path.display()),
            Err(TryLockError::Error(e)) => return Err(e).with_context(|| format!("locking {}", lock_path.display())),
        }
        let run = RunDir { root: root.to_path_buf(), _lock: lock };
        let removed = run.remove_temporaries()?;
        if removed > 0 {
            info!("removed {removed} temporary file(s) left in {} by an interrupted write", root.display());
        }
        Ok(run)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn checkpoints(&self) -> PathBuf {
        self.root.join("checkpoints")
    }

    fn nets(&self) -> PathBuf {
        self.root.join("nets")
    }

    /// The network snapshot of `iteration`.
    pub fn snapshot(&self, iteration: usize) -> PathBuf {
        self.nets().join(format!("{}.bin", checkpoint_name(iteration)))
    }

    fn remove_temporaries(&self) -> anyhow::Result<usize> {
        let mut removed = 0;
        for dir in [self.root.clone(), self.checkpoints(), self.nets()] {
            for entry in read_dir_if_any(&dir)? {
                let name = entry.file_name().to_string_lossy().to_string();
                if is_temp_name(&name) {
                    let path = entry.path();
                    let result = if path.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
                    result.with_context(|| format!("removing the temporary {}", path.display()))?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// The checkpoint `checkpoints/latest` names, or none when the directory holds no
    /// checkpoint. Checkpoints without a valid `latest` are an error saying how to go on.
    pub fn latest(&self) -> anyhow::Result<Option<PathBuf>> {
        let path = self.checkpoints().join(LATEST);
        let newest = self.checkpoint_iterations()?.last().copied();
        let hint = |problem: String| match newest {
            Some(n) => anyhow::anyhow!(
                "{problem}: the newest checkpoint is {}: resume from it with --resume {}, or start over with --fresh (which moves this run's files aside)",
                checkpoint_name(n),
                self.checkpoints().join(checkpoint_name(n)).display()
            ),
            None => anyhow::anyhow!("{problem}, and there is no checkpoint to resume from: start over with --fresh"),
        };
        let name = match fs::read_to_string(&path) {
            Ok(name) => name,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return match newest {
                    None => Ok(None),
                    Some(_) => Err(hint(format!("{} is missing", path.display()))),
                };
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        if name == NO_CHECKPOINT {
            return Ok(None);
        }
        let shown: String = name.chars().take(40).collect::<String>().escape_debug().to_string();
        let checkpoint = self.checkpoints().join(name.trim());
        if iteration_of(Path::new(name.trim())).is_none() || name.trim().contains(['/', '\\']) {
            return Err(hint(format!("{} holds \"{shown}\", not a checkpoint name (iter-NNNNNN)", path.display())));
        }
        if !checkpoint.join(STATE).is_file() {
            return Err(hint(format!("{} names {}, which is not a complete checkpoint", path.display(), checkpoint.display())));
        }
        Ok(Some(checkpoint))
    }

    /// Iterations of the complete-looking checkpoint directories, ascending.
    fn checkpoint_iterations(&self) -> anyhow::Result<Vec<usize>> {
        let mut found: Vec<usize> = read_dir_if_any(&self.checkpoints())?
            .iter()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| iteration_of(&e.path()))
            .collect();
        found.sort_unstable();
        Ok(found)
    }

    /// Whether the directory holds anything of a run other than one just started with
    /// `config_text` (a checkpoint, a metrics line, or another config).
    pub fn holds_a_run(&self, config_text: &str) -> anyhow::Result<bool> {
        let metrics = fs::metadata(self.root.join(METRICS)).map(|m| m.len() > 0).unwrap_or(false);
        let config = fs::read_to_string(self.root.join("config.ron")).map(|c| c != config_text).unwrap_or(false);
        // Checkpoints `latest` never named are this run's own, cut off by a crash.
        let uncommitted = fs::read_to_string(self.checkpoints().join(LATEST)).is_ok_and(|l| l == NO_CHECKPOINT);
        Ok(metrics || config || !uncommitted && !self.checkpoint_iterations()?.is_empty())
    }

    /// Move the files of the run here (all of them, or those after `keep` iterations) into a new
    /// `previous-K`, so that nothing it wrote is overwritten; returns where they went.
    pub fn set_aside(&self, keep: Option<usize>) -> anyhow::Result<PathBuf> {
        let aside = (1..).map(|k| self.root.join(format!("previous-{k}"))).find(|p| !p.exists()).expect("a free name");
        fs::create_dir_all(aside.join("checkpoints")).with_context(|| format!("creating {}", aside.display()))?;
        fs::create_dir_all(aside.join("nets"))?;
        let after = |path: &Path| keep.is_none_or(|k| iteration_of(path).is_some_and(|i| i > k));
        let mut moves = Vec::new();
        for name in ["config.ron", METRICS, "chart.png"] {
            if keep.is_none() || name != "config.ron" {
                moves.push((self.root.join(name), aside.join(name)));
            }
        }
        for (dir, to) in [(self.checkpoints(), aside.join("checkpoints")), (self.nets(), aside.join("nets"))] {
            for entry in read_dir_if_any(&dir)? {
                let path = entry.path();
                if entry.file_name() == LATEST || iteration_of(&path).is_some() && after(&path) {
                    moves.push((path, to.join(entry.file_name())));
                }
            }
        }
        for (from, to) in moves {
            if from.exists() {
                fs::rename(&from, &to).with_context(|| format!("moving {} to {}", from.display(), to.display()))?;
            }
        }
        files::sync_dir(&self.root).with_context(|| format!("syncing {}", self.root.display()))?;
        Ok(aside)
    }

    /// Whether this directory has anything after iteration `n` (checkpoints or metrics lines).
    pub fn has_history_after(&self, n: usize) -> anyhow::Result<bool> {
        let lines = match fs::read_to_string(self.root.join(METRICS)) {
            Ok(text) => text.lines().count(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
            Err(e) => return Err(e).with_context(|| format!("reading {}", self.root.join(METRICS).display())),
        };
        Ok(lines > n || self.checkpoint_iterations()?.iter().any(|&i| i > n))
    }

    /// Point `latest` at `checkpoint` if it is one of this run's (after [`RunDir::set_aside`]).
    pub fn point_latest_at(&self, checkpoint: &Path) -> anyhow::Result<()> {
        if let (Some(n), Ok(dir)) = (iteration_of(checkpoint), checkpoint.canonicalize()) {
            if self.checkpoints().join(checkpoint_name(n)).canonicalize().is_ok_and(|own| own == dir) {
                write_atomically(&self.checkpoints().join(LATEST), |w| w.write_all(checkpoint_name(n).as_bytes()))?;
            }
        }
        Ok(())
    }

    /// Write the config a run goes on with.
    pub fn write_config(&self, text: &str) -> anyhow::Result<()> {
        Ok(write_atomically(&self.root.join("config.ron"), |w| w.write_all(text.as_bytes()))?)
    }

    /// Start a fresh run here: its config, and `latest` saying there is no checkpoint yet.
    pub fn begin(&self, config_text: &str) -> anyhow::Result<()> {
        self.write_config(config_text)?;
        Ok(write_atomically(&self.checkpoints().join(LATEST), |w| w.write_all(NO_CHECKPOINT.as_bytes()))?)
    }

    /// Check that the snapshots the rest of the run will evaluate against are here and of the
    /// run's architecture.
    pub fn check_snapshots(&self, state: &State, config: &TrainConfig) -> anyhow::Result<()> {
        let e = &config.evaluation;
        if e.every == 0 || e.against_iterations_ago == 0 {
            return Ok(());
        }
        let wanted = blobnet::Architecture::current(&config.net);
        for later in (state.iteration + 1..=config.iterations).filter(|i| i.is_multiple_of(e.every) && *i > e.against_iterations_ago) {
            let earlier = later - e.against_iterations_ago;
            if earlier > state.iteration {
                continue;
            }
            let path = self.snapshot(earlier);
            let found = blobnet::read_net_architecture(&path).with_context(|| {
                format!("iteration {later} evaluates against the snapshot of iteration {earlier}, which cannot be read")
            })?;
            if found != wanted {
                bail!("{}: architecture {found}, the run's is {wanted}", path.display());
            }
        }
        Ok(())
    }

    /// Save the checkpoint of `state.iteration` and point `latest` at it.
    pub fn save_checkpoint<B: AutodiffBackend>(&self, learner: &Learner<B>, buffer: &ReplayBuffer, state: &State) -> anyhow::Result<()> {
        let name = checkpoint_name(state.iteration);
        let checkpoints = self.checkpoints();
        let dir = checkpoints.join(&name);
        let temp = files::temp_dir_for(&dir)?;
        learner.save(&temp.join(NET), &temp.join(OPTIMIZER))?;
        buffer.save(&temp.join(BUFFER))?;
        let mut sums = BTreeMap::new();
        for file in [NET, OPTIMIZER, BUFFER] {
            let path = temp.join(file);
            sums.insert(file.to_string(), file_sum(&path).with_context(|| format!("reading back {}", path.display()))?);
        }
        let sealed = Sealed { state: state.clone(), files: sums };
        // Sealed as a reader will see it: the text parsed back (an f32 goes in as written, not
        // widened as `to_value` would).
        let as_read: serde_json::Value = serde_json::from_slice(&serde_json::to_vec(&sealed)?)?;
        let file = StateFile { format: STATE_FORMAT, crc32: seal(&as_read), sealed };
        let text = serde_json::to_string_pretty(&file)?;
        write_atomically(&temp.join(STATE), |w| w.write_all(text.as_bytes()))?;
        files::publish_dir(&temp, &dir)?;
        write_atomically(&checkpoints.join(LATEST), |w| w.write_all(name.as_bytes()))?;
        Ok(())
    }

    /// Bring everything that follows a checkpoint in line with its `state`: append the metrics
    /// lines `metrics.jsonl` lacks (cutting a torn last line), redraw the chart, prune old
    /// checkpoints and snapshots. Run after every checkpoint and at every start, so a crash
    /// after `latest` was updated loses nothing.
    pub fn settle(&self, state: &State, against_iterations_ago: usize) -> anyhow::Result<()> {
        let path = self.root.join(METRICS);
        let text = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if complete < text.len() {
            warn!("{}: cutting a torn last line (a write interrupted by a crash)", path.display());
            let file = fs::OpenOptions::new().write(true).open(&path).with_context(|| format!("opening {}", path.display()))?;
            file.set_len(complete as u64).and_then(|()| file.sync_all()).with_context(|| format!("truncating {}", path.display()))?;
        }
        let lines: Vec<&[u8]> = text[..complete].split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
        if lines.len() > state.metrics.len() {
            bail!(
                "{} has {} lines, more than the {} iterations of the checkpoint being resumed: move it aside or resume from a later checkpoint",
                path.display(),
                lines.len(),
                state.metrics.len()
            );
        }
        if let Some(i) = lines.iter().zip(&state.metrics).position(|(line, m)| *line != m.to_line().as_bytes()) {
            warn!("{} line {} differs from the checkpoint's record of that iteration; kept as written", path.display(), i + 1);
        }
        let missing: String = state.metrics[lines.len()..].iter().map(|m| m.to_line() + "\n").collect();
        if !missing.is_empty() {
            files::append_synced(&path, &missing)?;
        }
        chart::write_chart(&self.root.join("chart.png"), &chart_panels(&state.metrics))?;
        self.prune(state.iteration, against_iterations_ago)
    }

    /// Keep the newest checkpoint and the one before it (in case the newest is damaged later),
    /// and the snapshots evaluation may still need.
    fn prune(&self, iteration: usize, ago: usize) -> anyhow::Result<()> {
        for entry in read_dir_if_any(&self.checkpoints())? {
            if iteration_of(&entry.path()).is_some_and(|n| n + 1 < iteration) && entry.path().is_dir() {
                fs::remove_dir_all(entry.path()).with_context(|| format!("removing {}", entry.path().display()))?;
            }
        }
        for entry in read_dir_if_any(&self.nets())? {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "bin") && iteration_of(&path).is_some_and(|n| n + ago < iteration) {
                fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            }
        }
        Ok(())
    }
}

fn read_dir_if_any(dir: &Path) -> anyhow::Result<Vec<fs::DirEntry>> {
    match fs::read_dir(dir) {
        Ok(entries) => entries.collect::<io::Result<Vec<_>>>().with_context(|| format!("listing {}", dir.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("listing {}", dir.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_checkpoint_names_have_an_iteration() {
        assert_eq!(iteration_of(Path::new("runs/x/checkpoints/iter-000012")), Some(12));
        assert_eq!(iteration_of(Path::new("nets/iter-000003.bin")), Some(3));
        for name in ["iter-12", "iter-0000012", "iter-00001a", "../../etc", "", "iter-000001.tmp", ".iter-000001.abc.tmp"] {
            assert_eq!(iteration_of(Path::new(name)), None, "{name}");
        }
    }
}
