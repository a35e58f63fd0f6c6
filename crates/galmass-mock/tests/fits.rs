//! FITS output read back, and a real FITS file read as astropy reads it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use galmass_core::atomic::AtomicWriteError;
use galmass_mock::fits::{read_image, write_images, AxisWcs, FitsImage};
use galmass_mock::MockError;
use ndarray::Array2;

#[test]
fn written_images_round_trip_with_their_grid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("maps.fits");
    let a = Array2::from_shape_fn((64, 48), |(k, j)| (k * 100 + j) as f64 * 0.5);
    let b = Array2::from_shape_fn((64, 64), |(k, j)| (k as f64 - j as f64).abs());
    let axis = |first: f64| AxisWcs { ctype: "X_RH".into(), unit: "".into(), first, step: 1.0 / 63.0 };
    let images = [
        FitsImage {
            extname: "STAR_XY".into(),
            data: a.view(),
            x: axis(-0.5),
            y: axis(-0.5),
            keys: vec![("RH_KPC".into(), 1.25, "R_h".into())],
        },
        FitsImage { extname: "STAR_RV".into(), data: b.view(), x: axis(0.0), y: axis(-1.0), keys: vec![] },
    ];
    write_images(&path, &images).unwrap();
    assert_eq!(read_image(&path, 0).unwrap().0, a);
    assert_eq!(read_image(&path, 1).unwrap().0, b);
    let mut file = fitsio::FitsFile::open(&path).unwrap();
    let hdu = file.primary_hdu().unwrap();
    assert_eq!(hdu.read_key::<i64>(&mut file, "NAXIS1").unwrap(), 48); // FITS axis 1 is x (array axis 1)
    assert_eq!(hdu.read_key::<f64>(&mut file, "CRVAL1").unwrap(), -0.5);
    assert_eq!(hdu.read_key::<f64>(&mut file, "RH_KPC").unwrap(), 1.25);
    assert!(matches!(read_image(&path, 5), Err(MockError::Fits { path: p, .. }) if p == path));
    let absent = dir.path().join("absent.fits");
    assert!(matches!(read_image(&absent, 0), Err(MockError::Fits { path: p, .. }) if p == absent));
    // Only the destination is left: the temporary was renamed into place.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("maps.fits")]);
}

#[test]
fn a_failed_rename_is_an_io_error_naming_the_destination() {
    let dir = tempfile::tempdir().unwrap();
    // The destination is a folder holding a file: the temporary is written, then cannot be renamed over it.
    let dest = dir.path().join("maps.fits");
    std::fs::create_dir(&dest).unwrap();
    std::fs::write(dest.join("keep"), b"x").unwrap();
    let a = Array2::from_elem((4, 4), 1.0);
    let axis = AxisWcs { ctype: "X_RH".into(), unit: "".into(), first: 0.0, step: 1.0 };
    let image = FitsImage { extname: "STAR_XY".into(), data: a.view(), x: axis.clone(), y: axis, keys: vec![] };
    let err = write_images(&dest, &[image]).unwrap_err();
    assert!(
        matches!(&err, MockError::Write(AtomicWriteError::Io { path, step, .. }) if path == &dest && step.contains("renaming")),
        "{err:?}"
    );
    assert!(err.to_string().contains("maps.fits"), "{err}");
    // The temporary is gone and the folder untouched.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("maps.fits")]);
    assert!(dest.join("keep").exists());
    // No images at all is bad input, not a write error.
    assert!(matches!(
        write_images(&dir.path().join("none.fits"), &[]),
        Err(MockError::BadInput { name: "images", .. })
    ));
}

#[test]
fn reads_the_sdss_fixture_as_astropy_does() {
    // Each fixture skips the test with a printed reason when ../shared/fixtures is absent, and fails it instead under
    // GALMASS_REQUIRE_FIXTURES=1.
    use galmass_core::fixtures::fixture;
    let (Some(peers), Some(sdss), Some(cube)) =
        (fixture("expected_by_peers.json"), fixture("fits/ic3478rss_256.fits"), fixture("fits/NGC_2903.fits"))
    else {
        return;
    };
    let expected: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(peers).unwrap()).unwrap();
    let e = &expected["fits/ic3478rss_256.fits"];
    let (image, unit) = read_image(&sdss, 0).unwrap();
    assert_eq!(
        [image.nrows() as u64, image.ncols() as u64],
        [e["shape_numpy"][0].as_u64().unwrap(), e["shape_numpy"][1].as_u64().unwrap()]
    );
    assert_eq!(image.sum(), e["sum_finite"].as_f64().unwrap());
    assert_eq!(unit.as_deref(), e["BUNIT"].as_str());
    // The HI cube is 3-d: a typed error, not a panic.
    assert!(matches!(read_image(&cube, 0), Err(MockError::BadInput { name: "hdu", .. })));
}
