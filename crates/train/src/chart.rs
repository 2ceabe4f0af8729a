//! A PNG chart of a run's main curves (losses, evaluation score, throughput), redrawn from the
//! metrics after every iteration. Self-contained: a tiny bitmap font, no system fonts needed.

use std::path::Path;

use blobnet::files::{write_atomically, WriteError};

const WIDTH: usize = 960;
const PANEL_HEIGHT: usize = 240;
const MARGIN_LEFT: usize = 80;
const MARGIN_RIGHT: usize = 20;
const MARGIN_TOP: usize = 30;
const MARGIN_BOTTOM: usize = 30;
const SCALE: usize = 2;

type Rgb = [u8; 3];
pub const BLUE: Rgb = [31, 119, 180];
pub const RED: Rgb = [214, 39, 40];
pub const GREEN: Rgb = [44, 160, 44];
pub const ORANGE: Rgb = [255, 127, 14];
const BLACK: Rgb = [0, 0, 0];
const GREY: Rgb = [200, 200, 200];

/// One curve: a label and (x, y) points (y may be missing for some x).
pub struct Series {
    pub label: &'static str,
    pub color: Rgb,
    pub points: Vec<(f64, f64)>,
}

pub struct Panel {
    pub title: &'static str,
    pub series: Vec<Series>,
}

struct Canvas {
    pixels: Vec<u8>,
    height: usize,
}

impl Canvas {
    fn set(&mut self, x: usize, y: usize, color: Rgb) {
        if x < WIDTH && y < self.height {
            let i = (y * WIDTH + x) * 3;
            self.pixels[i..i + 3].copy_from_slice(&color);
        }
    }

    fn line(&mut self, (x0, y0): (f64, f64), (x1, y1): (f64, f64), color: Rgb) {
        let steps = ((x1 - x0).abs().max((y1 - y0).abs()).ceil() as usize).max(1);
        for i in 0..=steps {
            let t = i as f64 / steps as f64;
            let (x, y) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
            for (dx, dy) in [(0, 0), (1, 0), (0, 1)] {
                self.set(x.round() as usize + dx, y.round() as usize + dy, color);
            }
        }
    }

    fn text(&mut self, x: usize, y: usize, text: &str, color: Rgb) {
        for (i, c) in text.chars().enumerate() {
            let rows = glyph(c);
            for (row, bits) in rows.iter().enumerate() {
                for col in 0..5 {
                    if bits & (0b10000 >> col) != 0 {
                        for sy in 0..SCALE {
                            for sx in 0..SCALE {
                                self.set(x + i * 6 * SCALE + col * SCALE + sx, y + row * SCALE + sy, color);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Draws the panels stacked vertically into a PNG at `path` (atomically).
pub fn write_chart(path: &Path, panels: &[Panel]) -> Result<(), WriteError> {
    let height = PANEL_HEIGHT * panels.len().max(1);
    let mut canvas = Canvas { pixels: vec![255; WIDTH * height * 3], height };
    for (p, panel) in panels.iter().enumerate() {
        draw_panel(&mut canvas, p * PANEL_HEIGHT, panel);
    }
    let mut png_bytes = Vec::new();
    let encoded = (|| {
        let mut encoder = png::Encoder::new(&mut png_bytes, WIDTH as u32, height as u32);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(std::io::Error::other)?;
        writer.write_image_data(&canvas.pixels).map_err(std::io::Error::other)
    })();
    encoded.map_err(|source| WriteError { path: path.into(), source })?;
    write_atomically(path, |file| file.write_all(&png_bytes))
}

fn draw_panel(canvas: &mut Canvas, top: usize, panel: &Panel) {
    let (left, right) = (MARGIN_LEFT as f64, (WIDTH - MARGIN_RIGHT) as f64);
    let (upper, lower) = ((top + MARGIN_TOP) as f64, (top + PANEL_HEIGHT - MARGIN_BOTTOM) as f64);
    let points = panel.series.iter().flat_map(|s| s.points.iter()).filter(|(x, y)| x.is_finite() && y.is_finite());
    let (mut x_min, mut x_max, mut y_min, mut y_max) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in points {
        (x_min, x_max, y_min, y_max) = (x_min.min(x), x_max.max(x), y_min.min(y), y_max.max(y));
    }
    canvas.text(MARGIN_LEFT, top + 8, panel.title, BLACK);
    let mut legend_x = MARGIN_LEFT + (panel.title.len() + 2) * 6 * SCALE;
    for series in &panel.series {
        canvas.text(legend_x, top + 8, series.label, series.color);
        legend_x += (series.label.len() + 2) * 6 * SCALE;
    }
    // Axes box.
    canvas.line((left, upper), (right, upper), GREY);
    canvas.line((left, lower), (right, lower), BLACK);
    canvas.line((left, upper), (left, lower), BLACK);
    if x_min > x_max {
        canvas.text(MARGIN_LEFT + 20, top + PANEL_HEIGHT / 2, "NO DATA YET", GREY);
        return;
    }
    if y_max - y_min < 1e-9 {
        (y_min, y_max) = (y_min - 0.5, y_max + 0.5);
    }
    if x_max - x_min < 1e-9 {
        x_max = x_min + 1.0;
    }
    let to_screen = |(x, y): (f64, f64)| {
        (left + (x - x_min) / (x_max - x_min) * (right - left), lower - (y - y_min) / (y_max - y_min) * (lower - upper))
    };
    if y_min < 0.0 && y_max > 0.0 {
        let zero = to_screen((x_min, 0.0)).1;
        canvas.line((left, zero), (right, zero), GREY);
    }
    canvas.text(2, upper as usize, &short_number(y_max), BLACK);
    canvas.text(2, lower as usize - 7 * SCALE, &short_number(y_min), BLACK);
    canvas.text(MARGIN_LEFT, lower as usize + 6, &short_number(x_min), BLACK);
    let x_label = short_number(x_max);
    canvas.text(WIDTH - MARGIN_RIGHT - x_label.len() * 6 * SCALE, lower as usize + 6, &x_label, BLACK);
    for series in &panel.series {
        let points: Vec<(f64, f64)> = series.points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
        for pair in points.windows(2) {
            canvas.line(to_screen(pair[0]), to_screen(pair[1]), series.color);
        }
        if let [only] = points[..] {
            let (x, y) = to_screen(only);
            canvas.line((x - 2.0, y), (x + 2.0, y), series.color);
        }
    }
}

fn short_number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1e6 {
        format!("{:.1}M", value / 1e6)
    } else if magnitude >= 1e4 {
        format!("{:.0}K", value / 1e3)
    } else if magnitude >= 100.0 || value == value.round() {
        format!("{value:.0}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// 5x7 glyphs, one row per entry, bit 4 = leftmost column.
fn glyph(c: char) -> [u8; 7] {
    match c.to_ascii_uppercase() {
        '0' => [14, 17, 19, 21, 25, 17, 14],
        '1' => [4, 12, 4, 4, 4, 4, 14],
        '2' => [14, 17, 1, 2, 4, 8, 31],
        '3' => [31, 2, 4, 2, 1, 17, 14],
        '4' => [2, 6, 10, 18, 31, 2, 2],
        '5' => [31, 16, 30, 1, 1, 17, 14],
        '6' => [6, 8, 16, 30, 17, 17, 14],
        '7' => [31, 1, 2, 4, 8, 8, 8],
        '8' => [14, 17, 17, 14, 17, 17, 14],
        '9' => [14, 17, 17, 15, 1, 2, 12],
        'A' => [14, 17, 17, 31, 17, 17, 17],
        'B' => [30, 17, 17, 30, 17, 17, 30],
        'C' => [14, 17, 16, 16, 16, 17, 14],
        'D' => [28, 18, 17, 17, 17, 18, 28],
        'E' => [31, 16, 16, 30, 16, 16, 31],
        'F' => [31, 16, 16, 30, 16, 16, 16],
        'G' => [14, 17, 16, 23, 17, 17, 15],
        'H' => [17, 17, 17, 31, 17, 17, 17],
        'I' => [14, 4, 4, 4, 4, 4, 14],
        'J' => [7, 2, 2, 2, 2, 18, 12],
        'K' => [17, 18, 20, 24, 20, 18, 17],
        'L' => [16, 16, 16, 16, 16, 16, 31],
        'M' => [17, 27, 21, 21, 17, 17, 17],
        'N' => [17, 17, 25, 21, 19, 17, 17],
        'O' => [14, 17, 17, 17, 17, 17, 14],
        'P' => [30, 17, 17, 30, 16, 16, 16],
        'Q' => [14, 17, 17, 17, 21, 18, 13],
        'R' => [30, 17, 17, 30, 20, 18, 17],
        'S' => [15, 16, 16, 14, 1, 1, 30],
        'T' => [31, 4, 4, 4, 4, 4, 4],
        'U' => [17, 17, 17, 17, 17, 17, 14],
        'V' => [17, 17, 17, 17, 17, 10, 4],
        'W' => [17, 17, 17, 21, 21, 21, 10],
        'X' => [17, 17, 10, 4, 10, 17, 17],
        'Y' => [17, 17, 17, 10, 4, 4, 4],
        'Z' => [31, 1, 2, 4, 8, 16, 31],
        '.' => [0, 0, 0, 0, 0, 12, 12],
        '-' => [0, 0, 0, 31, 0, 0, 0],
        '+' => [0, 4, 4, 31, 4, 4, 0],
        '/' => [0, 1, 2, 4, 8, 16, 0],
        '%' => [24, 25, 2, 4, 8, 19, 3],
        ':' => [0, 12, 12, 0, 12, 12, 0],
        '(' => [2, 4, 8, 8, 8, 4, 2],
        ')' => [8, 4, 2, 2, 2, 4, 8],
        _ => [0; 7],
    }
}
