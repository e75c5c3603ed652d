//! Charts drawn with plotters as SVG strings, inlined into the report.
//! Every text drawn here is a scheme or family name the parsers validated, never suite text.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use crate::analysis::summary::Summary;
use crate::error::{Error, Result};
use crate::eval::sustain::Window;

static FONT: &[u8] = include_bytes!("../../reports/fonts/DejaVuSans.ttf");

/// Colour of the n-th scheme, shared by every chart.
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn ensure_font() {
    // Registering twice is harmless; an unusable font makes text drawing fail, reported as an error below.
    let _ = register_font("sans-serif", FontStyle::Normal, FONT);
}

fn err(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("drawing chart: {e}"))
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// One scheme's line with dots at its points and a legend entry.
fn draw_line<'a, 'b>(
    chart: &mut Chart<'a, 'b>,
    points: &[(f64, f64)],
    color: RGBColor,
    label: &str,
    dot: u32,
) -> Result<()>
where
    'b: 'a,
{
    chart
        .draw_series(LineSeries::new(points.to_vec(), color.stroke_width(2)))
        .map_err(err)?
        .label(label.to_string())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
    chart
        .draw_series(points.iter().map(|&p| Circle::new(p, dot, color.filled())))
        .map_err(err)?;
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
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)
}

/// Accuracy against severity (0 = clean) for each family: one panel per family, one line per scheme,
/// with its 95% Wilson interval as a band.
pub fn accuracy_by_severity(summary: &Summary) -> Result<String> {
    ensure_font();
    let families = &summary.meta.families;
    let panels = families.len().max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (440 * panels as u32, 360)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let lowest = summary
            .cells()
            .iter()
            .map(|c| c.accuracy_ci[0])
            .fold(100.0f64, f64::min);
        let y_min = ((lowest - 5.0) / 10.0).floor().max(0.0) * 10.0;
        for (area, family) in root.split_evenly((1, panels)).iter().zip(families) {
            let mut chart = ChartBuilder::on(area)
                .caption(format!("{family}: accuracy vs severity"), ("sans-serif", 16))
                .margin(10)
                .x_label_area_size(34)
                .y_label_area_size(46)
                .build_cartesian_2d(0f64..5f64, y_min..100.5f64)
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc("severity (0 = clean)")
                .y_desc("accuracy %")
                .x_labels(6)
                .x_label_formatter(&|x| format!("{x:.0}"))
                .draw()
                .map_err(err)?;
            for (i, scheme) in summary.schemes.iter().enumerate() {
                let color = PALETTE[i % PALETTE.len()];
                let mut cells = vec![&scheme.clean];
                if let Some(f) = scheme.families.iter().find(|f| &f.family == family) {
                    cells.extend(f.severities.iter());
                }
                let x = |c: &crate::analysis::metrics::Cell| c.severity_lo as f64;
                let mut band: Vec<(f64, f64)> = cells.iter().map(|c| (x(c), c.accuracy_ci[1])).collect();
                band.extend(cells.iter().rev().map(|c| (x(c), c.accuracy_ci[0])));
                chart
                    .draw_series(std::iter::once(Polygon::new(band, color.mix(0.15).filled())))
                    .map_err(err)?;
                let points: Vec<(f64, f64)> = cells.iter().map(|c| (x(c), c.accuracy)).collect();
                draw_line(&mut chart, &points, color, &scheme.scheme, 3)?;
            }
            draw_legend(&mut chart, SeriesLabelPosition::LowerLeft)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Heatmap of the drop from clean (points), schemes as rows, families as columns.
pub fn drop_heatmap(summary: &Summary) -> Result<String> {
    ensure_font();
    let families = &summary.meta.families;
    let (cols, rows) = (families.len().max(1), summary.schemes.len().max(1));
    let (cell_w, cell_h, left, top) = (190i32, 52i32, 200i32, 48i32);
    let (w, h) = (
        (left + cell_w * cols as i32 + 20) as u32,
        (top + cell_h * rows as i32 + 20) as u32,
    );
    let worst = summary
        .schemes
        .iter()
        .flat_map(|s| s.families.iter().map(|f| f.pooled.drop))
        .fold(1.0f64, f64::max);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let text =
            |s: &str, x: i32, y: i32, size: u32| Text::new(s.to_string(), (x, y), ("sans-serif", size).into_font());
        root.draw(&text("drop from clean, points (pooled over severities)", 10, 10, 14))
            .map_err(err)?;
        for (c, family) in families.iter().enumerate() {
            root.draw(&text(family, left + cell_w * c as i32 + 8, top - 14, 13))
                .map_err(err)?;
        }
        for (r, scheme) in summary.schemes.iter().enumerate() {
            let y = top + cell_h * r as i32;
            root.draw(&text(&scheme.scheme, 10, y + cell_h / 2 - 7, 13))
                .map_err(err)?;
            for (c, f) in scheme.families.iter().enumerate() {
                let x = left + cell_w * c as i32;
                let t = (f.pooled.drop.max(0.0) / worst).clamp(0.0, 1.0);
                let fill = RGBColor(255, (255.0 - 180.0 * t) as u8, (255.0 - 200.0 * t) as u8);
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell_w - 2, y + cell_h - 2)],
                    fill.filled(),
                ))
                .map_err(err)?;
                let label = format!(
                    "{:.1} [{:.1}, {:.1}]",
                    f.pooled.drop, f.pooled.drop_ci[0], f.pooled.drop_ci[1]
                );
                root.draw(&text(&label, x + 8, y + cell_h / 2 - 8, 15)).map_err(err)?;
            }
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
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
        let root = SVGBackend::with_string(&mut svg, (880, 360)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("sustained throughput", ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(34)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..t_max, 0f64..y_max)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("seconds under load")
            .y_desc("items/s")
            .draw()
            .map_err(err)?;
        for (i, scheme) in summary.schemes.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let points: Vec<(f64, f64)> = windows
                .iter()
                .filter(|w| w.scheme == scheme.scheme)
                .map(|w| (w.t_end_s, w.items_per_s))
                .collect();
            if points.is_empty() {
                continue;
            }
            draw_line(&mut chart, &points, color, &scheme.scheme, 2)?;
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        root.present().map_err(err)?;
    }
    Ok(Some(svg))
}
