//! Everything a running sandbox holds, shared by the HTTP handlers and the Rust handle.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::faults::FaultQueue;
use crate::limits::LeakyBucket;
use crate::oauth::OAuthState;
use crate::persist::DataFile;
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
}

pub(crate) struct AppState {
    pub config: Config,
    pub world: Mutex<World>,
    pub oauth: Mutex<OAuthState>,
    pub faults: Mutex<FaultQueue>,
    pub limiter: Mutex<LeakyBucket>,
    pub operating: Mutex<OperatingClock>,
    pub stats: Mutex<Stats>,
    pub data_file: Option<DataFile>,
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

    /// Writes the data file (if any) with the current world and tokens. Never hold the world
    /// or OAuth lock while calling this.
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

    pub(crate) fn data_file_path(&self) -> Option<PathBuf> {
        self.data_file.as_ref().map(|f| f.path().to_path_buf())
    }
}
