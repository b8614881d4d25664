//! Scalar-field images: orientation, colours, colorbar, grain boundaries.

use ndarray::{Array2, array};

use super::{Image, keep, scratch};
use crate::colormap;
use crate::plot::{FieldImage, MISSING, Plot, PlotError};

/// Values that differ in every cell, so a flipped or shifted image cannot pass.
fn ramp(ny: usize, nx: usize) -> Array2<f64> {
    Array2::from_shape_fn((ny, nx), |(j, i)| {
        -1.0 + 2.0 * (j * nx + i) as f64 / (ny * nx - 1) as f64
    })
}

#[test]
fn cells_carry_the_colormap_with_row_zero_at_the_bottom() {
    let field = ramp(5, 7);
    let plot = FieldImage::new(field.view())
        .title("ramp")
        .colorbar_label("k_x");
    let size = (420, 300);
    let img = Image::from_rgb(size, plot.render_rgb(size).unwrap());
    let lay = plot.layout(size).unwrap();
    for j in 0..5 {
        for i in 0..7 {
            let c = lay.cell(i, j);
            let (x, y) = (((c.x0 + c.x1) / 2) as u32, ((c.y0 + c.y1) / 2) as u32);
            assert_eq!(
                img.at(x, y),
                colormap::rgb(field[[j, i]]),
                "cell ({i}, {j})"
            );
        }
    }
    // Row 0 (most negative: red) is at the bottom of the picture.
    assert!(lay.cell(0, 0).y0 > lay.cell(0, 4).y0);
    // Cells are square.
    let c = lay.cell(3, 2);
    assert!((c.width() - c.height()).abs() <= 1, "{c:?}");
}

#[test]
fn colorbar_ends_have_the_end_colours_and_ticks_render() {
    let plot = FieldImage::new(ramp(4, 4).view())
        .range(0.0, 2.0)
        .colorbar_label("value");
    let size = (400, 300);
    let img = Image::from_rgb(size, plot.render_rgb(size).unwrap());
    let bar = plot.layout(size).unwrap().colorbar.unwrap();
    let x = ((bar.x0 + bar.x1) / 2) as u32;
    assert_eq!(img.at(x, (bar.y1 - 1) as u32), colormap::rgb(-1.0));
    assert_eq!(img.at(x, bar.y0 as u32), colormap::rgb(1.0));
    // Half-way up is the middle of the map, to within one pixel row.
    let (mid, white) = (
        img.at(x, ((bar.y0 + bar.y1) / 2) as u32),
        colormap::rgb(0.0),
    );
    assert!((0..3).all(|c| mid[c].abs_diff(white[c]) <= 3), "{mid:?}");
    // Tick labels and the colorbar title to the right of the bar.
    let ink = img.ink((bar.x1 as u32 + 2, size.0), (bar.y0 as u32, bar.y1 as u32));
    assert!(ink > 100, "{ink}");
}

#[test]
fn grain_boundaries_are_drawn_between_different_ids() {
    let ids = array![[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 3, 3]];
    let field = Array2::from_elem((3, 4), 0.5);
    let plot = FieldImage::new(field.view())
        .grains(ids.view())
        .unwrap()
        .with_colorbar(false);
    let size = (400, 300);
    let img = Image::from_rgb(size, plot.render_rgb(size).unwrap());
    let lay = plot.layout(size).unwrap();
    assert!(lay.colorbar.is_none());
    let fill = colormap::rgb(0.5);
    // Vertical boundary between columns 1 and 2 in rows 0, 1; none in row 2.
    let mid_y = |j| ((lay.cell(0, j).y0 + lay.cell(0, j).y1) / 2) as u32;
    let x = lay.cell(2, 0).x0 as u32;
    assert_eq!(img.at(x, mid_y(0)), [0, 0, 0]);
    assert_eq!(img.at(x, mid_y(1)), [0, 0, 0]);
    assert_eq!(img.at(x, mid_y(2)), fill);
    // Horizontal boundary under row 2, none between rows 0 and 1.
    let mid_x = ((lay.cell(1, 0).x0 + lay.cell(1, 0).x1) / 2) as u32;
    assert_eq!(img.at(mid_x, (lay.cell(1, 2).y1 - 1) as u32), [0, 0, 0]);
    assert_eq!(img.at(mid_x, (lay.cell(1, 1).y1 - 1) as u32), fill);
    assert_eq!(img.at(mid_x, mid_y(0)), fill);

    let bad = FieldImage::new(field.view()).grains(Array2::<u32>::zeros((4, 3)).view());
    assert_eq!(
        bad.unwrap_err().to_string(),
        "grain id map: shape [4, 3] differs from the field's [3, 4] ([ny, nx])"
    );
}

#[test]
fn png_and_svg_files() {
    let (_guard, dir) = scratch();
    let ids = Array2::from_shape_fn((48, 64), |(j, i)| (i / 16 + 4 * (j / 16)) as i64);
    let kx = ids.mapv(|g| ((g * 37 % 17) as f64 / 8.0 - 1.0).clamp(-1.0, 1.0));
    let plot = FieldImage::new(kx.view())
        .title("grains coloured by k_x")
        .colorbar_label("k_x")
        .grains(ids.view())
        .unwrap();
    let png = dir.join("field.png");
    plot.save(&png).unwrap();
    let img = Image::read(&png);
    assert_eq!((img.w, img.h), (800, 600));
    keep(&png);
    let svg = dir.join("field.svg");
    plot.save_sized(&svg, (400, 300)).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    // Equal-colour runs are merged: 48 rows × 4 grains, not 48 × 64 cells.
    let rects = text.matches("<rect").count();
    assert!(rects < 48 * 4 + 400, "{rects} rects");
}

#[test]
fn bad_and_degenerate_fields() {
    let err = |p: FieldImage| p.render_rgb((200, 200)).unwrap_err();
    assert!(matches!(
        err(FieldImage::new(Array2::zeros((0, 3)).view())),
        PlotError::Empty(_)
    ));
    let nan = Array2::from_elem((2, 2), f64::NAN);
    assert_eq!(
        err(FieldImage::new(nan.view())).to_string(),
        "field has no finite values (all NaN or infinite)"
    );
    let one = Array2::from_elem((1, 1), 0.3);
    assert!(
        err(FieldImage::new(one.view()).range(1.0, 1.0))
            .to_string()
            .starts_with("colour range")
    );
    // Single cell, one-row strips, partly-NaN, out-of-range values: drawn, no panic.
    let ok = |p: FieldImage, size| p.render_rgb(size).unwrap();
    ok(FieldImage::new(one.view()), (64, 64));
    ok(FieldImage::new(ramp(1, 200).view()), (200, 100));
    ok(
        FieldImage::new(ramp(300, 2).view()).title("tall"),
        (100, 400),
    );
    let mut holes = ramp(3, 3);
    holes[[1, 1]] = f64::NAN;
    holes[[0, 0]] = 7.0;
    let plot = FieldImage::new(holes.view()).with_colorbar(false);
    let img = Image::from_rgb((64, 64), ok(plot.clone(), (64, 64)));
    let c = plot.layout((64, 64)).unwrap().cell(1, 1);
    assert_eq!(
        img.at(((c.x0 + c.x1) / 2) as u32, ((c.y0 + c.y1) / 2) as u32),
        MISSING
    );
    // The smallest images either draw or say they are too small; neither panics.
    for size in [(32, 32), (32, 500), (3000, 32)] {
        let p = FieldImage::new(ramp(5, 7).view())
            .title("t")
            .colorbar_label("k_x");
        if let Err(e) = p.render_rgb(size) {
            assert!(e.to_string().contains("make it larger"), "{e}");
        }
    }
    // More cells than pixels is refused with a message, not drawn as garbage.
    let e = err(FieldImage::new(ramp(2, 5000).view()));
    assert!(e.to_string().contains("make it larger"), "{e}");
}
