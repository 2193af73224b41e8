//! Loading a component as a plugin: digest and pin, cache, world and
//! contract-version detection, linking and `describe()`.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use crate::bindings::history_adapter::HistoryAdapterPre;
use crate::bindings::streaming_adapter::StreamingAdapterPre;
use crate::bindings::translator::TranslatorPre;
use crate::bindings::{action::ActionPre, adapter::AdapterPre, check::CheckPre};
use crate::cache::{self, CacheStatus};
use crate::call::Sandbox;
use crate::declared;
use crate::describe::{self, Descriptor};
use crate::error::{CallError, LoadError};
use crate::limits::Limits;
use crate::runtime::Runtime;
use crate::state::HostState;
use crate::version::{CONTRACT_PACKAGE, CONTRACT_VERSION, Version};
use crate::world::World;

pub(crate) enum Pre {
    Action(ActionPre<HostState>),
    Check(CheckPre<HostState>),
    /// An adapter, with its `history-adapter` pre-instantiation when it
    /// also exports `query-range` (contract 0.1.2) and its
    /// `streaming-adapter` one when it also exports `collect-alerts-into`
    /// (contract 0.1.3).
    Adapter(
        AdapterPre<HostState>,
        Option<Box<HistoryAdapterPre<HostState>>>,
        Option<Box<StreamingAdapterPre<HostState>>>,
    ),
    Translator(TranslatorPre<HostState>),
}

/// A loaded, linked plugin, ready to be called any number of times.
pub struct Plugin {
    pub(crate) name: String,
    pub(crate) pre: Pre,
    info: PluginInfo,
}

/// What `cutover plugin inspect` shows.
#[derive(Debug, Clone, Serialize)]
pub struct PluginInfo {
    /// Where the bytes came from.
    pub origin: String,
    /// sha256 of the component bytes, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: usize,
    /// The world it implements.
    pub world: World,
    /// The contract version it was built against (none if it imports nothing
    /// of the contract).
    pub contract_version: Option<String>,
    /// The contract version of this host.
    pub host_contract_version: String,
    /// Import names.
    pub imports: Vec<String>,
    /// Export names.
    pub exports: Vec<String>,
    /// `describe()` (for a translator, its `translator-descriptor`).
    pub descriptor: Descriptor,
    /// Whether the compiled form came from the cache.
    pub cache: CacheStatus,
    /// Time to obtain the compiled component (compile or cache load), in ms.
    pub compile_ms: f64,
}

/// sha256 of bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Plugin {
    /// The plugin's name (from `describe()`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Everything known about the plugin.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// The world.
    pub fn world(&self) -> World {
        self.info.world
    }

    /// The descriptor (`describe()` at load time).
    pub fn descriptor(&self) -> &Descriptor {
        &self.info.descriptor
    }

    /// Whether the plugin is an adapter that also exports `query-range`
    /// (contract 0.1.2, world `history-adapter`).
    pub fn answers_query_range(&self) -> bool {
        matches!(self.pre, Pre::Adapter(_, Some(_), _))
    }

    /// Whether the plugin is an adapter that also exports
    /// `collect-alerts-into` (contract 0.1.3, world `streaming-adapter`):
    /// [`Runtime::collect_alert_batch`] then reads its alerts as a stream.
    pub fn streams_alerts(&self) -> bool {
        matches!(self.pre, Pre::Adapter(_, _, Some(_)))
    }
}

impl Runtime {
    /// Loads a plugin file, refusing it when `pin` is given and differs;
    /// [`Runtime::load_file_with`] the default [`Limits`].
    pub fn load_file(&self, path: &Path, pin: Option<&str>) -> Result<Plugin, LoadError> {
        self.load_file_with(path, pin, &Limits::default())
    }

    /// Loads a plugin file under `limits` (those the plugin will be called
    /// with: the plan's, or the command line's), refusing it when `pin` is
    /// given and differs. See [`Runtime::load_with`].
    pub fn load_file_with(
        &self,
        path: &Path,
        pin: Option<&str>,
        limits: &Limits,
    ) -> Result<Plugin, LoadError> {
        let origin = path.display().to_string();
        let file = cache::read_component(path).map_err(|cause| LoadError::Io {
            path: origin.clone(),
            cause,
        })?;
        self.load_pinned(&file.bytes, file.id, &origin, limits, pin)
    }

    /// Loads a plugin from bytes (binary component, or component text);
    /// [`Runtime::load_with`] the default [`Limits`].
    pub fn load(&self, bytes: &[u8], origin: &str) -> Result<Plugin, LoadError> {
        self.load_with(bytes, origin, &Limits::default())
    }

    /// Loads a plugin from bytes (binary component, or component text)
    /// under `limits`: a memory or table it declares larger than they (or
    /// the pooling allocator's slot) allow is refused as
    /// [`LoadError::OverLimit`], and its `describe()` runs with their
    /// deadline and memory, like any call.
    pub fn load_with(
        &self,
        bytes: &[u8],
        origin: &str,
        limits: &Limits,
    ) -> Result<Plugin, LoadError> {
        self.load_pinned(bytes, None, origin, limits, None)
    }

    /// [`Runtime::load_with`], refusing bytes whose sha256 is not `pin`
    /// (the digest is computed, or taken from the verified cache entry,
    /// once per load).
    fn load_pinned(
        &self,
        bytes: &[u8],
        file: Option<(cache::FileId, std::time::SystemTime)>,
        origin: &str,
        limits: &Limits,
        pin: Option<&str>,
    ) -> Result<Plugin, LoadError> {
        let started = Instant::now();
        let identified = cache::identify(self.cache.as_ref(), bytes, file, origin, pin)?;
        let digest = identified.sha256;
        if let Some(e) = declared::excess(bytes, limits) {
            return Err(LoadError::OverLimit {
                origin: origin.to_string(),
                limit: e.limit,
                asked: e.asked,
                allowed: e.allowed,
            });
        }
        let (component, cache) = self.compile(bytes, identified, origin)?;
        let compile_ms = started.elapsed().as_secs_f64() * 1e3;
        let ty = component.component_type();
        let imports: Vec<String> = ty
            .imports(&self.engine)
            .map(|(n, _)| n.to_string())
            .collect();
        let export_names: Vec<String> = ty
            .exports(&self.engine)
            .map(|(n, _)| n.to_string())
            .collect();
        let contract = contract_version(&imports, origin)?;
        let world = detect_world(&export_names).ok_or_else(|| LoadError::WrongWorld {
            origin: origin.to_string(),
            detail: format!(
                "expected exports describe + run (action), evaluate (check), collect-alerts (adapter) or translate (translator); found [{}]",
                export_names.join(", ")
            ),
        })?;
        let pre = self.link(&component, world, origin, contract.as_ref())?;
        let mut plugin = Plugin {
            name: origin.to_string(),
            pre,
            info: PluginInfo {
                origin: origin.to_string(),
                sha256: hex::encode(digest),
                size: bytes.len(),
                world,
                contract_version: contract.map(|v| v.to_string()),
                host_contract_version: CONTRACT_VERSION.to_string(),
                imports,
                exports: export_names,
                descriptor: Descriptor::placeholder(world),
                cache,
                compile_ms,
            },
        };
        let sandbox = Sandbox {
            limits: limits.clone(),
            ..Sandbox::default()
        };
        let descriptor = self
            .describe(&plugin, &sandbox)
            .map_err(|cause| LoadError::Describe {
                origin: origin.to_string(),
                cause,
            })?;
        if descriptor.kind != world {
            return Err(LoadError::KindMismatch {
                origin: origin.to_string(),
                world: world.as_str().to_string(),
                declared: descriptor.kind.as_str().to_string(),
            });
        }
        if let Some(detail) = describe::problem(&descriptor) {
            return Err(LoadError::Describe {
                origin: origin.to_string(),
                cause: CallError::InvalidOutput {
                    plugin: origin.to_string(),
                    detail,
                },
            });
        }
        plugin.name = descriptor.name.clone();
        plugin.info.descriptor = descriptor;
        Ok(plugin)
    }

    fn compile(
        &self,
        bytes: &[u8],
        identified: cache::Identified,
        origin: &str,
    ) -> Result<(Component, CacheStatus), LoadError> {
        check_header(bytes, origin)?;
        let cache::Identified {
            sha256,
            key,
            lookup,
        } = identified;
        let status = match (&self.cache, lookup) {
            (None, _) => CacheStatus::Disabled,
            (Some(_), cache::Lookup::Absent) => CacheStatus::Miss,
            (Some(_), cache::Lookup::Rejected(why)) => {
                tracing::warn!(origin, ?why, "discarding cache entry");
                CacheStatus::Replaced
            }
            (Some(_), cache::Lookup::Found(entry)) => match entry.deserialize(&self.engine) {
                Ok(c) => return Ok((c, CacheStatus::Hit)),
                Err(_) => CacheStatus::Replaced,
            },
        };
        let component = Component::new(&self.engine, bytes).map_err(|e| LoadError::Malformed {
            origin: origin.to_string(),
            detail: format!("{e:#}"),
        })?;
        if let (Some(cache), Some(key)) = (&self.cache, key) {
            let stored = component
                .serialize()
                .map_err(|e| e.to_string())
                .and_then(|payload| {
                    cache
                        .store(&key, &sha256, &payload)
                        .map_err(|e| e.to_string())
                });
            if let Err(e) = stored {
                tracing::warn!(origin, error = %e, "could not write the component cache entry");
            }
        }
        Ok((component, status))
    }

    fn link(
        &self,
        component: &Component,
        world: World,
        origin: &str,
        contract: Option<&Version>,
    ) -> Result<Pre, LoadError> {
        let pre = self.linker.instantiate_pre(component).map_err(|e| {
            let detail = format!("{e:#}");
            match contract {
                Some(v) if *v > CONTRACT_VERSION => LoadError::ContractVersion {
                    origin: origin.to_string(),
                    plugin: v.to_string(),
                    host: CONTRACT_VERSION.to_string(),
                },
                _ => LoadError::Link {
                    origin: origin.to_string(),
                    detail,
                },
            }
        })?;
        let wrong = |e: wasmtime::Error| LoadError::WrongWorld {
            origin: origin.to_string(),
            detail: format!("exports do not match the {} world: {e:#}", world.as_str()),
        };
        Ok(match world {
            World::Action => Pre::Action(ActionPre::new(pre).map_err(wrong)?),
            World::Check => Pre::Check(CheckPre::new(pre).map_err(wrong)?),
            World::Adapter => {
                let history = if exports(component, &self.engine, "query-range") {
                    let wrong = |e: wasmtime::Error| LoadError::WrongWorld {
                        origin: origin.to_string(),
                        detail: format!("exports do not match the history-adapter world: {e:#}"),
                    };
                    Some(Box::new(
                        HistoryAdapterPre::new(pre.clone()).map_err(wrong)?,
                    ))
                } else {
                    None
                };
                let streaming = if exports(component, &self.engine, "collect-alerts-into") {
                    let wrong = |e: wasmtime::Error| LoadError::WrongWorld {
                        origin: origin.to_string(),
                        detail: format!("exports do not match the streaming-adapter world: {e:#}"),
                    };
                    Some(Box::new(
                        StreamingAdapterPre::new(pre.clone()).map_err(wrong)?,
                    ))
                } else {
                    None
                };
                Pre::Adapter(AdapterPre::new(pre).map_err(wrong)?, history, streaming)
            }
            World::Translator => Pre::Translator(TranslatorPre::new(pre).map_err(wrong)?),
        })
    }
}

fn check_header(bytes: &[u8], origin: &str) -> Result<(), LoadError> {
    let malformed = |detail: &str| LoadError::Malformed {
        origin: origin.to_string(),
        detail: detail.to_string(),
    };
    match bytes {
        [0, b'a', b's', b'm', 1, 0, 0, 0, ..] => Err(malformed(
            "this is a core wasm module, not a component (wrap it with `wasm-tools component new`)",
        )),
        [0, b'a', b's', b'm', 0x0d, 0, 1, 0, ..] => Ok(()),
        [0, b'a', b's', b'm', ..] => Err(malformed("unknown wasm binary version")),
        // Component text (hand-written fixtures); the parser reports its errors.
        _ if std::str::from_utf8(bytes).is_ok() => Ok(()),
        _ => Err(malformed(
            "not a wasm binary (bad magic) and not component text",
        )),
    }
}

/// Whether an adapter also exports `name`: `query-range` (the
/// `history-adapter` world of contract 0.1.2) or `collect-alerts-into` (the
/// `streaming-adapter` world of contract 0.1.3).
fn exports(component: &Component, engine: &wasmtime::Engine, name: &str) -> bool {
    component
        .component_type()
        .exports(engine)
        .any(|(n, _)| n == name)
}

fn detect_world(exports: &[String]) -> Option<World> {
    let has = |n: &str| exports.iter().any(|e| e == n);
    if !has("describe") {
        return None;
    }
    if has("collect-alerts") {
        Some(World::Adapter)
    } else if has("translate") {
        Some(World::Translator)
    } else if has("evaluate") {
        Some(World::Check)
    } else if has("run") {
        Some(World::Action)
    } else {
        None
    }
}

/// The contract version named by the component's `cutover:plugin/*` imports.
fn contract_version(imports: &[String], origin: &str) -> Result<Option<Version>, LoadError> {
    let mut found: Option<Version> = None;
    for name in imports {
        let Some(rest) = name
            .strip_prefix(CONTRACT_PACKAGE)
            .and_then(|r| r.strip_prefix('/'))
        else {
            continue;
        };
        let Some((_, ver)) = rest.split_once('@') else {
            continue;
        };
        let v = Version::parse(ver).ok_or_else(|| LoadError::WrongWorld {
            origin: origin.to_string(),
            detail: format!("import {name} has an unreadable version"),
        })?;
        if !v.compatible_with(&CONTRACT_VERSION) {
            return Err(LoadError::ContractVersion {
                origin: origin.to_string(),
                plugin: v.to_string(),
                host: CONTRACT_VERSION.to_string(),
            });
        }
        found = Some(found.map_or(v, |f| f.max(v)));
    }
    Ok(found)
}
