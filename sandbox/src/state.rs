//! Everything a running sandbox holds, shared by the HTTP handlers and the Rust handle.
//!
//! The world and the issued tokens are private: they are read with [`AppState::read`] /
//! [`AppState::read_oauth`] and changed only through [`AppState::mutate`] /
//! [`AppState::mutate_oauth`], which write the data file afterwards. A change that is not
//! persisted cannot be written.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant};

use crate::app::{App, AppEvent};
use crate::faults::FaultQueue;
use crate::limits::LeakyBucket;
use crate::oauth::OAuthState;
use crate::persist::DataFile;
use crate::portal_format::now_unix;
use crate::server::Listeners;
use crate::world::World;

/// Settings fixed at start. (Where the portal is reached can change: [`AppState::public_url`].)
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub webhook_user_id: u64,
    pub webhook_code: String,
    pub oauth_client_id: String,
    pub oauth_client_secret: String,
    pub store_name: String,
    /// The portal's identity for good (the domain may change).
    pub member_id: String,
    /// The local CA's certificate when serving HTTPS.
    pub ca_file: Option<PathBuf>,
    /// The OAuth server the token replies name (`server_endpoint`); this portal's own
    /// `/oauth/` when `None`.
    pub oauth_server: Option<String>,
    /// The Market application this portal can install.
    pub app: Option<App>,
}

pub(crate) struct AppState {
    pub config: Config,
    /// Where the portal is reached now, without a trailing slash (`http://127.0.0.1:8081`).
    origin: RwLock<String>,
    /// The app's events sent so far, newest last.
    pub app_events: Mutex<Vec<AppEvent>>,
    /// The `APP_SID` of the install page opened last.
    pub app_sid: Mutex<Option<String>>,
    /// The portal's listeners, to move it (weak: they hold the router, which holds this).
    listeners: OnceLock<Weak<Listeners>>,
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
    /// REST requests that reached the leaky bucket, admitted or not (a batch is one).
    pub requests: u64,
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
        public_url: String,
        world: World,
        oauth: OAuthState,
        limiter: LeakyBucket,
        data_file: Option<DataFile>,
    ) -> AppState {
        AppState {
            config,
            origin: RwLock::new(public_url),
            app_events: Mutex::new(Vec::new()),
            app_sid: Mutex::new(None),
            listeners: OnceLock::new(),
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

    pub(crate) fn set_listeners(&self, listeners: &Arc<Listeners>) {
        let _ = self.listeners.set(Arc::downgrade(listeners));
    }

    pub(crate) fn listeners(&self) -> Option<Arc<Listeners>> {
        self.listeners.get().and_then(Weak::upgrade)
    }

    /// Where the portal is reached now, without a trailing slash.
    pub(crate) fn public_url(&self) -> String {
        self.origin.read().expect("origin lock").clone()
    }

    /// The portal moved (a new domain): links, endpoints and token replies name `url` now.
    pub(crate) fn set_public_url(&self, url: String) {
        *self.origin.write().expect("origin lock") = url;
    }

    /// The incoming webhook URL, ending with `/`: `{public_url}/rest/{user}/{code}/`.
    pub(crate) fn webhook_url(&self) -> String {
        format!(
            "{}/rest/{}/{}/",
            self.public_url(),
            self.config.webhook_user_id,
            self.config.webhook_code
        )
    }

    /// The portal's domain as the platform names it (`auth[domain]`, `DOMAIN`): host and port.
    pub(crate) fn domain(&self) -> String {
        let url = self.public_url();
        url.split_once("://")
            .map_or(url.clone(), |(_, rest)| rest.to_string())
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
        let mut stats = self.stats.lock().expect("stats lock");
        stats.requests += 1;
        if !admitted {
            stats.rejected_by_rate_limit += 1;
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
