//! Draws a heat map with a colour bar: the projected surface density of a Plummer sphere (scale radius 1 kpc,
//! 10^9 Msun) on a log10 colour scale, with contours of radius drawn as lines, beside its radial profile.
//! `cargo run -p galmass-plot --example heat_map -- OUT.png`

use galmass_plot::series::{HeatMap, Line};
use galmass_plot::{Color, Colormap, Figure, Plot, PlotError, Scale};

/// Projected Plummer surface density in Msun / kpc^2 at projected radius `r_kpc`.
fn plummer_sigma(r_kpc: f64, mass_msun: f64, a_kpc: f64) -> f64 {
    mass_msun * a_kpc * a_kpc / (std::f64::consts::PI * (a_kpc * a_kpc + r_kpc * r_kpc).powi(2))
}

fn figure() -> Result<Figure, PlotError> {
    let (mass, a, half_width, n) = (1e9, 1.0, 4.0, 120);
    let pixel = 2.0 * half_width / n as f64;
    let mut sigma = Vec::with_capacity(n * n);
    for row in 0..n {
        for col in 0..n {
            let (x, y) = (-half_width + (col as f64 + 0.5) * pixel, -half_width + (row as f64 + 0.5) * pixel);
            // A little asymmetry, so orientation shows: a second, fainter clump at (+2, +1.5).
            let clump = 0.15 * plummer_sigma(((x - 2.0).powi(2) + (y - 1.5).powi(2)).sqrt(), mass, 0.4);
            sigma.push(plummer_sigma((x * x + y * y).sqrt(), mass, a) + clump);
        }
    }
    let circle = |r: f64| -> (Vec<f64>, Vec<f64>) {
        (0..=96).map(|i| f64::from(i) * std::f64::consts::TAU / 96.0).map(|t| (r * t.cos(), r * t.sin())).unzip()
    };
    let (cx, cy) = circle(a);
    let (hx, hy) = circle(2.0 * a);
    let map = Plot::new()
        .title("Plummer sphere, 10^{9} M_{⊙}")
        .x_label("x [kpc]")
        .y_label("y [kpc]")
        .with(
            HeatMap::new(&sigma, n, n)
                .extent(-half_width, half_width, -half_width, half_width)
                .colormap(Colormap::Viridis)
                .color_scale(Scale::Log10)
                .colorbar("Σ [M_{⊙} kpc^{-2}]"),
        )?
        .with(Line::new(&cx, &cy).color(Color::TAB_RED).width(1.5).label("R = a"))?
        .with(Line::new(&hx, &hy).color(Color::TAB_RED).width(1.5).dashed(true).label("R = 2a"))?;
    let radii: Vec<f64> = (0..=60).map(|i| 10f64.powf(-1.5 + 2.5 * f64::from(i) / 60.0)).collect();
    let profile: Vec<f64> = radii.iter().map(|&r| plummer_sigma(r, mass, a)).collect();
    let radial = Plot::new()
        .title("radial profile")
        .x_label("R [kpc]")
        .y_label("Σ(R) [M_{⊙} kpc^{-2}]")
        .x_scale(Scale::Log10)
        .y_scale(Scale::Log10)
        .grid(true)
        .with(Line::new(&radii, &profile).color(Color::TAB_BLUE).label("Σ = M a² / π (a² + R²)²"))?
        .with(Line::new(&[a, a], &[1e5, 1e9]).color(Color::TAB_GREY).dashed(true).label("R = a"))?;
    Ok(Figure::new(1200, 520).grid(1, 2).with(map).with(radial))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).unwrap_or_else(|| "heat_map.png".into());
    figure()?.save_png(&out)?;
    eprintln!("wrote {out}");
    Ok(())
}
