//! A slow Alertmanager for tests of work that must not race a backup in
//! progress: the silences API v2 and `/-/reload` on the kit's
//! [`CannedServer`], whose first `GET /api/v2/silences` can be held until
//! the test releases it. With the `alertmanager` adapter backing up
//! `configurations` (a file) then `silences` (this API), a backup held
//! there has written its first blob but not yet committed its manifest.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::http::{CannedServer, Request, Response};

#[derive(Default)]
struct Inner {
    /// The silences served (`GET`) and created (`POST`).
    silences: Vec<serde_json::Value>,
    /// Hold the next silences `GET` until released.
    hold: bool,
    /// A held `GET` has arrived.
    arrived: bool,
    /// `POST /-/reload` requests seen.
    reloads: usize,
}

/// The server's state, shared with the test.
#[derive(Clone, Default)]
pub struct SlowAm {
    inner: Arc<(Mutex<Inner>, Condvar)>,
}

impl SlowAm {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts the server serving `silences`; the next silences `GET` is
    /// held when `hold`.
    pub fn start(silences: Vec<serde_json::Value>, hold: bool) -> (CannedServer, SlowAm) {
        let am = SlowAm::default();
        {
            let mut i = am.lock();
            i.silences = silences;
            i.hold = hold;
        }
        let shared = am.clone();
        let server = CannedServer::start(move |_, r| shared.answer(r));
        (server, am)
    }

    fn answer(&self, r: &Request) -> Response {
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/api/v2/silences") => {
                let (lock, cv) = &*self.inner;
                let mut i = lock.lock().unwrap_or_else(|p| p.into_inner());
                if i.hold {
                    i.arrived = true;
                    cv.notify_all();
                    while i.hold {
                        i = cv.wait(i).unwrap_or_else(|p| p.into_inner());
                    }
                }
                Response::json(200, serde_json::Value::from(i.silences.clone()).to_string())
            }
            ("POST", "/api/v2/silences") => {
                let Ok(mut s) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
                    return Response::json(400, "bad json");
                };
                let mut i = self.lock();
                let id = format!("slow-{}", i.silences.len() + 1);
                s["id"] = id.clone().into();
                s["status"] = serde_json::json!({"state": "active"});
                i.silences.push(s);
                Response::json(200, serde_json::json!({ "silenceID": id }).to_string())
            }
            ("POST", "/-/reload") => {
                self.lock().reloads += 1;
                Response::ok("")
            }
            ("GET", "/-/ready") => Response::ok("OK"),
            _ => Response::json(404, "not found"),
        }
    }

    /// Waits (up to `limit`) until a held silences `GET` has arrived.
    pub fn wait_held(&self, limit: Duration) -> bool {
        let (lock, cv) = &*self.inner;
        let end = Instant::now() + limit;
        let mut i = lock.lock().unwrap_or_else(|p| p.into_inner());
        while !i.arrived {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            i = cv
                .wait_timeout(i, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// Lets the held `GET` (and every later one) answer.
    pub fn release(&self) {
        let (lock, cv) = &*self.inner;
        lock.lock().unwrap_or_else(|p| p.into_inner()).hold = false;
        cv.notify_all();
    }

    /// The silences it holds now.
    pub fn silences(&self) -> Vec<serde_json::Value> {
        self.lock().silences.clone()
    }

    /// Replaces the silences it holds.
    pub fn set_silences(&self, silences: Vec<serde_json::Value>) {
        self.lock().silences = silences;
    }

    /// `POST /-/reload` requests seen.
    pub fn reloads(&self) -> usize {
        self.lock().reloads
    }
}

/// One active silence on `alertname` (ends in 2099), as the API lists it.
pub fn silence(id: &str, alertname: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id, "status": {"state": "active"}, "createdBy": "ops", "comment": "maintenance",
        "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2099-01-01T00:00:00Z",
        "matchers": [{"name": "alertname", "value": alertname, "isRegex": false, "isEqual": true}],
    })
}
