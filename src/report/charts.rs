//! Charts drawn with plotters as SVG strings, inlined into the report at their natural size (no
//! scaling), and the drop heatmap as table data. Every text drawn here is a scheme, family or metric
//! name the parsers validated, never suite text.
//!
//! Readability at 100% zoom: plotters' SVG backend writes a font of size s as `font-size = s / 1.24`
//! px, so every size below is at least 14 (11.3 px); each scheme has its own colour and marker, and
//! schemes are offset slightly along the x axis so lines on top of each other stay apart.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use serde::Serialize;

use crate::analysis::metrics::Cell;
use crate::analysis::summary::Summary;
use crate::error::{Error, Result};
use crate::eval::sustain::Window;

static FONT: &[u8] = include_bytes!("../../reports/fonts/DejaVuSans.ttf");

/// Colour of the n-th scheme, shared by every chart (Tableau 10, colour-blind aware).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Font sizes (plotters units; px = size / 1.24).
const CAPTION: u32 = 18;
const AXIS: u32 = 16;
const TICKS: u32 = 15;
const LEGEND: u32 = 15;

fn ensure_font() {
    // Registering twice is harmless; an unusable font makes text drawing fail, reported as an error below.
    let _ = register_font("sans-serif", FontStyle::Normal, FONT);
}

fn err(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("drawing chart: {e}"))
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// One scheme's line with its markers (circle, triangle, cross, square; dashed from the fifth
/// scheme on) and a legend entry.
fn draw_line<'a, 'b>(chart: &mut Chart<'a, 'b>, points: &[(f64, f64)], n: usize, label: &str) -> Result<()>
where
    'b: 'a,
{
    let color = PALETTE[n % PALETTE.len()];
    let dashed = (n / 4) % 2 == 1;
    let series = if dashed {
        chart
            .draw_series(DashedLineSeries::new(points.to_vec(), 6, 4, color.stroke_width(2)))
            .map_err(err)?
    } else {
        chart
            .draw_series(LineSeries::new(points.to_vec(), color.stroke_width(2)))
            .map_err(err)?
    };
    series
        .label(label.to_string())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3)));
    for &p in points {
        let style = color.filled();
        match n % 4 {
            0 => chart.draw_series(std::iter::once(Circle::new(p, 4, style))).map(|_| ()),
            1 => chart
                .draw_series(std::iter::once(TriangleMarker::new(p, 6, style)))
                .map(|_| ()),
            2 => chart
                .draw_series(std::iter::once(Cross::new(p, 5, color.stroke_width(2))))
                .map(|_| ()),
            _ => chart
                .draw_series(std::iter::once(
                    EmptyElement::at(p) + Rectangle::new([(-4, -4), (4, 4)], style),
                ))
                .map(|_| ()),
        }
        .map_err(err)?;
    }
    Ok(())
}

/// The legend box of a chart's lines.
fn draw_legend<'a, 'b>(chart: &mut Chart<'a, 'b>, position: SeriesLabelPosition) -> Result<()>
where
    'b: 'a,
{
    chart
        .configure_series_labels()
        .position(position)
        .label_font(("sans-serif", LEGEND))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)
}

/// The primary metric against severity (0 = clean), one chart per family, one line per scheme with
/// its 95% interval as a band.
pub fn metric_by_severity(summary: &Summary) -> Result<Vec<String>> {
    ensure_font();
    let metric = summary.primary().replace('_', " ");
    let lowest = summary
        .cells()
        .iter()
        .map(|c| c.primary().ci[0])
        .fold(100.0f64, f64::min);
    let y_min = ((lowest - 5.0) / 10.0).floor().max(0.0) * 10.0;
    let n = summary.schemes.len().max(1);
    let mut out = Vec::new();
    for family in &summary.meta.families {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (420, 360)).into_drawing_area();
            root.fill(&WHITE).map_err(err)?;
            let mut chart = ChartBuilder::on(&root)
                .caption(format!("{family}: {metric} vs severity"), ("sans-serif", CAPTION))
                .margin(10)
                .x_label_area_size(44)
                .y_label_area_size(54)
                .build_cartesian_2d(-0.3f64..5.3f64, y_min..100.5f64)
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc("severity (0 = clean)")
                .y_desc(format!("{metric} %"))
                .axis_desc_style(("sans-serif", AXIS))
                .label_style(("sans-serif", TICKS))
                .x_labels(6)
                .x_label_formatter(&|x| format!("{x:.0}"))
                .y_label_formatter(&|y| format!("{y:.0}"))
                .draw()
                .map_err(err)?;
            for (i, scheme) in summary.schemes.iter().enumerate() {
                let color = PALETTE[i % PALETTE.len()];
                // Offsets within +-0.15 severity keep identical lines side by side.
                let offset = if n > 1 {
                    -0.15 + 0.3 * i as f64 / (n - 1) as f64
                } else {
                    0.0
                };
                let mut cells = vec![&scheme.clean];
                if let Some(f) = scheme.families.iter().find(|f| &f.family == family) {
                    cells.extend(f.severities.iter());
                }
                let x = |c: &Cell| c.severity_lo as f64 + offset;
                let mut band: Vec<(f64, f64)> = cells.iter().map(|c| (x(c), c.primary().ci[1])).collect();
                band.extend(cells.iter().rev().map(|c| (x(c), c.primary().ci[0])));
                chart
                    .draw_series(std::iter::once(Polygon::new(band, color.mix(0.12).filled())))
                    .map_err(err)?;
                let points: Vec<(f64, f64)> = cells.iter().map(|c| (x(c), c.primary().value)).collect();
                draw_line(&mut chart, &points, i, &scheme.scheme)?;
            }
            draw_legend(&mut chart, SeriesLabelPosition::LowerLeft)?;
            root.present().map_err(err)?;
        }
        out.push(svg);
    }
    Ok(out)
}

/// One cell of the drop heatmap.
#[derive(Serialize)]
pub struct HeatCell {
    /// None where the family was not run (a shard's other cells).
    pub drop: Option<f64>,
    /// The drop's 95% interval, where the drop has one.
    pub ci: Option<[f64; 2]>,
    /// CSS background colour: white at no drop, red at the run's worst.
    pub color: String,
}

/// The drop from clean (points, pooled over severities) per scheme x family, as table rows: the
/// schemes whose clean inputs this run holds (a shard may hold a scheme's corrupted inputs only).
pub fn drop_heatmap(summary: &Summary) -> Vec<(String, Vec<HeatCell>)> {
    let with_clean = || summary.schemes.iter().filter(|s| s.clean.n > 0);
    let worst = with_clean()
        .flat_map(|s| s.families.iter().filter_map(|f| f.pooled.drop))
        .fold(1.0f64, f64::max);
    with_clean()
        .map(|s| {
            let cells = s
                .families
                .iter()
                .map(|f| {
                    let t = (f.pooled.drop.unwrap_or(0.0).max(0.0) / worst).clamp(0.0, 1.0);
                    HeatCell {
                        drop: f.pooled.drop,
                        ci: f.pooled.drop_ci,
                        color: format!("rgb(255, {}, {})", (255.0 - 180.0 * t) as u8, (255.0 - 200.0 * t) as u8),
                    }
                })
                .collect();
            (s.scheme.clone(), cells)
        })
        .collect()
}

/// Items/s over time, one line per scheme.
pub fn throughput_over_time(summary: &Summary, windows: &[Window]) -> Result<Option<String>> {
    if windows.is_empty() {
        return Ok(None);
    }
    ensure_font();
    let t_max = windows.iter().map(|w| w.t_end_s).fold(0.1f64, f64::max);
    let y_max = windows.iter().map(|w| w.items_per_s).fold(1.0f64, f64::max) * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (880, 380)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("sustained throughput", ("sans-serif", CAPTION))
            .margin(10)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..t_max, 0f64..y_max)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("seconds under load")
            .y_desc("items/s")
            .axis_desc_style(("sans-serif", AXIS))
            .label_style(("sans-serif", TICKS))
            .draw()
            .map_err(err)?;
        for (i, scheme) in summary.schemes.iter().enumerate() {
            let points: Vec<(f64, f64)> = windows
                .iter()
                .filter(|w| w.scheme == scheme.scheme)
                .map(|w| (w.t_end_s, w.items_per_s))
                .collect();
            if points.is_empty() {
                continue;
            }
            draw_line(&mut chart, &points, i, &scheme.scheme)?;
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        root.present().map_err(err)?;
    }
    Ok(Some(svg))
}
