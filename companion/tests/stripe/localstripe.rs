//! localstripe (a stateful fake of Stripe's API, `tools/venv`, installed by `scripts/setup.sh`)
//! started by the tests themselves: on 127.0.0.1 with a port the OS picks, its state in memory
//! only, its request log (method, path, status, `Idempotency-Key`) in a file the tests read.
//! Killed when dropped, and it exits by itself if the test process dies (its stdin closes).

use b24pay_companion::acquirer::stripe::settings::FileStripe;
use b24pay_companion::acquirer::stripe::StripeSettings;
use b24pay_companion::config::Secret;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const SECRET_KEY: &str = "sk_test_b24pay_localstripe";
pub const PUBLISHABLE_KEY: &str = "pk_test_b24pay_localstripe";

/// localstripe's own `start()` binds every interface and saves its state to a fixed file in
/// /tmp shared by every instance on the machine; this starts its app the same way without both.
const LAUNCHER: &str = r#"
import logging, os, socket, sys, threading
import localstripe.resources as resources
resources.Store.dump_to_disk = lambda self: None
from localstripe import server
from aiohttp import web

def watch_parent():
    sys.stdin.read()
    os._exit(0)

threading.Thread(target=watch_parent, daemon=True).start()

# The Stripe.js stand-in declares `class Element` at the top level of a classic script: that
# shadows the DOM's `Element` for every script of the page (the widget's wasm-bindgen glue
# among them), which real Stripe.js, declaring no global but `Stripe`, never does. Served
# inside a block, its declarations stay its own; `Stripe` is still assigned globally.
@web.middleware
async def scoped_stripe_js(request, handler):
    response = await handler(request)
    if request.path == "/js.stripe.com/v3/" and response.status == 200:
        response.text = "{\n" + response.text + "\n}\n"
    return response

server.app.middlewares.append(scoped_stripe_js)
log = logging.getLogger("localstripe.requests")
log.setLevel(logging.INFO)
log.propagate = False
handler = logging.FileHandler(sys.argv[1])
handler.setFormatter(logging.Formatter("%(message)s"))
log.addHandler(handler)
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
web.run_app(server.app, sock=sock, access_log=log, print=None,
            access_log_format="%r|%s|%{Idempotency-Key}i")
"#;

pub struct LocalStripe {
    child: Child,
    pub base: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

/// One line of localstripe's request log.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// `None` when the request had no `Idempotency-Key`.
    pub key: Option<String>,
}

fn python() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/venv/bin/python");
    assert!(
        venv.exists(),
        "{} is missing: run scripts/setup.sh (it installs localstripe into tools/venv)",
        venv.display()
    );
    venv
}

impl LocalStripe {
    pub fn start() -> LocalStripe {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("requests.log");
        let mut child = Command::new(python())
            .arg("-c")
            .arg(LAUNCHER)
            .arg(&log)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start localstripe");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("localstripe's port");
        let port: u16 = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("localstripe did not start (it printed {line:?})")
        });
        let ls = LocalStripe {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        };
        ls.wait_until_it_answers();
        ls
    }

    fn wait_until_it_answers(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = format!("{}/js.stripe.com/v3/", self.base);
        loop {
            if blocking_get(&url) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "localstripe never answered at {url}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn file_settings(&self) -> FileStripe {
        FileStripe {
            secret_key: Some(Secret::new(SECRET_KEY)),
            publishable_key: Some(PUBLISHABLE_KEY.into()),
            webhook_secret: Some(Secret::new("whsec_b24pay_localstripe")),
            api_base: Some(self.base.clone()),
            js_url: Some(format!("{}/js.stripe.com/v3/", self.base)),
            timeout_ms: Some(15_000),
        }
    }

    pub fn settings(&self) -> StripeSettings {
        self.file_settings().validate().expect("valid settings")
    }

    /// Every request localstripe has logged, once `done` holds for them. Lines are written just
    /// after each answer, so the last ones may lag; after 10 s it answers what it has, and the
    /// caller's assertion says what is missing.
    pub async fn requests_until(&self, done: impl Fn(&[Request]) -> bool) -> Vec<Request> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            let requests: Vec<Request> = text.lines().filter_map(parse_line).collect();
            if done(&requests) || Instant::now() > deadline {
                return requests;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `POST /v1/payment_intents HTTP/1.1|200|pa_1:open`
fn parse_line(line: &str) -> Option<Request> {
    let mut parts = line.split('|');
    let request_line = parts.next()?;
    let status = parts.next()?.parse().ok()?;
    let key = parts.next().filter(|k| *k != "-").map(str::to_string);
    let mut words = request_line.split(' ');
    let method = words.next()?.to_string();
    let path = words.next()?.split('?').next()?.to_string();
    Some(Request {
        method,
        path,
        status,
        key,
    })
}

fn blocking_get(url: &str) -> bool {
    // A plain HTTP/1.0 GET, so the readiness check needs no runtime.
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Ok(mut s) = std::net::TcpStream::connect(host) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if write!(s, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200")
}
