//! Line and parity plots.

use super::{Image, keep, scratch};
use crate::plot::{Legend, Plot, PlotError, Series, Symbol, XyPlot};

/// A demagnetisation-like curve from h = +1 to −1: M/Ms falls from ~1 to −1 past hc.
fn demag(hc: f64, n: usize) -> (Vec<f64>, Vec<f64>) {
    let h: Vec<f64> = (0..n)
        .map(|k| 1.0 - 2.0 * k as f64 / (n - 1) as f64)
        .collect();
    let m = h
        .iter()
        .map(|&h| (0.9 + 0.1 * h) * ((h + hc) * 8.0).tanh())
        .collect();
    (h, m)
}

fn demag_plot() -> XyPlot {
    let (h, m) = demag(0.45, 81);
    let (h2, m2) = demag(0.30, 41);
    XyPlot::new()
        .title("Demagnetisation curves")
        .labels("h = μ0H / HA", "M / Ms")
        .line("micromagnetic", &h, &m)
        .series(Series::line("network", &h2, &m2).with_markers(true))
        .mark("M1", 1.0, m[0], Symbol::Circle)
        .mark("Mr", 0.0, 0.9 * (0.45f64 * 8.0).tanh(), Symbol::Square)
        .mark("Hk90", -0.2, 0.81, Symbol::Triangle)
        .mark("Hc", -0.45, 0.0, Symbol::Diamond)
        .mark("never reached", f64::NAN, 0.5, Symbol::Cross)
        .x_range(-1.0, 1.0)
        .y_range(-1.1, 1.1)
        .legend(Legend::LowerRight)
}

fn parity_plot() -> XyPlot {
    let truth: Vec<f64> = (0..60).map(|k| 0.2 + 0.01 * k as f64).collect();
    let pred: Vec<f64> = truth
        .iter()
        .enumerate()
        .map(|(k, t)| t + 0.02 * ((k * 7 % 11) as f64 - 5.0) / 5.0)
        .collect();
    XyPlot::new()
        .title("Hc: prediction vs simulation")
        .labels("simulated", "predicted")
        .points("train", &truth[..45], &pred[..45])
        .points("test", &truth[45..], &pred[45..])
        .diagonal(true)
        .equal_ranges(true)
}

#[test]
fn png_and_svg_files_are_written_at_the_requested_size() {
    let (_guard, dir) = scratch();
    for (name, plot) in [("demag", demag_plot()), ("parity", parity_plot())] {
        let png = dir.join(format!("{name}.png"));
        plot.save_sized(&png, (640, 480)).unwrap();
        let img = Image::read(&png);
        assert_eq!((img.w, img.h), (640, 480));
        keep(&png);
        let svg = dir.join(format!("{name}.SVG"));
        plot.save(&svg).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.starts_with("<svg") && text.contains("M / Ms") == (name == "demag"));
        assert!(text.contains("width=\"800\" height=\"600\""));
    }
}

#[test]
fn title_renders_as_ink_at_the_top() {
    let band = |plot: &XyPlot| {
        Image::from_rgb((800, 600), plot.render_rgb((800, 600)).unwrap()).ink((250, 550), (0, 40))
    };
    let with = band(&parity_plot());
    let without = band(&parity_plot().title(""));
    assert!(with > without + 150, "title ink {with} vs {without}");
}

#[test]
fn series_are_drawn_in_their_colour() {
    let plot =
        XyPlot::new().series(Series::line("red", &[0.0, 1.0], &[0.5, 0.5]).with_color([200, 0, 0]));
    let img = Image::from_rgb((400, 300), plot.render_rgb((400, 300)).unwrap());
    let red = (0..img.w)
        .flat_map(|x| (0..img.h).map(move |y| (x, y)))
        .filter(|&(x, y)| img.at(x, y) == [200, 0, 0])
        .count();
    assert!(red > 200, "{red} red pixels");
}

#[test]
fn bad_input_is_reported_with_what_was_expected() {
    let err = |p: XyPlot| p.render_rgb((200, 200)).unwrap_err().to_string();
    assert_eq!(
        err(XyPlot::new().line("a", &[0.0; 10], &[0.0; 12])),
        "series `a`: x and y differ in length: 10 vs 12"
    );
    assert_eq!(
        err(XyPlot::new().line("a", &[], &[])),
        "series `a` is empty: nothing to plot"
    );
    assert_eq!(err(XyPlot::new()), "plot is empty: nothing to plot");
    let nan = [f64::NAN, f64::INFINITY];
    assert_eq!(
        err(XyPlot::new().title("t").line("a", &[1.0, 2.0], &nan)),
        "plot `t` has no finite values (all NaN or infinite)"
    );
    assert!(
        err(demag_plot().x_range(1.0, 1.0)).starts_with("x range must be finite with min < max")
    );
    assert!(err(demag_plot().y_range(0.0, f64::NAN)).starts_with("y range"));

    let (_guard, dir) = scratch();
    let e = demag_plot().save(dir.join("a.jpg")).unwrap_err();
    assert_eq!(e.to_string(), "unknown extension `.jpg`: use .png or .svg");
    assert!(matches!(
        demag_plot().save(dir.join("noext")),
        Err(PlotError::Extension(_))
    ));
    let e = demag_plot().save(dir.join("missing/a.png")).unwrap_err();
    assert!(matches!(e, PlotError::NoDirectory(_)), "{e}");
    let e = demag_plot()
        .save_sized(dir.join("a.png"), (0, 600))
        .unwrap_err();
    assert!(e.to_string().contains("out of range"), "{e}");
    assert!(!dir.join("a.png").exists());
    // A plot that fails while drawing leaves no partial file behind.
    assert!(XyPlot::new().save(dir.join("b.svg")).is_err());
    assert!(XyPlot::new().save(dir.join("b.png")).is_err());
    assert!(!dir.join("b.svg").exists() && !dir.join("b.png").exists());
}

#[test]
fn degenerate_data_draws_without_panic() {
    let ok = |p: XyPlot| {
        p.render_rgb((120, 90)).unwrap();
    };
    ok(XyPlot::new().line("flat", &[0.0, 1.0, 2.0], &[3.0; 3]));
    ok(XyPlot::new().line("one", &[5.0], &[5.0]).with_markers_all());
    ok(XyPlot::new()
        .points("zero", &[0.0, 0.0], &[0.0, 0.0])
        .diagonal(true)
        .equal_ranges(true));
    ok(XyPlot::new().line(
        "gaps",
        &[0.0, f64::NAN, 1.0, 2.0, 3.0],
        &[1.0, 2.0, f64::NEG_INFINITY, 0.0, 1.0],
    ));
    ok(XyPlot::new().line("tiny", &[1.0, 1.0 + 1e-16], &[1.0, 1.0 + 1e-16]));
    // Far outliers beyond fixed ranges are clipped, not turned into huge pixel loops.
    ok(XyPlot::new()
        .line(
            "wild",
            &[0.0, 1e300, -1e300, 0.5],
            &[0.0, -1e300, 1e300, 0.5],
        )
        .x_range(-1.0, 1.0)
        .y_range(-1.0, 1.0));
    ok(XyPlot::new()
        .line("", &[0.0, 1.0], &[0.0, 1.0])
        .legend(Legend::Hidden)
        .diagonal(true));
    // Extreme but valid fixed ranges and the smallest allowed images.
    for (lo, hi) in [
        (0.0, 1e-300),
        (1e300, 1.0000001e300),
        (-1e307, 1e307),
        (-1e-9, 1e-9),
    ] {
        ok(XyPlot::new()
            .line("r", &[lo, hi], &[lo, hi])
            .x_range(lo, hi)
            .y_range(lo, hi));
    }
    for size in [(32, 32), (32, 500), (3000, 32)] {
        demag_plot().render_rgb(size).unwrap();
    }
    let wide = XyPlot::new().line("huge", &[-1e308, 1e308], &[0.0, 1.0]);
    assert!(matches!(
        wide.render_rgb((120, 90)),
        Err(PlotError::BadRange { .. })
    ));
}

trait AllMarkers {
    fn with_markers_all(self) -> Self;
}

impl AllMarkers for XyPlot {
    fn with_markers_all(mut self) -> Self {
        self.series.iter_mut().for_each(|s| s.markers = true);
        self
    }
}
