//! Everything a running sandbox holds, shared by the HTTP handlers and the Rust handle.
//!
//! The world and the issued tokens are private: they are read with [`AppState::read`] /
//! [`AppState::read_oauth`] and changed only through [`AppState::mutate`] /
//! [`AppState::mutate_oauth`], which write the data file afterwards. A change that is not
//! persisted cannot be written.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::faults::FaultQueue;
use crate::limits::LeakyBucket;
use crate::oauth::OAuthState;
use crate::persist::DataFile;
use crate::portal_format::now_unix;
use crate::world::World;

/// Settings fixed at start.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub webhook_user_id: u64,
    pub webhook_code: String,
    /// Where the sandbox is reachable, without a trailing slash (`http://127.0.0.1:8081`).
    pub public_url: String,
    pub oauth_client_id: String,
    pub oauth_client_secret: String,
    pub store_name: String,
    /// The local CA's certificate when serving HTTPS.
    pub ca_file: Option<PathBuf>,
}

impl Config {
    /// The incoming webhook URL, ending with `/`: `{public_url}/rest/{user}/{code}/`.
    pub(crate) fn webhook_url(&self) -> String {
        format!(
            "{}/rest/{}/{}/",
            self.public_url, self.webhook_user_id, self.webhook_code
        )
    }
}

pub(crate) struct AppState {
    pub config: Config,
    world: Mutex<World>,
    oauth: Mutex<OAuthState>,
    pub faults: Mutex<FaultQueue>,
    pub limiter: Mutex<LeakyBucket>,
    pub operating: Mutex<OperatingClock>,
    pub stats: Mutex<Stats>,
    data_file: Option<DataFile>,
    /// Serialises writes of the data file, so the last write holds the newest state.
    persist_lock: Mutex<()>,
}

/// Calls that reached a method (after auth, faults and the rate limit), by method name.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub method_calls: BTreeMap<String, u64>,
    pub rejected_by_rate_limit: u64,
    /// Calls drawn by [`crate::Fault::DelayedExecution`] that have not run yet.
    pub delayed_pending: u64,
}

/// The portal's per-method "operating" time: method time summed over a 10-minute window.
#[derive(Debug, Default)]
pub(crate) struct OperatingClock {
    windows: BTreeMap<String, (i64, f64)>,
}

/// The portal's operating window.
const OPERATING_WINDOW_SECS: i64 = 600;

impl OperatingClock {
    /// Adds a call's processing time; returns `(operating, operating_reset_at)`.
    pub(crate) fn record(&mut self, method: &str, now: i64, processing: f64) -> (f64, i64) {
        let window = self.windows.entry(method.to_string()).or_insert((now, 0.0));
        if now >= window.0 + OPERATING_WINDOW_SECS {
            *window = (now, 0.0);
        }
        window.1 += processing;
        (window.1, window.0 + OPERATING_WINDOW_SECS)
    }
}

impl AppState {
    pub(crate) fn new(
        config: Config,
        world: World,
        oauth: OAuthState,
        limiter: LeakyBucket,
        data_file: Option<DataFile>,
    ) -> AppState {
        AppState {
            config,
            world: Mutex::new(world),
            oauth: Mutex::new(oauth),
            faults: Mutex::new(FaultQueue::default()),
            limiter: Mutex::new(limiter),
            operating: Mutex::new(OperatingClock::default()),
            stats: Mutex::new(Stats::default()),
            data_file,
            persist_lock: Mutex::new(()),
        }
    }

    /// Reads the world.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&World) -> T) -> T {
        f(&self.world.lock().expect("world lock"))
    }

    /// Changes the world, then writes the data file (if any).
    pub(crate) fn mutate<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        let result = f(&mut self.world.lock().expect("world lock"));
        self.persist();
        result
    }

    /// Reads the issued tokens.
    pub(crate) fn read_oauth<T>(&self, f: impl FnOnce(&OAuthState) -> T) -> T {
        f(&self.oauth.lock().expect("oauth lock"))
    }

    /// Changes the issued tokens, then writes the data file (if any).
    pub(crate) fn mutate_oauth<T>(&self, f: impl FnOnce(&mut OAuthState) -> T) -> T {
        let result = f(&mut self.oauth.lock().expect("oauth lock"));
        self.persist();
        result
    }

    /// Writes the data file (if any) with the current world and tokens; at start, so that a
    /// fresh data file exists at once.
    pub(crate) fn persist(&self) {
        let Some(file) = &self.data_file else {
            return;
        };
        let _guard = self.persist_lock.lock().expect("persist lock");
        let world = self.world.lock().expect("world lock").clone();
        let oauth = self.oauth.lock().expect("oauth lock").clone();
        if let Err(error) = file.save(&world, &oauth) {
            tracing::error!(path = %file.path().display(), %error, "could not write the data file");
        }
    }

    /// The leaky bucket's verdict on a request arriving now (refusals are counted).
    pub(crate) fn admit(&self) -> bool {
        let admitted = self
            .limiter
            .lock()
            .expect("limiter lock")
            .admit(Instant::now());
        if !admitted {
            self.stats
                .lock()
                .expect("stats lock")
                .rejected_by_rate_limit += 1;
        }
        admitted
    }

    /// Counts a call that reached its method.
    pub(crate) fn count_call(&self, method: &str) {
        *self
            .stats
            .lock()
            .expect("stats lock")
            .method_calls
            .entry(method.to_string())
            .or_default() += 1;
    }

    /// Adds a call's method time to the method's operating window; returns
    /// `(operating, operating_reset_at)`.
    pub(crate) fn record_operating(&self, method: &str, processing: Duration) -> (f64, i64) {
        self.operating.lock().expect("operating lock").record(
            method,
            now_unix(),
            processing.as_secs_f64(),
        )
    }

    pub(crate) fn data_file_path(&self) -> Option<PathBuf> {
        self.data_file.as_ref().map(|f| f.path().to_path_buf())
    }
}
