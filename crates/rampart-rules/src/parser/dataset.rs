//! `dataset` and `datarep`: set membership and reputation of a sticky
//! buffer. The files they name are read by the detection engine's loader;
//! here only the options are checked.

use crate::ast::{Datarep, Dataset, DatasetCmd, DatasetType, MatchKind};
use crate::error::{conflict, invalid, Problem};
use crate::num::{parse_int, NumCmp};

use super::options::Builder;

/// Longest dataset name accepted (Suricata's limit is 63 bytes).
const MAX_NAME: usize = 63;

fn dataset_name(s: &str, what: &str) -> Result<String, Problem> {
    let name = s.trim();
    if name.is_empty() {
        return Err(invalid(format!("{what}: missing set name")));
    }
    if name.len() > MAX_NAME
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(invalid(format!(
            "{what}: set name {name:?} must be at most {MAX_NAME} letters, digits, '-', '_' or '.'"
        )));
    }
    Ok(name.to_string())
}

fn dataset_type(s: &str, what: &str) -> Result<DatasetType, Problem> {
    Ok(match s.trim() {
        "string" => DatasetType::String,
        "md5" => DatasetType::Md5,
        "sha256" => DatasetType::Sha256,
        "ipv4" => DatasetType::Ipv4,
        "ip" | "ipv6" => DatasetType::Ip,
        other => {
            return Err(invalid(format!(
                "{what}: unknown type {other:?} (string, md5, sha256, ipv4 or ip)"
            )))
        }
    })
}

/// A `key value` option after the positional ones.
fn key_value<'v>(opt: &'v str, what: &str) -> Result<(&'v str, &'v str), Problem> {
    let opt = opt.trim();
    match opt.split_once(char::is_whitespace) {
        Some((k, v)) if !v.trim().is_empty() => Ok((k, v.trim())),
        _ => Err(invalid(format!("{what}: option {opt:?} needs a value"))),
    }
}

impl Builder<'_> {
    pub(super) fn dataset(&mut self, v: &str, full: (usize, usize)) -> Result<(), Problem> {
        if self.sticky.is_none() {
            return Err(conflict("dataset must follow a sticky buffer"));
        }
        let mut parts = v.split(',');
        let cmd = match parts.next().map(str::trim) {
            Some("set") => DatasetCmd::Set,
            Some("isset") => DatasetCmd::IsSet,
            Some("isnotset") => DatasetCmd::IsNotSet,
            Some("unset") => DatasetCmd::Unset,
            other => {
                return Err(invalid(format!(
                    "dataset: unknown command {:?} (set, isset, isnotset or unset)",
                    other.unwrap_or_default()
                )))
            }
        };
        let name = dataset_name(parts.next().unwrap_or_default(), "dataset")?;
        let (mut kind, mut load, mut save) = (DatasetType::String, None, None);
        for opt in parts {
            let (k, val) = key_value(opt, "dataset")?;
            match k {
                "type" => kind = dataset_type(val, "dataset")?,
                "load" => load = Some(val.to_string()),
                "save" => save = Some(val.to_string()),
                "state" => {
                    load = Some(val.to_string());
                    save = Some(val.to_string());
                }
                "memcap" | "hashsize" => {}
                other => return Err(invalid(format!("dataset: unknown option {other:?}"))),
            }
        }
        let buffer = self.active_buffer();
        let d = Dataset {
            buffer,
            cmd,
            name,
            kind,
            load,
            save,
        };
        self.push(MatchKind::Dataset(d), full);
        Ok(())
    }

    pub(super) fn datarep(&mut self, v: &str, full: (usize, usize)) -> Result<(), Problem> {
        if self.sticky.is_none() {
            return Err(conflict("datarep must follow a sticky buffer"));
        }
        let mut parts = v.split(',');
        let name = dataset_name(parts.next().unwrap_or_default(), "datarep")?;
        let op = parts.next().map(str::trim).unwrap_or_default();
        let value: u32 = parse_int(parts.next().unwrap_or_default().trim(), "datarep")?;
        let cmp = match op {
            ">" => NumCmp::Gt(value),
            ">=" => NumCmp::Ge(value),
            "<" => NumCmp::Lt(value),
            "<=" => NumCmp::Le(value),
            "==" | "=" => NumCmp::Eq(value),
            "!=" => NumCmp::Ne(value),
            other => {
                return Err(invalid(format!(
                    "datarep: unknown operator {other:?} (>, >=, <, <=, == or !=)"
                )))
            }
        };
        let (mut kind, mut load) = (DatasetType::String, None);
        for opt in parts {
            let (k, val) = key_value(opt, "datarep")?;
            match k {
                "type" => kind = dataset_type(val, "datarep")?,
                "load" => load = Some(val.to_string()),
                "memcap" | "hashsize" => {}
                other => return Err(invalid(format!("datarep: unknown option {other:?}"))),
            }
        }
        let buffer = self.active_buffer();
        let d = Datarep {
            buffer,
            name,
            cmp,
            kind,
            load,
        };
        self.push(MatchKind::Datarep(d), full);
        Ok(())
    }
}
