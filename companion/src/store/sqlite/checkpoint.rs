//! WAL checkpoints off the write path. By default SQLite checkpoints inside whichever commit
//! pushes the WAL past 1,000 pages: that commit then copies pages into the database file and
//! waits for two `fsync`s, and every write queued behind it waits too (milliseconds on a
//! virtual disk). The writer connection turns that off (`wal_autocheckpoint=0`) and this task
//! runs `PRAGMA wal_checkpoint(PASSIVE)` on a connection of its own instead: a passive
//! checkpoint never blocks the writer or readers, and once it has caught up the writer starts
//! the WAL over from the beginning. Durability does not change: a commit is in the WAL either
//! way.

use super::super::StoreError;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};
use std::time::Duration;
use tokio::sync::oneshot;

/// Stops the checkpoint task when dropped (with the store).
pub(super) struct Checkpointer {
    _stop: oneshot::Sender<()>,
}

impl Checkpointer {
    pub(super) async fn start(
        options: &SqliteConnectOptions,
        every: Duration,
    ) -> Result<Checkpointer, StoreError> {
        let mut conn = SqliteConnection::connect_with(options).await?;
        let (stop, mut stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tick.tick() => {}
                }
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&mut conn)
                    .await
                {
                    tracing::warn!(error = %e, "WAL checkpoint failed");
                }
            }
            let _ = conn.close().await;
        });
        Ok(Checkpointer { _stop: stop })
    }
}
