//! A small numeric CSV reader for feature tables: a header row of column names, then comma-separated numbers.
//!
//! Empty cells and `NaN`/`nan` (any case, also `NA`) read as NaN, surrounding spaces and a trailing `\r` are
//! ignored, blank lines are skipped. No quoting: names and numbers never contain commas here. A cell that is not a
//! number is an error naming the file, line and column; so is a row with the wrong number of cells.
//!
//! ```
//! use galmass_estimators::gbdt::table::Table;
//! let t = Table::parse("M_r,g_r,y\n-21.5,0.6,10.2\n-20.0,,9.8\n", "t.csv").unwrap();
//! assert_eq!(t.columns(), ["M_r", "g_r", "y"]);
//! assert_eq!(t.num_rows(), 2);
//! assert!(t.values()[[1, 1]].is_nan());
//! let (x, names) = t.select(&["g_r".to_string(), "M_r".to_string()]).unwrap();
//! assert_eq!(x[[0, 1]], -21.5);
//! assert_eq!(names, ["g_r", "M_r"]);
//! let err = Table::parse("a,b\n1,x\n", "bad.csv").unwrap_err();
//! assert!(err.to_string().contains("bad.csv: line 2, column 2 (`b`)"));
//! ```

use std::path::Path;

use ndarray::Array2;

use super::error::GbdtError;

/// A numeric table read from CSV: column names and a rows x columns matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    columns: Vec<String>,
    values: Array2<f64>,
    source_name: String,
}

fn parse_cell(cell: &str) -> Option<f64> {
    let t = cell.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("nan") || t.eq_ignore_ascii_case("na") {
        return Some(f64::NAN);
    }
    t.parse::<f64>().ok()
}

impl Table {
    /// Reads a CSV file.
    pub fn read(path: &Path) -> Result<Table, GbdtError> {
        let text = std::fs::read_to_string(path).map_err(|source| GbdtError::Io { path: path.to_owned(), source })?;
        Table::parse(&text, &path.display().to_string())
    }

    /// Parses CSV text; `source_name` labels errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Table, GbdtError> {
        let csv_err = |reason: String| GbdtError::Csv { source_name: source_name.into(), reason };
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let Some((_, header)) = lines.next() else {
            return Err(csv_err("empty file: expected a header row".into()));
        };
        let header = header.strip_prefix('\u{feff}').unwrap_or(header);
        let columns: Vec<String> = header.split(',').map(|c| c.trim().trim_matches('"').to_string()).collect();
        for (i, c) in columns.iter().enumerate() {
            if c.is_empty() {
                return Err(csv_err(format!("line 1: column {} has an empty name", i + 1)));
            }
            if columns[..i].contains(c) {
                return Err(csv_err(format!("line 1: column name `{c}` appears twice")));
            }
        }
        let n_cols = columns.len();
        let mut data: Vec<f64> = Vec::with_capacity(text.len() / 8);
        let mut n_rows = 0usize;
        for (line_idx, line) in lines {
            let mut n_cells = 0usize;
            for (col, cell) in line.split(',').enumerate() {
                n_cells += 1;
                if col >= n_cols {
                    continue;
                }
                let value = parse_cell(cell).ok_or_else(|| GbdtError::CsvCell {
                    source_name: source_name.into(),
                    line: line_idx + 1,
                    column: col + 1,
                    column_name: columns[col].clone(),
                    value: cell.trim().to_string(),
                })?;
                data.push(value);
            }
            if n_cells != n_cols {
                return Err(csv_err(format!(
                    "line {}: expected {n_cols} cells (as the header), got {n_cells}",
                    line_idx + 1
                )));
            }
            n_rows += 1;
        }
        let values = Array2::from_shape_vec((n_rows, n_cols), data).map_err(|e| csv_err(e.to_string()))?;
        Ok(Table { columns, values, source_name: source_name.into() })
    }

    /// Column names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The rows x columns values.
    pub fn values(&self) -> &Array2<f64> {
        &self.values
    }

    /// Number of data rows.
    pub fn num_rows(&self) -> usize {
        self.values.nrows()
    }

    /// Index of a column.
    pub fn column_index(&self, name: &str) -> Result<usize, GbdtError> {
        self.columns.iter().position(|c| c == name).ok_or_else(|| GbdtError::Csv {
            source_name: self.source_name.clone(),
            reason: format!("no column `{name}` (columns: {})", self.columns.join(", ")),
        })
    }

    /// One column's values.
    pub fn column(&self, name: &str) -> Result<Vec<f64>, GbdtError> {
        let j = self.column_index(name)?;
        Ok(self.values.column(j).to_vec())
    }

    /// The named columns as a rows x names matrix (row-major), with the names.
    pub fn select(&self, names: &[String]) -> Result<(Array2<f64>, Vec<String>), GbdtError> {
        let idx: Vec<usize> = names.iter().map(|n| self.column_index(n)).collect::<Result<_, _>>()?;
        let out = Array2::from_shape_fn((self.num_rows(), idx.len()), |(i, k)| self.values[[i, idx[k]]]);
        Ok((out, names.to_vec()))
    }

    /// Every column except those named in `exclude`, in file order.
    pub fn columns_except(&self, exclude: &[&str]) -> Vec<String> {
        self.columns.iter().filter(|c| !exclude.contains(&c.as_str())).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_nan_spellings_blank_lines_and_crlf() {
        let t = Table::parse("a, b ,c\r\n1,NaN, 2.5e3\r\n\r\n-0.5,nan,\r\n3,NA,4\n", "x.csv").unwrap();
        assert_eq!(t.columns(), ["a", "b", "c"]);
        assert_eq!(t.num_rows(), 3);
        assert_eq!(t.values()[[0, 2]], 2500.0);
        assert!(t.values()[[1, 1]].is_nan() && t.values()[[1, 2]].is_nan() && t.values()[[2, 1]].is_nan());
    }

    #[test]
    fn malformed_tables_are_typed_errors() {
        assert!(matches!(Table::parse("", "e.csv"), Err(GbdtError::Csv { .. })));
        assert!(matches!(Table::parse("a,a\n1,2\n", "d.csv"), Err(GbdtError::Csv { .. })));
        let err = Table::parse("a,b\n1,2\n3\n", "r.csv").unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        let err = Table::parse("a,b\n1,2\n3,4,5\n", "r.csv").unwrap_err();
        assert!(err.to_string().contains("got 3"), "{err}");
        match Table::parse("a,b\n1,2\n3,4x\n", "c.csv") {
            Err(GbdtError::CsvCell { line, column, column_name, value, .. }) => {
                assert_eq!((line, column, column_name.as_str(), value.as_str()), (3, 2, "b", "4x"));
            }
            other => panic!("{other:?}"),
        }
        let t = Table::parse("a,b\n1,2\n", "t.csv").unwrap();
        assert!(t.column_index("z").unwrap_err().to_string().contains("no column `z`"));
        assert!(matches!(Table::read(Path::new("/nonexistent/t.csv")), Err(GbdtError::Io { .. })));
    }
}
