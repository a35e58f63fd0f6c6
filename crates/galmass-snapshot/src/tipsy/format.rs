//! The standard tipsy binary layout: the 32-byte header, the byte order, the record layouts (single precision, or
//! double-precision positions and velocities) and the decoding of records.
//!
//! ```
//! use galmass_snapshot::tipsy::format::{parse_header, ByteOrder, TipsyPrecision};
//! use galmass_core::Species;
//! let mut header = Vec::new();
//! header.extend_from_slice(&0.5f64.to_be_bytes());
//! for count in [3i32, 3, 1, 1, 1, 0] {
//!     header.extend_from_slice(&count.to_be_bytes());
//! }
//! let parsed = parse_header(&header, "snap".as_ref()).unwrap();
//! assert_eq!(parsed.byte_order, ByteOrder::Big);
//! assert_eq!(parsed.data_bytes(TipsyPrecision::Single), 48 + 36 + 44);
//! assert_eq!(parsed.count(Species::Dm), 1);
//! ```

use std::path::Path;

use galmass_core::Species;

use crate::error::SnapshotError;

/// Bytes of the tipsy header.
pub const HEADER_BYTES: u64 = 32;

/// Byte order of a tipsy file and of its binary auxiliary arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ByteOrder {
    /// Big-endian ("standard" tipsy, as Gasoline and ChaNGa write it).
    Big,
    /// Little-endian (native tipsy on x86).
    Little,
}

impl ByteOrder {
    /// Decodes an `i32`.
    pub fn i32(self, bytes: [u8; 4]) -> i32 {
        match self {
            ByteOrder::Big => i32::from_be_bytes(bytes),
            ByteOrder::Little => i32::from_le_bytes(bytes),
        }
    }

    /// Decodes an `f32`.
    pub fn f32(self, bytes: [u8; 4]) -> f32 {
        f32::from_bits(self.i32(bytes) as u32)
    }

    /// Decodes an `i64`.
    pub fn i64(self, bytes: [u8; 8]) -> i64 {
        match self {
            ByteOrder::Big => i64::from_be_bytes(bytes),
            ByteOrder::Little => i64::from_le_bytes(bytes),
        }
    }

    /// Decodes an `f64`.
    pub fn f64(self, bytes: [u8; 8]) -> f64 {
        f64::from_bits(self.i64(bytes) as u64)
    }
}

/// Precision of positions and velocities in the particle records (masses and the other fields are always `f32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TipsyPrecision {
    /// Every field `f32` (the standard layout).
    Single,
    /// Positions `f64` (ChaNGa/Gasoline `bDoublePos = 1`), velocities `f32`.
    DoublePositions,
    /// Positions and velocities `f64` (`bDoublePos = 1`, `bDoubleVel = 1`).
    DoublePositionsAndVelocities,
}

impl TipsyPrecision {
    /// Every layout, in the order file-size detection tries them.
    pub const ALL: [TipsyPrecision; 3] =
        [TipsyPrecision::Single, TipsyPrecision::DoublePositions, TipsyPrecision::DoublePositionsAndVelocities];

    /// Bytes of one position or velocity component.
    pub fn component_bytes(self) -> (u64, u64) {
        match self {
            TipsyPrecision::Single => (4, 4),
            TipsyPrecision::DoublePositions => (8, 4),
            TipsyPrecision::DoublePositionsAndVelocities => (8, 8),
        }
    }

    /// Bytes of one record of a species (0 for black holes, which tipsy has no family for).
    pub fn record_bytes(self, species: Species) -> u64 {
        let (pos, vel) = self.component_bytes();
        let other_f32 = match species {
            Species::Gas => 6,
            Species::Dm => 3,
            Species::Stars => 5,
            Species::Bh => return 0,
        };
        4 * other_f32 + 3 * pos + 3 * vel
    }
}

/// The tipsy header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TipsyHeader {
    /// Simulation time: the scale factor in comoving runs, else time in code units.
    pub time: f64,
    /// Total particles.
    pub n_total: u64,
    /// Gas particles.
    pub n_gas: u64,
    /// Dark-matter particles.
    pub n_dark: u64,
    /// Star particles.
    pub n_star: u64,
    /// Byte order, detected from `ndim`.
    pub byte_order: ByteOrder,
}

impl TipsyHeader {
    /// Particles of a species (0 for black holes).
    pub fn count(&self, species: Species) -> u64 {
        match species {
            Species::Gas => self.n_gas,
            Species::Dm => self.n_dark,
            Species::Stars => self.n_star,
            Species::Bh => 0,
        }
    }

    /// Bytes of the particle records of every species (counts fit in 40 bits, so this cannot overflow).
    pub fn data_bytes(&self, precision: TipsyPrecision) -> u64 {
        [Species::Gas, Species::Dm, Species::Stars].iter().map(|&s| self.count(s) * precision.record_bytes(s)).sum()
    }

    /// Offset in the file of the first record of a species (file order: gas, dark, stars).
    pub fn species_offset(&self, species: Species, precision: TipsyPrecision) -> u64 {
        let before: &[Species] = match species {
            Species::Gas => &[],
            Species::Dm => &[Species::Gas],
            Species::Stars | Species::Bh => &[Species::Gas, Species::Dm],
        };
        HEADER_BYTES + before.iter().map(|&s| self.count(s) * precision.record_bytes(s)).sum::<u64>()
    }

    /// Index in the whole file of the first particle of a species (the index AHF uses for tipsy input).
    pub fn species_first_index(&self, species: Species) -> u64 {
        match species {
            Species::Gas => 0,
            Species::Dm => self.n_gas,
            Species::Stars | Species::Bh => self.n_gas + self.n_dark,
        }
    }

    /// Encodes the header (pad 0; counts must fit in `i32`).
    pub fn to_bytes(&self, path: &Path) -> Result<[u8; 32], SnapshotError> {
        let mut out = [0u8; 32];
        let fields = [self.n_total, 3, self.n_gas, self.n_dark, self.n_star, 0];
        let mut ints = [0i32; 6];
        for (slot, &value) in ints.iter_mut().zip(fields.iter()) {
            *slot = i32::try_from(value).map_err(|_| SnapshotError::Malformed {
                path: path.to_owned(),
                field: "header".into(),
                reason: format!("count {value} does not fit in a 32-bit tipsy header"),
            })?;
        }
        let time = match self.byte_order {
            ByteOrder::Big => self.time.to_be_bytes(),
            ByteOrder::Little => self.time.to_le_bytes(),
        };
        out[..8].copy_from_slice(&time);
        for (k, value) in ints.iter().enumerate() {
            let bytes = match self.byte_order {
                ByteOrder::Big => value.to_be_bytes(),
                ByteOrder::Little => value.to_le_bytes(),
            };
            out[8 + 4 * k..12 + 4 * k].copy_from_slice(&bytes);
        }
        Ok(out)
    }
}

fn word(bytes: &[u8], k: usize) -> [u8; 4] {
    let mut w = [0u8; 4];
    w.copy_from_slice(&bytes[8 + 4 * k..12 + 4 * k]);
    w
}

/// Parses the 32-byte header. The byte order is the one in which `ndim` reads 3 (little-endian tried first);
/// negative counts are [`SnapshotError::Malformed`]; counts above 2^31 use the pad word's high bytes as pynbody
/// does (when `n != nsph + ndark + nstar`).
pub fn parse_header(bytes: &[u8], path: &Path) -> Result<TipsyHeader, SnapshotError> {
    if bytes.len() < HEADER_BYTES as usize {
        return Err(SnapshotError::Truncated {
            path: path.to_owned(),
            field: "header".into(),
            expected_bytes: HEADER_BYTES,
            got_bytes: bytes.len() as u64,
        });
    }
    let byte_order = if ByteOrder::Little.i32(word(bytes, 1)) == 3 {
        ByteOrder::Little
    } else if ByteOrder::Big.i32(word(bytes, 1)) == 3 {
        ByteOrder::Big
    } else {
        return Err(SnapshotError::Malformed {
            path: path.to_owned(),
            field: "header.ndim".into(),
            reason: format!(
                "ndim is 3 in neither byte order (little-endian {}, big-endian {}): not a tipsy file",
                ByteOrder::Little.i32(word(bytes, 1)),
                ByteOrder::Big.i32(word(bytes, 1))
            ),
        });
    };
    let mut time_bytes = [0u8; 8];
    time_bytes.copy_from_slice(&bytes[..8]);
    let time = byte_order.f64(time_bytes);
    let names = ["header.n", "header.ndim", "header.nsph", "header.ndark", "header.nstar"];
    let mut counts = [0u64; 5];
    for (k, name) in names.iter().enumerate() {
        let value = byte_order.i32(word(bytes, k));
        if value < 0 {
            return Err(SnapshotError::Malformed {
                path: path.to_owned(),
                field: (*name).into(),
                reason: format!("negative count {value}"),
            });
        }
        counts[k] = value as u64;
    }
    let [mut n, _, mut n_gas, mut n_dark, mut n_star] = counts;
    if n == 0 || n != n_gas + n_dark + n_star {
        let pad = byte_order.i32(word(bytes, 5)) as u32 as u64;
        n += (pad & 0xff) << 32;
        n_gas += (pad & 0xff00) << 24;
        n_dark += (pad & 0x00ff_0000) << 16;
        n_star += (pad & 0xff00_0000) << 8;
    }
    if n != n_gas + n_dark + n_star {
        return Err(SnapshotError::Malformed {
            path: path.to_owned(),
            field: "header.n".into(),
            reason: format!("n = {n} but nsph + ndark + nstar = {}", n_gas + n_dark + n_star),
        });
    }
    if !time.is_finite() {
        return Err(SnapshotError::Malformed {
            path: path.to_owned(),
            field: "header.time".into(),
            reason: format!("time is {time}"),
        });
    }
    Ok(TipsyHeader { time, n_total: n, n_gas, n_dark, n_star, byte_order })
}

/// Chooses the record layout: `requested` when given, else the one whose size equals the file's data bytes
/// (single precision first). A file shorter than the layout needs is [`SnapshotError::Truncated`]; one longer, or
/// matching no layout, is [`SnapshotError::Malformed`].
pub fn resolve_precision(
    header: &TipsyHeader,
    file_bytes: u64,
    requested: Option<TipsyPrecision>,
    path: &Path,
) -> Result<TipsyPrecision, SnapshotError> {
    let data_bytes = file_bytes.saturating_sub(HEADER_BYTES);
    let precision = match requested {
        Some(p) => p,
        None => match TipsyPrecision::ALL.iter().find(|p| header.data_bytes(**p) == data_bytes) {
            Some(p) => *p,
            None => TipsyPrecision::Single,
        },
    };
    let needed = HEADER_BYTES + header.data_bytes(precision);
    if file_bytes < needed {
        return Err(SnapshotError::Truncated {
            path: path.to_owned(),
            field: "particle records".into(),
            expected_bytes: needed,
            got_bytes: file_bytes,
        });
    }
    if file_bytes > needed {
        return Err(SnapshotError::Malformed {
            path: path.to_owned(),
            field: "particle records".into(),
            reason: format!(
                "{file_bytes} bytes, but the counts imply {needed} with {precision:?} precision (and match no other layout)"
            ),
        });
    }
    Ok(precision)
}

/// Raw fields of decoded records, in code units, `f64`.
#[derive(Debug, Clone, Default)]
pub struct RawRecords {
    /// Masses.
    pub mass: Vec<f64>,
    /// Positions, (N, 3) row-major.
    pub pos: Vec<f64>,
    /// Velocities, (N, 3) row-major.
    pub vel: Vec<f64>,
    /// The remaining `f32` fields by name, in record order (gas: rho, temp, eps, metals, phi; dark: eps, phi;
    /// stars: metals, tform, eps, phi).
    pub extra: Vec<(&'static str, Vec<f64>)>,
}

/// Names of the fields after mass, pos and vel in each species' record.
pub fn extra_field_names(species: Species) -> &'static [&'static str] {
    match species {
        Species::Gas => &["rho", "temp", "eps", "metals", "phi"],
        Species::Dm => &["eps", "phi"],
        Species::Stars => &["metals", "tform", "eps", "phi"],
        Species::Bh => &[],
    }
}

/// Decodes whole records of a species (the byte slice must hold a whole number of records).
pub fn decode_records(
    bytes: &[u8],
    species: Species,
    precision: TipsyPrecision,
    order: ByteOrder,
    out: &mut RawRecords,
) {
    let record = precision.record_bytes(species) as usize;
    if record == 0 {
        return;
    }
    let (pos_bytes, vel_bytes) = precision.component_bytes();
    let names = extra_field_names(species);
    if out.extra.is_empty() {
        out.extra = names.iter().map(|&n| (n, Vec::new())).collect();
    }
    let f32_at = |chunk: &[u8], at: usize| -> f64 {
        let mut w = [0u8; 4];
        w.copy_from_slice(&chunk[at..at + 4]);
        order.f32(w) as f64
    };
    let f64_at = |chunk: &[u8], at: usize| -> f64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&chunk[at..at + 8]);
        order.f64(w)
    };
    let component =
        |chunk: &[u8], at: usize, width: u64| if width == 8 { f64_at(chunk, at) } else { f32_at(chunk, at) };
    for chunk in bytes.chunks_exact(record) {
        out.mass.push(f32_at(chunk, 0));
        let mut at = 4;
        for _ in 0..3 {
            out.pos.push(component(chunk, at, pos_bytes));
            at += pos_bytes as usize;
        }
        for _ in 0..3 {
            out.vel.push(component(chunk, at, vel_bytes));
            at += vel_bytes as usize;
        }
        for (_, values) in out.extra.iter_mut() {
            values.push(f32_at(chunk, at));
            at += 4;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_bytes(order: ByteOrder, counts: [i32; 6]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&match order {
            ByteOrder::Big => 0.25f64.to_be_bytes(),
            ByteOrder::Little => 0.25f64.to_le_bytes(),
        });
        for c in counts {
            out.extend_from_slice(&match order {
                ByteOrder::Big => c.to_be_bytes(),
                ByteOrder::Little => c.to_le_bytes(),
            });
        }
        out
    }

    #[test]
    fn both_byte_orders_are_detected_and_round_trip() {
        for order in [ByteOrder::Big, ByteOrder::Little] {
            let h = parse_header(&header_bytes(order, [6, 3, 1, 2, 3, 0]), "x".as_ref()).unwrap();
            assert_eq!(h.byte_order, order);
            assert_eq!((h.n_total, h.n_gas, h.n_dark, h.n_star), (6, 1, 2, 3));
            assert_eq!(h.time, 0.25);
            assert_eq!(h.to_bytes("x".as_ref()).unwrap().to_vec(), header_bytes(order, [6, 3, 1, 2, 3, 0]));
        }
    }

    #[test]
    fn bad_headers_are_typed_errors() {
        let bad_ndim = parse_header(&header_bytes(ByteOrder::Big, [6, 2, 1, 2, 3, 0]), "x".as_ref());
        assert!(matches!(bad_ndim, Err(SnapshotError::Malformed { ref field, .. }) if field == "header.ndim"));
        let negative = parse_header(&header_bytes(ByteOrder::Big, [6, 3, -1, 2, 3, 0]), "x".as_ref());
        assert!(matches!(negative, Err(SnapshotError::Malformed { ref field, .. }) if field == "header.nsph"));
        let inconsistent = parse_header(&header_bytes(ByteOrder::Big, [7, 3, 1, 2, 3, 0]), "x".as_ref());
        assert!(matches!(inconsistent, Err(SnapshotError::Malformed { ref field, .. }) if field == "header.n"));
        let short = parse_header(&[0u8; 10], "x".as_ref());
        assert!(matches!(short, Err(SnapshotError::Truncated { expected_bytes: 32, got_bytes: 10, .. })));
    }

    #[test]
    fn record_sizes_and_precision_detection_from_the_file_size() {
        assert_eq!(TipsyPrecision::Single.record_bytes(Species::Gas), 48);
        assert_eq!(TipsyPrecision::Single.record_bytes(Species::Dm), 36);
        assert_eq!(TipsyPrecision::Single.record_bytes(Species::Stars), 44);
        assert_eq!(TipsyPrecision::DoublePositions.record_bytes(Species::Dm), 48);
        assert_eq!(TipsyPrecision::DoublePositionsAndVelocities.record_bytes(Species::Stars), 68);
        let h = parse_header(&header_bytes(ByteOrder::Big, [6, 3, 1, 2, 3, 0]), "x".as_ref()).unwrap();
        for p in TipsyPrecision::ALL {
            let size = 32 + h.data_bytes(p);
            assert_eq!(resolve_precision(&h, size, None, "x".as_ref()).unwrap(), p);
        }
        let short = resolve_precision(&h, 40, None, "x".as_ref());
        assert!(matches!(short, Err(SnapshotError::Truncated { .. })));
        let long = resolve_precision(&h, 32 + h.data_bytes(TipsyPrecision::Single) + 1, None, "x".as_ref());
        assert!(matches!(long, Err(SnapshotError::Malformed { .. })));
    }
}
