//! Auxiliary arrays `<snap>.<name>`: one value per particle of the whole file (gas, dark, stars in file order).
//!
//! Binary: an `i32` count, then `count` 4-byte values (`i32` or `f32`; 8-byte `i64`/`f64` when the file size says
//! so), in the snapshot's byte order. ASCII: the count on the first line, then one value per line (any whitespace
//! separates). Integer arrays are recognised by name as pynbody does (`iord`, `igasorder`, `grp`, and names ending
//! in `.grp` such as `amiga.grp`); every other name holds floats.
//!
//! The `.HI` array (Gasoline/ChaNGa) is the number of HI atoms per proton mass of gas, so that the HI mass of a gas
//! particle is `mass x HI` (galmass's convention: HI mass fraction of the particle's total mass).
//!
//! ```
//! use galmass_snapshot::tipsy::auxiliary::{parse_aux_array, AuxKind, AuxValues};
//! use galmass_snapshot::tipsy::format::ByteOrder;
//! let ascii = b"3\n1\n2\n3\n";
//! let values = parse_aux_array(ascii, 3, ByteOrder::Big, AuxKind::Int, "snap.iord".as_ref()).unwrap();
//! assert_eq!(values, AuxValues::Int(vec![1, 2, 3]));
//! ```

use std::path::Path;

use crate::error::SnapshotError;
use crate::tipsy::format::ByteOrder;

/// Integer or floating-point values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuxKind {
    /// Integers (`iord`, group numbers).
    Int,
    /// Floats (`HI`, `OxMassFrac`, ...).
    Float,
}

impl AuxKind {
    /// The kind pynbody 2.8 assumes for a binary array of this name (`binary-int-arrays: iord, igasorder, grp`).
    pub fn for_name(name: &str) -> Self {
        let last = name.rsplit('.').next().unwrap_or(name);
        if matches!(last, "iord" | "igasorder" | "grp") {
            AuxKind::Int
        } else {
            AuxKind::Float
        }
    }
}

/// The values of an auxiliary array.
#[derive(Debug, Clone, PartialEq)]
pub enum AuxValues {
    /// Integer values.
    Int(Vec<i64>),
    /// Float values.
    Float(Vec<f64>),
}

impl AuxValues {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            AuxValues::Int(v) => v.len(),
            AuxValues::Float(v) => v.len(),
        }
    }

    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as floats.
    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            AuxValues::Int(v) => v.iter().map(|&x| x as f64).collect(),
            AuxValues::Float(v) => v.clone(),
        }
    }
}

fn malformed(path: &Path, field: &str, reason: String) -> SnapshotError {
    SnapshotError::Malformed { path: path.to_owned(), field: field.to_owned(), reason }
}

/// Parses the bytes of an auxiliary array that must hold `n_expected` values. Binary is recognised by its count
/// word equal to `n_expected` (a binary file too short for its count is [`SnapshotError::Truncated`]); anything else
/// is read as ASCII.
pub fn parse_aux_array(
    bytes: &[u8],
    n_expected: u64,
    order: ByteOrder,
    kind: AuxKind,
    path: &Path,
) -> Result<AuxValues, SnapshotError> {
    if bytes.len() >= 4 {
        let mut w = [0u8; 4];
        w.copy_from_slice(&bytes[..4]);
        let count = order.i32(w);
        if count >= 0 && count as u64 == n_expected {
            let body = bytes.len() as u64 - 4;
            let width = if body == 8 * n_expected && n_expected > 0 { 8 } else { 4 };
            let needed = 4 + width * n_expected;
            if (bytes.len() as u64) < needed {
                return Err(SnapshotError::Truncated {
                    path: path.to_owned(),
                    field: "auxiliary array".into(),
                    expected_bytes: needed,
                    got_bytes: bytes.len() as u64,
                });
            }
            let body = &bytes[4..needed as usize];
            return Ok(decode_binary(body, width as usize, order, kind));
        }
    }
    parse_ascii(bytes, n_expected, kind, path)
}

fn decode_binary(body: &[u8], width: usize, order: ByteOrder, kind: AuxKind) -> AuxValues {
    let four = |c: &[u8]| {
        let mut w = [0u8; 4];
        w.copy_from_slice(c);
        w
    };
    let eight = |c: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        w
    };
    match (kind, width) {
        (AuxKind::Int, 4) => AuxValues::Int(body.chunks_exact(4).map(|c| order.i32(four(c)) as i64).collect()),
        (AuxKind::Int, _) => AuxValues::Int(body.chunks_exact(8).map(|c| order.i64(eight(c))).collect()),
        (AuxKind::Float, 4) => AuxValues::Float(body.chunks_exact(4).map(|c| order.f32(four(c)) as f64).collect()),
        (AuxKind::Float, _) => AuxValues::Float(body.chunks_exact(8).map(|c| order.f64(eight(c))).collect()),
    }
}

fn parse_ascii(bytes: &[u8], n_expected: u64, kind: AuxKind, path: &Path) -> Result<AuxValues, SnapshotError> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(malformed(
            path,
            "count",
            format!("neither a binary array with count {n_expected} in the snapshot's byte order nor ASCII text"),
        ));
    };
    let mut tokens = text.split_ascii_whitespace();
    let count = tokens.next().and_then(|t| t.parse::<u64>().ok());
    if count != Some(n_expected) {
        return Err(malformed(
            path,
            "count",
            format!("first value is not the particle count {n_expected} (binary or ASCII)"),
        ));
    }
    let mut ints = Vec::new();
    let mut floats = Vec::new();
    for (index, token) in tokens.enumerate() {
        if index as u64 >= n_expected {
            return Err(malformed(path, "values", format!("more than the {n_expected} values announced")));
        }
        match kind {
            AuxKind::Int => {
                let value = token.parse::<i64>().ok().or_else(|| {
                    token.parse::<f64>().ok().filter(|v| v.fract() == 0.0 && v.abs() < 9.0e15).map(|v| v as i64)
                });
                match value {
                    Some(v) => ints.push(v),
                    None => {
                        return Err(malformed(path, &format!("value {index}"), format!("`{token}` is not an integer")))
                    }
                }
            }
            AuxKind::Float => match token.parse::<f64>() {
                Ok(v) => floats.push(v),
                Err(_) => return Err(malformed(path, &format!("value {index}"), format!("`{token}` is not a number"))),
            },
        }
    }
    let got = (ints.len() + floats.len()) as u64;
    if got != n_expected {
        return Err(malformed(path, "values", format!("{got} values, the count says {n_expected}")));
    }
    Ok(match kind {
        AuxKind::Int => AuxValues::Int(ints),
        AuxKind::Float => AuxValues::Float(floats),
    })
}

/// Reads an auxiliary array file (see [`parse_aux_array`]).
pub fn read_aux_array(
    path: &Path,
    n_expected: u64,
    order: ByteOrder,
    kind: AuxKind,
) -> Result<AuxValues, SnapshotError> {
    let bytes = std::fs::read(path).map_err(|source| SnapshotError::Io {
        path: path.to_owned(),
        context: "reading an auxiliary array".into(),
        source,
    })?;
    parse_aux_array(&bytes, n_expected, order, kind, path)
}

/// Encodes a binary auxiliary array: `i32` count then 4-byte values (`i32` for integers, which must fit; `f32`).
pub fn encode_binary(values: &AuxValues, order: ByteOrder, path: &Path) -> Result<Vec<u8>, SnapshotError> {
    let count = i32::try_from(values.len())
        .map_err(|_| malformed(path, "count", format!("{} values do not fit in an i32 count", values.len())))?;
    let mut out = Vec::with_capacity(4 + 4 * values.len());
    let push = |out: &mut Vec<u8>, word: i32| match order {
        ByteOrder::Big => out.extend_from_slice(&word.to_be_bytes()),
        ByteOrder::Little => out.extend_from_slice(&word.to_le_bytes()),
    };
    push(&mut out, count);
    match values {
        AuxValues::Int(v) => {
            for (index, &x) in v.iter().enumerate() {
                let word = i32::try_from(x)
                    .map_err(|_| malformed(path, &format!("value {index}"), format!("{x} does not fit in an i32")))?;
                push(&mut out, word);
            }
        }
        AuxValues::Float(v) => {
            for &x in v {
                push(&mut out, (x as f32).to_bits() as i32);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name_follow_pynbody() {
        assert_eq!(AuxKind::for_name("iord"), AuxKind::Int);
        assert_eq!(AuxKind::for_name("amiga.grp"), AuxKind::Int);
        assert_eq!(AuxKind::for_name("HI"), AuxKind::Float);
    }

    #[test]
    fn binary_round_trip_in_both_byte_orders() {
        for order in [ByteOrder::Big, ByteOrder::Little] {
            let ints = AuxValues::Int(vec![0, -5, 7]);
            let bytes = encode_binary(&ints, order, "x".as_ref()).unwrap();
            assert_eq!(parse_aux_array(&bytes, 3, order, AuxKind::Int, "x".as_ref()).unwrap(), ints);
            let floats = AuxValues::Float(vec![0.5, -1.25, 3.0]);
            let bytes = encode_binary(&floats, order, "x".as_ref()).unwrap();
            assert_eq!(parse_aux_array(&bytes, 3, order, AuxKind::Float, "x".as_ref()).unwrap(), floats);
            let short = parse_aux_array(&bytes[..9], 3, order, AuxKind::Float, "x".as_ref());
            assert!(matches!(short, Err(SnapshotError::Truncated { expected_bytes: 16, got_bytes: 9, .. })));
        }
    }

    #[test]
    fn ascii_arrays_and_their_errors() {
        let floats = parse_aux_array(b"2\n0.5\n1e-3\n", 2, ByteOrder::Big, AuxKind::Float, "x".as_ref()).unwrap();
        assert_eq!(floats, AuxValues::Float(vec![0.5, 1e-3]));
        let field_of =
            |bytes: &[u8], n: u64| match parse_aux_array(bytes, n, ByteOrder::Big, AuxKind::Int, "x".as_ref()) {
                Err(SnapshotError::Malformed { field, .. }) => field,
                other => panic!("expected a malformed-array error, got {other:?}"),
            };
        assert_eq!(field_of(b"3\n1\n2\n", 3), "values", "too few values");
        assert_eq!(field_of(b"2\n1\nx\n", 2), "value 1", "not an integer");
        assert_eq!(field_of(b"4\n1\n2\n", 2), "count", "a count that is not the particle count");
    }
}
