//! The bundled DejaVu Sans, registered with plotters' ab_glyph text renderer so that
//! figures look the same on every machine and need no system fontconfig.

use std::sync::Once;

use plotters::style::FontStyle;

/// The family name every plot asks for.
pub const FAMILY: &str = "sans-serif";

static FONT: &[u8] = include_bytes!("DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// Registers the font (once per process); plotters falls back to it for bold/italic.
pub fn ensure() {
    REGISTER.call_once(|| {
        // The bytes are a known-good TTF compiled into the binary: failure is a build bug.
        if plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_err() {
            panic!("bundled DejaVuSans.ttf is not a valid font");
        }
    });
}
