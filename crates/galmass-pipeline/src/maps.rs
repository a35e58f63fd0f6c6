//! Mock observations of one projection as maps, into the products file ([`crate::products`]): the stellar
//! kinematic maps of sarrato2025/exposito2026 now; HI and optical maps as their issues land. `galmass maps stars`
//! calls [`star_maps_of_galaxy`] and writes the result with [`write_products`](crate::products::write_products) and
//! optionally [`write_star_maps_fits`].

use std::path::Path;

use galmass_core::params::Params;
use galmass_mock::fits::{write_images, AxisWcs, FitsImage};
use galmass_mock::kde::GridAxis;
use galmass_mock::star_maps::{star_maps, StarMapParams};

use crate::products::{Products, ProjectionInfo, StarMapsProduct};
use crate::projection::{load_projection_for, ProjectionRequest};
use crate::PipelineError;

/// Makes the two stellar kinematic maps of one projection of the galaxy file at `path` with the paper preset
/// `preset` (`sarrato2025` or `exposito2026`).
pub fn star_maps_of_galaxy(path: &Path, request: &ProjectionRequest, preset: &str) -> Result<Products, PipelineError> {
    let params = StarMapParams::preset(preset).ok_or_else(|| {
        PipelineError::invalid("star map preset", format!("unknown {preset:?} (known: {:?})", StarMapParams::PRESETS))
    })?;
    let projection = load_projection_for(path, request, "map")?;
    let valid = params.check()?;
    let maps = star_maps(&projection.stars, &valid).map_err(|source| PipelineError::Maps {
        path: path.to_owned(),
        los: projection.los.direction(),
        source: Box::new(source),
    })?;
    let meta = &projection.galaxy.meta;
    let info = ProjectionInfo {
        galaxy: path.display().to_string(),
        galaxy_id: meta.galaxy_id,
        suite: meta.suite.clone(),
        los: projection.los.direction(),
        seed: request.seed,
        n_stars: maps.n_stars as u64,
        r_h_kpc: maps.r_h_kpc,
        sigma_los_kms: maps.sigma_los_kms,
    };
    Ok(Products { stars: Some(StarMapsProduct { preset: preset.to_owned(), params, maps }), ..Products::new(info) })
}

/// Writes the star maps as FITS images (primary HDU `STAR_XY`, extension `STAR_RV`, the grid as a linear WCS and
/// the projection's scalars as header keys), for DS9 and astropy.
pub fn write_star_maps_fits(path: &Path, product: &StarMapsProduct) -> Result<(), PipelineError> {
    let valid = product.params.check()?;
    let (xy, rv) = (valid.xy_grid(), valid.rv_grid());
    let axis = |axis: &GridAxis, ctype: &str| AxisWcs {
        ctype: ctype.into(),
        unit: "".into(),
        first: axis.coord(0),
        step: axis.step(),
    };
    let maps = &product.maps;
    let keys = vec![
        ("RH_KPC".to_string(), maps.r_h_kpc, "projected half-number radius [kpc]".to_string()),
        ("SIGLOS".to_string(), maps.sigma_los_kms, "line-of-sight dispersion [km/s]".to_string()),
        ("VP98".to_string(), maps.v_p98_kms, "velocity scale v_p98 [km/s]".to_string()),
        ("NSTARS".to_string(), maps.n_stars as f64, "stars sampled".to_string()),
    ];
    let images = [
        FitsImage {
            extname: "STAR_XY".into(),
            data: maps.star_xy.view(),
            x: axis(&xy.x, "X_RH"),
            y: axis(&xy.y, "Y_RH"),
            keys: keys.clone(),
        },
        FitsImage {
            extname: "STAR_RV".into(),
            data: maps.star_rv.view(),
            x: axis(&rv.x, "R_RH"),
            y: axis(&rv.y, "V_VP98"),
            keys,
        },
    ];
    Ok(write_images(path, &images)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::products::{read_products, write_products};
    use crate::test_support::{synth_galaxy, write_galaxy};

    #[test]
    fn maps_of_a_synthetic_spheroid_round_trip_through_hdf5_and_fits() {
        let dir = tempfile::tempdir().unwrap();
        let galaxy = write_galaxy(dir.path(), "g.h5", &synth_galaxy("spheroids", (2500, 1000, None), 2, 9));
        let request = ProjectionRequest { los: [0.3, -0.2, 1.0], n_stars: Some(2000), seed: 4 };
        let products = star_maps_of_galaxy(&galaxy, &request, "sarrato2025").unwrap();
        assert_eq!(products.projection.galaxy_id, 2);
        assert_eq!(products.projection.n_stars, 2000);
        let out = dir.path().join("m.h5");
        write_products(&out, &products).unwrap();
        assert_eq!(read_products(&out).unwrap(), products);
        let stars = products.stars.as_ref().unwrap();
        let fits = dir.path().join("m.fits");
        write_star_maps_fits(&fits, stars).unwrap();
        let (xy, _) = galmass_mock::fits::read_image(&fits, 0).unwrap();
        assert_eq!(xy, stars.maps.star_xy);
        assert!(matches!(star_maps_of_galaxy(&galaxy, &request, "nobody2030"), Err(PipelineError::Invalid { .. })));
        let few = ProjectionRequest { n_stars: Some(2), ..request };
        assert!(matches!(star_maps_of_galaxy(&galaxy, &few, "sarrato2025"), Err(PipelineError::Maps { .. })));
    }
}
