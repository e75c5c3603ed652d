//! The report as a reviewer sees it: rendered by headless Chromium, with no console errors and charts
//! that actually draw something.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{shakedown, text};

fn chromium() -> PathBuf {
    let path = std::env::var_os("SHAKEDOWN_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "Chromium not found at {}: install Debian's chromium (scripts/test.sh does) or set SHAKEDOWN_CHROMIUM",
        path.display()
    );
    path
}

fn headless(profile: &std::path::Path) -> Command {
    let mut c = Command::new(chromium());
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ]);
    c.arg(format!("--user-data-dir={}", profile.display()));
    c
}

#[test]
fn report_renders_in_headless_chromium_without_errors_and_with_drawn_charts() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let o = shakedown(&[
        "run",
        "--limit",
        "40",
        "--sustain-seconds",
        "1",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
    let url = format!("file://{}", run.join("report.html").display());

    let shot = tmp.path().join("report.png");
    let o = headless(&tmp.path().join("profile1"))
        .args([
            "--window-size=1300,2600",
            &format!("--screenshot={}", shot.display()),
            &url,
        ])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "chromium failed: {log}");
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(console.is_empty(), "console messages: {console:?}");

    // The screenshot is a real page: many colours, not a blank canvas.
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = info.color_type.samples();
    let mut colours = std::collections::HashSet::new();
    for p in buf[..info.buffer_size()].chunks(px) {
        colours.insert(p.to_vec());
    }
    assert!(colours.len() > 50, "screenshot looks blank: {} colours", colours.len());

    // The DOM after rendering: every chart is an SVG with drawn lines or cells.
    let o = headless(&tmp.path().join("profile2"))
        .args(["--dump-dom", &url])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&o.stdout);
    for id in ["heatmap", "accuracy-chart", "throughput-chart"] {
        let start = dom
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("{id} missing"));
        let end = dom[start..]
            .find("</svg>")
            .map(|e| start + e)
            .unwrap_or_else(|| panic!("{id} has no svg"));
        let svg = &dom[start..end];
        let marks = svg.matches("<polyline").count() + svg.matches("<rect").count() + svg.matches("<circle").count();
        assert!(marks > 5, "{id} draws almost nothing ({marks} marks)");
    }
    assert!(dom.contains("Gate: PASSED") || dom.contains("Gate: FAILED"));
}
