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

/// Appended to a copy of the report: measures, after layout, the smallest rendered font of the SVG
/// charts' text (font size times the SVG's scale on screen) and of the page's text, and writes them
/// into the DOM for `--dump-dom`.
const MEASURE: &str = r#"<script>
(function () {
  let svgMin = 1e9, svgTexts = 0, htmlMin = 1e9;
  for (const t of document.querySelectorAll('svg text')) {
    if (!t.textContent.trim()) continue;
    const m = t.getScreenCTM();
    const px = parseFloat(getComputedStyle(t).fontSize) * (m ? Math.hypot(m.a, m.b) : 1);
    svgMin = Math.min(svgMin, px); svgTexts++;
  }
  for (const el of document.querySelectorAll('td, th, p, li, span, h1, h2, h3, div')) {
    if (!Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    htmlMin = Math.min(htmlMin, parseFloat(getComputedStyle(el).fontSize));
  }
  const colours = new Set();
  for (const p of document.querySelectorAll('#accuracy-chart svg polyline, #accuracy-chart svg path')) {
    const s = p.getAttribute('stroke');
    if (s && s !== 'none' && s !== '#000000' && s !== 'black') colours.add(s);
  }
  document.body.setAttribute('data-min-svg-font', svgMin.toFixed(2));
  document.body.setAttribute('data-svg-texts', svgTexts);
  document.body.setAttribute('data-min-html-font', htmlMin.toFixed(2));
  document.body.setAttribute('data-line-colours', colours.size);
})();
</script>"#;

fn attr(dom: &str, name: &str) -> f64 {
    let key = format!("{name}=\"");
    let start = dom.find(&key).unwrap_or_else(|| panic!("{name} not measured")) + key.len();
    let end = start + dom[start..].find('"').unwrap();
    dom[start..end].parse().unwrap()
}

fn section<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("{id} missing"));
    let end = dom[start..].find("</table>").map_or(dom.len(), |e| start + e);
    &dom[start..end]
}

#[test]
fn report_renders_in_headless_chromium_without_errors_and_answers_which_scheme() {
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
            "--window-size=1320,3000",
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
    if let Some(dir) = std::env::var_os("SHAKEDOWN_SCREENSHOT_DIR") {
        std::fs::copy(&shot, PathBuf::from(dir).join("report.png")).unwrap();
    }

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

    // The DOM after layout, with the measuring script appended.
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    let measured = tmp.path().join("measured.html");
    std::fs::write(&measured, html.replace("</body>", &format!("{MEASURE}</body>"))).unwrap();
    let o = headless(&tmp.path().join("profile2"))
        .args([
            "--window-size=1320,3000",
            "--dump-dom",
            &format!("file://{}", measured.display()),
        ])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&o.stdout);

    // It opens with the verdict and the recommendation, then a verdict per scheme.
    let verdict_at = dom.find("id=\"verdict\"").expect("verdict banner");
    assert!(verdict_at < dom.find("id=\"verdicts\"").unwrap());
    assert!(dom.contains("Gate: PASSED") || dom.contains("Gate: FAILED"));
    assert!(dom.contains("id=\"recommendation\""));
    let verdicts = section(&dom, "verdicts");
    for scheme in ["f32", "int8", "w4a16-rtn-g128"] {
        assert!(verdicts.contains(&format!(">{scheme}<")), "{scheme} has no verdict row");
    }
    assert_eq!(
        verdicts.matches("class=\"verdict-pass\"").count() + verdicts.matches("class=\"verdict-fail\"").count(),
        3
    );
    // What quantization adds to the noise, per non-reference scheme, with intervals and McNemar's p.
    let vs = &dom[dom.find("id=\"vs-reference\"").expect("vs-reference section")..];
    for scheme in ["int8 vs f32", "w4a16-rtn-g128 vs f32"] {
        assert!(vs.contains(scheme), "{scheme} missing");
    }
    assert!(vs.contains("extra drop") && vs.contains("McNemar"));
    // Inputs where a scheme answers differently from the reference.
    let disagreements = section(&dom, "disagreements");
    assert!(disagreements.contains("(differs)") || disagreements.contains("every scheme answers as the reference"));
    // Flipped examples come from more than one family.
    let flipped = section(&dom, "flipped");
    let families = ["typo", "ocr", "asr", "jargon", "l2"]
        .iter()
        .filter(|f| flipped.contains(&format!(">{f}<")))
        .count();
    assert!(families >= 2, "flips sampled from {families} families");
    // Heatmap cells are coloured, charts draw lines and markers.
    assert!(section(&dom, "heatmap").matches("background: rgb(").count() >= 3 * 5);
    for id in ["accuracy-chart", "throughput-chart"] {
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
    // Readable at 100% zoom: chart text at least 11 px as rendered, page text at least 11 px, and
    // each scheme's line in its own colour.
    assert!(attr(&dom, "data-svg-texts") > 20.0);
    let svg_font = attr(&dom, "data-min-svg-font");
    assert!(svg_font >= 11.0, "smallest chart text {svg_font} px");
    let html_font = attr(&dom, "data-min-html-font");
    assert!(html_font >= 11.0, "smallest page text {html_font} px");
    assert!(attr(&dom, "data-line-colours") >= 3.0, "schemes share a colour");
}
