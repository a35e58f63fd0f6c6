//! AHF halo catalogues: `.AHF_halos` (one halo per line, a `#` header of `name(N)` columns) and `.AHF_particles`
//! (per halo a `count halo_id` line, then `count` lines `particle_id particle_type`; optionally the number of
//! halos on the first line).
//!
//! Units as AHF writes them: positions comoving kpc/h, masses Msun/h, radii comoving kpc/h, velocities peculiar
//! km/s. For tipsy input AHF numbers particles in the order dark matter, stars, gas (not the tipsy file's gas,
//! dark, stars): [`ahf_id_to_file_index`] and [`file_index_to_ahf_id`] convert, as pynbody 2.8 does; the types
//! are 0 gas, 1 dark matter, 4 stars.
//!
//! ```
//! use galmass_snapshot::tipsy::ahf::parse_ahf_halos;
//! let text = "#ID(1) hostHalo(2) numParts(3) Mvir(4) Xc(5) Yc(6) Zc(7) VXc(8) VYc(9) VZc(10) Rvir(11)\n\
//!             7 -1 100 1e10 1 2 3 4 5 6 50\n";
//! let catalogue = parse_ahf_halos(text, "x.AHF_halos".as_ref()).unwrap();
//! assert_eq!(catalogue.halos[0].id, 7);
//! assert_eq!(catalogue.halos[0].center_kpc_h, [1.0, 2.0, 3.0]);
//! assert_eq!(catalogue.column("Rvir").unwrap(), vec![50.0]);
//! ```

use std::path::Path;

use crate::error::SnapshotError;
use crate::tipsy::format::TipsyHeader;

/// The tipsy file index of an AHF particle id (AHF order: dark, stars, gas); `None` beyond the file.
pub fn ahf_id_to_file_index(id: u64, header: &TipsyHeader) -> Option<u64> {
    let dark_and_stars = header.n_dark + header.n_star;
    if id < dark_and_stars {
        Some(id + header.n_gas)
    } else if id < header.n_total {
        Some(id - dark_and_stars)
    } else {
        None
    }
}

/// The AHF particle id of a tipsy file index (inverse of [`ahf_id_to_file_index`]); `None` beyond the file.
pub fn file_index_to_ahf_id(index: u64, header: &TipsyHeader) -> Option<u64> {
    if index < header.n_gas {
        Some(index + header.n_dark + header.n_star)
    } else if index < header.n_total {
        Some(index - header.n_gas)
    } else {
        None
    }
}

/// One halo of an `.AHF_halos` table (AHF units).
#[derive(Debug, Clone, PartialEq)]
pub struct AhfHalo {
    /// `ID`.
    pub id: i64,
    /// `hostHalo` (-1 for a main halo; 0 in some AHF versions).
    pub host_halo: i64,
    /// `numParts` (or `npart`).
    pub n_particles: u64,
    /// `Mvir` in Msun/h.
    pub mvir_msun_h: f64,
    /// `Rvir` in comoving kpc/h.
    pub rvir_kpc_h: f64,
    /// `Xc`, `Yc`, `Zc` in comoving kpc/h.
    pub center_kpc_h: [f64; 3],
    /// `VXc`, `VYc`, `VZc` in km/s.
    pub velocity_kms: [f64; 3],
    /// `fMhires`, the high-resolution mass fraction, when present.
    pub f_mhires: Option<f64>,
    /// `n_gas`, when present.
    pub n_gas: Option<u64>,
    /// `M_gas` in Msun/h, when present.
    pub m_gas_msun_h: Option<f64>,
    /// `n_star`, when present.
    pub n_star: Option<u64>,
    /// `M_star` in Msun/h, when present.
    pub m_star_msun_h: Option<f64>,
}

impl AhfHalo {
    /// Centre in physical kpc at scale factor `a` with Hubble parameter `h`.
    pub fn center_physical_kpc(&self, a: f64, h: f64) -> [f64; 3] {
        self.center_kpc_h.map(|x| x * a / h)
    }
}

/// A parsed `.AHF_halos` table: every column by name, and the halos.
#[derive(Debug, Clone, PartialEq)]
pub struct AhfCatalogue {
    /// Column names without their `(N)` suffix, in file order.
    pub columns: Vec<String>,
    /// Every value as `f64`, one row per halo.
    pub rows: Vec<Vec<f64>>,
    /// The halos.
    pub halos: Vec<AhfHalo>,
}

impl AhfCatalogue {
    /// A column's values by name.
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let k = self.columns.iter().position(|c| c == name)?;
        Some(self.rows.iter().map(|r| r[k]).collect())
    }
}

fn malformed(path: &Path, field: String, reason: String) -> SnapshotError {
    SnapshotError::Malformed { path: path.to_owned(), field, reason }
}

fn count_value(value: f64, path: &Path, field: String) -> Result<u64, SnapshotError> {
    if value >= 0.0 && value.fract() == 0.0 && value < 9.0e15 {
        Ok(value as u64)
    } else {
        Err(malformed(path, field, format!("{value} is not a particle count")))
    }
}

/// Parses the text of an `.AHF_halos` file.
pub fn parse_ahf_halos(text: &str, path: &Path) -> Result<AhfCatalogue, SnapshotError> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(malformed(path, "line 1".into(), "empty file: no header line".into()));
    };
    let columns: Vec<String> = header
        .trim_start_matches('#')
        .split_ascii_whitespace()
        .map(|t| match t.find('(') {
            Some(k) if t.ends_with(')') => t[..k].to_owned(),
            _ => t.to_owned(),
        })
        .collect();
    let find = |names: &[&str]| columns.iter().position(|c| names.contains(&c.as_str()));
    let required = |names: &[&str]| {
        find(names).ok_or_else(|| SnapshotError::Missing {
            path: path.to_owned(),
            kind: "column",
            name: names[0].into(),
        })
    };
    let id_col = required(&["ID"])?;
    let host_col = required(&["hostHalo"])?;
    let n_col = required(&["numParts", "npart"])?;
    let m_col = required(&["Mvir"])?;
    let r_col = required(&["Rvir"])?;
    let pos_cols = [required(&["Xc"])?, required(&["Yc"])?, required(&["Zc"])?];
    let vel_cols = [required(&["VXc"])?, required(&["VYc"])?, required(&["VZc"])?];
    let optional = |name: &str| find(&[name]);
    let (fm_col, ng_col, mg_col, ns_col, ms_col) =
        (optional("fMhires"), optional("n_gas"), optional("M_gas"), optional("n_star"), optional("M_star"));

    let mut rows = Vec::new();
    let mut halos = Vec::new();
    for (index, line) in lines {
        if line.trim_start().starts_with('#') {
            continue;
        }
        let line_name = format!("line {}", index + 1);
        let tokens: Vec<&str> = line.split_ascii_whitespace().collect();
        if tokens.len() != columns.len() {
            return Err(malformed(path, line_name, format!("{} values for {} columns", tokens.len(), columns.len())));
        }
        let mut row = Vec::with_capacity(tokens.len());
        for (k, token) in tokens.iter().enumerate() {
            match token.parse::<f64>() {
                Ok(v) => row.push(v),
                Err(_) => {
                    return Err(malformed(
                        path,
                        format!("{line_name}, column {}", columns[k]),
                        format!("`{token}` is not a number"),
                    ))
                }
            }
        }
        let int = |k: usize| -> Result<i64, SnapshotError> {
            tokens[k].parse::<i64>().map_err(|_| {
                malformed(
                    path,
                    format!("{line_name}, column {}", columns[k]),
                    format!("`{}` is not an integer", tokens[k]),
                )
            })
        };
        let count = |k: usize| count_value(row[k], path, format!("{line_name}, column {}", columns[k]));
        halos.push(AhfHalo {
            id: int(id_col)?,
            host_halo: int(host_col)?,
            n_particles: count(n_col)?,
            mvir_msun_h: row[m_col],
            rvir_kpc_h: row[r_col],
            center_kpc_h: pos_cols.map(|k| row[k]),
            velocity_kms: vel_cols.map(|k| row[k]),
            f_mhires: fm_col.map(|k| row[k]),
            n_gas: ng_col.map(count).transpose()?,
            m_gas_msun_h: mg_col.map(|k| row[k]),
            n_star: ns_col.map(count).transpose()?,
            m_star_msun_h: ms_col.map(|k| row[k]),
        });
        rows.push(row);
    }
    Ok(AhfCatalogue { columns, rows, halos })
}

fn read_text(path: &Path, what: &str) -> Result<String, SnapshotError> {
    let bytes = std::fs::read(path).map_err(|source| SnapshotError::Io {
        path: path.to_owned(),
        context: format!("reading {what}"),
        source,
    })?;
    String::from_utf8(bytes).map_err(|e| malformed(path, "text".into(), format!("not UTF-8 text: {e}")))
}

/// Reads an `.AHF_halos` file.
pub fn read_ahf_halos(path: &Path) -> Result<AhfCatalogue, SnapshotError> {
    parse_ahf_halos(&read_text(path, "the AHF halo table")?, path)
}

/// The particles of one halo in an `.AHF_particles` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AhfMembers {
    /// The halo id (the block's index when the file gives none).
    pub halo_id: i64,
    /// AHF particle ids (for tipsy input, indices in the order dark, stars, gas: see [`ahf_id_to_file_index`]).
    pub particle_ids: Vec<u64>,
    /// AHF particle types (0 gas, 1 dark matter, 4 stars), one per id (1 when the file gives none).
    pub particle_types: Vec<i32>,
}

/// Parses the text of an `.AHF_particles` file.
pub fn parse_ahf_particles(text: &str, path: &Path) -> Result<Vec<AhfMembers>, SnapshotError> {
    let mut lines =
        text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#')).peekable();
    let mut n_halos_announced = None;
    if let Some((_, first)) = lines.peek() {
        let tokens: Vec<&str> = first.split_ascii_whitespace().collect();
        if tokens.len() == 1 {
            n_halos_announced =
                Some(tokens[0].parse::<u64>().map_err(|_| {
                    malformed(path, "line 1".into(), format!("`{}` is not a number of halos", tokens[0]))
                })?);
            lines.next();
        }
    }
    let mut halos = Vec::new();
    while let Some((index, line)) = lines.next() {
        let line_name = format!("line {}", index + 1);
        let tokens: Vec<&str> = line.split_ascii_whitespace().collect();
        let parse_count = |t: &str| {
            t.parse::<u64>().map_err(|_| malformed(path, line_name.clone(), format!("`{t}` is not a particle count")))
        };
        if let [section] = tokens.as_slice() {
            // MPI AHF: another number of halos starts a new section
            let more = section
                .parse::<u64>()
                .map_err(|_| malformed(path, line_name.clone(), format!("`{section}` is not a number of halos")))?;
            n_halos_announced = n_halos_announced.map(|n| n + more);
            continue;
        }
        let (count, halo_id) = match tokens.as_slice() {
            [count, id] => (
                parse_count(count)?,
                id.parse::<i64>()
                    .map_err(|_| malformed(path, line_name.clone(), format!("`{id}` is not a halo id")))?,
            ),
            _ => {
                return Err(malformed(
                    path,
                    line_name,
                    format!("expected `count halo_id`, got {} values", tokens.len()),
                ));
            }
        };
        let mut members = AhfMembers { halo_id, particle_ids: Vec::new(), particle_types: Vec::new() };
        for k in 0..count {
            let Some((index, line)) = lines.next() else {
                return Err(malformed(
                    path,
                    line_name,
                    format!("halo {halo_id} announces {count} particles, the file ends after {k}"),
                ));
            };
            let here = format!("line {}", index + 1);
            let mut tokens = line.split_ascii_whitespace();
            let id = tokens.next().and_then(|t| t.parse::<u64>().ok());
            let kind = match tokens.next() {
                Some(t) => t.parse::<i32>().ok(),
                None => Some(1),
            };
            match (id, kind, tokens.next()) {
                (Some(id), Some(kind), None) => {
                    members.particle_ids.push(id);
                    members.particle_types.push(kind);
                }
                _ => return Err(malformed(path, here, format!("expected `particle_id type`, got `{line}`"))),
            }
        }
        halos.push(members);
    }
    if let Some(n) = n_halos_announced {
        if n != halos.len() as u64 {
            return Err(malformed(
                path,
                "line 1".into(),
                format!("announces {n} halos, the file holds {}", halos.len()),
            ));
        }
    }
    Ok(halos)
}

/// Reads an `.AHF_particles` file.
pub fn read_ahf_particles(path: &Path) -> Result<Vec<AhfMembers>, SnapshotError> {
    parse_ahf_particles(&read_text(path, "the AHF particle lists")?, path)
}

/// Column names written by [`format_ahf_halos`], AHF's first columns plus the baryonic ones galmass reads.
pub const WRITTEN_COLUMNS: [&str; 19] = [
    "ID",
    "hostHalo",
    "numSubStruct",
    "Mvir",
    "npart",
    "Xc",
    "Yc",
    "Zc",
    "VXc",
    "VYc",
    "VZc",
    "Rvir",
    "fMhires",
    "n_gas",
    "M_gas",
    "n_star",
    "M_star",
    "lambda",
    "cNFW",
];

/// Formats halos as an `.AHF_halos` table (columns [`WRITTEN_COLUMNS`]; `lambda` and `cNFW` written as 0).
pub fn format_ahf_halos(halos: &[AhfHalo]) -> String {
    let mut out = String::from("#");
    for (k, name) in WRITTEN_COLUMNS.iter().enumerate() {
        out.push_str(&format!("{name}({})", k + 1));
        out.push(if k + 1 == WRITTEN_COLUMNS.len() { '\n' } else { '\t' });
    }
    for h in halos {
        let values = [
            h.id.to_string(),
            h.host_halo.to_string(),
            "0".into(),
            format!("{:e}", h.mvir_msun_h),
            h.n_particles.to_string(),
            format!("{:e}", h.center_kpc_h[0]),
            format!("{:e}", h.center_kpc_h[1]),
            format!("{:e}", h.center_kpc_h[2]),
            format!("{:e}", h.velocity_kms[0]),
            format!("{:e}", h.velocity_kms[1]),
            format!("{:e}", h.velocity_kms[2]),
            format!("{:e}", h.rvir_kpc_h),
            format!("{:e}", h.f_mhires.unwrap_or(1.0)),
            h.n_gas.unwrap_or(0).to_string(),
            format!("{:e}", h.m_gas_msun_h.unwrap_or(0.0)),
            h.n_star.unwrap_or(0).to_string(),
            format!("{:e}", h.m_star_msun_h.unwrap_or(0.0)),
            "0".into(),
            "0".into(),
        ];
        out.push_str(&values.join("\t"));
        out.push('\n');
    }
    out
}

/// Formats particle lists as an `.AHF_particles` file (number of halos first).
pub fn format_ahf_particles(halos: &[AhfMembers]) -> String {
    let mut out = format!("{}\n", halos.len());
    for h in halos {
        out.push_str(&format!("{} {}\n", h.particle_ids.len(), h.halo_id));
        for (id, kind) in h.particle_ids.iter().zip(&h.particle_types) {
            out.push_str(&format!("{id} {kind}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ahf_ids_count_dark_then_stars_then_gas() {
        let header = TipsyHeader {
            time: 1.0,
            n_total: 6,
            n_gas: 1,
            n_dark: 2,
            n_star: 3,
            byte_order: crate::tipsy::format::ByteOrder::Big,
        };
        // file order: g0 d0 d1 s0 s1 s2; AHF order: d0 d1 s0 s1 s2 g0
        let file: Vec<u64> = (0..6).map(|id| ahf_id_to_file_index(id, &header).unwrap()).collect();
        assert_eq!(file, vec![1, 2, 3, 4, 5, 0]);
        for index in 0..6 {
            assert_eq!(ahf_id_to_file_index(file_index_to_ahf_id(index, &header).unwrap(), &header), Some(index));
        }
        assert_eq!(ahf_id_to_file_index(6, &header), None);
    }

    #[test]
    fn particle_lists_round_trip_and_reject_short_files() {
        let halos = vec![
            AhfMembers { halo_id: 0, particle_ids: vec![5, 1, 9], particle_types: vec![1, 0, 4] },
            AhfMembers { halo_id: 3, particle_ids: vec![], particle_types: vec![] },
        ];
        let text = format_ahf_particles(&halos);
        assert_eq!(parse_ahf_particles(&text, "x".as_ref()).unwrap(), halos);
        let no_count = text.split_once('\n').unwrap().1;
        assert_eq!(parse_ahf_particles(no_count, "x".as_ref()).unwrap(), halos);
        let short = parse_ahf_particles("1\n3 0\n1 1\n", "x".as_ref());
        assert!(
            matches!(&short, Err(SnapshotError::Malformed { reason, .. }) if reason.contains("announces 3 particles")),
            "{short:?}"
        );
        let mpi = parse_ahf_particles("1\n1 0\n5 1\n1\n1 7\n6 4\n", "x".as_ref()).unwrap();
        assert_eq!(mpi.iter().map(|h| h.halo_id).collect::<Vec<_>>(), vec![0, 7]);
    }

    #[test]
    fn halo_tables_round_trip_and_name_missing_columns() {
        let halo = AhfHalo {
            id: 12,
            host_halo: -1,
            n_particles: 30,
            mvir_msun_h: 1.5e12,
            rvir_kpc_h: 210.0,
            center_kpc_h: [1.0, -2.0, 3.5],
            velocity_kms: [10.0, 0.0, -5.0],
            f_mhires: Some(1.0),
            n_gas: Some(10),
            m_gas_msun_h: Some(1e10),
            n_star: Some(5),
            m_star_msun_h: Some(2e10),
        };
        let parsed = parse_ahf_halos(&format_ahf_halos(std::slice::from_ref(&halo)), "x".as_ref()).unwrap();
        assert_eq!(parsed.halos, vec![halo]);
        assert_eq!(parsed.columns.len(), WRITTEN_COLUMNS.len());
        let missing = parse_ahf_halos("#ID(1) hostHalo(2)\n1 2\n", "x".as_ref());
        assert!(matches!(missing, Err(SnapshotError::Missing { kind: "column", .. })));
    }
}
