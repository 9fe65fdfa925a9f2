//! Driving Debian's Chromium headless through its chromedriver
//! (`/usr/bin/chromium`, `/usr/bin/chromedriver`) with fantoccini.
//!
//! [`run`] gives a test its own chromedriver on a free port and opens
//! browser sessions ([`Browsers::open`]), one per agent; when the test
//! fails, it saves a screenshot of every session under
//! `target/browser-screenshots/<test>-<session>.png` before failing. A
//! browser that cannot start fails the test loudly: these tests never skip.

#![allow(dead_code)] // Each test file uses its own part of this.

use std::future::Future;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use futures::FutureExt;
use serde_json::{Value, json};

/// Long enough for anything this machine does; no test asserts a time.
const PATIENCE: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(50);

pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Where screenshots go: `target/browser-screenshots/`.
pub(crate) fn screenshot_dir() -> PathBuf {
    let target_tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    target_tmp.parent().map_or(target_tmp.clone(), |target| target.join("browser-screenshots"))
}

/// A chromedriver process of one test, killed when dropped.
struct Chromedriver {
    child: Child,
    url: String,
}

impl Chromedriver {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port for chromedriver")
            .port();
        let mut child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("{CHROMEDRIVER} cannot start ({error}): install Debian's chromium and chromium-driver")
            });
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + PATIENCE;
        while TcpStream::connect(address).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{CHROMEDRIVER} ended ({status}) before it listened on port {port}");
            }
            assert!(Instant::now() < deadline, "{CHROMEDRIVER} did not listen on port {port}");
            std::thread::sleep(POLL);
        }
        Self { child, url: format!("http://{address}") }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The browser sessions of one test.
#[derive(Clone)]
pub(crate) struct Browsers {
    driver: Arc<Chromedriver>,
    sessions: Arc<Mutex<Vec<Page>>>,
}

impl Browsers {
    /// A new headless Chromium window of `width`×`height`, named `name` (for
    /// its screenshots), on the page `base` (the server's root URL).
    pub(crate) async fn open(&self, name: &str, base: &str, (width, height): (u32, u32)) -> Page {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    "--no-first-run",
                    "--lang=en-GB",
                    format!("--window-size={width},{height}"),
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&self.driver.url)
            .await
            .unwrap_or_else(|error| panic!("{CHROMIUM} cannot start through {CHROMEDRIVER}: {error}"));
        let page = Page { name: name.to_owned(), client, base: base.trim_end_matches('/').to_owned() };
        self.sessions.lock().expect("the sessions").push(page.clone());
        page
    }

    /// Saves a screenshot of every session as `<dir>/<test>-<session>.png`.
    async fn screenshots(&self, test: &str) {
        let dir = screenshot_dir();
        let _ = std::fs::create_dir_all(&dir);
        let sessions = self.sessions.lock().expect("the sessions").clone();
        for page in sessions {
            let path = dir.join(format!("{test}-{}.png", page.name));
            match page.client.screenshot().await {
                Ok(png) => match std::fs::write(&path, png) {
                    Ok(()) => eprintln!("screenshot of {} saved as {}", page.name, path.display()),
                    Err(error) => eprintln!("could not save {}: {error}", path.display()),
                },
                Err(error) => eprintln!("no screenshot of {}: {error}", page.name),
            }
        }
    }

    async fn close(&self) {
        let sessions = std::mem::take(&mut *self.sessions.lock().expect("the sessions"));
        for page in sessions {
            let _ = page.client.close().await;
        }
    }
}

/// Runs a browser test: its own chromedriver, the sessions `body` opens,
/// and on failure a screenshot of each before the failure goes on.
pub(crate) async fn run<F, Fut>(test: &str, body: F)
where
    F: FnOnce(Browsers) -> Fut,
    Fut: Future<Output = ()>,
{
    let browsers = Browsers { driver: Arc::new(Chromedriver::start()), sessions: Arc::default() };
    let outcome = AssertUnwindSafe(body(browsers.clone())).catch_unwind().await;
    if outcome.is_err() {
        browsers.screenshots(test).await;
    }
    browsers.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Whether an element could not be used because the page was drawing it
/// anew at that moment (replaced, or not yet in place): worth finding again.
fn redrawn(error: &fantoccini::error::CmdError) -> bool {
    error.is_stale_element_reference() || error.is_element_not_interactable()
}

/// One browser session on the app.
#[derive(Clone)]
pub(crate) struct Page {
    pub(crate) name: String,
    pub(crate) client: Client,
    base: String,
}

impl Page {
    /// Goes to `path` of the server (`/`, `/#/talk/ID`).
    pub(crate) async fn open(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.expect("the page loads");
    }

    /// Leaves the app for an empty page (the next `open` loads it anew).
    pub(crate) async fn open_blank(&self) {
        self.client.goto("about:blank").await.expect("an empty page");
    }

    /// Opens the app and signs in as `agent` from its list of agents; waits
    /// until the page is live (subscribed over its WebSocket).
    pub(crate) async fn sign_in(&self, agent: &str) {
        self.open("/").await;
        self.click(&format!("button[data-agent-id='{agent}']")).await;
        self.wait_live().await;
    }

    /// Waits until the page's WebSocket is subscribed.
    pub(crate) async fn wait_live(&self) {
        self.find("#connection[data-status='live']").await;
    }

    /// The first element matching `css`, once it is there and shown.
    pub(crate) async fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await
                && element.is_displayed().await.unwrap_or(false)
            {
                return element;
            }
            assert!(Instant::now() < deadline, "{}: no element {css} is shown", self.name);
            tokio::time::sleep(POLL).await;
        }
    }

    /// Clicks the first element matching `css` (found again if the page
    /// drew it anew between finding and clicking: live updates do).
    pub(crate) async fn click(&self, css: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let element = self.find(css).await;
            match element.click().await {
                Ok(()) => return,
                Err(error) if redrawn(&error) && Instant::now() < deadline => {}
                Err(error) => panic!("{}: click on {css}: {error}", self.name),
            }
        }
    }

    /// Types `text` into the field `css` (after what it holds).
    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let element = self.find(css).await;
            match element.send_keys(text).await {
                Ok(()) => return,
                Err(error) if redrawn(&error) && Instant::now() < deadline => {}
                Err(error) => panic!("{}: typing into {css}: {error}", self.name),
            }
        }
    }

    /// Runs `script` (a function body: `arguments[i]`, `return …`) in the page.
    pub(crate) async fn eval(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap_or_else(|error| panic!("{}: script failed: {error}", self.name))
    }

    /// Polls `script` until it returns something other than null, false or
    /// undefined, and returns that; fails, naming `what`, after a long while.
    pub(crate) async fn wait_until(&self, what: &str, script: &str, args: Vec<Value>) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let value = self.eval(script, args.clone()).await;
            if !matches!(value, Value::Null | Value::Bool(false)) {
                return value;
            }
            assert!(Instant::now() < deadline, "{}: still not {what}", self.name);
            tokio::time::sleep(POLL).await;
        }
    }

    /// The texts of the elements matching `css`, in document order.
    pub(crate) async fn texts(&self, css: &str) -> Vec<String> {
        let value = self
            .eval("return [...document.querySelectorAll(arguments[0])].map((e) => e.textContent);", vec![json!(css)])
            .await;
        serde_json::from_value(value).expect("a list of texts")
    }

    /// Waits until the open talk's main view shows a message with exactly
    /// `text`; its id.
    pub(crate) async fn message_id(&self, text: &str) -> String {
        self.message_id_in(".talk-view", text).await
    }

    /// Waits until the region `scope` (`.talk-view`, `#aside`) shows a
    /// message with exactly `text`; its id.
    pub(crate) async fn message_id_in(&self, scope: &str, text: &str) -> String {
        let script = "const found = [...document.querySelectorAll(`${arguments[0]} .message`)]
                .find((m) => m.querySelector(':scope > .text')?.textContent === arguments[1]);
            return found ? found.dataset.messageId : null;";
        let id =
            self.wait_until(&format!("showing {text:?} in {scope}"), script, vec![json!(scope), json!(text)]).await;
        id.as_str().expect("an id").to_owned()
    }

    /// Saves a screenshot of the window as `path`.
    pub(crate) async fn screenshot(&self, path: &std::path::Path) {
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(path, png).expect("the screenshot saved");
    }
}
