//! `MemoryDb` through the whole suite: natively, masked to batch-only, masked to
//! sequential-only. One `#[test]` per case and mode, plus one whole-suite report per mode.
//! (Not persistent: the reopen cases are not applicable.)

use enginedb::{EngineDb, Mask, Masked, MemoryDb, Result};
use enginedb_conformance::Harness;

struct MemoryHarness {
    mask: Mask,
}

#[async_trait::async_trait(?Send)]
impl Harness for MemoryHarness {
    async fn open(&self) -> Result<Box<dyn EngineDb + '_>> {
        Ok(Box::new(Masked::new(MemoryDb::new(), self.mask)))
    }

    async fn namespaces(&self) -> Option<Result<[Box<dyn EngineDb + '_>; 2]>> {
        let db = MemoryDb::new();
        let open = |name| {
            db.namespace(name)
                .map(|ns| Box::new(Masked::new(ns, self.mask)) as Box<dyn EngineDb>)
        };
        Some(open("alpha").and_then(|a| Ok([a, open("alpha_b")?])))
    }
}

fn harness(mask: Mask) -> Result<MemoryHarness> {
    Ok(MemoryHarness { mask })
}

enginedb_conformance::conformance_suite!(harness, reopen = false, namespaces = true);
