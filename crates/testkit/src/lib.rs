//! What the companion's tests and the end-to-end tests share about stores: which one a test runs
//! on ([`StoreKind`], [`both_stores!`]), the PostgreSQL server `scripts/pg.sh` starts
//! ([`pg_url`]), and a fresh database on it for every test ([`fresh_pg_database`]), so tests
//! never see each other's rows.

use std::io::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    Sqlite,
    Postgres,
}

impl StoreKind {
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Sqlite => "SQLite",
            StoreKind::Postgres => "PostgreSQL",
        }
    }
}

/// `B24PAY_TEST_DATABASE_URL` (set by `scripts/test.sh` via `scripts/pg.sh`), or `None` after
/// saying loudly that the PostgreSQL variant is skipped.
pub fn pg_url() -> Option<String> {
    match std::env::var("B24PAY_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            // Straight to stderr: the test harness captures the output of passing tests, and a
            // skip must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED (PostgreSQL): B24PAY_TEST_DATABASE_URL is not set; `eval \"$(scripts/pg.sh start)\"` provides one"
            );
            None
        }
    }
}

/// A fresh database on the PostgreSQL server `server_url`; its URL.
pub async fn fresh_pg_database(server_url: &str) -> String {
    use sqlx::Connection;
    let name = format!("b24pay_test_{:016x}", rand::random::<u64>());
    let mut conn = sqlx::PgConnection::connect(server_url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to B24PAY_TEST_DATABASE_URL: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create a database for this test");
    let _ = conn.close().await;
    let mut url = url::Url::parse(server_url).expect("B24PAY_TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// Defines one test per store for each scenario `async fn name(kind: StoreKind)`: a module
/// `sqlite` and a module `postgres` (skipped, loudly, without a PostgreSQL server).
#[macro_export]
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::StoreKind::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if $crate::pg_url().is_none() {
                        return;
                    }
                    super::$name($crate::StoreKind::Postgres).await
                }
            )*
        }
    };
}
