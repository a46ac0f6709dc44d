//! TEMPORARY stub (replaced by the real SQLite store on merge).
#![allow(missing_docs)]
use rampart_policy::banlist::BanRecord;
use rampart_policy::Cidr;
use std::path::Path;
#[derive(Debug, thiserror::Error)]
#[error("store")]
pub struct StoreError;
pub struct Loaded {
    pub records: Vec<BanRecord>,
    pub corrupt: Vec<String>,
}
pub struct BanStore;
impl BanStore {
    pub fn open(_p: &Path) -> Result<BanStore, StoreError> {
        Ok(BanStore)
    }
    pub fn load_all(&self) -> Result<Loaded, StoreError> {
        Ok(Loaded {
            records: vec![],
            corrupt: vec![],
        })
    }
    pub fn upsert_many(&mut self, _r: &[BanRecord]) -> Result<(), StoreError> {
        Ok(())
    }
    pub fn delete(&mut self, _c: &Cidr) -> Result<bool, StoreError> {
        Ok(true)
    }
}
