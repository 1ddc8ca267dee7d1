//! PNG plots: the confusion matrix (counts and row-normalised shares) and training curves
//! (loss and accuracy per epoch, training and validation).
//!
//! Drawn with plotters into an RGB buffer and encoded with `png`; text uses plotters'
//! pure-Rust `ab_glyph` path with a DejaVu Sans subset embedded from `assets/fonts/`, so
//! no system font libraries are needed.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

use crate::error::{Error, Result};
use crate::metrics::ConfusionMatrix;
use crate::train::MemberHistory;

/// Size of the confusion matrix plot, pixels (two panels side by side).
pub const CONFUSION_SIZE: (u32, u32) = (1200, 560);
/// Size of the training curves plot, pixels (loss and accuracy side by side).
pub const CURVES_SIZE: (u32, u32) = (1200, 480);

const FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-subset.ttf");
const FAMILY: &str = "sans-serif";
const TRAIN_COLOR: RGBColor = RGBColor(31, 119, 180);
const VALIDATION_COLOR: RGBColor = RGBColor(255, 127, 14);

fn plot_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Plot {
        path: path.into(),
        message: e.to_string(),
    }
}

/// Registers the embedded font once for the whole process.
fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok()
            && plotters::style::register_font(FAMILY, FontStyle::Bold, FONT).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(plot_error(
            Path::new("<font>"),
            "the embedded font does not parse",
        ))
    }
}

/// Draws with `draw` into an RGB buffer of `size` and encodes it as PNG.
fn render(
    size: (u32, u32),
    path: &Path,
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()>,
) -> Result<Vec<u8>> {
    ensure_font()?;
    let mut buffer = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
        draw(&root)?;
        root.present().map_err(|e| plot_error(path, e))?;
    }
    let mut png_bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png_bytes, size.0, size.1);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| plot_error(path, e))?;
        writer
            .write_image_data(&buffer)
            .map_err(|e| plot_error(path, e))?;
    }
    Ok(png_bytes)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

/// The confusion matrix as a PNG of [`CONFUSION_SIZE`]: counts on the left, shares of each
/// true label on the right; true labels down, predictions across; `title` on top.
pub fn confusion_png(cm: &ConfusionMatrix, title: &str) -> Result<Vec<u8>> {
    let path = Path::new("confusion.png");
    render(CONFUSION_SIZE, path, |root| {
        let e = |err| plot_error(path, err);
        let title_style = TextStyle::from((FAMILY, 22).into_font())
            .pos(Pos::new(HPos::Center, VPos::Top))
            .color(&BLACK);
        root.draw(&Text::new(
            title.to_string(),
            (CONFUSION_SIZE.0 as i32 / 2, 10),
            title_style,
        ))
        .map_err(e)?;
        let body = root.margin(44, 10, 10, 10);
        let (left, right) = body.split_horizontally(CONFUSION_SIZE.0 / 2 - 10);
        let shares = cm.row_normalised();
        let counts: Vec<Vec<String>> = cm
            .counts
            .iter()
            .map(|row| row.iter().map(u64::to_string).collect())
            .collect();
        let percents: Vec<Vec<String>> = shares
            .iter()
            .map(|row| row.iter().map(|s| format!("{:.0}%", s * 100.0)).collect())
            .collect();
        draw_matrix(&left, "Counts", &cm.labels, &shares, &counts, path)?;
        draw_matrix(
            &right,
            "Share of each true label",
            &cm.labels,
            &shares,
            &percents,
            path,
        )?;
        Ok(())
    })
}

/// Writes [`confusion_png`] to `path`.
pub fn write_confusion_png(
    cm: &ConfusionMatrix,
    title: &str,
    path: impl AsRef<Path>,
) -> Result<()> {
    let path = path.as_ref();
    let bytes = confusion_png(cm, title).map_err(|e| retarget(e, path))?;
    write_file(path, &bytes)
}

fn retarget(e: Error, path: &Path) -> Error {
    match e {
        Error::Plot { message, .. } => Error::Plot {
            path: path.into(),
            message,
        },
        other => other,
    }
}

/// One heat-map panel: cells shaded by `shade` (0..1), labelled with `text`.
fn draw_matrix(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    heading: &str,
    labels: &[String],
    shade: &[Vec<f64>],
    text: &[Vec<String>],
    path: &Path,
) -> Result<()> {
    let e = |err| plot_error(path, err);
    let n = labels.len().max(1) as i32;
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let label_style = TextStyle::from((FAMILY, 15).into_font()).color(&BLACK);
    let label_width = labels
        .iter()
        .map(|l| area.estimate_text_size(l, &label_style).map(|s| s.0 as i32))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(e)?
        .into_iter()
        .max()
        .unwrap_or(0);
    // Left: axis title row above the label column; bottom: labels then axis title.
    let left = (label_width + 16).max(90);
    let top = 34;
    let bottom = 56;
    let cell = ((w - left - 10) / n).min((h - top - bottom) / n).max(1);
    let x0 = left;
    let y0 = top;
    area.draw(&Text::new(
        heading.to_string(),
        (x0 + cell * n / 2, 4),
        TextStyle::from((FAMILY, 18).into_font()).pos(Pos::new(HPos::Center, VPos::Top)),
    ))
    .map_err(e)?;
    area.draw(&Text::new(
        "true label",
        (x0 - 8, y0 - 6),
        TextStyle::from((FAMILY, 14).into_font())
            .color(&RGBColor(90, 90, 90))
            .pos(Pos::new(HPos::Right, VPos::Bottom)),
    ))
    .map_err(e)?;
    for i in 0..labels.len() {
        let yi = y0 + cell * i as i32;
        area.draw(&Text::new(
            labels[i].clone(),
            (x0 - 8, yi + cell / 2),
            label_style.pos(Pos::new(HPos::Right, VPos::Center)),
        ))
        .map_err(e)?;
        for j in 0..labels.len() {
            let xj = x0 + cell * j as i32;
            let s = shade
                .get(i)
                .and_then(|r| r.get(j))
                .copied()
                .unwrap_or(0.0)
                .clamp(0.0, 1.0);
            // White to a dark blue.
            let mix = |light: f64, dark: f64| (light + (dark - light) * s).round() as u8;
            let fill = RGBColor(mix(247.0, 8.0), mix(251.0, 48.0), mix(255.0, 107.0));
            area.draw(&Rectangle::new(
                [(xj, yi), (xj + cell, yi + cell)],
                fill.filled(),
            ))
            .map_err(e)?;
            area.draw(&Rectangle::new(
                [(xj, yi), (xj + cell, yi + cell)],
                RGBColor(200, 200, 200).stroke_width(1),
            ))
            .map_err(e)?;
            let ink = if s > 0.5 { WHITE } else { BLACK };
            let size = (cell / 4).clamp(10, 22);
            let value = text
                .get(i)
                .and_then(|r| r.get(j))
                .cloned()
                .unwrap_or_default();
            area.draw(&Text::new(
                value,
                (xj + cell / 2, yi + cell / 2),
                TextStyle::from((FAMILY, size).into_font())
                    .color(&ink)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            ))
            .map_err(e)?;
        }
    }
    let below = y0 + cell * n + 6;
    for (j, label) in labels.iter().enumerate() {
        area.draw(&Text::new(
            label.clone(),
            (x0 + cell * j as i32 + cell / 2, below),
            label_style.pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(e)?;
    }
    area.draw(&Text::new(
        "predicted label",
        (x0 + cell * n / 2, below + 24),
        TextStyle::from((FAMILY, 14).into_font())
            .color(&RGBColor(90, 90, 90))
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))
    .map_err(e)?;
    Ok(())
}

/// Training curves as a PNG of [`CURVES_SIZE`]: loss (left) and accuracy (right) per epoch,
/// training in blue and validation in orange, one line per ensemble member; a dot marks
/// the epoch each member kept.
pub fn training_curves_png(history: &[MemberHistory]) -> Result<Vec<u8>> {
    let path = Path::new("training.png");
    render(CURVES_SIZE, path, |root| {
        let (left, right) = root.split_horizontally(CURVES_SIZE.0 / 2);
        draw_curves(&left, history, "Loss (cross-entropy)", true, path)?;
        draw_curves(&right, history, "Accuracy", false, path)?;
        Ok(())
    })
}

/// Writes [`training_curves_png`] to `path`.
pub fn write_training_curves_png(history: &[MemberHistory], path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes = training_curves_png(history).map_err(|e| retarget(e, path))?;
    write_file(path, &bytes)
}

fn draw_curves(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    history: &[MemberHistory],
    title: &str,
    loss: bool,
    path: &Path,
) -> Result<()> {
    let e = |err| plot_error(path, err);
    let pick = |r: &crate::train::EpochRecord, validation: bool| -> Option<f64> {
        match (loss, validation) {
            (true, false) => Some(r.train_loss),
            (true, true) => r.validation_loss,
            (false, false) => Some(r.train_accuracy),
            (false, true) => r.validation_accuracy,
        }
    };
    let max_epoch = history
        .iter()
        .flat_map(|h| h.epochs.iter().map(|r| r.epoch))
        .max()
        .unwrap_or(1)
        .max(2);
    let values: Vec<f64> = history
        .iter()
        .flat_map(|h| h.epochs.iter())
        .flat_map(|r| [pick(r, false), pick(r, true)])
        .flatten()
        .filter(|v| v.is_finite())
        .collect();
    let y_range = if loss {
        let top = values.iter().copied().fold(0.0, f64::max);
        0.0..(top * 1.05).max(1e-3)
    } else {
        0.0..1.0
    };
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FAMILY, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(1f64..max_epoch as f64, y_range)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .x_labels(max_epoch.min(12))
        .y_desc(if loss { "loss" } else { "accuracy" })
        .label_style((FAMILY, 13))
        .axis_desc_style((FAMILY, 14))
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()
        .map_err(e)?;
    for (validation, color, name) in [
        (false, TRAIN_COLOR, "training"),
        (true, VALIDATION_COLOR, "validation"),
    ] {
        for (k, member) in history.iter().enumerate() {
            let points: Vec<(f64, f64)> = member
                .epochs
                .iter()
                .filter_map(|r| pick(r, validation).map(|v| (r.epoch as f64, v)))
                .collect();
            if points.is_empty() {
                continue;
            }
            let series = chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(e)?;
            if k == 0 {
                series.label(name).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            }
            if let Some(&(x, y)) = points
                .iter()
                .find(|(x, _)| *x as usize == member.best_epoch)
            {
                chart
                    .draw_series(std::iter::once(Circle::new((x, y), 4, color.filled())))
                    .map_err(e)?;
            }
        }
    }
    chart
        .configure_series_labels()
        .position(if loss {
            SeriesLabelPosition::UpperRight
        } else {
            SeriesLabelPosition::LowerRight
        })
        .label_font((FAMILY, 14))
        .background_style(WHITE.mix(0.8))
        .border_style(RGBColor(200, 200, 200))
        .draw()
        .map_err(e)?;
    Ok(())
}
