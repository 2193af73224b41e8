//! The plan parser and validator: any text is either a validated plan (which
//! then fingerprints and previews) or diagnostics that say something; never a
//! panic. Plugins are described from `host/plan/tests/ui/plugins`
//! (`DescriptorFileResolver`, as the plan crate's tests do): none is loaded.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use cutover_plan::{DescriptorFileResolver, preview, validate_in};
use libfuzzer_sys::fuzz_target;

static BASE: LazyLock<&'static Path> = LazyLock::new(|| {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../host/plan/tests/ui");
    Box::leak(
        dir.canonicalize()
            .expect("host/plan/tests/ui")
            .into_boxed_path(),
    )
});

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    match validate_in(src, "fuzz.toml", &BASE, &DescriptorFileResolver) {
        Ok(loaded) => {
            let _ = loaded.plan.fingerprint(&loaded.digests);
            let _ = preview(&loaded, &loaded.infos);
        }
        Err(diags) => {
            assert!(!diags.is_empty(), "refused without a diagnostic");
            assert!(!diags.render_plain().trim().is_empty(), "empty diagnostics");
        }
    }
});
