//! FITS images in and out (CFITSIO through `fitsio`), readable by astropy and DS9.
//!
//! Written images are float64 with a linear world coordinate system describing the grid: for each axis `CTYPEn`
//! (the quantity), `CRPIXn = 1`, `CRVALn` (the first grid point), `CDELTn` (the spacing) and `CUNITn`; numpy (and
//! this crate) index them as `[y, x]`, FITS axis 1 is x. Files are written atomically through
//! `galmass_core::atomic` (a temporary beside the destination, synced and renamed into place; removed on every error
//! path): CFITSIO errors name the destination, and a failed rename is [`MockError::Write`].
//!
//! ```no_run
//! use galmass_mock::fits::{read_image, write_images, FitsImage, AxisWcs};
//! use ndarray::Array2;
//! let data = Array2::<f64>::zeros((64, 64));
//! let axis = AxisWcs { ctype: "X_RH".into(), unit: "".into(), first: -0.5, step: 1.0 / 63.0 };
//! let image = FitsImage { extname: "STAR_XY".into(), data: data.view(), x: axis.clone(), y: axis, keys: vec![] };
//! write_images("maps.fits".as_ref(), &[image])?;
//! let (back, _) = read_image("maps.fits".as_ref(), 0)?;
//! assert_eq!(back.dim(), (64, 64));
//! # Ok::<(), galmass_mock::MockError>(())
//! ```

use std::path::Path;

use fitsio::hdu::HduInfo;
use fitsio::images::{ImageDescription, ImageType};
use fitsio::FitsFile;
use ndarray::{Array2, ArrayView2};

use crate::error::MockError;

/// World coordinates of one image axis.
#[derive(Debug, Clone, PartialEq)]
pub struct AxisWcs {
    /// `CTYPEn`, the quantity along the axis (at most 8 characters by FITS convention).
    pub ctype: String,
    /// `CUNITn`.
    pub unit: String,
    /// `CRVALn`: the coordinate of the first pixel (`CRPIXn` = 1).
    pub first: f64,
    /// `CDELTn`: the spacing.
    pub step: f64,
}

/// One image HDU to write.
#[derive(Debug, Clone)]
pub struct FitsImage<'a> {
    /// `EXTNAME`.
    pub extname: String,
    /// Pixel values, `[y, x]`.
    pub data: ArrayView2<'a, f64>,
    /// FITS axis 1 (array axis 1).
    pub x: AxisWcs,
    /// FITS axis 2 (array axis 0).
    pub y: AxisWcs,
    /// Extra header cards: (keyword, value, comment).
    pub keys: Vec<(String, f64, String)>,
}

fn fits_err(path: &Path, context: &str, source: fitsio::errors::Error) -> MockError {
    MockError::Fits { path: path.to_owned(), context: context.to_owned(), source }
}

/// Writes the images as the primary HDU and image extensions, atomically.
pub fn write_images(path: &Path, images: &[FitsImage<'_>]) -> Result<(), MockError> {
    let Some(first) = images.first() else {
        return Err(MockError::BadInput { name: "images", expected: "at least one image".into(), got: "none".into() });
    };
    galmass_core::atomic::write_atomic_with(path, |tmp| write_to(tmp, path, first, &images[1..]), MockError::from)
}

/// Writes the images to the temporary file `tmp`; errors name the destination `path`.
fn write_to(tmp: &Path, path: &Path, first: &FitsImage<'_>, rest: &[FitsImage<'_>]) -> Result<(), MockError> {
    let shape = [first.data.nrows(), first.data.ncols()];
    // An empty primary resized to the image: `with_custom_primary` would write `EXTNAME = '_PRIMARY'`, which a
    // second EXTNAME card cannot override for readers (astropy reads the first).
    let mut file = FitsFile::create(tmp).overwrite().open().map_err(|e| fits_err(path, "creating", e))?;
    let mut hdu = file.primary_hdu().map_err(|e| fits_err(path, "opening the primary HDU", e))?;
    hdu.info = HduInfo::ImageInfo { shape: Vec::new(), image_type: ImageType::Double };
    let hdu = hdu.resize(&mut file, &shape).map_err(|e| fits_err(path, "sizing the primary HDU", e))?;
    write_hdu(path, &mut file, &hdu, first)?;
    for image in rest {
        let shape = [image.data.nrows(), image.data.ncols()];
        let description = ImageDescription { data_type: ImageType::Double, dimensions: &shape };
        let hdu = file
            .create_image(image.extname.clone(), &description)
            .map_err(|e| fits_err(path, "creating an image HDU", e))?;
        write_hdu(path, &mut file, &hdu, image)?;
    }
    Ok(())
}

fn write_hdu(
    path: &Path,
    file: &mut FitsFile,
    hdu: &fitsio::hdu::FitsHdu,
    image: &FitsImage<'_>,
) -> Result<(), MockError> {
    let data: Vec<f64> = image.data.iter().copied().collect(); // row-major [y][x]: FITS axis 1 is x
    hdu.write_image(file, &data).map_err(|e| fits_err(path, &format!("writing image {}", image.extname), e))?;
    let mut put = |key: &str, value: KeyValue<'_>| -> Result<(), MockError> {
        let r = match value {
            KeyValue::Text(t, c) => hdu.write_key(file, key, (t, c)),
            KeyValue::Number(v, c) => hdu.write_key(file, key, (v, c)),
        };
        r.map_err(|e| fits_err(path, &format!("writing key {key}"), e))
    };
    put("EXTNAME", KeyValue::Text(&image.extname, "map name"))?;
    for (n, axis) in [(1, &image.x), (2, &image.y)] {
        put(&format!("CTYPE{n}"), KeyValue::Text(&axis.ctype, "quantity along the axis"))?;
        put(&format!("CUNIT{n}"), KeyValue::Text(&axis.unit, "unit of the axis"))?;
        put(&format!("CRPIX{n}"), KeyValue::Number(1.0, "reference pixel (1-based)"))?;
        put(&format!("CRVAL{n}"), KeyValue::Number(axis.first, "coordinate of the reference pixel"))?;
        put(&format!("CDELT{n}"), KeyValue::Number(axis.step, "grid spacing"))?;
    }
    for (key, value, comment) in &image.keys {
        put(key, KeyValue::Number(*value, comment))?;
    }
    Ok(())
}

enum KeyValue<'a> {
    Text(&'a str, &'a str),
    Number(f64, &'a str),
}

/// Reads a 2-d image (any numeric type, returned as f64, `[y, x]`) from HDU `hdu_index` (0 = primary), with its
/// `BUNIT` when present.
pub fn read_image(path: &Path, hdu_index: usize) -> Result<(Array2<f64>, Option<String>), MockError> {
    let mut file = FitsFile::open(path).map_err(|e| fits_err(path, "opening", e))?;
    let hdu = file.hdu(hdu_index).map_err(|e| fits_err(path, &format!("opening HDU {hdu_index}"), e))?;
    let shape = match &hdu.info {
        HduInfo::ImageInfo { shape, .. } => shape.clone(),
        _ => {
            return Err(MockError::BadInput {
                name: "hdu",
                expected: format!("an image in HDU {hdu_index} of {}", path.display()),
                got: "a table".into(),
            })
        }
    };
    if shape.len() != 2 {
        return Err(MockError::BadInput {
            name: "hdu",
            expected: format!("a 2-d image in HDU {hdu_index} of {}", path.display()),
            got: format!("shape {shape:?}"),
        });
    }
    let data: Vec<f64> = hdu.read_image(&mut file).map_err(|e| fits_err(path, "reading the image", e))?;
    let image = Array2::from_shape_vec((shape[0], shape[1]), data).map_err(|e| MockError::BadInput {
        name: "image",
        expected: format!("{} x {} pixels", shape[0], shape[1]),
        got: e.to_string(),
    })?;
    let unit = hdu.read_key::<String>(&mut file, "BUNIT").ok();
    Ok((image, unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_primary_hdu_carries_its_own_name_and_the_grid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("maps.fits");
        let a = Array2::from_shape_fn((4, 5), |(j, i)| (j * 5 + i) as f64);
        let axis = AxisWcs { ctype: "X_RH".into(), unit: "".into(), first: -0.5, step: 0.25 };
        let image = |name: &str| FitsImage {
            extname: name.into(),
            data: a.view(),
            x: axis.clone(),
            y: axis.clone(),
            keys: vec![("RH_KPC".into(), 1.5, "radius".into())],
        };
        write_images(&path, &[image("STAR_XY"), image("STAR_RV")]).unwrap();
        let (back, _) = read_image(&path, 0).unwrap();
        assert_eq!(back, a);
        let mut file = FitsFile::open(&path).unwrap();
        let primary = file.primary_hdu().unwrap();
        assert_eq!(primary.read_key::<String>(&mut file, "EXTNAME").unwrap(), "STAR_XY");
        assert_eq!(primary.read_key::<f64>(&mut file, "CDELT1").unwrap(), 0.25);
        let second = file.hdu(1).unwrap();
        assert_eq!(second.read_key::<String>(&mut file, "EXTNAME").unwrap(), "STAR_RV");
    }
}
