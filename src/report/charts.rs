//! Charts drawn with plotters as SVG strings, inlined into the report.
//! Every text drawn here is a scheme or family name the parsers validated, never suite text.

use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use crate::error::{Error, Result};
use crate::summary::Summary;

static FONT: &[u8] = include_bytes!("../../reports/fonts/DejaVuSans.ttf");

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn ensure_font() {
    // Registering twice is harmless; an invalid font would only fail text drawing, reported below.
    let _ = register_font("sans-serif", FontStyle::Normal, FONT);
}

/// Accuracy against severity (0 = clean) for each family: one panel per family, one line per scheme.
pub fn accuracy_by_severity(summary: &Summary) -> Result<String> {
    ensure_font();
    let families: Vec<String> = summary
        .schemes
        .first()
        .map(|s| s.families.iter().map(|f| f.family.clone()).collect())
        .unwrap_or_default();
    let panels = families.len().max(1);
    let (w, h) = (420 * panels as u32, 340);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        let err = |e: &dyn std::fmt::Display| Error::Internal(format!("drawing chart: {e}"));
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let areas = root.split_evenly((1, panels));
        let lowest = summary
            .schemes
            .iter()
            .flat_map(|s| s.families.iter().flat_map(|f| f.severities.iter().map(|c| c.accuracy)))
            .fold(100.0f64, f64::min);
        let y_min = ((lowest - 5.0) / 10.0).floor().max(0.0) * 10.0;
        for (area, family) in areas.iter().zip(&families) {
            let mut chart = ChartBuilder::on(area)
                .caption(format!("{family}: accuracy vs severity"), ("sans-serif", 16))
                .margin(10)
                .x_label_area_size(32)
                .y_label_area_size(44)
                .build_cartesian_2d(0f64..5f64, y_min..100.5f64)
                .map_err(|e| err(&e))?;
            chart
                .configure_mesh()
                .x_desc("severity (0 = clean)")
                .y_desc("accuracy %")
                .x_labels(6)
                .x_label_formatter(&|x| format!("{x:.0}"))
                .draw()
                .map_err(|e| err(&e))?;
            for (i, scheme) in summary.schemes.iter().enumerate() {
                let color = PALETTE[i % PALETTE.len()];
                let mut points = vec![(0.0, scheme.clean_accuracy)];
                if let Some(f) = scheme.families.iter().find(|f| &f.family == family) {
                    points.extend(f.severities.iter().map(|c| (c.severity as f64, c.accuracy)));
                }
                chart
                    .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                    .map_err(|e| err(&e))?
                    .label(scheme.scheme.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
                chart
                    .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                    .map_err(|e| err(&e))?;
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerLeft)
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| err(&e))?;
        }
        root.present().map_err(|e| err(&e))?;
    }
    Ok(svg)
}
