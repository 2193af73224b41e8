//! Loading a component as a plugin: digest and pin, cache, world and
//! contract-version detection, linking and `describe()`.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use crate::bindings::translator::TranslatorPre;
use crate::bindings::{action::ActionPre, adapter::AdapterPre, check::CheckPre};
use crate::cache::CacheStatus;
use crate::call::Sandbox;
use crate::describe::{self, Descriptor};
use crate::error::{CallError, LoadError};
use crate::runtime::Runtime;
use crate::state::HostState;
use crate::version::{CONTRACT_PACKAGE, CONTRACT_VERSION, Version};
use crate::world::World;

pub(crate) enum Pre {
    Action(ActionPre<HostState>),
    Check(CheckPre<HostState>),
    Adapter(AdapterPre<HostState>),
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
}

impl Runtime {
    /// Loads a plugin file, refusing it when `pin` is given and differs.
    pub fn load_file(&self, path: &Path, pin: Option<&str>) -> Result<Plugin, LoadError> {
        let origin = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
            path: origin.clone(),
            source,
        })?;
        if let Some(expected) = pin {
            let actual = sha256_hex(&bytes);
            if !expected.eq_ignore_ascii_case(&actual) {
                return Err(LoadError::PinMismatch {
                    path: origin,
                    expected: expected.to_string(),
                    actual,
                });
            }
        }
        self.load(&bytes, &origin)
    }

    /// Loads a plugin from bytes (binary component, or component text).
    pub fn load(&self, bytes: &[u8], origin: &str) -> Result<Plugin, LoadError> {
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        let started = Instant::now();
        let (component, cache) = self.compile(bytes, &digest, origin)?;
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
        let descriptor = self
            .describe(&plugin, &Sandbox::default())
            .map_err(|source| LoadError::Describe {
                origin: origin.to_string(),
                source,
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
                source: CallError::InvalidOutput {
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
        digest: &[u8; 32],
        origin: &str,
    ) -> Result<(Component, CacheStatus), LoadError> {
        check_header(bytes, origin)?;
        let mut status = CacheStatus::Disabled;
        if let Some(cache) = &self.cache {
            let (hit, rejected) = cache.load(&self.engine, digest);
            if let Some(c) = hit {
                return Ok((c, CacheStatus::Hit));
            }
            status = if rejected {
                CacheStatus::Replaced
            } else {
                CacheStatus::Miss
            };
        }
        let component = Component::new(&self.engine, bytes).map_err(|e| LoadError::Malformed {
            origin: origin.to_string(),
            detail: format!("{e:#}"),
        })?;
        if let Some(cache) = &self.cache {
            let stored = component
                .serialize()
                .map_err(|e| e.to_string())
                .and_then(|payload| cache.store(digest, &payload).map_err(|e| e.to_string()));
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
            World::Adapter => Pre::Adapter(AdapterPre::new(pre).map_err(wrong)?),
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
