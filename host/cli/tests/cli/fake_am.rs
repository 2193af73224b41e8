//! A fake Alertmanager for `plugin_cmds`: the silences API v2 on the kit's
//! canned server (127.0.0.1:0), enough for the decommission plugins
//! (`alertmanager-silence`, `notifications-muted`) without a real
//! Alertmanager.

use std::sync::{Arc, Mutex};

use cutover_test_kit::http::{CannedServer, Request, Response};

/// What a [`fake_alertmanager`] holds: the silences it serves, the bodies
/// POSTed to it and the ids DELETEd.
#[derive(Default)]
pub struct FakeAm {
    pub silences: Vec<serde_json::Value>,
    pub posts: Vec<serde_json::Value>,
    pub deletes: Vec<String>,
}

/// Answers one request of Alertmanager's silences API v2 from `am`.
fn answer(am: &Mutex<FakeAm>, r: &Request) -> Response {
    let mut am = am.lock().unwrap();
    match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/api/v2/silences") => Response::json(
            200,
            serde_json::Value::from(am.silences.clone()).to_string(),
        ),
        ("POST", "/api/v2/silences") => {
            let Ok(mut s) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
                return Response::json(400, "bad json");
            };
            am.posts.push(s.clone());
            let id = format!("fake-{}", am.posts.len());
            s["id"] = id.clone().into();
            s["status"] = serde_json::json!({"state": "active"});
            am.silences.push(s);
            Response::json(200, serde_json::json!({ "silenceID": id }).to_string())
        }
        ("DELETE", p) if p.starts_with("/api/v2/silence/") => {
            let id = &p["/api/v2/silence/".len()..];
            am.deletes.push(id.to_owned());
            for s in am.silences.iter_mut().filter(|s| s["id"] == id) {
                s["status"]["state"] = "expired".into();
            }
            Response::json(200, "")
        }
        _ => Response::json(404, "not found"),
    }
}

/// A fake Alertmanager seeded with `silences`: the server (it stops when
/// dropped) and its state.
pub fn fake_alertmanager(silences: Vec<serde_json::Value>) -> (CannedServer, Arc<Mutex<FakeAm>>) {
    let state = Arc::new(Mutex::new(FakeAm {
        silences,
        ..FakeAm::default()
    }));
    let shared = state.clone();
    let server = CannedServer::start(move |_, r| answer(&shared, r));
    (server, state)
}
