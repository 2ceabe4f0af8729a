//! A chart of a run's main curves (losses, evaluation advantage, throughput), drawn with
//! `plotters` from the metrics: PNG in the run directory after every iteration, SVG for
//! documents (`blob chart`). The PNG's text uses DejaVu Sans embedded in the binary, so no
//! system font is needed.

use std::path::Path;
use std::sync::Once;

use blobnet::files::{write_atomically, WriteError};
use plotters::coord::Shift;
use plotters::prelude::*;

const WIDTH: u32 = 960;
const PANEL_HEIGHT: u32 = 280;
const FONT: &str = "sans-serif";

pub const BLUE: RGBColor = RGBColor(31, 119, 180);
pub const RED: RGBColor = RGBColor(214, 39, 40);
pub const GREEN: RGBColor = RGBColor(44, 160, 44);
pub const ORANGE: RGBColor = RGBColor(255, 127, 14);

/// One curve: a label and (x, y) points (y may be missing for some x).
pub struct Series {
    pub label: &'static str,
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
}

/// One panel: a title, the y axis' name, its curves (x is the iteration).
pub struct Panel {
    pub title: &'static str,
    pub y_label: &'static str,
    pub series: Vec<Series>,
}

#[derive(Debug, thiserror::Error)]
#[error("drawing the chart: {0}")]
pub struct DrawError(String);

fn register_font() {
    static FONTS: Once = Once::new();
    FONTS.call_once(|| {
        // The embedded font is a valid TrueType file; should it ever be refused, text is
        // left out rather than the run stopped.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
}

/// The panels stacked vertically, drawn as a PNG at `path` (atomically).
pub fn write_chart(path: &Path, panels: &[Panel]) -> Result<(), WriteError> {
    register_font();
    let height = PANEL_HEIGHT * panels.len().max(1) as u32;
    let mut pixels = vec![255u8; (WIDTH * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, height)).into_drawing_area();
        draw(&root, panels).map_err(|e| WriteError { path: path.into(), source: std::io::Error::other(e.0) })?;
    }
    let mut png_bytes = Vec::new();
    let encoded = (|| {
        let mut encoder = png::Encoder::new(&mut png_bytes, WIDTH, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(std::io::Error::other)?;
        writer.write_image_data(&pixels).map_err(std::io::Error::other)
    })();
    encoded.map_err(|source| WriteError { path: path.into(), source })?;
    write_atomically(path, |file| file.write_all(&png_bytes))
}

/// The same chart as SVG text (its text is left to the viewer's sans-serif font).
pub fn chart_svg(panels: &[Panel]) -> Result<String, DrawError> {
    let height = PANEL_HEIGHT * panels.len().max(1) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        draw(&root, panels)?;
    }
    Ok(svg)
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, panels: &[Panel]) -> Result<(), DrawError> {
    let failed = |e: &dyn std::fmt::Display| DrawError(e.to_string());
    root.fill(&WHITE).map_err(|e| failed(&e))?;
    let areas = root.split_evenly((panels.len().max(1), 1));
    for (panel, area) in panels.iter().zip(&areas) {
        draw_panel(area, panel).map_err(|e| failed(&e))?;
    }
    root.present().map_err(|e| failed(&e))
}

/// The x and y ranges of the finite points, widened where they would be empty.
fn ranges(panel: &Panel) -> Option<(std::ops::Range<f64>, std::ops::Range<f64>)> {
    let points = panel.series.iter().flat_map(|s| s.points.iter()).filter(|(x, y)| x.is_finite() && y.is_finite());
    let (mut x_min, mut x_max, mut y_min, mut y_max) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in points {
        (x_min, x_max, y_min, y_max) = (x_min.min(x), x_max.max(x), y_min.min(y), y_max.max(y));
    }
    if x_min > x_max {
        return None;
    }
    if x_max - x_min < 1e-9 {
        x_max = x_min + 1.0;
    }
    let pad = ((y_max - y_min) * 0.05).max(1e-3);
    Some((x_min..x_max, y_min - pad..y_max + pad))
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let Some((x_range, y_range)) = ranges(panel) else {
        let area = area.titled(panel.title, (FONT, 18))?;
        return area.draw(&Text::new("no data yet", (40, 40), (FONT, 15).into_font().color(&BLACK.mix(0.5))));
    };
    let crosses_zero = y_range.start < 0.0 && y_range.end > 0.0;
    // Decimals that tell the y ticks apart, none on the iteration axis.
    let span = y_range.end - y_range.start;
    let decimals = if span >= 50.0 { 0 } else if span >= 2.0 { 1 } else if span >= 0.2 { 2 } else { 3 };
    let (x_start, x_end) = (x_range.start, x_range.end);
    let mut chart = ChartBuilder::on(area)
        .caption(panel.title, (FONT, 18))
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(x_range, y_range)?;
    chart
        .configure_mesh()
        .x_desc("iteration")
        .y_desc(panel.y_label)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.decimals$}"))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    if crosses_zero {
        chart.draw_series(LineSeries::new([(x_start, 0.0), (x_end, 0.0)], BLACK.mix(0.4)))?;
    }
    for series in &panel.series {
        let points: Vec<(f64, f64)> = series.points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
        let color = series.color;
        chart
            .draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))?
            .label(series.label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2)));
        // Marks on the points, so that a curve of few points (evaluations) reads as such.
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 13))
        .draw()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panels() -> Vec<Panel> {
        vec![
            Panel {
                title: "loss",
                y_label: "loss",
                series: vec![Series { label: "policy", color: BLUE, points: vec![(1.0, 1.2), (2.0, 1.1), (3.0, f64::NAN)] }],
            },
            Panel { title: "empty", y_label: "points", series: vec![Series { label: "none", color: RED, points: vec![] }] },
        ]
    }

    #[test]
    fn png_and_svg_are_drawn_with_labels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chart.png");
        write_chart(&path, &panels()).unwrap();
        let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), (WIDTH, 2 * PANEL_HEIGHT));
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut pixels).unwrap();
        // The caption band of the first panel holds only its title: dark pixels there are the
        // embedded font's glyphs.
        let caption_band = &pixels[..(WIDTH * 24 * 3) as usize];
        let dark = caption_band.chunks(3).filter(|p| p.iter().all(|&c| c < 128)).count();
        assert!(dark > 20, "the title is drawn: {dark} dark pixels");
        let svg = chart_svg(&panels()).unwrap();
        for text in ["loss", "policy", "iteration", "no data yet"] {
            assert!(svg.contains(text), "the SVG names {text:?}");
        }
    }
}
