//! PNG encoding (the pure-Rust `png` crate) and atomic file writes.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::PlotError;

/// The temporary file an atomic write of `path` goes through: same folder (so the rename stays on one file
/// system), name suffixed with `.tmp-<process id>` (so concurrent processes never share one). The same convention as
/// `galmass_core::paths::temporary_path`, which this crate does not depend on.
pub fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

/// Encodes 8-bit RGBA rows as PNG: RGB when every pixel is opaque, RGBA otherwise. No time or text chunks, so equal
/// pixels give equal bytes.
pub(crate) fn encode_png(width: u32, height: u32, rgba: &[u8]) -> Result<Vec<u8>, PlotError> {
    let encode_error = |e: png::EncodingError| PlotError::Encode { reason: e.to_string() };
    let opaque = rgba.chunks_exact(4).all(|p| p[3] == 255);
    let (color, data) = if opaque {
        (png::ColorType::Rgb, rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect::<Vec<u8>>())
    } else {
        (png::ColorType::Rgba, rgba.to_vec())
    };
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(color);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Balanced);
        let mut writer = encoder.write_header().map_err(encode_error)?;
        writer.write_image_data(&data).map_err(encode_error)?;
        writer.finish().map_err(encode_error)?;
    }
    Ok(bytes)
}

/// Writes `bytes` to `path` through [`temporary_path`] and a rename; the temporary file is removed on failure.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    let io_error = |source: io::Error| PlotError::Io { path: path.to_owned(), source };
    if path.file_name().is_none() {
        return Err(io_error(io::Error::new(io::ErrorKind::InvalidInput, "the path names no file")));
    }
    let tmp = temporary_path(path);
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if let Err(source) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io_error(source));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_temporary_file_sits_beside_the_destination() {
        let tmp = temporary_path(Path::new("out/figures/mass.png"));
        assert_eq!(tmp.parent(), Some(Path::new("out/figures")));
        let name = tmp.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(name, format!("mass.png.tmp-{}", std::process::id()));
    }

    #[test]
    fn a_missing_folder_is_an_io_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing/figure.png");
        let err = write_atomically(&path, b"x").unwrap_err();
        assert!(matches!(&err, PlotError::Io { path: p, .. } if *p == path), "{err}");
        assert!(err.to_string().starts_with("could not write "), "{err}");
        assert!(write_atomically(Path::new("/"), b"x").is_err());
    }

    #[test]
    fn opaque_images_are_written_as_rgb() {
        let png = encode_png(1, 1, &[1, 2, 3, 255]).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let reader = decoder.read_info().unwrap();
        assert_eq!(reader.info().color_type, png::ColorType::Rgb);
        let png = encode_png(1, 1, &[1, 2, 3, 4]).unwrap();
        let reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().unwrap();
        assert_eq!(reader.info().color_type, png::ColorType::Rgba);
    }
}
