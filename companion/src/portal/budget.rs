//! The portal's request budget kept in the store, so that every companion instance on one
//! store (one PostgreSQL, or one SQLite file) draws from one leaky bucket, as the portal
//! counts them: [`StoreLevels`] is the client's [`SharedLevels`] over a `meta` row per portal,
//! changed atomically ([`MetaStore::meta_update`](crate::store::MetaStore::meta_update)).
//!
//! The row holds the two levels and when they were last changed (wall-clock milliseconds, the
//! instances' common clock); each change drains them for the time since, as the portal's bucket
//! drains, then applies the client's [`Rules`]. Customers' verifications and the outbox's
//! confirmations keep their shares of it across all instances: each queues first come first
//! served, customers alone up to their share of the bucket (the outbox keeps the rest), and
//! while both wait they take the slots in turns.

use crate::store::{now_ms, SharedStore};
use bitrix24_client::{Change, Levels, Rules, SharedLevels};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The stored row: the levels (in requests; rows written before the background had a queue of
/// its own lack the newer ones, read as zero), `at` in Unix milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Row {
    #[serde(flatten)]
    levels: Levels,
    at: i64,
}

impl Row {
    fn parse(value: Option<&str>) -> Row {
        value
            .and_then(|v| serde_json::from_str::<Row>(v).ok())
            .filter(|r| {
                let l = r.levels;
                [
                    l.shared,
                    l.customers,
                    l.background,
                    l.customers_waiting,
                    l.background_waiting,
                    l.customers_ready,
                    l.turn,
                ]
                .iter()
                .all(|v| v.is_finite())
            })
            .unwrap_or_default()
    }

    /// Applies `change` at `now`: the levels drained for the time since the row was written
    /// (none when a clock went backwards), then changed. Answers the change's wait.
    fn apply(&mut self, rules: Rules, now: i64, change: Change) -> Duration {
        let elapsed = Duration::from_millis(u64::try_from(now - self.at).unwrap_or(0));
        let wait = rules.apply(&mut self.levels, elapsed, change);
        self.at = now.max(self.at);
        wait
    }
}

/// The levels of one portal's budget, in the store.
pub struct StoreLevels {
    store: SharedStore,
    key: String,
}

impl StoreLevels {
    /// The budget of the portal at `origin` (one row per portal).
    pub fn new(store: SharedStore, origin: &str) -> StoreLevels {
        StoreLevels {
            store,
            key: format!("portal_budget:{}", origin.trim_end_matches('/')),
        }
    }

    /// The budget of a portal that installed the app, by its `member_id`: its own row, whatever
    /// its domain (a configured portal's row is keyed by its `http(s)://` origin, so the two
    /// never meet).
    pub fn installed(store: SharedStore, member_id: &str) -> StoreLevels {
        StoreLevels {
            store,
            key: format!("portal_budget:app:{member_id}"),
        }
    }
}

impl SharedLevels for StoreLevels {
    fn apply(&self, rules: Rules, change: Change) -> BoxFuture<'_, Result<Duration, BoxError>> {
        Box::pin(async move {
            if let Change::Peek(_) | Change::Pressure = change {
                // Changes nothing: a read is enough.
                let value = self.store.meta_get(&self.key).await?;
                return Ok(Row::parse(value.as_deref()).apply(rules, now_ms(), change));
            }
            let wait = Arc::new(Mutex::new(Duration::ZERO));
            let answer = wait.clone();
            self.store
                .meta_update(
                    &self.key,
                    Box::new(move |value| {
                        let mut row = Row::parse(value.as_deref());
                        *answer.lock().expect("not poisoned") = row.apply(rules, now_ms(), change);
                        serde_json::to_string(&row).expect("a row serialises")
                    }),
                )
                .await?;
            let wait = *wait.lock().expect("not poisoned");
            Ok(wait)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitrix24_client::{Bucket, RateLimit};

    #[test]
    fn rows_drain_by_the_wall_clock_and_survive_garbage() {
        let rules = Rules::new(
            RateLimit {
                per_second: 2.0,
                burst: 4,
            },
            0.5,
        );
        let mut row = Row::parse(Some("not json"));
        assert_eq!(row, Row::default());
        for _ in 0..4 {
            row.apply(rules, 10_000, Change::Reserve(Bucket::Shared));
        }
        let wait = row.apply(rules, 10_000, Change::Reserve(Bucket::Shared));
        assert_eq!(wait, Duration::from_millis(500));
        // One second later two have drained; a clock that went back drains nothing.
        row.apply(rules, 11_000, Change::GiveBack(Bucket::Shared));
        assert_eq!(row.levels.shared, 2.0);
        row.apply(rules, 9_000, Change::Reserve(Bucket::Shared));
        assert_eq!((row.levels.shared, row.at), (3.0, 11_000));
        // A row written before the background had its own queue still reads.
        let old = Row::parse(Some(r#"{"shared":1.5,"customers":0.5,"at":7}"#));
        assert_eq!(
            (old.levels.shared, old.levels.background, old.at),
            (1.5, 0.0, 7)
        );
        let stored = serde_json::to_string(&row).unwrap();
        assert_eq!(Row::parse(Some(&stored)), row);
    }

    #[tokio::test]
    async fn each_installed_portal_spends_its_own_budget() {
        let store: SharedStore = Arc::new(
            crate::store::SqliteStore::connect_url("sqlite::memory:")
                .await
                .unwrap(),
        );
        let rules = Rules::new(
            RateLimit {
                per_second: 0.5,
                burst: 2,
            },
            0.5,
        );
        let north = StoreLevels::installed(store.clone(), "north-member");
        let south = StoreLevels::installed(store.clone(), "south-member");
        let configured = StoreLevels::new(store.clone(), "https://north.bitrix24.ru");
        let reserve = Change::Reserve(Bucket::Shared);
        for _ in 0..2 {
            assert_eq!(north.apply(rules, reserve).await.unwrap(), Duration::ZERO);
        }
        assert!(north.apply(rules, reserve).await.unwrap() > Duration::ZERO);
        // North's bucket is full; nobody else's is touched.
        assert_eq!(south.apply(rules, reserve).await.unwrap(), Duration::ZERO);
        assert_eq!(
            configured.apply(rules, reserve).await.unwrap(),
            Duration::ZERO
        );
    }
}
