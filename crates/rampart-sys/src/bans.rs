//! TEMPORARY stub (replaced by the real kernel ban sets on merge).
#![allow(missing_docs)]
use crate::nft::{run_batch, NftError};
use rampart_policy::{ban_elements, Ban, BanOp};
pub struct KernelBans {
    table: String,
}
#[derive(Debug)]
pub struct ReconcileReport;
impl KernelBans {
    pub fn new(t: &str) -> KernelBans {
        KernelBans { table: t.into() }
    }
    pub fn add(&self, b: &[Ban]) -> Result<(), NftError> {
        match ban_elements(&self.table, BanOp::Add, b) {
            Some(x) => run_batch(&x),
            None => Ok(()),
        }
    }
    pub fn delete(&self, b: &[Ban]) -> Result<(), NftError> {
        match ban_elements(&self.table, BanOp::Delete, b) {
            Some(x) => run_batch(&x),
            None => Ok(()),
        }
    }
    pub fn reconcile(&self, b: &[Ban]) -> Result<ReconcileReport, NftError> {
        self.add(b).map(|_| ReconcileReport)
    }
}
pub const MAX_TIMEOUT_SECS: u64 = 100 * 365 * 24 * 3600;
