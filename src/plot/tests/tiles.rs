//! Tiles under an x–y plot: the colours land where their points are, the colorbar spans
//! the signed range, and bad input is an error.

use super::Image;
use crate::colormap;
use crate::plot::{Plot, PlotError, Tiles, XyPlot};

#[test]
fn tiles_are_coloured_at_their_points_with_a_symmetric_range() {
    // −2 at the right, +2 at the left: the range is ±2, so they take the two end colours.
    let tiles = Tiles::diamonds(&[0.25, 0.75], &[0.5, 0.5], &[2.0, -2.0], (0.2, 0.2));
    assert_eq!(tiles.range, (-2.0, 2.0));
    let plot = XyPlot::new()
        .x_range(0.0, 1.0)
        .y_range(0.0, 1.0)
        .tiles(tiles.label("ρ"));
    let size = (500, 400);
    let img = Image::from_rgb(size, plot.render_rgb(size).unwrap());
    let where_is = |rgb: [u8; 3]| {
        let hits: Vec<u32> = (0..img.h)
            .flat_map(|y| (0..img.w).map(move |x| (x, y)))
            .filter(|&(x, y)| img.at(x, y) == rgb)
            .map(|(x, _)| x)
            .collect();
        (
            hits.len(),
            hits.iter().map(|&x| x as f64).sum::<f64>() / hits.len() as f64,
        )
    };
    let (blue, blue_x) = where_is(colormap::rgb(1.0));
    let (red, red_x) = where_is(colormap::rgb(-1.0));
    // Each diamond covers thousands of pixels; the colorbar's end rows a few dozen.
    assert!(blue > 2000 && red > 2000, "{blue} blue, {red} red pixels");
    assert!(blue_x < red_x, "the +2 tile is left of the −2 one");
    // The axes stop where the colorbar's strip begins.
    assert!(red_x < 0.85 * size.0 as f64);
}

#[test]
fn bad_tiles_are_errors() {
    let short = Tiles::diamonds(&[0.0, 1.0], &[0.0], &[1.0, 2.0], (0.1, 0.1));
    let flat = Tiles::diamonds(&[0.0], &[0.0], &[1.0], (0.0, 0.1));
    for t in [short, flat] {
        let e = XyPlot::new().tiles(t).render_rgb((300, 200)).unwrap_err();
        assert!(matches!(e, PlotError::BadOption(_)), "{e}");
    }
}
